"""The `plchat` error boundary: every failure a command doesn't handle itself ends here, as one or two lines
and an exit code (2: a setting or input to fix, named with the fix; 1: some work failed), never a traceback,
unless `plchat --debug …` or `PLCHAT_DEBUG=1` asks for one.

Commands raise what they meet (a database that can't be reached, Slack refusing the token) and this module alone
decides how it reads to an operator. A message never holds DATABASE_URL or a token: they may hold secrets.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import typer
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError
from typer.core import TyperGroup

from bot.config import POSTGRES_INSTALL
from bot.slack.app import SlackAppTokenRefused, SlackTokenRefused, SlackUnreachable

DEBUG_HINT = "Run it again as `plchat --debug …` (or with PLCHAT_DEBUG=1) to see the traceback."
SERVICES = frozenset({"run", "web", "worker"})  # long-running: they log what they do at INFO

STDOUT_GONE = 141  # what a shell reports for a tool SIGPIPE ended (128 + 13), as `plchat … | head -1` does
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing table; SQLite says "no such table"


class PlchatGroup(TyperGroup):
    """The root command: known failures become their message and exit code (see `explain`)."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # Typer passes its own Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            raise typer.Exit(stdout_gone()) from None
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            message, code = explain(exc, ctx.invoked_subcommand)
            typer.echo(message, err=True)
            raise typer.Exit(code) from None


def stdout_gone() -> int:
    """Whoever read stdout has stopped (`plchat plays search … | head -1`): end quietly, as Unix tools do. What is
    still buffered goes to /dev/null, so Python's last flush can't fail again on the way out (Python's docs on
    SIGPIPE); the exit code is the one a shell shows for a tool that SIGPIPE ended."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return STDOUT_GONE


def explain(exc: Exception, command: str | None) -> tuple[str, int]:
    """The operator's message for `exc`, and the exit code."""
    if isinstance(exc, SlackTokenRefused):
        return (
            f"Slack refused SLACK_BOT_TOKEN ({exc.error}): copy the Bot User OAuth Token (xoxb-…) again from "
            "your app's OAuth & Permissions page, or reinstall the app if it was revoked."
        ), 2
    if isinstance(exc, SlackAppTokenRefused):
        return (
            f"Slack refused SLACK_APP_TOKEN ({exc.error}) for Socket Mode: make an app-level token (xapp-…) "
            "with connections:write on your app's Basic Information page (App-Level Tokens) and set it."
        ), 2
    if isinstance(exc, SlackUnreachable):
        # 1, not 2: the settings may well be right; the network (or Slack) failed, and the same command may work
        # once it is back. A wrong SLACK_API_URL reads the same, so the message names it.
        return (
            f"Can't reach Slack at {exc.url} ({exc.reason}). Check this machine's network (and SLACK_API_URL "
            "if you set it), then start again."
        ), 1
    if isinstance(exc, ImportError) and "psycopg" in f"{exc.name} {exc}":
        # Installed without a libpq to load (psycopg alone, not psycopg[binary]); a missing psycopg is a bad setting
        return (
            f"DATABASE_URL is a PostgreSQL URL, but psycopg can't load ({_first_line(exc)}): "
            f"{POSTGRES_INSTALL} installs it with its own libpq."
        ), 2
    if isinstance(exc, SQLAlchemyError):
        return _database_problem(exc, command)
    where = f"plchat {command}" if command else "plchat"
    return f"{where} stopped on an unexpected error ({type(exc).__name__}). {DEBUG_HINT}", 1


def _database_problem(exc: SQLAlchemyError, command: str | None) -> tuple[str, int]:
    reason = _first_line(exc.orig) if isinstance(exc, DBAPIError) else type(exc).__name__
    missing = (
        isinstance(exc, NoSuchTableError)
        or reason.startswith("no such table")
        or getattr(getattr(exc, "orig", None), "sqlstate", None) == UNDEFINED_TABLE
    )
    if missing and command != "db":
        return (
            f"The database in DATABASE_URL has no PLChat tables yet, or older ones ({reason}): run `plchat db upgrade`."
        ), 2
    return f"The database in DATABASE_URL failed: {reason}. Check that it is up and DATABASE_URL is right.", 1


def _first_line(error: BaseException | None) -> str:
    text = str(error or "").strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def configure_logging(debug: bool, command: str | None) -> None:
    """The long-running commands log what they do; the others print their own results, so they log only warnings
    (a sync's log line would repeat its result); `--debug` shows everything at INFO."""
    level = logging.INFO if debug or command in SERVICES else logging.WARNING
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for chatty in ("alembic", "apscheduler"):  # a line for each migration step, each job run (every 15 s)
        logging.getLogger(chatty).setLevel(logging.INFO if debug else logging.WARNING)
