"""The database a bench runs on: a fresh SQLite file, or a fresh PostgreSQL database beside the one a URL names."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, make_url


def fresh_database(url: str | None, tmp: str, *, file_name: str, prefix: str) -> tuple[str, str | None]:
    """(the URL to use, the PostgreSQL admin URL to drop it through afterwards, or None).

    No URL: `file_name` in `tmp`. A SQLite URL: that file, replaced only if its name contains "bench". Otherwise
    a new database named `prefix` plus 8 random hex digits, created on the URL's server.
    """
    from bot.db import normalize_url

    if url is None:
        return f"sqlite:///{tmp}/{file_name}", None
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if os.path.exists(path):
            if "bench" not in os.path.basename(path):
                raise SystemExit(f"{path} exists; give a new file, or one whose name contains 'bench' to replace")
            os.remove(path)
        return url, None
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False), url


def drop_database(url: str, admin_url: str) -> None:
    from bot.db import normalize_url

    name = make_url(url).database
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@contextmanager
def bench_database(url: str | None, *, prefix: str = "plchat_bench_") -> Iterator[Any]:
    """A fresh database (as `fresh_database`), migrated, with the playbook synced in; dropped afterwards."""
    from bot import db
    from bot.bootstrap import open_database, sync_playbook
    from bot.config import Settings

    with tempfile.TemporaryDirectory(prefix="plchat-bench-") as tmp:
        database_url, admin_url = fresh_database(url, tmp, file_name="bench.db", prefix=prefix)
        try:
            db.upgrade(database_url)
            database = open_database(Settings(_env_file=None, database_url=database_url))
            sync_playbook(database)
            try:
                yield database
            finally:
                database.engine.dispose()
        finally:
            if admin_url is not None:
                drop_database(database_url, admin_url)
