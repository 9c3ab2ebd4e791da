"""Weekly digests: subscriptions people control, and what a week's digest holds. Plain Python over SQLAlchemy
sessions; nothing here knows Slack."""
