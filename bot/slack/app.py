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
from bot.db import writer
from bot.slack.client import create_web_client
from bot.slack.deferred import BoundedExecutor, report_error
from bot.slack.installs import org_member, remember_enterprise, request_workspace
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
        installation_store=SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=writer(engine)),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=writer(engine)),
    )


def _scrub_request(body: dict, next: Callable[[], None]) -> None:  # noqa: A002 - Bolt passes it by this name
    """Every request's strings can be stored and sent (no lone surrogates) before any listener reads them."""
    scrub(body)
    next()


def _workspace_identifier(services: Services) -> Callable[..., None]:
    """Middleware: which workspace a request came from (`workspace_of` reads it), and, once per workspace, the
    enterprise whose org-wide install it came through, so the worker can find that install for its posts."""
    known: set[str] = set()

    def identify(body: dict, context: dict, next: Callable[[], None]) -> None:  # noqa: A002 - Bolt's name
        workspace = request_workspace(body, context)
        if workspace:
            context["workspace_id"] = workspace
        member = org_member(body, context)
        if member is not None and member[0] not in known:
            remember_enterprise(services.sessions, *member)
            known.add(member[0])
        next()

    return identify


def create_app(settings: Settings, services: Services, engine: Engine, *,
               listener_executor: Executor | None = None) -> App:
    """Build the app. With a client id and secret it serves any workspace that installs it.

    Listeners ack on the request's thread and reply through lazy listeners (see `bot.slack.deferred`).
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    common = dict(name="plchat", signing_secret=secret, process_before_response=True,
                  listener_executor=listener_executor or BoundedExecutor())
    if settings.oauth_enabled:
        oauth = oauth_settings(settings, engine)
        # The store passed to App too: then Bolt's authorization (and its token refresh) uses our client, at
        # SLACK_API_URL; the one OAuthSettings builds alone refreshes tokens through a default slack.com client.
        app = App(client=create_web_client(settings), oauth_settings=oauth, installation_store=oauth.installation_store,
                  **common)
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        app = App(client=create_web_client(settings, token), **common)
    app.use(_scrub_request)
    app.use(_workspace_identifier(services))
    register_listeners(app, services)
    app.error(report_error)
    return app
