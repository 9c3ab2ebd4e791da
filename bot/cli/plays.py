"""`plchat plays`: check and sync the shared playbook in plays/, search it as /play does, and move a workspace's own
plays out to files and back in (the same `plays/` format, checked the same way)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot import community, plays
from bot.bootstrap import PlaybookError, open_database, sync_playbook
from bot.cli.common import TeamOption, fail, load_settings, operator_database, team_filter, workspace
from bot.db import transaction
from bot.play_files import MAX_FILE_BYTES, PLAYS_DIR, load_play_dir

plays_cli = typer.Typer(
    help="The playbook: the shared plays in plays/, and each workspace's own.", no_args_is_help=True
)

PlaysDir = Annotated[Path, typer.Option("--dir", help="Folder of play files.")]
MAX_IMPORT_FILES = 500


@plays_cli.command("check")
def plays_check(directory: PlaysDir = PLAYS_DIR) -> None:
    """Validate every play file; exit 2 listing every problem in every file, by field and line."""
    found, errors = load_play_dir(directory)
    for error in errors:
        typer.echo(str(error), err=True)
    if errors:
        fail(
            f"{len({error.path for error in errors})} play file(s) need fixing ({len(errors)} problem(s)); "
            f"{len(found)} are fine."
        )
    typer.echo(f"{len(found)} plays are valid.")


@plays_cli.command("sync")
def plays_sync(directory: PlaysDir = PLAYS_DIR) -> None:
    """Load the play files into the database (unchanged files are left alone)."""
    settings = load_settings()
    try:
        report = sync_playbook(open_database(settings), directory)
    except PlaybookError as exc:
        fail(f"Nothing synced; fix these first:\n{exc}")
    typer.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )


@plays_cli.command("search")
def plays_search(
    words: Annotated[list[str], typer.Argument(help="What to look for.")],
    team: Annotated[
        str | None, typer.Option("--team", help="Also search this workspace's own plays (its Slack team id).")
    ] = None,
) -> None:
    """Search the playbook the way /play does."""
    database = open_database(load_settings())
    team = team_filter(database.sessions, team)
    with database.sessions() as session:
        result = plays.search_plays(session, " ".join(words), limit=5, team=team)
    if not result.plays:
        fail("No play matches. Try other words, or `plchat plays search feedback`.", 1)
    for play in result.plays:
        mark = "  (from the community)" if play.from_community else ""
        typer.echo(f"{play.slug:40} {play.title}{mark}")


@plays_cli.command("export")
def plays_export(
    output: Annotated[Path, typer.Option("--output", help="The folder to write the files into.")],
    team: TeamOption = None,
) -> None:
    """Write the workspace's own plays as Markdown files in the plays/ format, one `slug.md` each."""
    if output.exists() and not output.is_dir():
        fail(f"{output} is a file; give --output a folder.")
    database = operator_database(load_settings())
    team_id = workspace(database.sessions, team)
    try:
        with database.sessions() as session:
            written = community.export_plays(session, team_id, output)
    except OSError as exc:
        fail(f"Can't write to {output}: {exc.strerror or exc}.", 1)
    typer.echo(
        f"{len(written)} plays written to {output}."
        if written
        else f"Workspace {team_id} has no plays of its own yet; nothing written."
    )


@plays_cli.command("import")
def plays_import(
    directory: Annotated[Path, typer.Argument(help="A folder of play files (*.md).")], team: TeamOption = None
) -> None:
    """Add or update the workspace's own plays from a folder of play files, each checked as `plays check` does.
    Exit 1 names each file refused (the good ones are kept); 2 when the folder can't be read."""
    try:
        paths = sorted(directory.glob("*.md")) if directory.is_dir() else None
    except OSError as exc:
        fail(f"Can't read {directory}: {exc.strerror or exc}.")
    if paths is None:
        fail(f"{directory} is not a folder of play files.")
    if not paths:
        fail(f"{directory} holds no *.md play files.")
    if len(paths) > MAX_IMPORT_FILES:
        fail(
            f"{directory} holds {len(paths)} files; import at most {MAX_IMPORT_FILES} at a time "
            f"(each under {MAX_FILE_BYTES // 1024} KB)."
        )
    database = operator_database(load_settings())
    team_id = workspace(database.sessions, team)
    with transaction(database.sessions) as session:
        report = community.import_plays(session, team_id, paths)
    for refused in report.refused:
        typer.echo(f"refused {refused}", err=True)
    typer.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len({refused.path for refused in report.refused})} refused."
    )
    if report.refused:
        raise typer.Exit(1)
