"""Web API steps several listeners share: reading a message, its permalink, and telling someone privately."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def fetch_message(client: WebClient, channel: str, ts: str) -> dict | None:
    """The message at `ts`: in the channel's history, or else in a thread (replies aren't in history)."""
    history = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    for message in history.get("messages") or []:
        if message.get("ts") == ts:
            return message
    thread = client.conversations_replies(channel=channel, ts=ts, limit=1, inclusive=True)
    return next((m for m in thread.get("messages") or [] if m.get("ts") == ts), None)


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
