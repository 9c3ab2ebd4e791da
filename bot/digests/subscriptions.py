"""Subscribing to the weekly digest, changing when it comes, pausing and stopping it. A subscriber changes
their own; moderators may change any channel's. Callers say whether the actor is a moderator."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.digests.records import DEFAULT_TIME, DEFAULT_WEEKDAY, QuietWeeks, Subscription
from bot.models import DigestSubscriptionRecord, Workspace
from bot.timezones import known_zones
from bot.tips.store import ensure_workspace

# Errors meaning the destination is gone for good: the subscription stops, with the reason recorded.
GONE = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "user_not_found",
        "account_inactive",
        "is_archived",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
    }
)


class NotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


def known_timezone(name: str) -> str:
    if name not in known_zones():
        shown = name if len(name) <= 40 else name[:39] + "…"
        raise ValueError(f"{shown!r} is not a timezone I know; use an IANA name like America/Los_Angeles.")
    return name


def next_send_after(weekday: int, send_time: time, zone: str, after: datetime) -> datetime:
    """The first moment after `after` that is `weekday` at `send_time` on the wall clock in `zone` (UTC).
    A time that does not exist that day (the spring-forward gap) is read as if the clocks had not changed."""
    local = after.astimezone(ZoneInfo(zone))
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    for _ in range(3):
        moment = datetime.combine(day, send_time, tzinfo=ZoneInfo(zone)).astimezone(UTC)
        if moment > after:
            return moment
        day += timedelta(weeks=1)
    raise AssertionError("unreachable: a week later is always after")


def plain(record: DigestSubscriptionRecord) -> Subscription:
    """A stored subscription as a plain object."""
    hour, minute = (int(part) for part in record.send_time.split(":"))
    return Subscription(
        record.id,
        record.team_id,
        record.user_id,
        record.channel,
        record.weekday,
        time(hour, minute),
        record.timezone,
        record.quiet_weeks,  # type: ignore[arg-type]
        record.active,
        record.paused,
        record.reason,
        record.next_send,
    )


def _schedule(record: DigestSubscriptionRecord, now: datetime) -> None:
    hour, minute = (int(part) for part in record.send_time.split(":"))
    live = record.active and not record.paused
    record.next_send = next_send_after(record.weekday, time(hour, minute), record.timezone, now) if live else None


def subscribe(
    session: Session,
    team_id: str,
    user_id: str,
    channel: str,
    now: datetime,
    *,
    zone: str,
    weekday: int = DEFAULT_WEEKDAY,
    send_time: time = DEFAULT_TIME,
) -> tuple[Subscription, bool]:
    """Subscribe `channel` (the user's id for their DMs). Subscribing again changes the day and time and
    restarts a stopped subscription; the bool says whether it is new."""
    ensure_workspace(session, team_id)
    record = session.scalar(
        select(DigestSubscriptionRecord).where(
            DigestSubscriptionRecord.team_id == team_id, DigestSubscriptionRecord.channel == channel
        )
    )
    created = record is None
    if record is None:
        record = DigestSubscriptionRecord(team_id=team_id, user_id=user_id, channel=channel, created_at=now)
        session.add(record)
    record.weekday, record.send_time, record.timezone = weekday, f"{send_time:%H:%M}", known_timezone(zone)
    record.active, record.paused, record.reason, record.updated_at = True, False, "", now
    record.quiet_weeks = record.quiet_weeks or "note"
    _schedule(record, now)
    session.flush()
    return plain(record), created


def get(session: Session, team_id: str, subscription_id: int) -> Subscription:
    return plain(_record(session, team_id, subscription_id))


def _record(session: Session, team_id: str, subscription_id: int) -> DigestSubscriptionRecord:
    record = session.get(DigestSubscriptionRecord, subscription_id)
    if record is None or record.team_id != team_id:
        raise NotFound("That digest subscription is gone.")
    return record


def mine(session: Session, team_id: str, user_id: str) -> list[Subscription]:
    """The person's own subscriptions (their DMs, and channels they subscribed), active ones first."""
    records = session.scalars(
        select(DigestSubscriptionRecord)
        .where(
            DigestSubscriptionRecord.team_id == team_id,
            or_(DigestSubscriptionRecord.user_id == user_id, DigestSubscriptionRecord.channel == user_id),
        )
        .order_by(DigestSubscriptionRecord.active.desc(), DigestSubscriptionRecord.id)
    )
    return [plain(record) for record in records]


def destination(session: Session, team_id: str, channel: str) -> Subscription | None:
    record = session.scalar(
        select(DigestSubscriptionRecord).where(
            DigestSubscriptionRecord.team_id == team_id, DigestSubscriptionRecord.channel == channel
        )
    )
    return plain(record) if record else None


def may_change(subscription: Subscription, actor: str, *, moderator: bool) -> bool:
    """Whoever subscribed; moderators too for a channel's (never for someone's DMs)."""
    return actor == subscription.user_id or (moderator and not subscription.to_dm)


def _changeable(
    session: Session, team_id: str, subscription_id: int, actor: str, moderator: bool
) -> DigestSubscriptionRecord:
    record = _record(session, team_id, subscription_id)
    if not may_change(plain(record), actor, moderator=moderator):
        raise NotAllowed("Only whoever subscribed (or a moderator, for a channel) can change that digest.")
    return record


def change(
    session: Session,
    team_id: str,
    subscription_id: int,
    actor: str,
    now: datetime,
    *,
    moderator: bool,
    weekday: int | None = None,
    send_time: time | None = None,
    zone: str | None = None,
    quiet_weeks: QuietWeeks | None = None,
) -> Subscription:
    record = _changeable(session, team_id, subscription_id, actor, moderator)
    if weekday is not None:
        record.weekday = weekday
    if send_time is not None:
        record.send_time = f"{send_time:%H:%M}"
    if zone is not None:
        record.timezone = known_timezone(zone)
    if quiet_weeks is not None:
        record.quiet_weeks = quiet_weeks
    record.updated_at = now
    _schedule(record, now)
    session.flush()
    return plain(record)


def set_paused(
    session: Session, team_id: str, subscription_id: int, actor: str, paused: bool, now: datetime, *, moderator: bool
) -> Subscription:
    record = _changeable(session, team_id, subscription_id, actor, moderator)
    record.paused, record.updated_at = paused, now
    _schedule(record, now)
    session.flush()
    return plain(record)


def unsubscribe(
    session: Session, team_id: str, subscription_id: int, actor: str, now: datetime, *, moderator: bool
) -> Subscription:
    record = _changeable(session, team_id, subscription_id, actor, moderator)
    return _stop(session, record, "unsubscribed", now)


def deactivate(session: Session, subscription_id: int, reason: str, now: datetime) -> None:
    """The destination is gone (the person left, the bot was removed from the channel): stop, saying why."""
    record = session.get(DigestSubscriptionRecord, subscription_id)
    if record is not None and record.active:
        _stop(session, record, reason, now)


def _stop(session: Session, record: DigestSubscriptionRecord, reason: str, now: datetime) -> Subscription:
    record.active, record.reason, record.next_send, record.updated_at = False, reason[:100], None, now
    session.flush()
    return plain(record)


def members_may_subscribe_channels(session: Session, team_id: str) -> bool:
    workspace = session.get(Workspace, team_id)
    return bool(workspace and workspace.members_subscribe_channels)


def set_members_may_subscribe_channels(session: Session, team_id: str, allowed: bool) -> None:
    ensure_workspace(session, team_id)
    workspace = session.get(Workspace, team_id)
    assert workspace is not None
    workspace.members_subscribe_channels = allowed
    session.flush()
