"""Turns the chats table into outbox rows: every post of an occurrence is written (with its unique key) when the
occurrence's first post comes within `AHEAD` of now. The database stays the source of truth: planning is
idempotent, so a restart, a second planner or a replan after an edit never writes a post twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chats import timetable
from bot.chats.store import spec_of, subject
from bot.chats.timetable import Post
from bot.delivery import outbox
from bot.models import NEVER, ChatRecord

log = logging.getLogger(__name__)

AHEAD = timedelta(minutes=30)
BATCH = 2000  # chats planned per call


def plan(session: Session, now: datetime, *, limit: int = BATCH) -> int:
    """Plan the chats whose next occurrence is near (or that changed); returns how many chats were planned."""
    horizon = now + AHEAD
    records = session.scalars(
        select(ChatRecord).where(ChatRecord.planned_through < horizon).order_by(ChatRecord.planned_through).limit(limit)
    ).all()
    rows: list[dict[str, Any]] = []
    for record in records:
        rows.extend(_plan_chat(record, now, horizon))
    outbox.enqueue(session, rows)
    session.flush()
    return len(records)


def _plan_chat(record: ChatRecord, now: datetime, horizon: datetime) -> list[dict[str, Any]]:
    spec = spec_of(record)
    lead, since = timetable.lead_time(spec), record.planned_through
    oldest_worth_it = now - timedelta(minutes=spec.duration) - timetable.RECAP_AFTER - timetable.RECAP_KEPT
    first_day = (max(since + lead, oldest_worth_it)).astimezone(UTC).date() - timedelta(days=1)
    rows: list[dict[str, Any]] = []
    record.planned_through = NEVER  # unless an occurrence is left for later
    for day in timetable.occurrence_dates(spec, first_day):
        first_post = timetable.local_start(spec, day).astimezone(UTC) - lead
        if first_post >= horizon:
            record.planned_through = first_post
            break
        if first_post >= since:
            rows.extend(row for post in timetable.posts(spec, day) for row in _rows(record, spec.networks, post, now))
    record.next_start = timetable.next_start(spec, now)
    return rows


def _rows(record: ChatRecord, networks: tuple[str, ...], post: Post, now: datetime) -> list[dict[str, Any]]:
    missed = f"missed: due {post.due:%Y-%m-%d %H:%M} UTC, already past when planned" if post.expires <= now else None
    base = f"{subject(record.id)}:{post.occurrence.isoformat()}:{post.slug}"
    payload = {"chat_id": record.id, "occurrence": post.occurrence.isoformat(), "post": post.slug}
    common: dict[str, Any] = dict(
        team_id=record.team_id,
        subject=subject(record.id),
        due_at=post.due,
        expires_at=post.expires,
        payload=payload,
        now=now,
        skipped_because=missed,
    )
    rows = [
        outbox.new_row(key=f"{base}:slack:{channel}", target="slack", channel=channel, **common)
        for channel in record.slack_channels
    ]
    rows += [outbox.new_row(key=f"{base}:{network}", target=network, channel="", **common) for network in networks]
    return rows


def next_plan(session: Session) -> datetime | None:
    """When `plan` next has something to do (a chat's next occurrence comes within AHEAD)."""
    soonest = session.scalar(select(func.min(ChatRecord.planned_through)).where(ChatRecord.planned_through < NEVER))
    return soonest - AHEAD if soonest is not None else None
