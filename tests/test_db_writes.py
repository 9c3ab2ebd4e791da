"""Every write happens inside `bot.db.transaction()`: a write anywhere else fails at once, loudly and on both
backends, instead of meeting "database is locked" under load on SQLite (a deferred transaction that reads, then
writes) or being lost without a word on PostgreSQL (a plain `sessions()` block never commits)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from bot import db
from bot.bootstrap import Database
from bot.chats import store
from bot.db import WriteOutsideTransaction, transaction, writer
from bot.models import Workspace

TEAM = "T0WRITES"


@pytest.fixture(autouse=True)
def _no_workspace(database: Database) -> None:
    with transaction(database.sessions) as session:
        session.execute(delete(Workspace).where(Workspace.team_id == TEAM))


def workspaces(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(Workspace.team_id).where(Workspace.team_id == TEAM)))


def test_an_added_row_in_a_read_session_fails_when_flushed(database: Database) -> None:
    with database.sessions() as session:
        session.add(Workspace(team_id=TEAM))
        with pytest.raises(WriteOutsideTransaction, match=r"transaction\(\)"):
            session.flush()
    assert workspaces(database) == []


def test_autoflush_before_a_query_fails_too(database: Database) -> None:
    """The bug of issue 20: a row added in a read block, written by the autoflush of the next query."""
    with database.sessions() as session:
        session.add(Workspace(team_id=TEAM))
        with pytest.raises(WriteOutsideTransaction):
            session.scalars(select(Workspace)).all()


@pytest.mark.parametrize(
    "statement",
    [
        insert(Workspace).values(team_id=TEAM),
        update(Workspace).where(Workspace.team_id == TEAM).values(enterprise_id="E"),
        delete(Workspace).where(Workspace.team_id == TEAM),
    ],
)
def test_core_statements_in_a_read_session_fail(database: Database, statement) -> None:
    with database.sessions() as session, pytest.raises(WriteOutsideTransaction):
        session.execute(statement)


def test_a_plain_connection_may_not_write_but_a_writer_may(database: Database) -> None:
    with database.engine.connect() as connection, pytest.raises(WriteOutsideTransaction):
        connection.execute(insert(Workspace).values(team_id=TEAM))
    with writer(database.engine).begin() as connection:
        connection.execute(insert(Workspace).values(team_id=TEAM))
    assert workspaces(database) == [TEAM]


def test_the_same_write_in_a_transaction_is_saved(database: Database) -> None:
    with transaction(database.sessions) as session:
        session.add(Workspace(team_id=TEAM))
    assert workspaces(database) == [TEAM]


def test_reading_a_chats_progress_adds_nothing(database: Database) -> None:
    """`store.read_progress` is the reader's view of `chat_reads`; only `read_state`, in a transaction, adds."""
    with database.sessions() as session:
        assert store.read_progress(session, 123456, "bluesky") is None
        assert not session.new


def test_reads_still_work_in_a_read_session(database: Database) -> None:
    with database.sessions() as session:
        assert session.scalar(select(Workspace.team_id).where(Workspace.team_id == TEAM)) is None


def test_the_guard_is_on_every_engine_the_bot_builds(tmp_path) -> None:
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")  # schema is the migrations' business
            with pytest.raises(WriteOutsideTransaction):
                connection.exec_driver_sql("  insert into t values (1)")
    finally:
        engine.dispose()
