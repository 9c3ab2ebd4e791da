"""Tips teachers share: capture, search, ownership, moderation, import and export.

Plain Python over SQLAlchemy sessions; nothing here knows Slack or X.
"""
