"""The Alembic migration, on both backends: empty → head → base → head, and models ↔ migration agreement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import BACKENDS, _reset_postgres, empty_database_url
from sqlalchemy import Engine, inspect, text

from bot import db
from bot.models import Base

APP_TABLES = {"plays", "slack_installations", "slack_bots", "slack_oauth_states"}
SQLITE_TRIGGERS = {"plays_fts_insert", "plays_fts_delete", "plays_fts_update"}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    url = empty_database_url(request.param, request, tmp_path)
    if request.param == "postgresql":
        _reset_postgres(url)
    return url


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = db.create_db_engine(empty_url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def search_objects(engine: Engine) -> set[str]:
    """The full-text objects the migration creates by hand, by name, whichever dialect this is."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE name = 'plays_fts' OR (type = 'trigger' AND tbl_name = 'plays')"
                )
            )
            return set(rows.scalars())
        columns = connection.execute(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'plays' AND column_name = 'search_vector'"
            )
        )
        indexes = connection.execute(
            text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname = 'ix_plays_search_vector'"
            )
        )
        return set(columns.scalars()) | set(indexes.scalars())


def expected_search_objects(engine: Engine) -> set[str]:
    if engine.dialect.name == "sqlite":
        return {"plays_fts"} | SQLITE_TRIGGERS
    return {"search_vector", "ix_plays_search_vector"}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str:
    return ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()


def test_upgrade_from_empty_creates_the_tables(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)

    assert table_names(engine) >= APP_TABLES


def test_upgrade_creates_the_dialects_search_objects(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)

    assert search_objects(engine) == expected_search_objects(engine)


def test_after_upgrade_the_database_is_at_head(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)

    assert current_revision(engine) == head_revision(empty_url)


def test_downgrade_to_base_removes_everything(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)

    command.downgrade(db.alembic_config(empty_url), "base")

    assert table_names(engine) - {"alembic_version"} == set()
    assert search_objects(engine) == set()
    assert current_revision(engine) is None


def test_upgrade_downgrade_upgrade_round_trip(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)
    command.downgrade(db.alembic_config(empty_url), "base")

    db.upgrade(empty_url)

    assert table_names(engine) >= APP_TABLES
    assert search_objects(engine) == expected_search_objects(engine)
    assert current_revision(engine) == head_revision(empty_url)


def test_models_and_migration_agree(empty_url: str, engine: Engine) -> None:
    db.upgrade(empty_url)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": db.include_object, "compare_type": True}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_own_votes_stored_before_they_were_refused_are_removed_and_no_longer_counted(
    empty_url: str, engine: Engine
) -> None:
    db.upgrade(empty_url, "0010")
    with db.writer(engine).begin() as connection:
        connection.execute(text("INSERT INTO workspaces (team_id, created_at) VALUES ('T1', CURRENT_TIMESTAMP)"))
        for tip_id, author, count in ((1, "UANA", 2), (2, "UBEN", 3)):
            connection.execute(
                text(
                    "INSERT INTO tips (id, team_id, author, shared_by, text, text_hash, tags, grade, source, "
                    "created_at, updated_at, helpful_count, hidden, pending) "
                    "VALUES (:id, 'T1', :author, :author, 'A tip to vote on', "
                    ":hash, ' ', '', 'command', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :count, false, false)"
                ),
                {"id": tip_id, "author": author, "hash": f"h{tip_id}", "count": count},
            )
        votes = [(1, "UANA"), (1, "UCARA"), (2, "UANA"), (2, "UCARA"), (2, "UDEE")]  # Ana voted for her own tip 1
        for tip_id, voter in votes:
            connection.execute(
                text("INSERT INTO tip_votes (tip_id, user_id, created_at) VALUES (:tip, :voter, CURRENT_TIMESTAMP)"),
                {"tip": tip_id, "voter": voter},
            )

    db.upgrade(empty_url)

    with engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, helpful_count FROM tips ORDER BY id")).all()) == {1: 1, 2: 3}
        assert set(connection.execute(text("SELECT tip_id, user_id FROM tip_votes")).all()) == {
            (1, "UCARA"),
            (2, "UANA"),
            (2, "UCARA"),
            (2, "UDEE"),
        }
