"""What every `plchat` command shares: settings, failing with a message and an exit code, database errors."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail(f"Bad setting: {problems}")


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn a database failure into one line (the URL may hold a password, so it is never printed)."""
    try:
        yield
    except SQLAlchemyError as exc:
        fail(f"Database error ({type(exc).__name__}). Check DATABASE_URL, and run `plchat db upgrade` "
             "if the database is new.", 1)
