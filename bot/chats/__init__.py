"""Scheduled hashtag chats (#PLChat): what a chat is, when its posts are due, what it collected, its recap.

Plain Python over SQLAlchemy sessions; nothing here knows Slack or a network's API.
"""
