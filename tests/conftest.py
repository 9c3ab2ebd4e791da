"""Fixtures: a migrated, synced database per backend (SQLite and PostgreSQL) and the bot behind a Slack stand-in.

PostgreSQL tests use TEST_POSTGRES_URL (default: the CI server). Each test session creates its own
database there and drops it afterwards. Without a server they skip, except under CI=true, where
they fail: CI must exercise the production store.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import db
from bot.bootstrap import Database, open_database, sync_playbook
from bot.chats import store
from bot.chats.definition import parse_chat_file
from bot.config import Settings
from bot.db import transaction
from bot.models import ChatAnswer, ChatRead, ChatRecord, DeliveryRecord, NetworkSession, TipRecord
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.harness import BotHarness
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.sandbox.x_api import XStandIn
from bot.slack.services import Services

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIXED_NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # a Tuesday, 9 AM in Los Angeles
CHAT_MODERATOR = "U0MOD"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Tests never see the developer's Slack credentials or database, nor a stray .env file."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "X_", "PLCHAT_")) or name in ("DATABASE_URL", "PORT"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _admin_engine():
    return create_engine(db.normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with _admin_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"no PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}: {str(exc.orig).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    name = f"plchat_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_database_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'plchat.db'}"
    return request.getfixturevalue("postgres_server_url")


@pytest.fixture(params=BACKENDS, scope="module")
def database(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Database]:
    """A database at the newest migration with the real playbook synced in, shared by a module's tests."""
    url = empty_database_url(request.param, request, tmp_path_factory.mktemp("db"))
    if request.param == "postgresql":
        _reset_postgres(url)
    db.upgrade(url)
    database = open_database(Settings(_env_file=None, database_url=url))
    sync_playbook(database)
    yield database
    database.engine.dispose()


def _reset_postgres(url: str) -> None:
    """Modules share the session's PostgreSQL database: start each from an empty schema."""
    engine = create_engine(db.normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@contextmanager
def scratch(database: Database) -> Iterator[Session]:
    """A session that may write but is never committed: what is written in it is rolled back at its end."""
    with database.sessions() as session:
        session.connection(execution_options={db.WRITES: True})
        yield session


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """Never committed: what a test writes is rolled back when it ends."""
    with scratch(database) as session:
        yield session


def new_team() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def team() -> str:
    return new_team()


@pytest.fixture
def services(database: Database) -> Services:
    return Services(database.sessions, clock=lambda: FIXED_NOW, rng=random.Random(20261124))


@pytest.fixture
def harness(database: Database, clock: Callable[[], datetime]) -> Iterator[BotHarness]:
    """The bot on a module's `clock` fixture, with CHAT_MODERATOR configured: for tests that run chats."""
    services = Services(database.sessions, clock=clock, rng=random.Random(1), moderators=frozenset({CHAT_MODERATOR}))
    with BotHarness(database, services=services, clock=clock) as bot:
        yield bot


@pytest.fixture
def x(clock: Callable[[], datetime]) -> Iterator[XStandIn]:
    with XStandIn(clock=clock) as standin:
        yield standin


def schedule(harness: BotHarness, clock: Callable[[], datetime], text: str) -> int:
    """A chat from a chat file, created by CHAT_MODERATOR in the harness's workspace; returns its id."""
    spec = parse_chat_file(text, default_timezone="America/Los_Angeles")
    with transaction(harness.database.sessions) as session:
        return store.create_chat(session, harness.workspace.team_id, spec, CHAT_MODERATOR, clock()).id


@pytest.fixture
def bot(database: Database, services: Services) -> Iterator[BotHarness]:
    """The production Bolt app over HTTP, its Web API calls going to a local Slack stand-in."""
    with BotHarness(database, services=services) as harness:
        yield harness


@pytest.fixture
def no_chats(database: Database) -> None:
    """No chats, deliveries, answers, tips or network sessions: for tests that share a module database and count
    what a chat did."""
    with transaction(database.sessions) as session:
        for table in (ChatAnswer, ChatRead, DeliveryRecord, ChatRecord, TipRecord, NetworkSession):
            session.execute(delete(table))


@pytest.fixture
def bluesky(clock) -> Iterator[BlueskyStandIn]:
    """A Bluesky stand-in on the test module's own `clock`."""
    with BlueskyStandIn(clock=clock) as standin:
        yield standin


@pytest.fixture
def mastodon(clock) -> Iterator[MastodonStandIn]:
    """A Mastodon stand-in on the test module's own `clock`."""
    with MastodonStandIn(clock=clock) as standin:
        yield standin
