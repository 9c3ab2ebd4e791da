"""`plchat`: run the bot, serve it over HTTP, migrate, check the playbook, move tips in and out of files,
or try it in the sandbox.

Exit codes: 0 done, 1 some work failed (named), 2 bad settings, usage or input (named, with the fix); every
failure is a line or two, and a traceback only with `plchat --debug …` or PLCHAT_DEBUG=1 (see `errors`).
`tips import` exits 1 when it skipped some rows (each named by its line; the good rows are kept) and 2 when
the file as a whole can't be read; `plays import` likewise exits 1 naming each file refused and 2 when the folder
can't be read; `tips search` and `plays search` exit 1 when nothing matches.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from threading import Event
from typing import Annotated

import typer
from sqlalchemy.engine import URL, make_url

from bot import db
from bot.bootstrap import PlaybookError, build_app, open_database, prepare_embedded
from bot.chats.spec import NETWORKS
from bot.cli.chats import chats_cli
from bot.cli.common import fail, load_settings
from bot.cli.digest import digest_cli
from bot.cli.errors import PlchatGroup, configure_logging, stdout_gone
from bot.cli.plays import plays_cli
from bot.cli.tips import tips_cli
from bot.config import NETWORK_SETTINGS, Settings, slack_token_problem
from bot.scheduler import run_scheduler
from bot.slack import manifest as app_manifest
from bot.slack.app import check_app_token, check_bot_token
from bot.slack.installs import remember_workspace
from bot.slack.services import system_clock

cli = typer.Typer(
    help="PLChat Bot: playbook plays, tips, hashtag chats and digests for teacher communities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=PlchatGroup,
)
db_cli = typer.Typer(help="The database.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(plays_cli, name="plays")
cli.add_typer(tips_cli, name="tips")
cli.add_typer(chats_cli, name="chats")
cli.add_typer(digest_cli, name="digest")

NO_TOKENS = """plchat run needs a Slack app to connect to:
  SLACK_BOT_TOKEN  the bot token (xoxb-...), from OAuth & Permissions after installing the app
  SLACK_APP_TOKEN  an app-level token (xapp-...) with connections:write, for Socket Mode
Create the app from `plchat manifest` (Create New App > From a manifest), install it, and set both.
No workspace handy? Try the bot locally: plchat sandbox"""

NOTHING_TO_POST_TO = """plchat worker has nowhere to post: no Slack token and no network is set.
It will plan chats and digests and keep the tables tidy, but post nothing and read no answers until you set
  Slack: SLACK_BOT_TOKEN (one workspace), or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (workspaces that install it)
{networks}"""


@cli.callback()
def options(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="PLCHAT_DEBUG",
            help="Show the traceback of a failure, and what every command logs (PLCHAT_DEBUG=1 does the same).",
        ),
    ] = False,
) -> None:
    configure_logging(debug, ctx.invoked_subcommand)


def prepared(settings: Settings):
    try:
        return prepare_embedded(settings)
    except PlaybookError as exc:
        fail(f"The playbook has invalid files; fix them and retry:\n{exc}")


def checked_slack(settings: Settings, *, socket_mode: bool = False) -> str:
    """Check the Slack tokens once before starting (their shape, then with Slack), so a wrong, swapped or revoked
    one stops the command with one message; the id of SLACK_BOT_TOKEN's workspace."""
    assert settings.slack_bot_token
    app_token = settings.slack_app_token.get_secret_value() if socket_mode and settings.slack_app_token else None
    problem = slack_token_problem(settings.slack_bot_token.get_secret_value(), app_token)
    if problem:
        fail(problem)
    team_id = check_bot_token(settings)
    if socket_mode:
        check_app_token(settings)
    return team_id


def single_workspace(settings: Settings) -> str | None:
    """With SLACK_BOT_TOKEN alone (no OAuth), its workspace, once the tokens are checked; None otherwise."""
    return checked_slack(settings) if settings.slack_bot_token and not settings.oauth_enabled else None


@cli.command()
def run() -> None:
    """Everything in one process: Socket Mode on the embedded database."""
    settings = load_settings()
    if not (settings.slack_bot_token and settings.slack_app_token):
        fail(NO_TOKENS)
    team_id = checked_slack(settings, socket_mode=True)
    # The websocket-client adapter, not slack-sdk's built-in client: on Slack's routine refresh the built-in one
    # closes the old socket on its message thread and waits out that socket's 3 s read timeout, so envelopes on
    # the new socket waited past Slack's 3 s ack deadline; this one hands them to the new socket at once
    # (tests/test_socket_mode.py holds it to that against the stand-in).
    from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler

    database = prepared(settings)
    remember_workspace(database.sessions, team_id)  # installed there: `plchat` commands know it from now on
    app = build_app(settings, database)
    stop = Event()
    threading.Thread(
        target=run_scheduler, args=(settings, database, system_clock, stop), name="scheduler", daemon=True
    ).start()
    try:
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
    finally:
        stop.set()


