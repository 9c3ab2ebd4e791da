"""Everything Slack-shaped: the Bolt app, Block Kit rendering and the listeners."""
