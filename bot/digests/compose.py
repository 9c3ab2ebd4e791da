"""What a subscriber's digest holds this week: the most helpful new tips, how many were shared, the chats
coming up, the last chat's recap, and a play they have not been sent lately."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot import plays
from bot.chats import answers, store, timetable
from bot.chats.recap import Recap
from bot.chats.spec import ScheduledChat
from bot.delivery.render import Skip
from bot.digests import subscriptions
from bot.digests.records import Digest, DigestTip, Subscription
from bot.models import DigestPlay, TipRecord

WEEK = timedelta(days=7)
TOP_TIPS = 5
WEEK_TIPS = 5000  # a workspace sharing more in a week still gets a digest in milliseconds
TEASER = 180
UPCOMING_CHATS = 3


def compose(session: Session, subscription: Subscription, period: str, now: datetime) -> Digest:
    since = now - WEEK
    return Digest(
        subscription,
        period,
        since,
        _top_tips(session, subscription.team_id, since),
        _new_tips(session, subscription.team_id, since),
        _upcoming(session, subscription.team_id, now),
        _last_recap(session, subscription.team_id, since, now),
        _play(session, subscription.team_id, subscription.id, period),
    )


def _visible_since(team_id: str, since: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        TipRecord.team_id == team_id,
        TipRecord.created_at >= since,
        TipRecord.hidden.is_(False),
        TipRecord.pending.is_(False),
    )


def _top_tips(session: Session, team_id: str, since: datetime) -> tuple[DigestTip, ...]:
    """The week's tips through the (workspace, created) index, newest WEEK_TIPS at most, then the most helpful:
    ordering the workspace by votes instead would walk its whole history of well-liked tips."""
    week = session.execute(
        select(TipRecord.id, TipRecord.helpful_count, TipRecord.created_at)
        .where(*_visible_since(team_id, since))
        .order_by(TipRecord.created_at.desc())
        .limit(WEEK_TIPS)
    ).all()
    best = [row.id for row in sorted(week, key=lambda row: (-row.helpful_count, -row.created_at.timestamp()))]
    best = best[:TOP_TIPS]
    records = {r.id: r for r in session.scalars(select(TipRecord).where(TipRecord.id.in_(best)))}
    return tuple(
        DigestTip(r.id, _teaser(r.text), r.author, r.helpful_count, r.permalink) for r in (records[i] for i in best)
    )


def _teaser(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEASER else flat[: TEASER - 1].rsplit(" ", 1)[0] + "…"


def _new_tips(session: Session, team_id: str, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(TipRecord).where(*_visible_since(team_id, since))) or 0


def _upcoming(session: Session, team_id: str, now: datetime) -> tuple[ScheduledChat, ...]:
    soon = [
        chat
        for chat in store.upcoming(session, now, team_id, limit=UPCOMING_CHATS)
        if chat.next_start is not None and chat.next_start <= now + WEEK + timedelta(days=1)
    ]
    return tuple(soon)


def _last_recap(session: Session, team_id: str, since: datetime, now: datetime) -> Recap | None:
    """The recap of the workspace's chat that ended most recently within the week, if any."""
    latest = None
    for chat in store.team_chats(session, team_id):
        start = timetable.last_start(chat.spec, now, chat.scheduled_at)
        if start is None or not since <= start or timetable.ends(chat.spec, start) > now:
            continue
        if latest is None or start > latest[1]:
            latest = (chat.id, start)
    return answers.build_recap(session, latest[0], latest[1].date()) if latest else None


def _play(session: Session, team_id: str, subscription_id: int, period: str) -> plays.Play | None:
    slug = session.scalar(
        select(DigestPlay.slug).where(DigestPlay.subscription_id == subscription_id, DigestPlay.period == period)
    )
    return plays.get_play(session, slug, team=team_id) if slug else None


def for_delivery(session: Session, team_id: str, subscription_id: int, period: str, now: datetime) -> Digest | Skip:
    """The digest an outbox row owes, or why it should not go out (unsubscribed, paused, a quiet week)."""
    try:
        subscription = subscriptions.get(session, team_id, subscription_id)
    except subscriptions.NotFound:
        return Skip("unsubscribed")
    if not subscription.active:
        return Skip(subscription.reason or "unsubscribed")
    if subscription.paused:
        return Skip("paused")
    digest = compose(session, subscription, period, now)
    if digest.quiet and subscription.quiet_weeks == "skip":
        return Skip("a quiet week, and the subscriber asked for nothing then")
    return digest
