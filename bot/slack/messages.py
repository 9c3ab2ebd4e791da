"""Web API steps several listeners share: reading a message, its permalink, and telling someone privately."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


class ReadLater(Exception):
    """Slack asked the bot to slow down before reading a message: try again in `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(f"rate limited for {seconds:.0f} s")
        self.seconds = seconds


def fetch_message(client: WebClient, channel: str, ts: str) -> dict | None:
    """The message at `ts`, a thread reply too, through reactions.get (Tier 3: conversations.history allows an
    app distributed outside the Marketplace one call a minute). None when it is gone; ReadLater on a 429."""
    try:
        answer = client.reactions_get(channel=channel, timestamp=ts, full=True)
    except SlackApiError as exc:
        if exc.response.status_code == 429 or exc.response.get("error") == "ratelimited":
            raise ReadLater(retry_after(exc)) from None
        if exc.response.get("error") == "message_not_found":
            return None
        raise
    return answer.get("message")


def retry_after(exc: SlackApiError, default: float = 60.0) -> float:
    """Seconds Slack's Retry-After header asks for (at least 1)."""
    headers = {name.lower(): value for name, value in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    value = value[0] if isinstance(value, list) else value
    try:
        return max(1.0, float(value)) if value is not None else default
    except ValueError:
        return default


def permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError:
        return None  # a tip is still worth keeping without its link


def tell_privately(client: WebClient, channel: str | None, user: str, payload: dict[str, Any]) -> None:
    """In the channel, visible to the person only; else (no channel, or not in it) in their DM with the bot."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, **payload)
            return
        except SlackApiError:
            pass  # not in that channel, or it's gone: the DM still reaches them
    client.chat_postMessage(channel=user, **payload)
