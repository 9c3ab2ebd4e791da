"""`plchat digest`: send the digests due now (or show what would go), and how delivery stands."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Annotated

import typer
from sqlalchemy import func, select

from bot.cli.common import SLACK_TEAM, fail, load_settings, operator_database
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.lease import live_senders
from bot.delivery.sender import RunReport
from bot.digests import compose, planner, subscriptions
from bot.digests.planner import period_of
from bot.models import DigestSubscriptionRecord

digest_cli = typer.Typer(help="Weekly digests: send what is due, see how delivery stands.", no_args_is_help=True)

TeamFilter = Annotated[str | None, typer.Option("--team", help="Only this workspace (T…).")]
SEND_FOR_AT_MOST = 600.0  # seconds a `send` keeps going through rate limits before leaving the rest to the worker


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _team(team: str | None) -> str | None:
    if team is not None and not SLACK_TEAM.fullmatch(team):
        fail(f"--team {team!r} isn't a Slack team id; it looks like T0123ABCD.")
    return team


@digest_cli.command("send")
def digest_send(dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go out; send nothing.")]
                = False, team: TeamFilter = None) -> None:
    """Send the digests due now (the worker does this on its own; this is for operators)."""
    team = _team(team)
    settings = load_settings()
    database = operator_database(settings)
    now = _now()
    if dry_run:
        with database.sessions() as session:
            due = planner.due(session, now, team)
            for record in due:
                subscription = subscriptions.plain(record)
                digest = compose.compose(session, subscription, period_of(now.date()), now)
                quiet = " (quiet week: " + ("a short note)" if subscription.quiet_weeks == "note" else "nothing)")
                typer.echo(f"{record.team_id} {record.channel:12} {len(digest.tips)} tips, {digest.new_tips} new, "
                           f"{len(digest.chats)} chats, recap: {'yes' if digest.recap else 'no'}, "
                           f"play: {digest.play.slug if digest.play else '-'}{quiet if digest.quiet else ''}")
        typer.echo(f"{len(due)} digest(s) due; nothing was sent (--dry-run).")
        return
    from bot.worker import Worker  # wires Slack: not needed for --dry-run or status

    worker = Worker(settings, database, _now)
    try:
        with transaction(database.sessions) as session:
            planned = planner.plan(session, _now(), ahead=timedelta(0), team_id=team)
        total = _send_all(worker, team)
        with database.sessions() as session:
            left = outbox.counts(session, live_senders(session, _now()), "digest:")
    finally:
        worker.close()
    if total.taken_over:
        typer.echo(f"Recovered {total.taken_over} digest(s) a stopped sender had claimed (each checked against "
                   "Slack first if its send had begun).")
    typer.echo(f"{planned} digest(s) were due: {total.sent} sent, {total.failed + total.skipped} failed or skipped "
               "(`plchat digest status` has the reasons).")
    _say_what_is_left(left, team)


def _send_all(worker, team: str | None) -> RunReport:
    """Send until nothing due is left, waiting out rate limits, for at most SEND_FOR_AT_MOST seconds."""
    total = RunReport()
    deadline = time.monotonic() + SEND_FOR_AT_MOST
    while time.monotonic() < deadline:
        report = worker.deliver("digest:", team)
        total.add(report)
        wake = worker.sender.next_wakeup()
        if wake is None or not (report.sent or report.deferred or report.failed or report.skipped or report.lost):
            break
        time.sleep(max(0.0, min((wake - _now()).total_seconds(), deadline - time.monotonic())))
    return total


def _say_what_is_left(counts: dict[tuple[str, str], int], team: str | None) -> None:
    """Digests still owed after the run: held by another live sender (the worker), or waiting."""
    left: dict[str, int] = defaultdict(int)
    for (team_id, state), count in counts.items():
        if team is None or team_id == team:
            left[state] += count
    if left["sending"]:
        typer.echo(f"{left['sending']} digest(s) are being sent by another sender (the worker) right now.")
    if left["pending"]:
        typer.echo(f"{left['pending']} digest(s) are still waiting (rate limits, retries, or not due yet); "
                   "the worker sends them, or run this again.")


@digest_cli.command("status")
def digest_status() -> None:
    """Digests sent, pending, failed and skipped, and subscriptions active, paused and stopped, per workspace."""
    database = operator_database(load_settings())
    with database.sessions() as session:
        rows = outbox.counts(session, live_senders(session, _now()), "digest:")
        subscribed = session.execute(
            select(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.active, DigestSubscriptionRecord.paused,
                   func.count()).group_by(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.active,
                                          DigestSubscriptionRecord.paused)).all()
        reasons = session.execute(
            select(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.reason, func.count())
            .where(DigestSubscriptionRecord.active.is_(False))
            .group_by(DigestSubscriptionRecord.team_id, DigestSubscriptionRecord.reason)).all()
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
        typer.echo("stuck: claimed by a sender that stopped; the next `plchat digest send` or the worker takes "
                   "them over at once.")
