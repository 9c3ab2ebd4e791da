"""The one path every post takes, to Slack and to X: a row with a unique key first, then the send."""
