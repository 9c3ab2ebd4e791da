"""What every `plchat` command shares: settings, failing with a message and an exit code, database errors."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Annotated, Iterator, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.bootstrap import Database, open_database
from bot.config import Settings
from bot.tips.store import known_teams

TeamOption = Annotated[str | None, typer.Option(
    "--team", help="The workspace's Slack team id (T…); needed when the database has more or fewer than one.")]

SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,31}")


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


def operator_database(settings: Settings) -> Database:
    """The database; the embedded one is migrated first, as `run` and `sandbox` do (operator commands need no
    playbook)."""
    with database_errors():
        if db.is_embedded(settings.database_url):
            db.upgrade(settings.database_url)
        return open_database(settings)


def workspace(sessions: sessionmaker[Session], team: str | None) -> str:
    """The --team given, or the database's only workspace."""
    if team is not None:
        if not SLACK_TEAM.fullmatch(team):
            fail(f"--team {team!r} isn't a Slack team id; it looks like T0123ABCD (E… for Enterprise Grid).")
        return team
    with database_errors(), sessions() as session:
        teams = known_teams(session)
    if not teams:
        fail("The database has no workspace yet, so say which one with --team and its Slack team id "
             "(T…, e.g. from the workspace's URL or the bot's install log).")
    if len(teams) > 1:
        fail(f"The database has {len(teams)} workspaces ({', '.join(teams)}); say which with --team.")
    return teams[0]
