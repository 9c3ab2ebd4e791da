"""`plchat tips`: import tips from files, export them, and search them as /tips does."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, TextIO

import rich.progress
import typer
from rich.console import Console

from bot.cli.common import TeamOption, fail, load_settings, operator_database, workspace
from bot.tips import transfer
from bot.tips.records import Tip, TipRejected
from bot.tips.search import parse_query, search_tips

tips_cli = typer.Typer(help="Tips: import from and export to files, search.", no_args_is_help=True)

PREVIEW = 70


@tips_cli.command("import")
def tips_import(
    file: Annotated[
        Path, typer.Argument(help="A .csv file with a header row, or .jsonl / .ndjson with one JSON object a line.")
    ],
    team: TeamOption = None,
) -> None:
    """Add tips from a file; importing it again adds nothing. Exit 1 names each row skipped."""
    if not file.is_file():
        fail(f"{file} is a folder; give a .csv or .jsonl file." if file.is_dir() else f"{file}: not found.")
    try:
        kind = transfer.file_format(file)
    except transfer.FileRejected as exc:
        fail(str(exc))
    database = operator_database(load_settings())
    team_id = workspace(database.sessions, team)
    try:
        with _reading(file) as stream:
            report = transfer.import_tips(
                database.sessions, team_id, transfer.read_rows(stream, kind), datetime.now(UTC)
            )
    except OSError as exc:
        fail(f"Can't read {file}: {exc.strerror or exc}.")
    except transfer.FileRejected as exc:
        fail(f"{file.name}: {exc}")
    _summarise(report)


def _reading(path: Path) -> AbstractContextManager[TextIO]:
    """The file as text (a UTF-8 byte order mark dropped), with a progress bar when stderr is a terminal."""
    console = Console(stderr=True)
    return rich.progress.open(
        path,
        "rt",
        encoding="utf-8-sig",
        newline="",
        description=f"Importing {path.name}",
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _summarise(report: transfer.ImportReport) -> None:
    for row in report.skipped:
        typer.echo(f"line {row.line}: {row.reason}", err=True)
    typer.echo(
        f"{_count(report.added, 'tip')} added, {report.existing:,} already there, "
        f"{_count(len(report.skipped), 'row')} skipped."
    )
    if report.skipped:
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@tips_cli.command("export")
def tips_export(
    team: TeamOption = None,
    kind: Annotated[Literal["csv", "jsonl"], typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Write a workspace's tips (not held ones) as CSV or JSON Lines, oldest first."""
    database = operator_database(load_settings())
    team_id = workspace(database.sessions, team)
    try:
        with database.sessions() as session, _writing(output) as out:
            count = transfer.write_rows(transfer.export_rows(session, team_id), out, kind)
    except OSError as exc:
        fail(f"Can't write {output or 'the output'}: {exc.strerror or exc}.")
    typer.echo(f"{_count(count, 'tip')} exported{f' to {output}' if output else ''}.", err=True)


def _writing(output: Path | None) -> AbstractContextManager[TextIO]:
    return open(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout)


@tips_cli.command("search")
def tips_search(
    words: Annotated[list[str], typer.Argument(help="What to look for, as in /tips: words, #tags, since:YYYY-MM-DD.")],
    team: TeamOption = None,
) -> None:
    """Search a workspace's tips the way /tips does (the first page)."""
    try:
        query = parse_query(" ".join(words))
    except TipRejected as refused:
        fail(str(refused))
    database = operator_database(load_settings())
    team_id = workspace(database.sessions, team)
    with database.sessions() as session:
        found = search_tips(session, team_id, query, now=datetime.now(UTC))
    if not found.tips:
        fail("No tip matches. Try fewer or other words, or a tag: `plchat tips search '#assessment'`.", 1)
    if found.corrected:
        typer.echo(f"Showing tips for: {found.corrected}", err=True)
    for tip in found.tips:
        typer.echo(_tip_line(tip))


def _tip_line(tip: Tip) -> str:
    text = _printable(tip.text)
    preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    tags = " ".join(f"#{tag}" for tag in tip.tags)
    return f"{tip.id:>7}  {preview}  — {_printable(tip.author)}  {tags}  {_count(tip.helpful_count, 'helpful vote')}"


def _printable(text: str) -> str:
    """One line with no control characters (a tip's text must not drive the operator's terminal)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
