"""The outbox: every post is a row with a unique key, written before it is sent, so no key is ever sent twice.

States: pending → sending (claimed) → sent | failed | skipped; a rate-limited or retried row goes back to
pending with `not_before`. A claim carries its sender's id and lasts only as long as that sender lives (see
`lease`): a row a dead sender left in `sending` is claimed again at once; if its send had begun (`verify`), the
sender first asks the channel whether it went out, and only sends it if it did not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import changed_rows
from bot.delivery.lease import live_senders
from bot.models import DeliveryRecord

OPEN_STATES = ("pending", "sending")


@dataclass(frozen=True)
class Outgoing:
    """A claimed row, as the sender and the channels see it."""

    id: int
    key: str
    team_id: str
    subject: str
    target: str
    channel: str
    due_at: datetime
    expires_at: datetime | None
    payload: dict[str, Any]
    attempts: int
    resumed_from: datetime | None  # an earlier attempt (claimed then) may have reached the channel: check first
    taken_over: bool = False  # a sender that is gone had claimed it

    @property
    def order_lane(self) -> tuple[str, str, str]:
        """Posts to one place go out in the order they were due."""
        return self.team_id, self.target, self.channel

    @property
    def rate_lane(self) -> str:
        return rate_lane(self.team_id, self.target)


def rate_lane(team_id: str, target: str) -> str:
    """What one rate limit holds: Slack limits each workspace; the bot has one account on each network for all."""
    return f"slack:{team_id}" if target == "slack" else target


def new_row(
    *,
    key: str,
    team_id: str,
    subject: str,
    target: str,
    channel: str,
    due_at: datetime,
    expires_at: datetime | None,
    payload: dict[str, Any],
    now: datetime,
    skipped_because: str | None = None,
) -> dict[str, Any]:
    """A row to `enqueue`. One already past expiry is written as skipped, so the miss is on record."""
    return dict(
        key=key,
        team_id=team_id,
        subject=subject,
        target=target,
        channel=channel,
        due_at=due_at,
        expires_at=expires_at,
        payload=payload,
        state="skipped" if skipped_because else "pending",
        reason=skipped_because or "",
        attempts=0,
        created_at=now,
        finished_at=now if skipped_because else None,
    )


def enqueue(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write rows; a key that exists already is left exactly as it is (sent, pending or anything else)."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(DeliveryRecord.__table__).on_conflict_do_nothing(index_elements=["key"]), rows)


def claim_due(
    session: Session,
    now: datetime,
    sender: int,
    *,
    per_lane: int = 25,
    blocked_lanes: Iterable[str] = (),
    subject_prefix: str = "",
    team_id: str | None = None,
) -> list[Outgoing]:
    """Claim for `sender` what is due, oldest first, at most `per_lane` for each workspace (what it can send
    soon, and so a workspace with thousands due never crowds out the others), in each place's order: a place
    stops at its first row still waiting (rate limited or backing off, or just claimed by another sender), so a
    later post never overtakes an earlier one. Rows a sender no longer alive left in `sending` are taken over.
    On PostgreSQL, rows another sender is claiming at this moment are skipped, not waited for.

    Whether a row is free is decided on the row as it is once locked, against who is alive after that: on
    PostgreSQL each statement sees the database anew (READ COMMITTED), and the lock returns a row's newest
    version, which another sender may have claimed (even begun sending) after the rows were chosen, and the
    senders alive before the rows were read need not include one that started since. Taking such a row over
    would send it twice."""
    blocked = set(blocked_lanes)
    seen_alive = live_senders(session, now)  # their rows are not even considered
    due = [
        DeliveryRecord.state.in_(OPEN_STATES),
        DeliveryRecord.due_at <= now,
        or_(
            DeliveryRecord.state == "pending",
            DeliveryRecord.claimed_by.is_(None),
            DeliveryRecord.claimed_by.not_in(seen_alive) if seen_alive else DeliveryRecord.claimed_by.is_not(None),
        ),
    ]
    if subject_prefix:
        due.append(DeliveryRecord.subject.startswith(subject_prefix, autoescape=True))
    if team_id is not None:
        due.append(DeliveryRecord.team_id == team_id)
    place = func.row_number().over(
        partition_by=(DeliveryRecord.team_id, DeliveryRecord.target),
        order_by=(DeliveryRecord.due_at, DeliveryRecord.id),
    )
    ranked = select(DeliveryRecord.id, place.label("place")).where(*due).subquery()
    first = select(ranked.c.id).where(ranked.c.place <= per_lane)
    query = (
        select(DeliveryRecord).where(DeliveryRecord.id.in_(first)).order_by(DeliveryRecord.due_at, DeliveryRecord.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    alive = live_senders(session, now)  # read after the rows are locked: any sender that claimed one is in it
    stopped: set[tuple[str, str, str]] = set()
    claimed: list[Outgoing] = []
    for row in rows:
        outgoing = _outgoing(row)
        lane = outgoing.order_lane
        if (
            lane in stopped
            or outgoing.rate_lane in blocked
            or (row.not_before and row.not_before > now)
            or not _free(row, now, alive)
        ):
            stopped.add(lane)
            continue
        claimed.append(replace(outgoing, taken_over=row.state == "sending"))
        if not row.verify:  # a row to check keeps the time of the attempt that may have gone out: its check
            row.claimed_at = now  # looks in history from then, however often it was deferred since
        row.state, row.claimed_by, row.attempts = "sending", sender, row.attempts + 1
    session.flush()
    return claimed


def _free(row: DeliveryRecord, now: datetime, alive: set[int]) -> bool:
    """Whether a locked row, as it is now, may be claimed: still open and due, and held by no live sender."""
    return (
        row.state in OPEN_STATES
        and row.due_at <= now
        and (row.state == "pending" or row.claimed_by is None or row.claimed_by not in alive)
    )


def _outgoing(row: DeliveryRecord) -> Outgoing:
    return Outgoing(
        row.id,
        row.key,
        row.team_id,
        row.subject,
        row.target,
        row.channel,
        row.due_at,
        row.expires_at,
        dict(row.payload),
        row.attempts,
        row.claimed_at if row.verify else None,
    )


def _held(row_id: int, sender: int) -> Any:
    return (DeliveryRecord.id == row_id) & (DeliveryRecord.state == "sending") & (DeliveryRecord.claimed_by == sender)


def mark_attempted(session: Session, row_id: int, sender: int) -> bool:
    """Just before a send: whether `sender` still holds the row (False: another sender took it over, so it must
    not be sent from here). From now on a crash leaves a row whose post may have gone out, to check first. (A
    row claimed but never attempted is simply sent, without asking the channel's history.)"""
    return changed_rows(session.execute(update(DeliveryRecord).where(_held(row_id, sender)).values(verify=True))) == 1


def finish(
    session: Session,
    row_id: int,
    sender: int,
    state: str,
    now: datetime,
    *,
    reason: str = "",
    sent_ref: str | None = None,
) -> bool:
    """Record how a row `sender` holds ended: sent, failed (permanently) or skipped. False if it no longer
    held it (another sender took it over and says how it ended)."""
    return (
        changed_rows(
            session.execute(
                update(DeliveryRecord)
                .where(_held(row_id, sender))
                .values(state=state, reason=reason[:300], sent_ref=sent_ref, finished_at=now)
            )
        )
        == 1
    )


def put_back(
    session: Session,
    row_ids: Iterable[int],
    sender: int,
    not_before: datetime,
    reason: str,
    *,
    verify: bool | None = None,
    uncount: bool = False,
) -> None:
    """Rate limited or worth retrying: pending again (unclaimed), not before `not_before`. `verify` True when the
    attempt may have reached the channel after all (a timeout, a 5xx): the next attempt checks first; False when
    no attempt can have (refused with a 429, and none uncertain before it): no check, which would cost a history
    call; None leaves it as it was. `uncount` when this claim was no attempt at all."""
    ids = list(row_ids)
    if ids:
        values: dict[str, Any] = dict(state="pending", not_before=not_before, reason=reason[:300], claimed_by=None)
        if verify is not None:
            values["verify"] = verify
        if uncount:
            values["attempts"] = DeliveryRecord.attempts - 1
        session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.id.in_(ids), DeliveryRecord.state == "sending", DeliveryRecord.claimed_by == sender)
            .values(**values)
        )


