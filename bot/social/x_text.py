"""The plain text of a chat's posts on X: reminders, welcome, questions, wrap-up (each within 280 characters).

Times are given in PT, ET and UTC (zoneinfo, so PST/PDT and EST/EDT are right on either side of a change), and
every text but a question names the chat's date: two weeks' posts differ, so X never refuses one as duplicate
content. The date is the date in PT, the first time given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.chats.spec import X_MAX_CHARS, ChatSpec, Question, x_inert, x_question_text

PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")
ELLIPSIS = "…"


def reminder_text(spec: ChatSpec, start: datetime, lead: timedelta) -> str:
    """'Reminder: #PLChat “Title” is Tue Dec 1 at 5:00 PM PT / 8:00 PM ET / 01:00 UTC (in 1 hour). Join us!'"""
    when = f"{_date(start)} at {_times(start)}"
    return _fit(lambda title: f"Reminder: #{spec.hashtag} “{title}” is {when} ({_lead(lead)}). Join us!", spec.title)


def welcome_text(spec: ChatSpec, start: datetime) -> str:
    """The chat's first post: what it is about and how to answer."""
    tag = f"#{spec.hashtag}"
    return _fit(
        lambda title: (
            f"Welcome to {tag}: “{title}”, {_date(start)}! Questions come as Q1, Q2… "
            f"Answer with A1, A2… and {tag} so everyone can follow along."
        ),
        spec.title,
    )


def question_text(spec: ChatSpec, number: int, question: Question) -> str:
    """Question `number` as posted (the text whose length the chat's validation measured)."""
    return x_question_text(number, question.text, spec.hashtag)


def wrapup_text(spec: ChatSpec, start: datetime) -> str:
    """The chat's last post."""
    tag = f"#{spec.hashtag}"
    return _fit(
        lambda title: (
            f"Thank you for joining {tag} “{title}” on {_date(start)}! "
            f"Keep sharing ideas with {tag} all week."
        ),
        spec.title,
    )


def x_length(text: str) -> int:
    """Length as X counts it (twitter-text v3): most Latin and punctuation count 1, other characters
    (CJK, emoji, '…') count 2. URLs count 23 on X; chat texts carry none of their own."""
    return sum(1 if _light(ord(char)) else 2 for char in text)


def _light(code: int) -> bool:
    return code <= 4351 or 8192 <= code <= 8205 or 8208 <= code <= 8223 or 8242 <= code <= 8247


def _fit(render: Callable[[str], str], title: str) -> str:
    """`render(title)`, the title cut short with '…' when the whole would pass X's limit."""
    title = x_inert(title)
    text = render(title)
    if x_length(text) <= X_MAX_CHARS:
        return text
    room = X_MAX_CHARS - x_length(render("")) - x_length(ELLIPSIS)
    kept = ""
    for char in title:
        if x_length(kept + char) > room:
            break
        kept += char
    return render(kept.rstrip() + ELLIPSIS)


def _date(start: datetime) -> str:
    local = _aware(start).astimezone(PACIFIC)
    return f"{local:%a} {local:%b} {local.day}"


def _times(start: datetime) -> str:
    moment = _aware(start)
    utc = moment.astimezone(timezone.utc)
    return f"{_clock(moment.astimezone(PACIFIC))} PT / {_clock(moment.astimezone(EASTERN))} ET / {utc:%H:%M} UTC"


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _lead(lead: timedelta) -> str:
    minutes = round(lead.total_seconds() / 60)
    if minutes <= 0:
        return "starting now"
    days, rest = divmod(minutes, 24 * 60)
    if days and not rest and days > 1:
        return f"in {days} days"
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    parts += [f"{minutes} minute{'s' * (minutes != 1)}"] if minutes else []
    return "in " + " ".join(parts)


def _aware(start: datetime) -> datetime:
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    return start
