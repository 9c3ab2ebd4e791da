"""The Bolt app factory every mode uses: Socket Mode, HTTP (single or multi-workspace) and the sandbox."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Callable

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.config import Settings
from bot.slack.client import create_web_client
from bot.slack.deferred import BoundedExecutor, report_error
from bot.slack.listeners import register_listeners
from bot.slack.services import Services
from bot.unicode_safe import scrub

BOT_SCOPES = ["commands", "chat:write", "chat:write.public", "reactions:read", "channels:history",
              "groups:history", "im:write", "im:history", "users:read", "files:write"]
OAUTH_STATE_SECONDS = 600


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


def _scrub_request(body: dict, next: Callable[[], None]) -> None:  # noqa: A002 - Bolt passes it by this name
    """Every request's strings can be stored and sent (no lone surrogates) before any listener reads them."""
    scrub(body)
    next()


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
    app.use(_scrub_request)
    register_listeners(app, services)
    app.error(report_error)
    return app
