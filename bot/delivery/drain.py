"""Sending until what is due has gone, for a command an operator runs by hand (`plchat digest send`): unlike the
worker, it has no next run to leave the rest to. It waits out rate limits, retries and rows another live sender
is sending, on the sender's clock with an injected `sleep`, while the waiting stays within a bound, and then says
how each row it owed stands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import outbox
from bot.delivery.lease import live_senders
from bot.delivery.sender import Sender

LOOK_AGAIN = timedelta(seconds=1)  # the least wait when nothing went: rows another sender holds, a place held back
HELD_ELSEWHERE = "being sent by another sender (the worker?)"


@dataclass(frozen=True)
class Owed:
    """A row the run owed, as it stands."""

    key: str
    team_id: str
    channel: str
    state: str  # sent, failed or skipped; or still open (pending, or sending by another sender)
    reason: str  # why it failed or was skipped, or what it waits for
    ready_at: datetime  # still open: the soonest it may go (a rate limit or a retry's backoff lifting)

    @property
    def open(self) -> bool:
        return self.state in outbox.OPEN_STATES


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    waiting: str = ""  # what the run waits for now, and how long; empty while it sends


@dataclass(frozen=True)
class Drained:
    rows: list[Owed]  # those still in the outbox, in due order
    withdrawn: int  # deleted while the run went on (replanned, or the workspace uninstalled)
    taken_over: int  # claimed by a sender that had stopped


def drain(
    sender: Sender,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    *,
    max_wait: timedelta,
    subject_prefix: str = "",
    team_id: str | None = None,
    progress: Callable[[Progress], None] = lambda _: None,
) -> Drained:
    """Send the rows due now (of subjects starting with `subject_prefix`, of one workspace) until none is left
    open, waiting `max_wait` at most in all; a wait that would go past it is not begun."""
    with sessions() as session:
        ids = outbox.owed(session, clock(), subject_prefix, team_id)
    taken_over, waited = 0, timedelta(0)
    while True:
        report = sender.run_due(subject_prefix, team_id)
        taken_over += report.taken_over
        rows = _standing(sender, sessions, clock, ids)
        still = [row for row in rows if row.open]
        progress(Progress(len(ids) - len(still), len(ids)))
        if not still:
            break
        first = min(still, key=lambda row: row.ready_at)
        went = report.sent + report.failed + report.skipped + report.lost
        wait = max(first.ready_at - clock(), timedelta(0) if went else LOOK_AGAIN)
        if waited + wait > max_wait:
            break
        if wait > timedelta(0):
            progress(Progress(len(ids) - len(still), len(ids), f"{first.reason}: {wait.total_seconds():.0f} s"))
            sleep(wait.total_seconds())
            waited += wait
    return Drained(rows, len(ids) - len(rows), taken_over)


def _standing(
    sender: Sender, sessions: sessionmaker[Session], clock: Callable[[], datetime], ids: list[int]
) -> list[Owed]:
    now = clock()
    with sessions() as session:
        live = live_senders(session, now)
        found = outbox.rows_by_id(session, ids)
    standing = []
    for row in found:
        ready, reason = now, row.reason
        if row.state == "sending" and row.claimed_by in live:
            ready, reason = now + LOOK_AGAIN, HELD_ELSEWHERE
        elif row.state == "pending":
            until, limited_by = sender.rate_limit(outbox.rate_lane(row.team_id, row.target)) or (None, "")
            ready = max(moment for moment in (now, row.not_before, until) if moment is not None)
            reason = reason or limited_by or "waiting its turn"
        standing.append(Owed(row.key, row.team_id, row.channel, row.state, reason, ready))
    return standing