def next_due(session: Session) -> datetime | None:
    """When the earliest pending row may go: its due time, or later when it is held back. Two index lookups:
    the earliest due row not held back, and the earliest release of one that is."""
    pending = DeliveryRecord.state == "pending"
    free = session.scalar(
        select(DeliveryRecord.due_at)
        .where(pending, DeliveryRecord.not_before.is_(None))
        .order_by(DeliveryRecord.due_at)
        .limit(1)
    )
    held = session.scalar(select(func.min(DeliveryRecord.not_before)).where(pending))
    return min((moment for moment in (free, held) if moment is not None), default=None)


def owed(session: Session, now: datetime, subject_prefix: str = "", team_id: str | None = None) -> list[int]:
    """The rows not yet sent that are due by `now` (of subjects starting with `subject_prefix`, of one
    workspace), whoever holds them: what a run that must finish them owes."""
    query = select(DeliveryRecord.id).where(DeliveryRecord.state.in_(OPEN_STATES), DeliveryRecord.due_at <= now)
    if subject_prefix:
        query = query.where(DeliveryRecord.subject.startswith(subject_prefix, autoescape=True))
    if team_id is not None:
        query = query.where(DeliveryRecord.team_id == team_id)
    return list(session.scalars(query.order_by(DeliveryRecord.due_at, DeliveryRecord.id)))


