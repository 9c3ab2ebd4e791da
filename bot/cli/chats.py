"""`plchat chats`: schedule chats from YAML files, list, change, cancel and skip them, and write recaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from bot import archive
from bot.chats import answers, store, timetable
from bot.chats.definition import chat_to_yaml, parse_chat_file
from bot.chats.spec import NETWORKS, ChatSpec, ChatSpecError, ScheduledChat, not_connected
from bot.cli.common import TeamOption, fail, load_settings, operator_database, team_filter, workspace
from bot.config import NETWORK_SETTINGS, Settings
from bot.db import transaction
from bot.resources import data_dir

chats_cli = typer.Typer(
    help="Scheduled hashtag chats: schedule from a YAML file, list, cancel, skip, recap.", no_args_is_help=True
)

ChatId = Annotated[int, typer.Argument(help="The chat's id, as `plchat chats list` shows it.", min=1)]
ChatFile = Annotated[Path, typer.Argument(help="A chat file (YAML); `plchat chats example` prints a complete one.")]
MAX_FILE = 64 * 1024
EXAMPLE = data_dir("examples") / "plchat-chat.yml"


def _now() -> datetime:
    return datetime.now(UTC)


def _read_spec(path: Path, settings: Settings) -> ChatSpec:
    try:
        if path.stat().st_size > MAX_FILE:
            fail(f"{path}: a chat file is at most 64 KB; this one is {path.stat().st_size // 1024} KB.")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{path}: not a text file (a chat file is UTF-8 YAML).")
    except OSError as exc:
        fail(f"{path}: can't read it ({exc.strerror or exc}).")
    try:
        return parse_chat_file(text, default_timezone=settings.plchat_timezone)
    except ChatSpecError as exc:
        fail(f"{path} needs fixing:\n" + "\n".join(f"  {problem}" for problem in exc.problems))


def _warn_unconnected(spec: ChatSpec, settings: Settings) -> None:
    notice = not_connected(spec, settings.connected_networks, NETWORK_SETTINGS)
    if notice:
        typer.echo(f"Note: {notice}", err=True)


def _describe(chat: ScheduledChat) -> str:
    if chat.cancelled:
        return f"Chat {chat.id}: #{chat.spec.hashtag} “{chat.spec.title}” is cancelled."
    if chat.next_start is None:
        return f"Chat {chat.id}: #{chat.spec.hashtag} “{chat.spec.title}” has no occurrence left."
    local = chat.next_start.astimezone(timetable.local_start(chat.spec, chat.spec.starts.date()).tzinfo)
    where = (["Slack"] if chat.spec.slack_channels else []) + [NETWORKS[name] for name in chat.spec.networks]
    return (
        f"Chat {chat.id}: #{chat.spec.hashtag} “{chat.spec.title}”, next {local:%a %Y-%m-%d %H:%M} "
        f"{chat.spec.timezone}{' (weekly)' if chat.spec.repeat == 'weekly' else ''}, on {', '.join(where)}."
    )


@chats_cli.command("example")
def chats_example() -> None:
    """Print a complete chat file, every field explained, to start from: plchat chats example > chat.yml"""
    typer.echo(EXAMPLE.read_text(encoding="utf-8"), nl=False)


@chats_cli.command("schedule")
def chats_schedule(file: ChatFile, team: TeamOption = None) -> None:
    """Schedule a chat from a file. A bad file exits 2, naming each line and field to fix."""
    settings = load_settings()
    spec = _read_spec(file, settings)
    database = operator_database(settings)
    team_id = workspace(database.sessions, team)
    with transaction(database.sessions) as session:
        chat = store.create_chat(session, team_id, spec, "cli", _now())
    typer.echo(f"Scheduled. {_describe(chat)}")
    _warn_unconnected(spec, settings)


@chats_cli.command("edit")
def chats_edit(chat_id: ChatId, file: ChatFile) -> None:
    """Replace a chat's definition with a file's (`plchat chats show ID` gives the current one)."""
    settings = load_settings()
    spec = _read_spec(file, settings)
    database = operator_database(settings)
    with _known_chat(), transaction(database.sessions) as session:
        chat = store.update_chat(session, chat_id, spec, _now())
    typer.echo(f"Changed. {_describe(chat)}")
    _warn_unconnected(spec, settings)


@chats_cli.command("show")
def chats_show(chat_id: ChatId) -> None:
    """Print a chat as a chat file, ready to edit."""
    database = operator_database(load_settings())
    with _known_chat(), database.sessions() as session:
        chat = store.get_chat(session, chat_id, _now())
    typer.echo(chat_to_yaml(chat.spec), nl=False)


@chats_cli.command("list")
def chats_list(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
    team: Annotated[str | None, typer.Option("--team", help="Only this workspace's chats.")] = None,
) -> None:
    """Upcoming chats, soonest first."""
    database = operator_database(load_settings())
    team = team_filter(database.sessions, team)
    with database.sessions() as session:
        chats = store.upcoming(session, _now(), team, limit=10_000)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": chat.id,
                        "title": chat.spec.title,
                        "hashtag": chat.spec.hashtag,
                        "team_id": chat.team_id,
                        "next_start": chat.next_start.isoformat() if chat.next_start else None,
                        "timezone": chat.spec.timezone,
                        "repeat": chat.spec.repeat,
                        "slack_channels": list(chat.spec.slack_channels),
                        "networks": list(chat.spec.networks),
                    }
                    for chat in chats
                ],
                indent=2,
            )
        )
        return
    if not chats:
        typer.echo("No chats coming up. Schedule one: plchat chats schedule FILE")
    for chat in chats:
        typer.echo(_describe(chat))


@chats_cli.command("cancel")
def chats_cancel(chat_id: ChatId) -> None:
    """Cancel a chat: nothing more of it is posted."""
    database = operator_database(load_settings())
    with _known_chat(), transaction(database.sessions) as session:
        chat = store.cancel_chat(session, chat_id, _now())
    typer.echo(_describe(chat))


@chats_cli.command("skip")
def chats_skip(
    chat_id: ChatId,
    day: Annotated[str, typer.Argument(metavar="DATE", help="The date to skip, YYYY-MM-DD (in the chat's timezone).")],
) -> None:
    """Skip one date of a chat."""
    try:
        skipped = date.fromisoformat(day)
    except ValueError:
        fail(f"{day!r} isn't a date; write it as YYYY-MM-DD, e.g. 2026-12-22.")
    database = operator_database(load_settings())
    with _known_chat(), transaction(database.sessions) as session:
        chat = store.get_chat(session, chat_id, _now())
        if skipped in chat.spec.skip:  # what was asked for holds: a script may run it twice
            typer.echo(f"Chat {chat_id} already skips {skipped:%a %Y-%m-%d}; nothing to do. {_describe(chat)}")
            return
        chat = store.skip_date(session, chat_id, skipped, _now())
    typer.echo(f"Skipped {skipped:%a %Y-%m-%d}. {_describe(chat)}")


@chats_cli.command("recap")
def chats_recap(
    chat_id: ChatId,
    fmt: Annotated[Literal["md", "html"], typer.Option("--format", help="Markdown or HTML.")] = "md",
    day: Annotated[
        str | None, typer.Option("--date", help="Which date's chat (default: the latest that has started).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Write here, not stdout.")] = None,
) -> None:
    """Write a chat's recap as a document: its questions, the most helpful answers, who took part."""
    database = operator_database(load_settings())
    with _known_chat(), database.sessions() as session:
        chat = store.get_chat(session, chat_id, _now())
        occurrence = _occurrence(chat, day)
        recap = answers.build_recap(session, chat_id, occurrence)
    document = archive.recap_html(recap) if fmt == "html" else archive.recap_markdown(recap)
    if output is None:
        typer.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as exc:
        fail(f"Can't write {output}: {exc.strerror or exc}", 1)
    typer.echo(f"Wrote the recap of {occurrence:%a %Y-%m-%d} to {output}.")


