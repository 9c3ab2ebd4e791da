"""`plchat`: run the bot, serve it over HTTP, migrate, check the playbook, move tips in and out of files,
or try it in the sandbox.

Exit codes: 0 success, 1 failure, 2 bad usage or bad input (with a message saying what to fix).
`tips import` exits 1 when it skipped some rows (each named by its line; the good rows are kept) and 2 when
the file as a whole can't be read; `tips search` and `plays search` exit 1 when nothing matches.
"""

from __future__ import annotations

import logging
import re
import sys
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, ContextManager, Iterator, Literal, NoReturn, TextIO

import rich.progress
import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import db, plays
from bot.bootstrap import Database, PlaybookError, build_app, open_database, prepare_embedded, sync_playbook
from bot.config import Settings
from bot.play_files import PLAYS_DIR, load_play_dir
from bot.tips import transfer
from bot.tips.records import Tip, TipRejected
from bot.tips.search import parse_query, search_tips
from bot.tips.store import known_teams

cli = typer.Typer(help="PLChat Bot: playbook plays for teacher communities, in Slack.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
db_cli = typer.Typer(help="The database.", no_args_is_help=True)
plays_cli = typer.Typer(help="The playbook in plays/.", no_args_is_help=True)
tips_cli = typer.Typer(help="Tips: import from and export to files, search.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(plays_cli, name="plays")
cli.add_typer(tips_cli, name="tips")

PlaysDir = Annotated[Path, typer.Option("--dir", help="Folder of play files.")]
TeamOption = Annotated[str | None, typer.Option(
    "--team", help="The workspace's Slack team id (T…); needed when the database has more or fewer than one.")]

SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,31}")
PREVIEW = 70

NO_TOKENS = """plchat run needs a Slack app to connect to:
  SLACK_BOT_TOKEN  the bot token (xoxb-...), from OAuth & Permissions after installing the app
  SLACK_APP_TOKEN  an app-level token (xapp-...) with connections:write, for Socket Mode
Create the app from manifest.yml (Create New App > From a manifest), install it, and set both.
No workspace handy? Try the bot locally: plchat sandbox"""


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


def prepared(settings: Settings):
    try:
        with database_errors():
            return prepare_embedded(settings)
    except PlaybookError as exc:
        fail(f"The playbook has invalid files; fix them and retry:\n{exc}")


@cli.command()
def run() -> None:
    """Everything in one process: Socket Mode on the embedded database."""
    settings = load_settings()
    if not (settings.slack_bot_token and settings.slack_app_token):
        fail(NO_TOKENS)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = build_app(settings, prepared(settings))
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()


@cli.command()
def web() -> None:
    """HTTP mode for production, under gunicorn: /slack/events, /slack/install, /healthz."""
    from bot.web import create_wsgi_app, serve

    settings = load_settings()
    if not settings.slack_signing_secret:
        fail("plchat web needs SLACK_SIGNING_SECRET (Basic Information > App Credentials) to verify requests.")
    if not (settings.slack_bot_token or settings.oauth_enabled):
        fail("plchat web needs SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
             "to let any workspace install it.")

    def load_app():
        database = open_database(settings)
        return create_wsgi_app(build_app(settings, database), database.engine)

    serve(settings, load_app)


@cli.command()
def worker() -> None:
    """The scheduler worker: periodic jobs over the database."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.scheduler import schedule_jobs
    from bot.slack.services import system_clock

    database = open_database(load_settings())
    scheduler = BlockingScheduler(timezone="UTC")
    schedule_jobs(scheduler, database.sessions, system_clock)
    scheduler.start()


@cli.command()
def sandbox(script: Annotated[typer.FileText | None, typer.Option(
        help="Run the lines of this file (or - for stdin) instead of prompting.")] = None) -> None:
    """Try the bot with no Slack workspace: a local Slack stand-in and a console."""
    from bot.sandbox.console import Console
    from bot.sandbox.harness import BotHarness

    logging.getLogger().setLevel(logging.ERROR)  # the console shows what happened; logs would bury it
    database = prepared(load_settings())
    with BotHarness(database) as harness:
        console = Console(harness, sys.stdout)
        if script is not None:
            console.run(script, echo=True)
        else:
            console.run(_prompt_lines(), echo=False)


def _prompt_lines():
    while True:
        try:
            yield input("\nyou> ")
        except EOFError:
            print()  # end the prompt's line
            return


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = load_settings()
    with database_errors():
        db.upgrade(settings.database_url)
    typer.echo("Database is at the newest schema.")


@plays_cli.command("check")
def plays_check(directory: PlaysDir = PLAYS_DIR) -> None:
    """Validate every play file; exit 2 naming each file and field at fault."""
    found, errors = load_play_dir(directory)
    for error in errors:
        typer.echo(str(error), err=True)
    if errors:
        fail(f"{len(errors)} play file(s) need fixing; {len(found)} are fine.")
    typer.echo(f"{len(found)} plays are valid.")


@plays_cli.command("sync")
def plays_sync(directory: PlaysDir = PLAYS_DIR) -> None:
    """Load the play files into the database (unchanged files are left alone)."""
    settings = load_settings()
    try:
        with database_errors():
            report = sync_playbook(open_database(settings), directory)
    except PlaybookError as exc:
        fail(f"Nothing synced; fix these first:\n{exc}")
    typer.echo(f"{len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged, {len(report.removed)} removed.")


@plays_cli.command("search")
def plays_search(words: Annotated[list[str], typer.Argument(help="What to look for.")]) -> None:
    """Search the playbook the way /play does."""
    database = open_database(load_settings())
    with database_errors(), database.sessions() as session:
        result = plays.search_plays(session, " ".join(words), limit=5)
    if not result.plays:
        fail("No play matches. Try other words, or `plchat plays search feedback`.", 1)
    for play in result.plays:
        typer.echo(f"{play.slug:40} {play.title}")


def tips_database(settings: Settings) -> Database:
    """The database; the embedded one is migrated first, as `run` and `sandbox` do (tips need no playbook)."""
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


@tips_cli.command("import")
def tips_import(file: Annotated[Path, typer.Argument(
        help="A .csv file with a header row, or .jsonl / .ndjson with one JSON object a line.")],
        team: TeamOption = None) -> None:
    """Add tips from a file; importing it again adds nothing. Exit 1 names each row skipped."""
    try:
        kind = transfer.file_format(file)
    except transfer.FileRejected as exc:
        fail(str(exc))
    database = tips_database(load_settings())
    team_id = workspace(database.sessions, team)
    try:
        with database_errors(), _reading(file) as stream:
            report = transfer.import_tips(database.sessions, team_id, transfer.read_rows(stream, kind),
                                          datetime.now(timezone.utc))
    except OSError as exc:
        fail(f"Can't read {file}: {exc.strerror or exc}.")
    except transfer.FileRejected as exc:
        fail(f"{file.name}: {exc}")
    _summarise(report)


def _reading(path: Path) -> ContextManager[TextIO]:
    """The file as text (a UTF-8 byte order mark dropped), with a progress bar when stderr is a terminal."""
    console = Console(stderr=True)
    return rich.progress.open(path, "rt", encoding="utf-8-sig", newline="", description=f"Importing {path.name}",
                              console=console, transient=True, disable=not console.is_terminal)


def _summarise(report: transfer.ImportReport) -> None:
    for row in report.skipped:
        typer.echo(f"line {row.line}: {row.reason}", err=True)
    typer.echo(f"{_count(report.added, 'tip')} added, {report.existing:,} already there, "
               f"{_count(len(report.skipped), 'row')} skipped.")
    if report.skipped:
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@tips_cli.command("export")
def tips_export(team: TeamOption = None,
                kind: Annotated[Literal["csv", "jsonl"], typer.Option("--format", help="csv or jsonl.")] = "csv",
                output: Annotated[Path | None, typer.Option(
                    "--output", "-o", help="Write to this file instead of stdout.")] = None) -> None:
    """Write a workspace's tips (not held ones) as CSV or JSON Lines, oldest first."""
    database = tips_database(load_settings())
    team_id = workspace(database.sessions, team)
    try:
        with database_errors(), database.sessions() as session, _writing(output) as out:
            count = transfer.write_rows(transfer.export_rows(session, team_id), out, kind)
    except OSError as exc:
        fail(f"Can't write {output or 'the output'}: {exc.strerror or exc}.")
    typer.echo(f"{_count(count, 'tip')} exported{f' to {output}' if output else ''}.", err=True)


def _writing(output: Path | None) -> ContextManager[TextIO]:
    return open(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout)


@tips_cli.command("search")
def tips_search(words: Annotated[list[str], typer.Argument(
        help="What to look for, as in /tips: words, #tags, since:YYYY-MM-DD.")], team: TeamOption = None) -> None:
    """Search a workspace's tips the way /tips does (the first page)."""
    try:
        query = parse_query(" ".join(words))
    except TipRejected as refused:
        fail(str(refused))
    database = tips_database(load_settings())
    team_id = workspace(database.sessions, team)
    with database_errors(), database.sessions() as session:
        found = search_tips(session, team_id, query, now=datetime.now(timezone.utc))
    if not found.tips:
        fail("No tip matches. Try fewer or other words, or a tag: `plchat tips search '#assessment'`.", 1)
    if found.corrected:
        typer.echo(f"Showing tips for: {found.corrected}", err=True)
    for tip in found.tips:
        typer.echo(_tip_line(tip))


def _tip_line(tip: Tip) -> str:
    text = _printable(tip.text)
    preview = text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"
    tags = " ".join(f"#{tag}" for tag in tip.tags)
    return f"{tip.id:>7}  {preview}  — {_printable(tip.author)}  {tags}  {_count(tip.helpful_count, 'helpful vote')}"


def _printable(text: str) -> str:
    """One line with no control characters (a tip's text must not drive the operator's terminal)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cli()
