"""The one place that builds engines and sessions, and runs migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.resources import data_dir

MIGRATIONS_DIR = data_dir("migrations")


def normalize_url(url: str) -> str:
    """Route plain `postgresql://` URLs to psycopg 3 (SQLAlchemy would otherwise pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "before_cursor_execute", _no_nul, retval=True)
    event.listen(engine, "before_cursor_execute", _writes_only_in_transactions)
    return engine


class WriteOutsideTransaction(RuntimeError):
    """A write on a connection that `transaction()` did not open: a bug in the caller, raised on every backend.
    On SQLite such a write would run in a deferred transaction and meet "database is locked" under load; on
    PostgreSQL a plain `sessions()` block never commits, so the write would be lost without a word."""


def changed_rows(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an UPDATE or DELETE run through a Session changed: the Session returns a CursorResult for
    them, though SQLAlchemy's types say only Result."""
    assert isinstance(result, CursorResult)
    return result.rowcount


_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes_only_in_transactions(
    connection: Connection, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool
) -> None:
    if _WRITE.match(statement) and not connection.get_execution_options().get(WRITES, False):
        raise WriteOutsideTransaction(
            f"A write outside bot.db.transaction() ({' '.join(statement.split()[:3])} …): writes go in "
            "`with transaction(sessions) as session`; a plain sessions() block only reads."
        )


def _no_nul(
    _connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
) -> tuple[str, Any]:
    """PostgreSQL refuses NUL in text (SQLite keeps it): a bound string holding one (a junk button value looked
    up as a play's slug, say) gets U+FFFD instead, so the lookup finds nothing rather than failing. Text that is
    stored is refused earlier, with a message, where it holds NUL (tips, chat files)."""
    return statement, _replace_nul(parameters) if _has_nul(parameters) else parameters


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(map(_has_nul, value.values()))
    if isinstance(value, (list, tuple)):
        return any(map(_has_nul, value))
    return False


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {key: _replace_nul(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_replace_nul(item) for item in value)
    return value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling starts a transaction only before a write, so a SAVEPOINT opened
    # first would be the outermost transaction and its RELEASE would commit. SQLAlchemy begins instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB, not 2: a big import's index pages stay cached (+6%)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writers take SQLite's write lock up front (waiting up to the busy timeout for it). A deferred BEGIN
    that reads first and writes later fails at once if another writer committed in between."""
    writes = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


WRITES = "plchat_writes"  # the connection option `transaction()` sets: this connection may write


def writer(engine: Engine) -> Engine:
    """`engine` for code that opens its own connections to write (slack-sdk's OAuth stores, migrations): each of
    its connections may write, and on SQLite takes the write lock when it begins."""
    return engine.execution_options(**{WRITES: True})


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for writing: it commits on success and rolls back on error. The only way to write: a write on
    any other connection raises `WriteOutsideTransaction`."""
    with sessions.begin() as session:
        session.connection(execution_options={WRITES: True})
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


# Objects the migrations create by hand that the models deliberately do not map: full-text search
# (per dialect) and slack-sdk's OAuth tables. Autogenerate must neither drop nor re-create them.
FTS_TABLES = ("plays_fts", "tips_fts", "search_words_fts")
UNMAPPED_TABLES = {*FTS_TABLES, "slack_installations", "slack_bots", "slack_oauth_states"}
UNMAPPED_COLUMNS = {"search_vector"}
UNMAPPED_INDEXES = {"ix_plays_search_vector", "ix_tips_search_vector", "ix_search_words_trgm"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic autogenerate filter (used by migrations/env.py)."""
    if type_ == "table":  # a table always has a name
        fts_parts = tuple(f"{t}_" for t in FTS_TABLES)
        return name is not None and name not in UNMAPPED_TABLES and not name.startswith(fts_parts)
    if type_ == "column":
        return name not in UNMAPPED_COLUMNS
    if type_ == "index":
        return name not in UNMAPPED_INDEXES
    return True


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def is_embedded(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"
