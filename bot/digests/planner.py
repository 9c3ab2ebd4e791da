"""Turns subscriptions into outbox rows: each subscription's digest of a week is one row, keyed by the
subscription and the ISO week (`digest:17:2026-W49`), so it is written, and sent, once. The play it carries
is chosen here, in the same transaction, from those the subscriber was not sent in the last eight weeks."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.digests.subscriptions import next_send_after
from bot.models import DigestPlay, DigestSubscriptionRecord, PlayRecord

AHEAD = timedelta(minutes=30)
KEPT = timedelta(hours=12)  # a digest this late (the worker was down) is skipped: next week's comes on time
PLAY_MEMORY = 8  # weeks
BATCH = 500


def period_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def subject(subscription_id: int) -> str:
    return f"digest:{subscription_id}"


def due(
    session: Session, by: datetime, team_id: str | None = None, limit: int = 20_000
) -> list[DigestSubscriptionRecord]:
    """Subscriptions whose next digest is due by `by` (paused and stopped ones have no next send)."""
    query = select(DigestSubscriptionRecord).where(DigestSubscriptionRecord.next_send <= by)
    if team_id is not None:
        query = query.where(DigestSubscriptionRecord.team_id == team_id)
    return list(session.scalars(query.order_by(DigestSubscriptionRecord.next_send).limit(limit)))


def plan(
    session: Session, now: datetime, *, ahead: timedelta = AHEAD, team_id: str | None = None, limit: int = 20_000
) -> int:
    """Write the rows of digests due within `ahead`; returns how many were planned."""
    records = due(session, now + ahead, team_id, limit)
    shared = list(
        session.scalars(select(PlayRecord.slug).where(PlayRecord.team_id.is_(None)).order_by(PlayRecord.slug))
    )
    own: dict[str | None, list[str]] = defaultdict(list)  # each workspace's own plays, for its subscriptions only
    for team, slug in session.execute(
        select(PlayRecord.team_id, PlayRecord.slug)
        .where(PlayRecord.team_id.in_({record.team_id for record in records}))
        .order_by(PlayRecord.slug)
    ):
        own[team].append(slug)
    for start in range(0, len(records), BATCH):
        _plan_batch(session, records[start : start + BATCH], shared, own, now)
    session.flush()
    return len(records)


def _plan_batch(
    session: Session,
    records: list[DigestSubscriptionRecord],
    shared: list[str],
    own: dict[str | None, list[str]],
    now: datetime,
) -> None:
    recent = _recent_plays(session, [record.id for record in records])
    rows: list[dict[str, Any]] = []
    chosen: list[dict[str, Any]] = []
    for record in records:
        due = record.next_send
        assert due is not None
        period = period_of(due.astimezone(ZoneInfo(record.timezone)).date())
        missed = f"missed: due {due:%Y-%m-%d %H:%M} UTC, over {KEPT} late" if due + KEPT <= now else None
        rows.append(
            outbox.new_row(
                key=f"{subject(record.id)}:{period}",
                team_id=record.team_id,
                subject=subject(record.id),
                target="slack",
                channel=record.channel,
                due_at=due,
                expires_at=due + KEPT,
                payload={"subscription_id": record.id, "period": period},
                now=now,
                skipped_because=missed,
            )
        )
        slugs = shared + own.get(record.team_id, [])
        if slugs and missed is None:
            chosen.append(
                {
                    "subscription_id": record.id,
                    "period": period,
                    "slug": _pick(slugs, recent[record.id], f"{record.id}:{period}"),
                }
            )
        hour, minute = (int(part) for part in record.send_time.split(":"))
        record.next_send = next_send_after(record.weekday, time(hour, minute), record.timezone, max(due, now - KEPT))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    if chosen:
        session.execute(dialect.insert(DigestPlay.__table__).on_conflict_do_nothing(), chosen)
    outbox.enqueue(session, rows)


def _recent_plays(session: Session, ids: Iterable[int]) -> dict[int, set[str]]:
    recent: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for subscription_id, period, slug in session.execute(
        select(DigestPlay.subscription_id, DigestPlay.period, DigestPlay.slug).where(
            DigestPlay.subscription_id.in_(list(ids))
        )
    ):
        recent[subscription_id].append((period, slug))
    return defaultdict(set, {key: {slug for _, slug in sorted(found)[-PLAY_MEMORY:]} for key, found in recent.items()})


def _pick(slugs: list[str], recent: set[str], seed: str) -> str:
    """A play not sent in the last eight weeks (any, once the playbook runs out), the same on every replan."""
    fresh = [slug for slug in slugs if slug not in recent] or slugs
    return random.Random(seed).choice(fresh)  # noqa: S311 - a reproducible pick, not a secret


def next_plan(session: Session) -> datetime | None:
    """When `plan` next has something to do (a subscription's next digest comes within AHEAD)."""
    soonest = session.scalar(select(func.min(DigestSubscriptionRecord.next_send)))
    return soonest - AHEAD if soonest is not None else None
