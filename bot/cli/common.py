"""What every `plchat` command shares: settings, failing with a message and an exit code, the workspace."""

from __future__ import annotations

import re
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
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
        fail("\n".join(f"Bad setting {'.'.join(map(str, e['loc'])).upper()}: {_in_words(e)}" for e in exc.errors()))


def _in_words(error: Any) -> str:
    """A setting's problem as a sentence: our validators' own words, else pydantic's (never its input)."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    limits = {"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}"}
    if error["type"] in limits:
        return "it must be " + limits[error["type"]].format(**error["ctx"]) + "."
    return str(error["msg"]) + "."


def operator_database(settings: Settings) -> Database:
    """The database; the embedded one is migrated first, as `run` and `sandbox` do (operator commands need no
    playbook)."""
    if db.is_embedded(settings.database_url):
        db.upgrade(settings.database_url)
    return open_database(settings)


def workspace(sessions: sessionmaker[Session], team: str | None, *, seen: bool = False) -> str:
    """The --team given, or the database's only workspace. With `seen`, --team must name a workspace the bot
    already keeps data for (a chat for any other would post nowhere); imports may bring a new one in."""
    if team is not None and not SLACK_TEAM.fullmatch(team):
        fail(f"--team {team!r} isn't a Slack team id; it looks like T0123ABCD (E… for Enterprise Grid).")
    if team is not None and not seen:
        return team
    with sessions() as session:
        teams = known_teams(session)
    if team is not None:
        if team not in teams:
            fail(f"The bot has never seen workspace {team}. " + (
                f"It knows {', '.join(teams)}; check the id." if teams else
                "It knows none yet: install the app there "
                "(`plchat manifest` prints its manifest) and schedule "
                "the first chat in Slack with /plchat schedule, or share a tip there with /tip."))
        return team
    if not teams:
        fail("The database has no workspace yet, so say which one with --team and its Slack team id "
             "(T…, e.g. from the workspace's URL or the bot's install log).")
    if len(teams) > 1:
        fail(f"The database has {len(teams)} workspaces ({', '.join(teams)}); say which with --team.")
    return teams[0]