@cli.command()
def web() -> None:
    """HTTP mode for production, under gunicorn: /slack/events, /slack/install, /healthz."""
    from bot.web import create_wsgi_app, serve

    settings = load_settings()
    if not settings.slack_signing_secret:
        fail("plchat web needs SLACK_SIGNING_SECRET (Basic Information > App Credentials) to verify requests.")
    if not (settings.slack_bot_token or settings.oauth_enabled):
        fail(
            "plchat web needs SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "to let any workspace install it."
        )
    team_id = single_workspace(settings)  # before gunicorn forks: a bad token stops it once, not in every worker
    if team_id:
        database = open_database(settings)
        remember_workspace(database.sessions, team_id)
        database.engine.dispose()  # gunicorn's workers open their own

    def load_app():
        database = open_database(settings)
        return create_wsgi_app(
            build_app(settings, database),
            database.engine,
            database.sessions,
            clock=system_clock,
            link=settings.public_link,
        )

    serve(settings, load_app)


@cli.command()
def worker() -> None:
    """The scheduler worker: plans chats and digests, posts to Slack, X, Bluesky and Mastodon, reads the answers.

    It also keeps the tables tidy (expired OAuth states, held tips, records past PLCHAT_RETENTION_DAYS)."""
    settings = load_settings()
    if not (settings.slack_bot_token or settings.oauth_enabled or settings.connected_networks):
        networks = "\n".join(f"  {NETWORKS[name]}: {names}" for name, names in NETWORK_SETTINGS.items())
        typer.echo(NOTHING_TO_POST_TO.format(networks=networks), err=True)
    team_id = single_workspace(settings)
    database = open_database(settings)
    if team_id:
        remember_workspace(database.sessions, team_id)
    stop = Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_scheduler(settings, database, system_clock, stop)
    except KeyboardInterrupt:
        stop.set()


@cli.command()
def sandbox(
    script: Annotated[
        typer.FileText | None, typer.Option(help="Run the lines of this file (or - for stdin) instead of prompting.")
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            help="Answer as Slack does an app distributed outside the Marketplace: conversations.history and "
            ".replies once a minute per workspace, 15 messages a call."
        ),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            help="The database URL the sandbox keeps its data in. By default a sandbox.db of its own in your user "
            "data folder: DATABASE_URL is not used, so a real install's data is never touched."
        ),
    ] = None,
) -> None:
    """Try the bot with no Slack workspace: a local Slack stand-in and a console."""
    from bot.sandbox.console import Console, sandbox_database_url, where_data_is
    from bot.sandbox.harness import BotHarness
    from bot.sandbox.slack_api import SlackStandIn

    logging.getLogger().setLevel(logging.ERROR)  # the console shows what happened; logs would bury it
    settings = load_settings().model_copy(update={"database_url": database or sandbox_database_url()})
    typer.echo(f"Sandbox data: {where_data_is(settings.database_url)}")
    with BotHarness(prepared(settings), standin=SlackStandIn(distributed=distributed)) as harness:
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
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        fail(
            "DATABASE_URL is an in-memory SQLite database: it would be gone when this command ends, and every "
            "command starts with an empty one. Name a file: sqlite:///plchat.db (or sqlite:////abs/path.db)."
        )
    db.upgrade(settings.database_url)
    typer.echo(f"The database {_where(url)} is at the newest schema.")


def _where(url: URL) -> str:
    """Which database, for a person: a SQLite file's absolute path, else the URL with its password hidden."""
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or "").expanduser().resolve())
    return url.render_as_string(hide_password=True)


@cli.command()
def manifest(
    url: Annotated[
        str | None,
        typer.Option(
            help="Where `plchat web` is reachable, as https://HOST: every URL is filled in for HTTP mode. Without "
            "it, the manifest is for Socket Mode (`plchat run`)."
        ),
    ] = None,
) -> None:
    """Print the Slack app manifest, for api.slack.com/apps > Create New App > From a manifest.

    It declares exactly the commands, shortcuts, events and scopes the bot answers; manifest.yml is its output."""
    try:
        typer.echo(app_manifest.manifest_yaml(url), nl=False)
    except app_manifest.BadURL as exc:
        fail(f"--url {exc}")


def main() -> None:
    code: int | str | None = 0
    try:
        cli()
    except SystemExit as done:
        code = done.code
    try:
        sys.stdout.flush()  # what a command printed without flushing: its reader may be gone by now
    except BrokenPipeError:
        code = stdout_gone()
    sys.exit(code)
