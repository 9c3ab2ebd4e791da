"""Which bot token serves a workspace, for the worker: the single-workspace token, or the installation OAuth
stored, looked up afresh for each use so a reinstall's new token counts at once, refreshed through the
installation store before it expires when Slack token rotation is on, and found through its enterprise for an
org-wide (Enterprise Grid) install. The web process gets the same from Bolt's own authorization."""

from __future__ import annotations

import logging
from collections.abc import Callable
from threading import Lock
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.db import create_session_factory, transaction, writer
from bot.models import Workspace
from bot.slack.client import GuardedWebClient, tls_context
from bot.tips.store import ensure_workspace

log = logging.getLogger(__name__)

REFRESH_BEFORE_MINUTES = 120  # as Bolt does for the web process: refresh a token two hours before it expires


def client_factory(settings: Settings, engine: Engine) -> Callable[[str], WebClient | None]:
    """A Web API client for each workspace, or None where the bot is not installed (yet, or any more).
    Nothing is retried here: the sender holds a workspace's posts until Retry-After has passed, and checks
    whether a post that timed out went out after all before trying it again."""
    clients: dict[str, WebClient] = {}  # token -> its client
    lock = Lock()

    def build(token: str) -> WebClient:
        with lock:
            if token not in clients:
                clients[token] = GuardedWebClient(
                    token=token, base_url=settings.slack_api_url, ssl=tls_context(), timeout=10, retry_handlers=[]
                )
            return clients[token]

    if not (settings.oauth_enabled and settings.slack_client_id and settings.slack_client_secret):
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        return lambda _team: build(token) if token else None
    store = SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=writer(engine))
    rotator = TokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=WebClient(base_url=settings.slack_api_url, ssl=tls_context(), timeout=10),
    )
    sessions = create_session_factory(engine)

    def client_for(team_id: str) -> WebClient | None:
        bot = _find_bot(store, sessions, team_id)
        if bot is None or not bot.bot_token:
            return None
        bot = _fresh(store, rotator, bot, lock)
        return build(bot.bot_token)

    return client_for


def _find_bot(store: SQLAlchemyInstallationStore, sessions: sessionmaker[Session], team_id: str) -> Bot | None:
    """The workspace's own install, else its enterprise's org-wide one."""
    bot = store.find_bot(enterprise_id=None, team_id=team_id)
    if bot is not None:
        return bot
    with sessions() as session:
        enterprise = session.scalar(select(Workspace.enterprise_id).where(Workspace.team_id == team_id))
    return store.find_bot(enterprise_id=enterprise, team_id=None, is_enterprise_install=True) if enterprise else None


def _fresh(store: SQLAlchemyInstallationStore, rotator: TokenRotator, bot: Bot, lock: Lock) -> Bot:
    """`bot`, its token refreshed (and saved) first if it expires within REFRESH_BEFORE_MINUTES."""
    if bot.bot_refresh_token is None:
        return bot
    with lock:  # one refresh at a time: a refresh token is good for one use
        current = (
            store.find_bot(
                enterprise_id=bot.enterprise_id, team_id=bot.team_id, is_enterprise_install=bot.is_enterprise_install
            )
            or bot
        )
        try:
            refreshed = rotator.perform_bot_token_rotation(
                bot=current, minutes_before_expiration=REFRESH_BEFORE_MINUTES
            )
        except SlackApiError as exc:
            log.warning(
                "Could not refresh the bot token of %s: %s", bot.team_id or bot.enterprise_id, exc.response.get("error")
            )
            return current
        if refreshed is None:
            return current
        store.save_bot(refreshed)
        log.info("Refreshed the bot token of %s", bot.team_id or bot.enterprise_id)
        return refreshed


def remember_workspace(sessions: sessionmaker[Session], team_id: str) -> None:
    """The bot is installed in `team_id`: from now on `--team` may name it, and it is the default when alone."""
    with transaction(sessions) as session:
        ensure_workspace(session, team_id)


def remember_enterprise(sessions: sessionmaker[Session], team_id: str, enterprise_id: str) -> None:
    """An org-wide install serves this workspace: note its enterprise, so the worker finds the install."""
    with transaction(sessions) as session:
        ensure_workspace(session, team_id)
        session.execute(update(Workspace).where(Workspace.team_id == team_id).values(enterprise_id=enterprise_id))


def request_workspace(body: dict[str, Any], context: Any) -> str | None:
    """The workspace a request came from. Bolt's team is the installing team, which an org-wide install's
    events leave out (they name the workspace in the body's `team_id`)."""
    team = body.get("team")
    return (
        context.get("team_id")
        or body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else team)
        or (body.get("user") or {}).get("team_id")
        or None
    )


def org_member(body: dict[str, Any], context: Any) -> tuple[str, str] | None:
    """(workspace, enterprise) when a request comes through an org-wide install."""
    team, enterprise = request_workspace(body, context), context.get("enterprise_id")
    return (team, enterprise) if context.get("is_enterprise_install") and team and enterprise else None
