"""The Bolt app factory every mode uses: Socket Mode, HTTP (single or multi-workspace) and the sandbox."""

from __future__ import annotations

import ssl
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry import RateLimitErrorRetryHandler, default_retry_handlers
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.config import Settings
from bot.slack.deferred import BoundedExecutor, report_error
from bot.slack.listeners import register_listeners
from bot.slack.services import Services

BOT_SCOPES = ["commands", "chat:write", "chat:write.public", "reactions:read", "channels:history",
              "groups:history", "im:write", "im:history", "users:read", "files:write"]
OAUTH_STATE_SECONDS = 600


class _SharedTLSContext(ssl.SSLContext):
    """A TLS client context that deep-copies to itself: Bolt deep-copies each request for its lazy listeners,
    web client included, and one context is meant to be shared (an SSLContext can't be copied anyway)."""

    def __deepcopy__(self, memo: dict) -> _SharedTLSContext:
        return self


_TLS = _SharedTLSContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names, like the default
_TLS.load_default_certs()


def tls_context() -> ssl.SSLContext:
    return _TLS


def create_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A Web API client that honours `Retry-After` on 429 and retries 5xx and dropped connections.

    One TLS context serves every call: without it urllib builds a new one, loading the CA bundle, for each
    HTTPS connection (about 18 ms of CPU each). Bolt hands the client's context on to its per-request
    clients and to `respond()`.
    """
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        ssl=_TLS,
        timeout=10,
        retry_handlers=[*default_retry_handlers(), RateLimitErrorRetryHandler(max_retry_count=2),
                        ServerErrorRetryHandler(max_retry_count=2)],
    )


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=BOT_SCOPES,
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        installation_store=SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine),
    )


def create_app(settings: Settings, services: Services, engine: Engine, *,
               listener_executor: Executor | None = None) -> App:
    """Build the app. With a client id and secret it serves any workspace that installs it.

    Listeners ack on the request's thread and reply through lazy listeners (see `bot.slack.deferred`).
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    common = dict(name="plchat", signing_secret=secret, process_before_response=True,
                  listener_executor=listener_executor or BoundedExecutor())
    if settings.oauth_enabled:
        app = App(client=create_web_client(settings), oauth_settings=oauth_settings(settings, engine), **common)
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        app = App(client=create_web_client(settings, token), **common)
    register_listeners(app, services)
    app.error(report_error)
    return app
