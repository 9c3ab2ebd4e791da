"""`plchat digest`: send the digests due now (or show what would go), and how delivery stands."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from sqlalchemy import func, select

from bot.cli.common import load_settings, operator_database, team_filter
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.drain import Drained, Owed, Progress, drain
from bot.delivery.lease import live_senders
from bot.digests import compose, planner, subscriptions
from bot.digests.planner import period_of
from bot.models import DigestSubscriptionRecord

digest_cli = typer.Typer(help="Weekly digests: send what is due, see how delivery stands.", no_args_is_help=True)

TeamFilter = Annotated[str | None, typer.Option("--team", help="Only this workspace (T…).")]
FAILURES_NAMED = 10  # failed digests named one a line; `plchat digest status` counts the rest


def _now() -> datetime:
    return datetime.now(UTC)


@digest_cli.command("send")
def digest_send(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go out; send nothing.")] = False,
    team: TeamFilter = None,
    max_wait: Annotated[
        float,
        typer.Option(
            "--max-wait",
            min=0,
            help="Seconds to wait out rate limits and retries, in all, before leaving what is left to the worker.",
        ),
    ] = 300,
) -> None:
    """Send the digests due now, waiting out rate limits (the worker does this on its own; this is for
    operators). Exits 0 when every digest due went out (or was skipped or stopped, as designed), 1 naming those
    that failed or are still waiting."""
    settings = load_settings()
    database = operator_database(settings)
    team = team_filter(database.sessions, team)
    now = _now()
    if dry_run:
        with database.sessions() as session:
            due = planner.due(session, now, team)
            for record in due:
                subscription = subscriptions.plain(record)
                digest = compose.compose(session, subscription, period_of(now.date()), now)
                quiet = " (quiet week: " + ("a short note)" if subscription.quiet_weeks == "note" else "nothing)")
                typer.echo(
                    f"{record.team_id} {record.channel:12} {len(digest.tips)} tips, {digest.new_tips} new, "
                    f"{len(digest.chats)} chats, recap: {'yes' if digest.recap else 'no'}, "
                    f"play: {digest.play.slug if digest.play else '-'}{quiet if digest.quiet else ''}"
                )
        typer.echo(f"{len(due)} digest(s) due; nothing was sent (--dry-run).")
        return
    from bot.worker import Worker  # wires Slack: not needed for --dry-run or status

    worker = Worker(settings, database, _now)
    try:
        with transaction(database.sessions) as session:
            planner.plan(session, _now(), ahead=timedelta(0), team_id=team)
        with _progress_bar() as show:
            drained = drain(
                worker.sender,
                database.sessions,
                _now,
                _sleep,
                subject_prefix="digest:",
                team_id=team,
                max_wait=timedelta(seconds=max_wait),
                progress=show,
            )
    finally:
        worker.close()
    if drained.taken_over:
        typer.echo(
            f"Recovered {drained.taken_over} digest(s) a stopped sender had claimed (each checked against "
            "Slack first if its send had begun)."
        )
    if not _summarise(drained):
        raise typer.Exit(1)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@contextmanager
def _progress_bar(console: Console | None = None) -> Iterator[Callable[[Progress], None]]:
    """A bar of the digests done so far and what the run waits for, on a terminal; nothing otherwise. While it
    shows, the sender's warnings (a rate limit, a failed digest) keep off the screen: the bar and the summary
    say them."""
    console = console or Console()
    if not console.is_terminal:
        yield lambda _: None
        return
    delivery_log = logging.getLogger("bot.delivery")
    level = delivery_log.level
    delivery_log.setLevel(logging.ERROR)
    columns = (
        TextColumn("Sending digests"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[waiting]}"),
    )
    try:
        with RichProgress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("digests", total=None, waiting="")

            def show(progress: Progress) -> None:
                waiting = f"waiting: {progress.waiting}" if progress.waiting else ""
                bar.update(task, completed=progress.done, total=progress.total, waiting=waiting)

            yield show
    finally:
        delivery_log.setLevel(level)


def _summarise(drained: Drained) -> bool:
    """Say how each digest due now ended, in numbers that add up to those due; True when none failed and none is
    left waiting."""
    sent = [row for row in drained.rows if row.state == "sent"]
    skipped = [row for row in drained.rows if row.state == "skipped"]
    stopped = [row for row in drained.rows if row.state == "failed" and row.reason in subscriptions.GONE]
    failed = [row for row in drained.rows if row.state == "failed" and row.reason not in subscriptions.GONE]
    waiting = [row for row in drained.rows if row.open]
    due = len(drained.rows) + drained.withdrawn
    if not due:
        typer.echo("No digest was due.")
        return True
    parts = [f"{len(sent)} sent"] + [
        f"{count} {what}"
        for count, what in (
            (len(skipped), "skipped"),
            (len(stopped), "stopped"),
            (len(failed), "failed"),
            (len(waiting), "still waiting"),
            (drained.withdrawn, "withdrawn while this ran"),
        )
        if count
    ]
    typer.echo(f"{due} digest(s) were due: {', '.join(parts)}.")
    if skipped:
        typer.echo(f"Skipped (not sent, by design): {_by_reason(skipped)}.")
    if stopped:
        typer.echo(
            f"Stopped (the person left or the bot lost the channel, so the subscription ended): {_by_reason(stopped)}."
        )
    for row in failed[:FAILURES_NAMED]:
        typer.echo(f"Failed: {row.team_id} {row.channel}: {row.reason}")
    if len(failed) > FAILURES_NAMED:
        typer.echo(f"... and {len(failed) - FAILURES_NAMED} more failed (`plchat digest status`).")
    if waiting:
        soonest = max(0, round((min(row.ready_at for row in waiting) - _now()).total_seconds()))
        typer.echo(
            f"Still waiting: {_by_reason(waiting)}; the soonest may go in {soonest} s. The worker sends "
            "them when it runs, or run this again (`--max-wait` to wait longer)."
        )
    return not (failed or waiting)


def _by_reason(rows: list[Owed]) -> str:
    return ", ".join(
        f"{count} {reason or 'no reason given'}" for reason, count in Counter(row.reason for row in rows).most_common()
    )


@digest_cli.command("status")
def digest_status() -> None:
    """Digests sent, pending, failed and skipped, and subscriptions active, paused and stopped, per workspace."""
    database = operator_database(load_settings())
    with database.sessions() as session:
        rows = outbox.counts(session, live_senders(session, _now()), "digest:")
        subscribed = session.execute(
            select(
                DigestSubscriptionRecord.team_id,
                DigestSubscriptionRecord.active,
                DigestSubscriptionRecord.paused,
                func.count(),
            ).group_by(
                DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.active, DigestSubscriptionRecord.paused
            )
        ).all()
        reasons = session.execute(
            select(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.reason, func.count())
            .where(DigestSubscriptionRecord.active.is_(False))
            .group_by(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.reason)
        ).all()
    teams: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (team_id, state), count in rows.items():
        teams[team_id][state] += count
    for team_id, active, paused, count in subscribed:
        teams[team_id]["stopped" if not active else "paused" if paused else "active"] += count
    if not teams:
        typer.echo("No digest subscriptions yet.")
        return
    columns = ("active", "paused", "stopped", "sent", "pending", "sending", "stuck", "failed", "skipped")
    typer.echo(f"{'workspace':14}" + "".join(f"{name:>9}" for name in columns))
    for team_id in sorted(teams):
        typer.echo(f"{team_id:14}" + "".join(f"{teams[team_id][name]:>9}" for name in columns))
    for team_id, reason, count in reasons:
        typer.echo(f"{team_id}: {count} stopped: {reason or 'unsubscribed'}")
    if any(counts["stuck"] for counts in teams.values()):
        typer.echo(
            "stuck: claimed by a sender that stopped; the next `plchat digest send` or the worker takes "
            "them over at once."
        )
