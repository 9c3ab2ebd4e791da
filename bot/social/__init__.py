"""The X layer, beside bot/slack/: the tweepy adapter and the plain text of chat posts."""
