"""What every `plchat` command shares: settings, failing with a message and an exit code, the workspace."""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.bootstrap import Database, open_database
from bot.config import Settings, unknown_settings
from bot.tips.store import known_teams

TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        help="The Slack team id (T…) of a workspace the bot knows (the app is installed there); needed when "
        "it knows more than one.",
    ),
]

SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,31}")
LIMITS = {
    "greater_than_equal": "at least {ge}",
    "less_than_equal": "at most {le}",
    "greater_than": "more than {gt}",
    "less_than": "less than {lt}",
}
SHAPES = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "url_parsing": "a URL (https://…)",
}


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    _warn_unknown_settings()
    try:
        return Settings()
    except ValidationError as exc:
        fail("\n".join(f"Bad setting {'.'.join(map(str, e['loc'])).upper()}: {_in_words(e)}" for e in exc.errors()))


@cache
def _warn_unknown_settings() -> None:
    """Once a process: a variable that looks like a setting but isn't one is named, with the one it may mean."""
    for name, closest in unknown_settings(dict(os.environ)):
        typer.echo(
            f"Warning: {name} isn't a setting, so it is ignored" + (f"; did you mean {closest}?" if closest else "."),
            err=True,
        )


def _in_words(error: Any) -> str:
    """A setting's problem as a sentence: our validators' own words, else pydantic's (never its input)."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] in SHAPES:
        return f"it must be {SHAPES[error['type']]}."
    if error["type"] in LIMITS:
        return "it must be " + LIMITS[error["type"]].format(**error["ctx"]) + "."
    return str(error["msg"]) + "."


def operator_database(settings: Settings) -> Database:
    """The database; the embedded one is migrated first, as `run` and `sandbox` do (operator commands need no
    playbook)."""
    if db.is_embedded(settings.database_url):
        db.upgrade(settings.database_url)
    return open_database(settings)


INSTALL_FIRST = (
    "Install the app in your workspace first (plchat run or plchat web with SLACK_BOT_TOKEN, or OAuth: "
    "see README), then {then}"
)
AGAIN = "run this again (with one workspace known, no --team is needed)."
INSTALLED_TEAMS = text(
    "SELECT team_id FROM slack_installations WHERE team_id IS NOT NULL "
    "UNION SELECT team_id FROM slack_bots WHERE team_id IS NOT NULL"
)


def known_workspaces(sessions: sessionmaker[Session]) -> list[str]:
    """Every workspace the bot knows: one it keeps data for, or one that installed it through OAuth."""
    with sessions() as session:
        return sorted({*known_teams(session), *session.scalars(INSTALLED_TEAMS)})


def workspace(sessions: sessionmaker[Session], team: str | None) -> str:
    """The --team given, which must be a workspace the bot knows (a typo would otherwise start a new, empty
    one), or the only workspace it knows."""
    teams = known_workspaces(sessions)
    if team is not None:
        return known_workspace(team, teams)
    if not teams:
        fail(INSTALL_FIRST.format(then=AGAIN))
    if len(teams) > 1:
        fail(f"The database has {len(teams)} workspaces ({', '.join(teams)}); say which with --team.")
    return teams[0]


def team_filter(sessions: sessionmaker[Session], team: str | None) -> str | None:
    """--team of a command that otherwise works on every workspace: None, or a workspace the bot knows."""
    return None if team is None else known_workspace(team, known_workspaces(sessions))


def known_workspace(team: str, teams: list[str]) -> str:
    """`team`, if it is a Slack team id among `teams`; else exit 2 saying what to do."""
    if not SLACK_TEAM.fullmatch(team):
        fail(f"--team {team!r} isn't a Slack team id; it looks like T0123ABCD (E… for Enterprise Grid).")
    if team not in teams:
        fail(
            f"The bot doesn't know workspace {team}; it knows {', '.join(teams)}. Check the id."
            if teams
            else f"The bot doesn't know workspace {team}, or any yet. " + INSTALL_FIRST.format(then=AGAIN)
        )
    return team
