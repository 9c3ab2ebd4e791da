"""When a chat's posts are due: occurrences in the chat's own timezone (so 17:00 Los Angeles stays 17:00 across
the daylight-saving change), and for each the reminders, welcome, questions, wrap-up and recap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.chats.spec import ChatSpec

GRACE = timedelta(minutes=10)  # a post this late (the worker was down) is skipped, not sent
RECAP_AFTER = timedelta(minutes=10)  # after the end, so the last answers (and X's search lag) are in
RECAP_KEPT = timedelta(days=1)  # a recap is worth sending late; a question is not
COLLECT_AFTER = timedelta(minutes=5)  # X answers are still read this long after the end

Kind = Literal["reminder", "welcome", "question", "wrapup", "recap"]


@dataclass(frozen=True)
class Post:
    kind: Kind
    slug: str  # unique within an occurrence: reminder-60m, welcome, q3, wrapup, recap
    start: datetime  # the occurrence's start, aware in the chat's timezone
    due: datetime  # UTC
    expires: datetime  # UTC: not sent after this
    number: int | None = None  # a question's number
    lead: timedelta | None = None  # a reminder's distance to the start

    @property
    def occurrence(self) -> date:
        return self.start.date()

    def lead_at(self, now: datetime) -> timedelta:
        """How far ahead of the start a reminder sent at `now` is: its own lead when it goes out on time (within a
        minute of its due time), else what is really left (none once the chat has begun), so a reminder sent late
        (after a restart, say) never promises more time than there is."""
        assert self.lead is not None
        left = max(self.start - now, timedelta(0))
        return self.lead if self.lead - left < timedelta(minutes=1) else left


def local_start(spec: ChatSpec, day: date) -> datetime:
    return datetime.combine(day, spec.starts.time(), tzinfo=ZoneInfo(spec.timezone))


def occurrence_dates(spec: ChatSpec, first: date | None = None) -> Iterator[date]:
    """The dates the chat runs on, from `first` (or its start) on, skipped dates left out. A weekly chat
    without `until` never ends: callers stop when they have seen enough."""
    day, skipped = spec.starts.date(), set(spec.skip)
    if spec.repeat == "none":
        if day not in skipped and (first is None or day >= first):
            yield day
        return
    if first is not None and first > day:
        day += timedelta(weeks=-(-(first - day).days // 7))  # the first weekly date on or after `first`
    while spec.until is None or day <= spec.until:
        if day not in skipped:
            yield day
        day += timedelta(weeks=1)


def ends(spec: ChatSpec, start: datetime) -> datetime:
    return start + timedelta(minutes=spec.duration)


def next_start(spec: ChatSpec, now: datetime) -> datetime | None:
    """The start (UTC) of the next occurrence that has not ended by `now`, or None when none is left."""
    today = now.astimezone(ZoneInfo(spec.timezone)).date()
    for day in occurrence_dates(spec, today - timedelta(days=1)):
        start = local_start(spec, day)
        if ends(spec, start) > now:
            return start.astimezone(UTC)
    return None


def posts(spec: ChatSpec, day: date) -> list[Post]:
    """Every post of the occurrence on `day`, in the order they are due."""
    start = local_start(spec, day)
    start_utc, end_utc = start.astimezone(UTC), ends(spec, start).astimezone(UTC)
    timeline = [
        Post(
            "reminder",
            f"reminder-{int(lead.total_seconds() // 60)}m",
            start,
            start_utc - lead,
            min(start_utc - lead + GRACE, start_utc),
            lead=lead,
        )
        for lead in spec.reminders
    ]
    timeline.append(Post("welcome", "welcome", start, start_utc, start_utc + GRACE))
    for number, question in enumerate(spec.questions, 1):
        due = start_utc + timedelta(minutes=question.at)
        timeline.append(Post("question", f"q{number}", start, due, min(due + GRACE, end_utc), number=number))
    timeline.append(Post("wrapup", "wrapup", start, end_utc, end_utc + GRACE))
    timeline.append(Post("recap", "recap", start, end_utc + RECAP_AFTER, end_utc + RECAP_AFTER + RECAP_KEPT))
    return sorted(timeline, key=lambda post: post.due)


def lead_time(spec: ChatSpec) -> timedelta:
    """How long before a start its first post is due."""
    return max(spec.reminders, default=timedelta(0))


def occurrences_to_plan(spec: ChatSpec, since: datetime, until: datetime, now: datetime) -> list[date]:
    """Occurrences whose first post is due in [since, until) and whose recap is not yet past expiry at `now`."""
    lead = lead_time(spec)
    first_day = (max(since, now - RECAP_KEPT - RECAP_AFTER) + lead).astimezone(ZoneInfo(spec.timezone)).date()
    chosen = []
    for day in occurrence_dates(spec, first_day - timedelta(days=1)):
        start = local_start(spec, day).astimezone(UTC)
        if start - lead >= until:
            break
        if start - lead >= since and ends(spec, start) + RECAP_AFTER + RECAP_KEPT > now:
            chosen.append(day)
    return chosen


def last_start(spec: ChatSpec, now: datetime, since: datetime | None = None) -> datetime | None:
    """The start (aware, local) of the latest occurrence that has begun by `now`, for recaps; not one before
    `since` (when the chat was scheduled: a date that started before that never ran, whatever `starts` says)."""
    latest = None
    for day in occurrence_dates(spec):
        start = local_start(spec, day)
        if start > now:
            break
        if since is None or start >= since:
            latest = start
    return latest
