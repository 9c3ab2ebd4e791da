"""Scheduling, changing, cancelling and skipping chats. Only moderators change chats; callers check that
(`bot.tips.moderation`) before calling here, or are operators on the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chats import timetable
from bot.chats.spec import ChatSpec, Question, ScheduledChat
from bot.delivery import outbox
from bot.models import NEVER, REPLAN, ChatRead, ChatRecord
from bot.tips.store import ensure_workspace


class ChatNotFound(LookupError):
    pass


class NotAnOccurrence(ValueError):
    pass


def subject(chat_id: int) -> str:
    return f"chat:{chat_id}"


def spec_of(record: ChatRecord) -> ChatSpec:
    return ChatSpec(
        title=record.title,
        hashtag=record.hashtag,
        starts=datetime.fromisoformat(record.starts_local),
        timezone=record.timezone,
        duration=record.duration,
        repeat=record.repeat,  # type: ignore[arg-type]
        until=record.until,
        skip=tuple(date.fromisoformat(day) for day in record.skip),
        slack_channels=tuple(record.slack_channels),
        post_to_x=record.post_to_x,
        reminders=tuple(timedelta(minutes=minutes) for minutes in record.reminders),
        questions=tuple(Question(float(q["at"]), q["text"]) for q in record.questions),
        post_to_bluesky=record.post_to_bluesky,
        post_to_mastodon=record.post_to_mastodon,
    )


def _columns(spec: ChatSpec) -> dict[str, Any]:
    return dict(
        title=spec.title,
        hashtag=spec.hashtag,
        starts_local=spec.starts.isoformat(timespec="minutes"),
        timezone=spec.timezone,
        duration=spec.duration,
        repeat=spec.repeat,
        until=spec.until,
        skip=[day.isoformat() for day in spec.skip],
        slack_channels=list(spec.slack_channels),
        post_to_x=spec.post_to_x,
        post_to_bluesky=spec.post_to_bluesky,
        post_to_mastodon=spec.post_to_mastodon,
        reminders=[int(lead.total_seconds() // 60) for lead in spec.reminders],
        questions=[{"at": q.at, "text": q.text} for q in spec.questions],
    )


def scheduled(record: ChatRecord, now: datetime) -> ScheduledChat:
    spec = spec_of(record)
    upcoming = None if record.cancelled else timetable.next_start(spec, now)
    return ScheduledChat(record.id, record.team_id, spec, record.cancelled, upcoming, scheduled_at(record))


def create_chat(session: Session, team_id: str, spec: ChatSpec, created_by: str, now: datetime) -> ScheduledChat:
    ensure_workspace(session, team_id)
    record = ChatRecord(
        team_id=team_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        next_start=timetable.next_start(spec, now),
        planned_through=REPLAN,
        **_columns(spec),
    )
    session.add(record)
    session.flush()
    return scheduled(record, now)


def get_record(session: Session, chat_id: int, team_id: str | None = None) -> ChatRecord:
    """The chat, if it exists (in `team_id`'s workspace, when given: one never reaches another's)."""
    record = session.get(ChatRecord, chat_id)
    if record is None or (team_id is not None and record.team_id != team_id):
        raise ChatNotFound(f"There is no chat {chat_id}.")
    return record


def get_chat(session: Session, chat_id: int, now: datetime, team_id: str | None = None) -> ScheduledChat:
    return scheduled(get_record(session, chat_id, team_id), now)


def update_chat(
    session: Session, chat_id: int, spec: ChatSpec, now: datetime, team_id: str | None = None
) -> ScheduledChat:
    """Change a chat. Posts not sent yet are planned again from the new definition; sent ones stay sent."""
    record = get_record(session, chat_id, team_id)
    for name, value in _columns(spec).items():
        setattr(record, name, value)
    record.updated_at, record.next_start = now, timetable.next_start(spec, now)
    record.planned_through = NEVER if record.cancelled else REPLAN
    outbox.settle_open(session, subject(chat_id), now, reason=None)
    session.flush()
    return scheduled(record, now)


def cancel_chat(session: Session, chat_id: int, now: datetime, team_id: str | None = None) -> ScheduledChat:
    record = get_record(session, chat_id, team_id)
    record.cancelled, record.planned_through, record.next_start, record.updated_at = True, NEVER, None, now
    outbox.settle_open(session, subject(chat_id), now, reason="chat cancelled")
    session.flush()
    return scheduled(record, now)


def skip_date(session: Session, chat_id: int, day: date, now: datetime, team_id: str | None = None) -> ScheduledChat:
    """Skip one occurrence; its posts not yet sent are skipped too."""
    record = get_record(session, chat_id, team_id)
    spec = spec_of(record)
    if record.cancelled:
        raise NotAnOccurrence(f"Chat {chat_id} is cancelled.")
    if next(timetable.occurrence_dates(spec, day), None) != day:
        weekday = f" (it runs on {spec.starts:%A}s)" if spec.repeat == "weekly" else ""
        raise NotAnOccurrence(f"Chat {chat_id} does not run on {day:%a %Y-%m-%d}{weekday}.")
    if timetable.ends(spec, timetable.local_start(spec, day)) <= now:
        raise NotAnOccurrence(f"The {day:%Y-%m-%d} chat is over already.")
    record.skip = sorted({*record.skip, day.isoformat()})
    record.updated_at = now
    record.next_start = timetable.next_start(spec_of(record), now)
    outbox.settle_open(
        session, subject(chat_id), now, reason="date skipped", key_prefix=f"{subject(chat_id)}:{day.isoformat()}:"
    )
    session.flush()
    return scheduled(record, now)


def upcoming(session: Session, now: datetime, team_id: str | None = None, *, limit: int = 50) -> list[ScheduledChat]:
    """Chats not cancelled with an occurrence still to come, soonest first."""
    query = select(ChatRecord).where(ChatRecord.cancelled.is_(False), ChatRecord.next_start.is_not(None))
    if team_id is not None:
        query = query.where(ChatRecord.team_id == team_id)
    chats = [scheduled(record, now) for record in session.scalars(query)]
    live = [chat for chat in chats if chat.next_start is not None]
    return sorted(live, key=lambda chat: (chat.next_start, chat.id))[:limit]


LONGEST_CHAT = timedelta(minutes=240)


def live_on(session: Session, network: str, now: datetime) -> list[tuple[ChatRecord, datetime]]:
    """Chats posting to `network` whose occurrence is running now (or ended within COLLECT_AFTER), with its start;
    not those whose account there may not read."""
    window = now - LONGEST_CHAT - timetable.COLLECT_AFTER
    posts_there = {
        "x": ChatRecord.post_to_x,
        "bluesky": ChatRecord.post_to_bluesky,
        "mastodon": ChatRecord.post_to_mastodon,
    }[network]
    denied = select(ChatRead.chat_id).where(ChatRead.network == network, ChatRead.denied.is_(True))
    records = session.scalars(
        select(ChatRecord).where(
            ChatRecord.next_start.between(window, now),
            posts_there.is_(True),
            ChatRecord.cancelled.is_(False),
            ChatRecord.id.not_in(denied),
        )
    )
    live = []
    for record in records:
        assert record.next_start is not None
        end = record.next_start + timedelta(minutes=record.duration) + timetable.COLLECT_AFTER
        if record.next_start <= now <= end:
            live.append((record, record.next_start))
    return live


def read_progress(session: Session, chat_id: int, network: str) -> ChatRead | None:
    """Where reading the chat's hashtag on `network` has got to; None before its first read (a reader's view: it
    adds no row)."""
    return session.get(ChatRead, (chat_id, network))


def may_read(session: Session, chat_id: int, network: str, now: datetime) -> bool:
    """Whether the chat's answers on `network` may be read now: not while it backs off after a failure."""
    progress = read_progress(session, chat_id, network)
    return progress is None or progress.retry_at is None or progress.retry_at <= now


def read_state(session: Session, chat_id: int, network: str) -> ChatRead:
    """The chat's reading state on `network` to change, in a transaction (a fresh row the first time)."""
    state = session.get(ChatRead, (chat_id, network))
    if state is None:
        state = ChatRead(chat_id=chat_id, network=network, cursor=None, reads={}, denied=False, failures=0)
        session.add(state)
    return state


def team_chats(session: Session, team_id: str) -> list[ScheduledChat]:
    """Every chat of the workspace that is not cancelled (a workspace has a handful)."""
    records = session.scalars(select(ChatRecord).where(ChatRecord.team_id == team_id, ChatRecord.cancelled.is_(False)))
    return [ScheduledChat(r.id, r.team_id, spec_of(r), r.cancelled, r.next_start, scheduled_at(r)) for r in records]


def scheduled_at(record: ChatRecord) -> datetime:
    """When the chat was scheduled, in UTC (SQLite gives the time back without its zone)."""
    moment = record.created_at
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
