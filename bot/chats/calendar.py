"""The chats as an iCalendar feed (RFC 5545), for subscribing from Google Calendar, Outlook or Apple Calendar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot.chats.spec import NETWORKS, ScheduledChat

PRODID = "-//PLChat//PLChat Bot//EN"
CALENDAR_NAME = "PLChat chats"
OPEN_ENDED_YEARS = 3  # time zone rules included for a weekly chat without `until`


def chats_calendar(
    chats: Iterable[ScheduledChat],
    *,
    link: Callable[[int], str | None] = lambda _id: None,
    now: datetime,
) -> bytes:
    """One VEVENT per chat that is not cancelled, with the VTIMEZONEs its TZIDs need."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    stamp = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    years: list[int] = []
    for chat in chats:
        event = _event(chat, link(chat.id), stamp)
        if event is None:
            continue
        calendar.add_component(event)
        spec = chat.spec
        last = spec.until or (
            date(spec.starts.year + OPEN_ENDED_YEARS, 1, 1) if spec.repeat == "weekly" else spec.starts.date()
        )
        years += [spec.starts.year, last.year]
    if years:
        calendar.add_missing_timezones(first_date=date(min(years), 1, 1), last_date=date(max(years) + 2, 1, 1))
    ical: bytes = calendar.to_ical()
    return ical


def _event(chat: ScheduledChat, url: str | None, stamp: datetime) -> icalendar.Event | None:
    spec = chat.spec
    if chat.cancelled:
        return None
    if spec.repeat != "weekly" and spec.starts.date() in spec.skip:
        return None  # a one-off chat whose only date is skipped does not happen
    zone = ZoneInfo(spec.timezone)
    start = spec.starts.replace(tzinfo=zone)
    end = (start.astimezone(UTC) + timedelta(minutes=spec.duration)).astimezone(zone)
    event = icalendar.Event()
    event.add("uid", f"chat-{chat.id}@plchat")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    # An end in the repeated hour of a fall-back night cannot be written as local time (readers take the first
    # 1:30); UTC says it exactly and keeps the event's length right.
    ambiguous = end.replace(fold=1 - end.fold).utcoffset() != end.utcoffset()
    event.add("dtend", end.astimezone(UTC) if ambiguous else end)
    event.add("summary", f"#{spec.hashtag}: {spec.title}")
    event.add("description", _description(chat))
    if url:
        event.add("url", url)
    if spec.repeat == "weekly":
        rule: dict[str, object] = {"freq": "weekly"}
        if spec.until is not None:
            last_moment = datetime.combine(spec.until, time(23, 59, 59), tzinfo=zone)
            rule["until"] = last_moment.astimezone(UTC)
        event.add("rrule", rule)
        if spec.skip:
            event.add("exdate", [datetime.combine(day, spec.starts.time(), tzinfo=zone) for day in spec.skip])
    return event


def _description(chat: ScheduledChat) -> str:
    spec = chat.spec
    where = []
    if spec.slack_channels:
        where.append("in Slack")
    where += [f"on {NETWORKS[name]}" for name in spec.networks]
    lines = [f"Join #{spec.hashtag} {' and '.join(where)} for {spec.duration} minutes.", "", "Questions:"]
    for number, question in enumerate(spec.questions, 1):
        lines.append(f"Q{number} ({question.at:g} min in): {question.text}")
    return "\n".join(lines)
