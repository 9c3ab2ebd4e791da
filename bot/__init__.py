"""PLChat Bot: playbook plays, tips, hashtag chats and digests for teacher communities."""
