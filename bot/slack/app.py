"""The Bolt app factory every mode uses: Socket Mode, HTTP (single or multi-workspace) and the sandbox."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import writer
from bot.slack.admins import WorkspaceAdmins, with_workspace_admins
from bot.slack.client import create_web_client, tls_context
from bot.slack.deferred import BoundedExecutor, report_error
from bot.slack.installs import client_factory, org_member, remember_enterprise, request_workspace
from bot.slack.listeners import register_listeners
from bot.slack.manifest import BOT_SCOPES, INSTALL_PATH, OAUTH_REDIRECT_PATH
from bot.slack.services import Services
from bot.unicode_safe import scrub

OAUTH_STATE_SECONDS = 600
# The SDK logs each failed attempt of the token check at ERROR; the check's one message says it all.
_TOKEN_CHECK_LOG = logging.getLogger(__name__ + ".token_check")
_TOKEN_CHECK_LOG.setLevel(logging.CRITICAL)


class SlackTokenRefused(Exception):
    """Slack answered auth.test with an error (`invalid_auth`, `token_revoked`, `account_inactive` …)."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class SlackUnreachable(Exception):
    """auth.test got no answer from Slack: no network, DNS, a refused connection or a timeout."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


class SlackAppTokenRefused(Exception):
    """Slack answered apps.connections.open with an error: SLACK_APP_TOKEN can't open a Socket Mode connection."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


def check_bot_token(settings: Settings) -> str:
    """Ask Slack once, before starting, whether SLACK_BOT_TOKEN works (auth.test), so a wrong or revoked token
    stops `plchat run`, `web` and `worker` with one message rather than failing in Bolt (or in every gunicorn
    worker Bolt runs in). Returns the id of the workspace the token belongs to."""
    assert settings.slack_bot_token
    try:
        answer = _token_check_client(settings, settings.slack_bot_token).auth_test()
    except SlackApiError as exc:
        raise SlackTokenRefused(str(exc.response.get("error") or "unknown_error")) from exc
    except OSError as exc:  # URLError, a refused connection, a timeout
        raise SlackUnreachable(settings.slack_api_url, str(getattr(exc, "reason", None) or exc)) from exc
    return str(answer["team_id"])


def check_app_token(settings: Settings) -> None:
    """Ask Slack once, before `plchat run` connects, whether SLACK_APP_TOKEN may open a Socket Mode connection
    (the URL it gives is left unused), so a wrong or revoked one is one message, not Bolt's log and a raw answer."""
    assert settings.slack_app_token
    try:
        _token_check_client(settings, settings.slack_app_token).apps_connections_open(
            app_token=settings.slack_app_token.get_secret_value()
        )
    except SlackApiError as exc:
        raise SlackAppTokenRefused(str(exc.response.get("error") or "unknown_error")) from exc
    except OSError as exc:
        raise SlackUnreachable(settings.slack_api_url, str(getattr(exc, "reason", None) or exc)) from exc


def _token_check_client(settings: Settings, token: SecretStr) -> WebClient:
    return WebClient(
        token.get_secret_value(),
        base_url=settings.slack_api_url,
        ssl=tls_context(),
        timeout=10,
        logger=_TOKEN_CHECK_LOG,
    )


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=OAUTH_REDIRECT_PATH,
        installation_store=SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=writer(engine)),
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=writer(engine)),
    )


@contextmanager
def _bolt_without_environment_token() -> Iterator[None]:
    """Bolt's `App` takes SLACK_BOT_TOKEN from the environment whenever it is given no `token`, even beside a
    `client` that carries one, and then warns on every start that the token "will be unused" (in OAuth mode,
    that it is skipped). The bot's tokens come from its settings alone (which may read them from `.env`, where
    Bolt doesn't look), so Bolt is built without that fallback; it is built before any thread starts."""
    token = os.environ.pop("SLACK_BOT_TOKEN", None)
    try:
        yield
    finally:
        if token is not None:
            os.environ["SLACK_BOT_TOKEN"] = token


def _scrub_request(body: dict, next: Callable[[], None]) -> None:
    """Every request's strings can be stored and sent (no lone surrogates) before any listener reads them."""
    scrub(body)
    next()


def _workspace_identifier(services: Services) -> Callable[..., None]:
    """Middleware: which workspace a request came from (`workspace_of` reads it), and, once per workspace, the
    enterprise whose org-wide install it came through, so the worker can find that install for its posts."""
    known: set[str] = set()

    def identify(body: dict, context: dict, next: Callable[[], None]) -> None:
        workspace = request_workspace(body, context)
        if workspace:
            context["workspace_id"] = workspace
        member = org_member(body, context)
        if member is not None and member[0] not in known:
            remember_enterprise(services.sessions, *member)
            known.add(member[0])
        next()

    return identify


def create_app(
    settings: Settings, services: Services, engine: Engine, *, listener_executor: Executor | None = None
) -> App:
    """Build the app. With a client id and secret it serves any workspace that installs it.

    Listeners ack on the request's thread and reply through lazy listeners (see `bot.slack.deferred`).
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    common: dict[str, Any] = dict(
        name="plchat",
        signing_secret=secret,
        process_before_response=True,
        listener_executor=listener_executor or BoundedExecutor(),
    )
    auth: dict[str, Any]
    if settings.oauth_enabled:
        oauth = oauth_settings(settings, engine)
        # The store passed to App too: then Bolt's authorization (and its token refresh) uses our client, at
        # SLACK_API_URL; the one OAuthSettings builds alone refreshes tokens through a default slack.com client.
        auth = dict(
            client=create_web_client(settings), oauth_settings=oauth, installation_store=oauth.installation_store
        )
    else:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        auth = dict(client=create_web_client(settings, token))
    with _bolt_without_environment_token():
        app = App(**auth, **common)
    app.use(_scrub_request)
    app.use(_workspace_identifier(services))
    services = with_workspace_admins(services, WorkspaceAdmins(client_factory(settings, engine), services.clock))
    register_listeners(app, services)
    app.error(report_error)
    return app
