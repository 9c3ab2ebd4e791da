"""Slack as a delivery channel: posts an outbox row, and after a crash finds whether it went out (each post
carries its delivery key in the message's metadata)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import Lock
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.errors import Deferred, DeliveryError, Permanent, RetryAfter, Transient
from bot.delivery.outbox import Outgoing
from bot.slack.client import GuardedWebClient
from bot.slack.messages import retry_after

log = logging.getLogger(__name__)

METADATA_EVENT = "plchat_post"
# Errors that no retry will fix: the channel or person is gone, or the bot was removed or uninstalled.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "user_not_found",
    "user_disabled",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "team_access_not_granted",
    "msg_too_long",
    "invalid_blocks",
    "invalid_metadata_format",
    "restricted_action",
    "cannot_dm_bot",
    "messages_tab_disabled",
    "no_text",
}
# An app distributed outside the Slack Marketplace may call conversations.history once a minute per workspace,
# for at most 15 messages (2025); the crash check keeps within that (SLACK_HISTORY_PER_MINUTE, 1 by default).
HISTORY_PAGE = 15
HISTORY_WINDOW = timedelta(minutes=1)


class SlackPoster:
    def __init__(
        self,
        client_for: Callable[[str], WebClient | None],
        clock: Callable[[], datetime],
        *,
        history_per_minute: int = 1,
    ):
        self._client_for, self._clock, self._history_per_minute = client_for, clock, history_per_minute
        self._history_lock = Lock()
        self._history_calls: dict[str, deque[datetime]] = {}  # workspace -> its calls in the last minute
        self._cursors: dict[str, str] = {}  # delivery key -> the next page of its check, across attempts

    def send(self, outgoing: Outgoing, message: dict[str, Any]) -> str:
        client = self._client(outgoing)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": outgoing.key}}
        response = _call(
            lambda: client.chat_postMessage(
                channel=outgoing.channel,
                text=message["text"],
                blocks=message.get("blocks"),
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        )
        return str(response["ts"])

    def find_sent(self, outgoing: Outgoing, message: dict[str, Any]) -> str | None:
        """Look through the channel's history since the earlier attempt for a message carrying this key: one
        page of 15 a minute per workspace. While pages remain, or the minute's call is spent, the check is
        deferred (`Deferred`: this post waits, the workspace's others go on); it never resends blindly."""
        assert outgoing.resumed_from is not None
        client, channel = self._client(outgoing), outgoing.channel
        self._spend_history_call(outgoing.team_id)
        if channel.startswith(("U", "W")):  # a DM, posted to the person's id: its history is the DM channel's
            channel = _call(lambda: client.conversations_open(users=outgoing.channel))["channel"]["id"]
        oldest = f"{outgoing.resumed_from.timestamp() - 60:.6f}"
        cursor = self._cursors.pop(outgoing.key, None)
        try:
            response = _call(
                lambda: client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor
                )
            )
        except RetryAfter as limited:  # history's own limit: only this check waits
            raise Deferred("waiting for Slack's history allowance to check it", limited.seconds) from None
        for found in response.get("messages") or []:
            payload = (found.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == outgoing.key:
                return str(found["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if cursor:
            self._cursors[outgoing.key] = cursor
            next_call = HISTORY_WINDOW.total_seconds() / self._history_per_minute
            raise Deferred("checking the next page of history", next_call)
        return None

    def _spend_history_call(self, team_id: str) -> None:
        now = self._clock()
        with self._history_lock:
            calls = self._history_calls.setdefault(team_id, deque())
            while calls and calls[0] <= now - HISTORY_WINDOW:
                calls.popleft()
            if len(calls) >= self._history_per_minute:
                wait = (calls[0] + HISTORY_WINDOW - now).total_seconds()
                raise Deferred("waiting for Slack's history allowance to check it", max(1.0, wait))
            calls.append(now)

    def _client(self, outgoing: Outgoing) -> WebClient:
        """The workspace's client, guarded (`bot.slack.markup`) whatever client `client_for` gives."""
        client = self._client_for(outgoing.team_id)
        if client is None:
            raise Permanent("the bot is not installed in this workspace any more")
        return GuardedWebClient.like(client)  # the same client when it is guarded already


def _call(request: Callable[[], Any]) -> Any:
    try:
        return request()
    except SlackApiError as exc:
        raise _delivery_error(exc) from None
    except (URLError, OSError) as exc:  # timeouts and dropped connections
        raise Transient(f"Slack did not answer: {type(exc).__name__}") from None


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        return RetryAfter("Slack rate limit", retry_after(exc, default=30))
    if error in PERMANENT:
        return Permanent(error)
    return Transient(error)
