"""Slack as a delivery channel: posts an outbox row, and after a crash finds whether it went out (each post
carries its delivery key in the message's metadata)."""

from __future__ import annotations

import logging
from threading import Lock
from typing import Any, Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine

from bot.config import Settings
from bot.delivery.errors import DeliveryError, Permanent, RetryAfter, Transient
from bot.delivery.outbox import Outgoing
from bot.slack.client import GuardedWebClient, tls_context

log = logging.getLogger(__name__)

METADATA_EVENT = "plchat_post"
# Errors that no retry will fix: the channel or person is gone, or the bot was removed or uninstalled.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "account_inactive", "user_not_found",
             "user_disabled", "invalid_auth", "not_authed", "token_revoked",
             "team_access_not_granted", "msg_too_long", "invalid_blocks", "invalid_metadata_format",
             "restricted_action", "cannot_dm_bot", "messages_tab_disabled", "no_text"}
HISTORY_PAGES = 5


class SlackPoster:
    def __init__(self, client_for: Callable[[str], WebClient | None]):
        self._client_for = client_for

    def send(self, outgoing: Outgoing, message: dict[str, Any]) -> str:
        client = self._client(outgoing)
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": outgoing.key}}
        response = _call(lambda: client.chat_postMessage(
            channel=outgoing.channel, text=message["text"], blocks=message.get("blocks"), metadata=metadata,
            unfurl_links=False, unfurl_media=False))
        return str(response["ts"])

    def find_sent(self, outgoing: Outgoing, message: dict[str, Any]) -> str | None:
        """Look through the channel's history since the earlier attempt for a message carrying this key."""
        assert outgoing.resumed_from is not None
        client, cursor, channel = self._client(outgoing), None, outgoing.channel
        if channel.startswith(("U", "W")):  # a DM, posted to the person's id: its history is the DM channel's
            channel = _call(lambda: client.conversations_open(users=outgoing.channel))["channel"]["id"]
        oldest = f"{outgoing.resumed_from.timestamp() - 60:.6f}"
        for _page in range(HISTORY_PAGES):
            response = _call(lambda: client.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor))
            for found in response.get("messages") or []:
                payload = (found.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == outgoing.key:
                    return str(found["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _client(self, outgoing: Outgoing) -> WebClient:
        client = self._client_for(outgoing.team_id)
        if client is None:
            raise Permanent("the bot is not installed in this workspace any more")
        return client


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
        headers = {name.lower(): value for name, value in (response.headers or {}).items()}
        retry_after = headers.get("retry-after")
        value = retry_after[0] if isinstance(retry_after, list) else retry_after
        return RetryAfter("Slack rate limit", max(1.0, float(value or 30)))
    if error in PERMANENT:
        return Permanent(error)
    return Transient(error)


def client_factory(settings: Settings, engine: Engine) -> Callable[[str], WebClient | None]:
    """A Web API client for each workspace: the bot token, or the installation OAuth stored for that team.
    Nothing is retried here: the sender holds a workspace's posts until Retry-After has passed, and checks
    whether a post that timed out went out after all before trying it again."""
    clients: dict[str, WebClient] = {}
    lock = Lock()
    store = (SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
             if settings.oauth_enabled and settings.slack_client_id else None)

    def build(token: str) -> WebClient:
        return GuardedWebClient(token=token, base_url=settings.slack_api_url, ssl=tls_context(), timeout=10,
                         retry_handlers=[])

    def client_for(team_id: str) -> WebClient | None:
        with lock:
            if (cached := clients.get(team_id)) is not None:
                return cached
        if store is not None:
            bot = store.find_bot(enterprise_id=None, team_id=team_id)
            client = build(bot.bot_token) if bot and bot.bot_token else None
        else:
            client = build(settings.slack_bot_token.get_secret_value()) if settings.slack_bot_token else None
        if client is not None:  # a workspace not installed yet may be soon
            with lock:
                clients[team_id] = client
        return client

    return client_for