def _occurrence(chat: ScheduledChat, day: str | None) -> date:
    """The date whose recap to write: --date, or the latest that has started. A date the chat never ran on is
    bad input (exit 2): its recap would only say that nobody answered. A date that started before the chat was
    scheduled never ran either, even when the file's `starts` is earlier."""
    now = _now()
    scheduled_at = chat.scheduled_at or datetime.min.replace(tzinfo=UTC)
    last = timetable.last_start(chat.spec, now, scheduled_at)
    if day is None:
        if last is None:
            fail(_not_run_yet(chat, scheduled_at))
        return last.date()
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        fail(f"--date {day!r} isn't a date; write it as YYYY-MM-DD.")
    ran_until = f"; it last ran on {last:%a %Y-%m-%d}" if last else "; it hasn't run yet"
    if next(timetable.occurrence_dates(chat.spec, chosen), None) != chosen:
        why = (
            " (that date was skipped)"
            if chosen in chat.spec.skip
            else f" (it runs on {chat.spec.starts:%A}s from {chat.spec.starts:%Y-%m-%d})"
            if chat.spec.repeat == "weekly"
            else ""
        )
        fail(f"Chat {chat.id} didn't run on {chosen:%a %Y-%m-%d}{why}{ran_until}.")
    start = timetable.local_start(chat.spec, chosen)
    if start > now:
        fail(f"Chat {chat.id}'s {chosen:%a %Y-%m-%d} date hasn't started yet{ran_until}.")
    if start < scheduled_at:
        fail(
            _not_run_yet(chat, scheduled_at)
            if last is None
            else f"Chat {chat.id} didn't run on {chosen:%a %Y-%m-%d}: it was scheduled later, on "
            f"{scheduled_at.astimezone(start.tzinfo):%a %Y-%m-%d}{ran_until}."
        )
    return chosen


def _not_run_yet(chat: ScheduledChat, scheduled_at: datetime) -> str:
    first = next(
        (day for day in timetable.occurrence_dates(chat.spec) if timetable.local_start(chat.spec, day) >= scheduled_at),
        None,
    )
    return f"Chat {chat.id} hasn't run yet" + (
        f"; its first date is {first:%Y-%m-%d}." if first else "; it has no date left."
    )


@contextmanager
def _known_chat() -> Iterator[None]:
    """'No such chat' and 'not a date it runs on' are bad input: a message and exit code 2."""
    try:
        yield
    except (store.ChatNotFound, store.NotAnOccurrence) as exc:
        fail(str(exc))
