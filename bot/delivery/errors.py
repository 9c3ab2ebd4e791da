"""How a channel adapter (Slack, X) tells the sender what went wrong, without the sender knowing either API."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send failed; `reason` is safe to log and store (no secrets)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class RetryAfter(DeliveryError):
    """Rate limited: nothing more to this destination for `seconds` (Slack's Retry-After, X's reset time)."""

    def __init__(self, reason: str, seconds: float):
        super().__init__(reason)
        self.seconds = seconds


class Deferred(DeliveryError):
    """Not now, for this post alone (and those behind it in its place), and not a failed attempt: e.g. its
    check after a crash waits for the channel's history allowance. Nothing else on the lane waits."""

    def __init__(self, reason: str, seconds: float):
        super().__init__(reason)
        self.seconds = seconds


class Transient(DeliveryError):
    """Worth another try later (5xx, a dropped connection, a timeout)."""


class Permanent(DeliveryError):
    """Will never succeed as it is (channel_not_found, not_in_channel, account_inactive, X duplicate content,
    reply not allowed): recorded and not retried."""


class ReadDenied(DeliveryError):
    """The account may post but not read there, for good: an X plan without read access, a Bluesky PDS with no
    AppView to search (`No service configured for app.bsky.feed.searchPosts`), a Mastodon token without the read
    scope."""
