"""Local stand-ins for Slack (and later X) and a console to try the bot without a workspace."""