def rows_by_id(session: Session, row_ids: list[int]) -> list[DeliveryRecord]:
    """The rows with these ids, as they stand now (read in chunks, within SQLite's limit on parameters)."""
    found: list[DeliveryRecord] = []
    for start in range(0, len(row_ids), 1000):
        found.extend(
            session.scalars(select(DeliveryRecord).where(DeliveryRecord.id.in_(row_ids[start : start + 1000])))
        )
    return sorted(found, key=lambda row: (row.due_at, row.id))


def settle_open(session: Session, subject: str, now: datetime, *, reason: str | None, key_prefix: str = "") -> int:
    """Rows of `subject` not yet sent: deleted (reason None: they will be planned again), or skipped with a
    reason (a cancelled chat, a skipped date). Rows mid-send are left to finish."""
    scope = [DeliveryRecord.subject == subject, DeliveryRecord.state == "pending"]
    if key_prefix:
        scope.append(DeliveryRecord.key.startswith(key_prefix, autoescape=True))
    if reason is None:
        return changed_rows(session.execute(delete(DeliveryRecord).where(*scope)))
    return changed_rows(
        session.execute(update(DeliveryRecord).where(*scope).values(state="skipped", reason=reason, finished_at=now))
    )


def counts(session: Session, live: set[int], subject_prefix: str = "") -> dict[tuple[str, str], int]:
    """How many rows each workspace has in each state (of subjects starting with `subject_prefix`); rows in
    `sending` whose sender is not `live` count as `stuck` (the next sender to run takes them over)."""
    held = DeliveryRecord.claimed_by.in_(live) if live else false()
    state = case(((DeliveryRecord.state == "sending") & ~held, "stuck"), else_=DeliveryRecord.state)
    query = select(DeliveryRecord.team_id, state, func.count()).group_by(DeliveryRecord.team_id, state)
    if subject_prefix:
        query = query.where(DeliveryRecord.subject.startswith(subject_prefix, autoescape=True))
    return {(team, state): count for team, state, count in session.execute(query)}


FINISHED_STATES = ("sent", "failed", "skipped")


def purge_finished(session: Session, before: datetime) -> int:
    """Forget posts that ended (sent, failed, skipped) and were due before `before` (the retention setting):
    they will not be planned again, their dates being past."""
    return changed_rows(
        session.execute(
            delete(DeliveryRecord).where(DeliveryRecord.state.in_(FINISHED_STATES), DeliveryRecord.due_at < before)
        )
    )


def in_flight(session: Session, target: str, channel: str, subject_prefix: str) -> bool:
    """Whether a post to `channel` may be out there without its reference recorded yet: being sent now, or left
    by a crash to be checked before it is sent again."""
    open_send = (DeliveryRecord.state == "sending") | ((DeliveryRecord.state == "pending") & DeliveryRecord.verify)
    return (
        session.scalar(
            select(DeliveryRecord.id)
            .where(
                DeliveryRecord.target == target,
                DeliveryRecord.channel == channel,
                open_send,
                DeliveryRecord.subject.startswith(subject_prefix, autoescape=True),
            )
            .limit(1)
        )
        is not None
    )


def find_sent(session: Session, target: str, channel: str, sent_ref: str) -> DeliveryRecord | None:
    """The post a Slack thread hangs from (or an X post), by where it went."""
    return session.scalar(
        select(DeliveryRecord).where(
            DeliveryRecord.target == target, DeliveryRecord.channel == channel, DeliveryRecord.sent_ref == sent_ref
        )
    )
