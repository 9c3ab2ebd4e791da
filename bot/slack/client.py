"""Web API clients for every part of the bot, each one passing what it sends through `markup.guard`.

Bolt builds a fresh plain `WebClient` for each request; `reply_later` swaps it (and `respond`) for guarded ones
before any listener sees it, and the delivery channel builds its own. So every message, modal, App Home view
and file comment the bot sends is guarded at the one place it leaves.
"""

from __future__ import annotations

import ssl
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.http_retry import default_retry_handlers
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.config import Settings
from bot.slack.markup import guard, guard_arguments
from bot.unicode_safe import scrub


class _SharedTLSContext(ssl.SSLContext):
    """A TLS client context that deep-copies to itself: Bolt deep-copies each request for its lazy listeners,
    web client included, and one context is meant to be shared (an SSLContext can't be copied anyway)."""

    def __deepcopy__(self, memo: dict) -> _SharedTLSContext:
        return self


_TLS = _SharedTLSContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names, like the default
_TLS.load_default_certs()


def tls_context() -> ssl.SSLContext:
    return _TLS


class GuardedWebClient(WebClient):
    """A `WebClient` whose every call has its message fields guarded (`text`, `blocks`, `view`, ...), and
    whose answers can be stored (`bot.unicode_safe`)."""

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict | None = None,
        data: dict | None = None,
        params: dict | None = None,
        json: dict | None = None,
        headers: dict | None = None,
        auth: dict | None = None,
    ) -> SlackResponse:
        response = super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=guard_arguments(data),
            params=guard_arguments(params),
            json=guard_arguments(json),
            headers=headers,
            auth=auth,
        )
        scrub(response.data)  # what Slack answers (a message read back, say) can hold a lone surrogate too
        return response

    @classmethod
    def like(cls, client: WebClient) -> GuardedWebClient:
        """The same client (token, URL, TLS, retries), guarded."""
        if isinstance(client, cls):
            return client
        return cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=list(client.retry_handlers or []),
        )


class GuardedRespond:
    """Bolt's `respond`, guarded; keeps `response_url` so callers can tell whether there is one."""

    def __init__(self, respond: Respond):
        self._respond = respond
        self.response_url = respond.response_url

    def __call__(self, text: str = "", **fields: Any) -> Any:
        return self._respond(**guard({"text": text, **fields}))


def create_web_client(settings: Settings, token: str | None = None) -> GuardedWebClient:
    """The listeners' Web API client: retries 5xx and dropped connections, but never a 429, which it would
    sleep out (60 s and more) on a reply worker while other people's replies wait; a rate-limited read is
    queued instead (`reaction_tips`), and any other 429 is told to the person as a failure to try again.

    One TLS context serves every call: without it urllib builds a new one, loading the CA bundle, for each
    HTTPS connection (about 18 ms of CPU each). Bolt hands the client's context on to its per-request
    clients and to `respond()`.
    """
    return GuardedWebClient(
        token=token,
        base_url=settings.slack_api_url,
        ssl=_TLS,
        timeout=10,
        retry_handlers=[*default_retry_handlers(), ServerErrorRetryHandler(max_retry_count=2)],
    )
