"""Reading a chat definition: a YAML chat file, or the fields of the `/plchat schedule` form.

Both go through one validation that collects every problem (field, message and, for a file, its line)
before raising ChatSpecError, so a moderator can fix a file in one pass. `chat_to_yaml` writes a
ChatSpec back as a chat file that parses to the same spec.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.chats.spec import (
    DEFAULT_REMINDERS,
    MAX_QUESTIONS,
    NETWORKS,
    X_MAX_CHARS,
    ChatSpec,
    ChatSpecError,
    FieldProblem,
    Question,
    x_question_text,
)
from bot.timezones import known_zones
from bot.unicode_safe import ascii_int
from bot.yaml_lines import Document, NotReadable, read_mapping, unknown_field

MAX_FILE_BYTES = 64 * 1024
MAX_TITLE_CHARS = 150
MAX_HASHTAG_CHARS = 50
MIN_DURATION, MAX_DURATION = 15, 240
MIN_REMINDER, MAX_REMINDER = timedelta(minutes=5), timedelta(days=7)
FIRST_YEAR, LAST_YEAR = 2000, 2100
FIELDS = (
    "title",
    "hashtag",
    "starts",
    "timezone",
    "duration",
    "repeat",
    "until",
    "skip",
    "slack_channels",
    "post_to_x",
    "post_to_bluesky",
    "post_to_mastodon",
    "reminders",
    "questions",
)
QUESTION_FIELDS = ("at", "text")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The characters YAML itself refuses (PyYAML's reader): what turns up when a binary file is fed in.
_NOT_TEXT = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_STARTS = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HASHTAG = re.compile(rf"\w{{1,{MAX_HASHTAG_CHARS}}}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,20}")
_REMINDER = re.compile(r"(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?")
_CHANNEL_ID_HELP = (
    "needs the channel id (like C0123ABCD), not its name: in Slack open the channel, click its name at the top, "
    "and copy the Channel ID shown at the bottom of the About tab"
)


# --- public API ---------------------------------------------------------------------------------


def parse_chat_file(text: str | bytes, *, default_timezone: str) -> ChatSpec:
    """Parse and validate a chat file; ChatSpecError lists every problem with its 1-based line."""
    data, lines, problems = _load(text)
    return _validate(data, default_timezone=default_timezone, lines=lines, problems=problems)


def parse_chat_fields(data: Mapping[str, Any], *, default_timezone: str) -> ChatSpec:
    """Validate a chat given as fields (the Slack form); the same rules as a file, without lines."""
    if not isinstance(data, Mapping):
        raise ChatSpecError([FieldProblem("chat", "must be a mapping of fields such as title, starts, questions")])
    # A form's empty input means "not given" (the default applies, or the field is reported missing).
    given = {key: None if isinstance(value, str) and not value.strip() else value for key, value in data.items()}
    return _validate(given, default_timezone=default_timezone, lines={}, problems=[])


def chat_to_yaml(spec: ChatSpec) -> str:
    """A chat file for `spec`: parse_chat_file(chat_to_yaml(spec)) == spec."""
    s = spec.starts
    out = [
        f"title: {_dump(spec.title)}",
        f"hashtag: {_dump(spec.hashtag)}",
        f"starts: {s.year:04d}-{s.month:02d}-{s.day:02d} {s.hour:02d}:{s.minute:02d}  # local time in `timezone`",
        f"timezone: {_dump(spec.timezone)}",
        f"duration: {spec.duration}  # minutes",
        f"repeat: {spec.repeat}",
    ]
    if spec.until is not None:
        out.append(f"until: {spec.until.isoformat()}  # last date the chat may run")
    out += [
        f"skip: [{', '.join(day.isoformat() for day in spec.skip)}]",
        f"slack_channels: [{', '.join(_dump(channel) for channel in spec.slack_channels)}]",
        f"post_to_x: {'true' if spec.post_to_x else 'false'}",
        f"post_to_bluesky: {'true' if spec.post_to_bluesky else 'false'}",
        f"post_to_mastodon: {'true' if spec.post_to_mastodon else 'false'}",
        f"reminders: [{', '.join(_reminder_text(r) for r in spec.reminders)}]  # before the start",
        "questions:  # at: minutes after the start",
    ]
    for question in spec.questions:
        at = question.at
        out.append(f"  - at: {int(at) if float(at).is_integer() else _dump(float(at))}")
        out.append(f"    text: {_dump(question.text)}")
    return "\n".join(out) + "\n"


# --- reading the YAML ---------------------------------------------------------------------------


def _file_error(message: str, line: int | None = None) -> ChatSpecError:
    return ChatSpecError([FieldProblem("file", message, line)])


def _load(text: str | bytes) -> tuple[dict[Any, Any], dict[str, int], list[FieldProblem]]:
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            raise _file_error(f"is {len(text)} bytes; a chat file must be at most {MAX_FILE_BYTES} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _file_error("is not UTF-8 text (is it a binary file?)") from None
    if not isinstance(text, str):
        raise _file_error("must be text")
    size = len(text) if len(text) > MAX_FILE_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise _file_error(f"is {size} bytes; a chat file must be at most {MAX_FILE_BYTES} bytes")
    text = text.removeprefix("\ufeff")
    if bad := _NOT_TEXT.search(text):
        line = text.count("\n", 0, bad.start()) + 1
        raise _file_error(f"holds U+{ord(bad.group()):04X}, which is not text; is this a binary file?", line)
    try:
        document = read_mapping(text, what="a chat file")
    except NotReadable as exc:
        raise _file_error(exc.message, exc.line) from None
    problems = [FieldProblem(duplicate.field, duplicate.message, duplicate.line) for duplicate in document.duplicates]
    return document.data, document.lines, problems


# --- validation ---------------------------------------------------------------------------------


_BAD: Any = object()  # a field that failed validation (its problem is already recorded)


@dataclass
class _Problems:
    lines: dict[str, int]
    found: list[FieldProblem] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.found.append(FieldProblem(name, message, Document({}, self.lines).line_of(name)))


def _validate(
    data: dict[Any, Any], *, default_timezone: str, lines: dict[str, int], problems: list[FieldProblem]
) -> ChatSpec:
    p = _Problems(lines, list(problems))
    for key in data:
        if key not in FIELDS:
            p.add(str(key), unknown_field(key, FIELDS, "a chat"))

    title = _text(data.get("title"), "title", p, max_chars=MAX_TITLE_CHARS, multiline=False)
    hashtag = _hashtag(data, p, comment_hint=bool(lines))
    starts = _starts(data.get("starts"), p)
    zone_name = _timezone(data.get("timezone"), default_timezone, p)
    duration = _duration(data.get("duration"), p)
    repeat = _repeat(data.get("repeat"), p)
    until = _until(data.get("until"), repeat, starts, p)
    skip = _skip(data.get("skip"), repeat, starts, until, p)
    channels = _channels(data.get("slack_channels"), p)
    post_to = {name: _flag(data.get(f"post_to_{name}"), f"post_to_{name}", p) for name in NETWORKS}
    if channels is not _BAD and _BAD not in post_to.values() and not channels and not any(post_to.values()):
        p.add(
            "slack_channels",
            "give at least one Slack channel id, or post to a network "
            "(`post_to_x`, `post_to_bluesky` or `post_to_mastodon: true`)",
        )
    reminders = _reminders(data.get("reminders"), p)
    questions = _questions(data.get("questions"), duration, hashtag, p)
    if starts is not _BAD and zone_name is not _BAD and repeat is not _BAD and until is not _BAD and skip is not _BAD:
        _check_dst_gap(starts, ZoneInfo(zone_name), repeat, until, skip, p)

    if p.found:
        # In file order (a stable sort keeps field order within a line); problems without a line last.
        raise ChatSpecError(sorted(p.found, key=lambda problem: (problem.line is None, problem.line or 0)))
    return ChatSpec(
        title=title,
        hashtag=hashtag,
        starts=starts,
        timezone=zone_name,
        duration=duration,
        repeat=repeat,
        until=until,
        skip=skip,
        slack_channels=channels,
        post_to_x=post_to["x"],
        reminders=reminders,
        questions=questions,
        post_to_bluesky=post_to["bluesky"],
        post_to_mastodon=post_to["mastodon"],
    )


def _text(value: Any, name: str, p: _Problems, *, max_chars: int | None, multiline: bool) -> Any:
    if value is None:
        p.add(name, "is missing")
        return _BAD
    if not isinstance(value, str):
        p.add(name, "must be text (put it in quotes)")
        return _BAD
    text = value.strip()
    if not text:
        p.add(name, "is empty")
        return _BAD
    for char in text:
        if (unicodedata.category(char) in ("Cc", "Zl", "Zp")) and not (multiline and char == "\n"):
            p.add(name, f"holds a control character (U+{ord(char):04X}); remove it")
            return _BAD
    if max_chars is not None and len(text) > max_chars:
        p.add(name, f"is {len(text)} characters; keep it to {max_chars}")
        return _BAD
    return text


def _hashtag(data: dict[Any, Any], p: _Problems, *, comment_hint: bool) -> Any:
    value = data.get("hashtag")
    if value is None:
        if comment_hint and "hashtag" in data:
            p.add("hashtag", "is empty; in YAML '#' starts a comment, so write it without '#', like `hashtag: PLChat`")
        else:
            p.add("hashtag", "is missing; give the chat's hashtag without '#', like PLChat")
        return _BAD
    if not isinstance(value, str):
        p.add("hashtag", "must be text, like PLChat")
        return _BAD
    tag = value.strip().removeprefix("#")
    if not _HASHTAG.fullmatch(tag):
        p.add("hashtag", f"use only letters, digits and underscores (1 to {MAX_HASHTAG_CHARS}), like PLChat")
        return _BAD
    if not any(char.isalpha() for char in tag):
        p.add("hashtag", "needs at least one letter; X does not link hashtags made only of numbers")
        return _BAD
    return tag


def _starts(value: Any, p: _Problems) -> Any:
    example = "a local date and time like 2026-12-01 17:00"
    if value is None:
        p.add("starts", f"is missing; give {example}")
        return _BAD
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            p.add("starts", "must be a local time without a UTC offset, like 2026-12-01 17:00; set `timezone` instead")
            return _BAD
        moment = value
    elif isinstance(value, date):
        p.add("starts", f"needs a time as well as a date; give {example}")
        return _BAD
    elif isinstance(value, str) and (match := _STARTS.fullmatch(value.strip())):
        try:
            year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
            moment = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - the chat's wall clock
        except ValueError:
            p.add("starts", f"{value.strip()} is not a real date and time; give {example}")
            return _BAD
    else:
        p.add("starts", f"must be {example}")
        return _BAD
    if moment.second or moment.microsecond:
        p.add("starts", "must be on a whole minute, like 17:00")
        return _BAD
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        p.add("starts", f"is in {moment.year}; give a date between {FIRST_YEAR} and {LAST_YEAR}")
        return _BAD
    return moment


def _timezone(value: Any, default: str, p: _Problems) -> Any:
    name = default if value is None else value
    if isinstance(name, str) and name.strip() in known_zones():
        return name.strip()
    if value is None:
        p.add("timezone", f"is not set, and the default time zone {default!r} is not a known IANA time zone")
        return _BAD
    if not isinstance(value, str):
        p.add("timezone", "must be an IANA time zone name, like America/Los_Angeles")
        return _BAD
    by_lower = {zone.lower(): zone for zone in known_zones()}
    guess = by_lower.get(value.strip().lower().replace(" ", "_"))
    if guess is None:
        close = difflib.get_close_matches(value.strip(), sorted(known_zones()), n=1, cutoff=0.6)
        guess = close[0] if close else None
    hint = f"; did you mean {guess}?" if guess else "; use an IANA name like America/Los_Angeles or Europe/London"
    p.add("timezone", f"{value!r} is not a known time zone{hint}")
    return _BAD


def _duration(value: Any, p: _Problems) -> Any:
    minutes: int | None = None
    if isinstance(value, bool):
        minutes = None
    elif isinstance(value, int):
        minutes = value
    elif isinstance(value, float) and value.is_integer():
        minutes = int(value)
    elif isinstance(value, str):
        minutes = ascii_int(value, 10**6)
    if value is None:
        p.add("duration", f"is missing; give the chat's length in minutes ({MIN_DURATION} to {MAX_DURATION})")
        return _BAD
    if minutes is None:
        p.add("duration", f"must be a whole number of minutes ({MIN_DURATION} to {MAX_DURATION})")
        return _BAD
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        p.add("duration", f"is {minutes} minutes; a chat lasts {MIN_DURATION} to {MAX_DURATION} minutes")
        return _BAD
    return minutes


def _repeat(value: Any, p: _Problems) -> Any:
    if value is None:
        return "none"
    if isinstance(value, str) and value.strip().lower() in ("weekly", "none"):
        return value.strip().lower()
    p.add("repeat", "must be weekly or none")
    return _BAD


def _date(value: Any, name: str, p: _Problems) -> Any:
    if isinstance(value, datetime):
        p.add(name, "must be a date without a time, like 2027-06-01")
        return _BAD
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            p.add(name, f"{value.strip()} is not a real date")
            return _BAD
    p.add(name, "must be a date like 2027-06-01")
    return _BAD


def _until(value: Any, repeat: Any, starts: Any, p: _Problems) -> Any:
    if value is None:
        return None
    until = _date(value, "until", p)
    if until is _BAD:
        return _BAD
    if repeat == "none":
        p.add("until", "only applies to weekly chats; remove it, or set `repeat: weekly`")
        return _BAD
    if starts is not _BAD and until < starts.date():
        p.add("until", f"must be after starts (the first chat is on {starts.date().isoformat()})")
        return _BAD
    return until


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, date, int, float, timedelta)) and not isinstance(value, bool):
        return [value]  # a single item written without brackets
    return None


def _skip(value: Any, repeat: Any, starts: Any, until: Any, p: _Problems) -> Any:
    items = _as_list(value)
    if items is None:
        p.add("skip", "must be a list of dates, like [2026-12-22, 2026-12-29]")
        return _BAD
    days: set[date] = set()
    ok = True
    for number, item in enumerate(items, 1):
        name = f"skip[{number}]"
        day = _date(item, name, p)
        if day is _BAD:
            ok = False
            continue
        if starts is not _BAD and repeat == "weekly":
            first = starts.date()
            if day.weekday() != first.weekday():
                p.add(name, f"{day} is a {WEEKDAYS[day.weekday()]}; this chat runs on {WEEKDAYS[first.weekday()]}s")
                ok = False
                continue
            if day < first:
                p.add(name, f"{day} is before the first chat ({first})")
                ok = False
                continue
            if until not in (None, _BAD) and day > until:
                p.add(name, f"{day} is after until ({until}); the chat does not run then")
                ok = False
                continue
        elif starts is not _BAD and repeat == "none" and day != starts.date():
            p.add(name, f"a one-off chat runs only on {starts.date()}; {day} is not that day")
            ok = False
            continue
        days.add(day)
    return tuple(sorted(days)) if ok else _BAD


def _channels(value: Any, p: _Problems) -> Any:
    items = _as_list(value)
    if items is None:
        p.add("slack_channels", "must be a list of Slack channel ids, like [C0123ABCD]")
        return _BAD
    channels: list[str] = []
    ok = True
    for number, item in enumerate(items, 1):
        name = f"slack_channels[{number}]"
        if not isinstance(item, str):
            p.add(name, "must be a Slack channel id, like C0123ABCD")
            ok = False
            continue
        channel = item.strip()
        if _CHANNEL_ID.fullmatch(channel):
            if channel not in channels:
                channels.append(channel)
            continue
        ok = False
        if channel.startswith("#") or channel != channel.upper() or channel[:1] not in ("C", "G"):
            p.add(name, f"{channel!r} {_CHANNEL_ID_HELP}")
        else:
            p.add(name, f"{channel!r} is not a channel id; {_CHANNEL_ID_HELP}")
    return tuple(channels) if ok else _BAD


def _flag(value: Any, name: str, p: _Problems) -> Any:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    p.add(name, "must be true or false")
    return _BAD


def _reminder_text(before: timedelta) -> str:
    """24h, 1h30m, 30m; whole days of two or more as 2d."""
    minutes = int(before.total_seconds() // 60)
    if minutes >= 2 * 24 * 60 and minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def _reminders(value: Any, p: _Problems) -> Any:
    if value is None:
        return tuple(DEFAULT_REMINDERS)
    items = _as_list(value)
    if items is None:
        p.add("reminders", "must be a list of times before the start, like [24h, 1h]")
        return _BAD
    seen: dict[timedelta, int] = {}
    ok = True
    for number, item in enumerate(items, 1):
        name = f"reminders[{number}]"
        before: timedelta | None = None
        if isinstance(item, timedelta):
            before = item
        elif isinstance(item, str):
            text = re.sub(r"\s+", "", item).lower()
            match = _REMINDER.fullmatch(text)
            if text and match:
                days, hours, minutes = (int(part or 0) for part in match.groups())
                before = timedelta(days=days, hours=hours, minutes=minutes)
        if before is None:
            hint = "; add a unit" if isinstance(item, (int, float)) and not isinstance(item, bool) else ""
            p.add(name, f"must be a time before the start like 24h, 1h, 30m, 2d or 1h30m{hint}")
            ok = False
            continue
        if not MIN_REMINDER <= before <= MAX_REMINDER:
            p.add(name, f"is {_reminder_text(before)}; a reminder goes 5 minutes to 7 days before the start")
            ok = False
            continue
        if before in seen:
            p.add(name, f"is the same time as reminders[{seen[before]}] ({_reminder_text(before)})")
            ok = False
            continue
        seen[before] = number
    return tuple(sorted(seen, reverse=True)) if ok else _BAD


def _at(value: Any, name: str, duration: Any, p: _Problems) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        p.add(name, "must be a number of minutes after the start, like 5 or 7.5")
        return _BAD
    at = float(value)
    if at < 0:
        p.add(name, "must be 0 or more minutes after the start")
        return _BAD
    if duration is not _BAD and at >= duration:
        p.add(name, f"is {value:g} minutes; it must be before the chat ends, at {duration} minutes")
        return _BAD
    return at


def _questions(value: Any, duration: Any, hashtag: Any, p: _Problems) -> Any:
    if value is None:
        p.add("questions", "are missing; list at least one question, each with `text` (and optionally `at`)")
        return _BAD
    if not isinstance(value, (list, tuple)):
        p.add("questions", "must be a list of questions, each with `text` (and optionally `at`)")
        return _BAD
    ok = True
    if not value:
        p.add("questions", "list at least one question")
        ok = False
    if len(value) > MAX_QUESTIONS:
        p.add("questions", f"has {len(value)} questions; a chat can have at most {MAX_QUESTIONS}")
        ok = False
    items: list[tuple[int, Any, Any]] = []  # (number, at, text)
    for number, given in enumerate(value, 1):
        name = f"questions[{number}]"
        item = {"text": given} if isinstance(given, str) else given
        if not isinstance(item, Mapping):
            p.add(name, "must be a question with `text` (and optionally `at`), like `- text: How do you ...?`")
            ok = False
            continue
        for key in item:
            if key not in QUESTION_FIELDS:
                p.add(f"{name}.{key}", unknown_field(key, QUESTION_FIELDS, "a question"))
                ok = False
        text = _text(item.get("text"), f"{name}.text", p, max_chars=None, multiline=True)
        at = _at(item.get("at"), f"{name}.at", duration, p)
        if text is not _BAD and hashtag is not _BAD:
            posted = x_question_text(number, text, hashtag)
            if len(posted) > X_MAX_CHARS:
                p.add(
                    f"{name}.text",
                    f'is {len(posted) - X_MAX_CHARS} characters over: posted on X as "Q{number} ... #{hashtag}" '
                    f"it is {len(posted)} characters, and the limit is {X_MAX_CHARS}",
                )
                text = _BAD
        ok = ok and text is not _BAD and at is not _BAD
        items.append((number, at, text))

    given = [(number, at) for number, at, _ in items if at is not None]
    if given and len(given) < len(items):
        first_missing = next(number for number, at, _ in items if at is None)
        p.add(
            f"questions[{first_missing}].at",
            "is missing, but other questions have `at`; give `at` for every question, "
            "or for none to spread them evenly over the chat",
        )
        ok = False
    previous: tuple[int, float] | None = None
    for number, at in given:
        if at is _BAD:
            previous = None
            continue
        if previous is not None and at <= previous[1]:
            p.add(
                f"questions[{number}].at",
                f"is {at:g}, not after Q{previous[0]} (at {previous[1]:g}); questions must come in time order",
            )
            ok = False
        previous = (number, at)
    if not ok or duration is _BAD:
        return _BAD
    if not given:
        count = len(items)
        return tuple(Question(at=_default_at(duration, number, count), text=text) for number, _, text in items)
    return tuple(Question(at=at, text=text) for _, at, text in items)


def _default_at(duration: int, number: int, count: int) -> float:
    """The default cadence: questions evenly between the welcome (0) and the wrap-up (duration), to 0.5 minute."""
    return round(duration * number / (count + 1) * 2) / 2


def _local_gap(moment: datetime, zone: ZoneInfo) -> bool:
    """True when this wall-clock time never happens in `zone` (clocks jump past it)."""
    aware = moment.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment


def _check_dst_gap(
    starts: datetime, zone: ZoneInfo, repeat: str, until: date | None, skip: tuple[date, ...], p: _Problems
) -> None:
    if _local_gap(starts, zone) and starts.date() not in skip:
        p.add(
            "starts",
            f"{_local(starts)} does not exist in {zone.key}: the clocks jump forward past it "
            "(daylight saving time begins); pick another time",
        )
        return
    if repeat != "weekly":
        return
    last = until if until is not None else starts.date() + timedelta(days=371)
    moment = starts + timedelta(weeks=1)
    while moment.date() <= last:
        if moment.date() not in skip and _local_gap(moment, zone):
            p.add(
                "starts",
                f"the chat on {moment.date()} would be at {_local(moment)}, which does not exist in {zone.key} "
                f"(the clocks jump forward for daylight saving time); pick another time, or skip {moment.date()}",
            )
            return
        moment += timedelta(weeks=1)


def _local(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"


def _dump(value: str | float) -> str:
    """One YAML scalar: strings double-quoted with YAML's own escaping, floats as YAML floats."""
    style = '"' if isinstance(value, str) else None
    dumped = yaml.safe_dump(value, default_style=style, allow_unicode=True, width=1 << 20)
    return dumped.removesuffix("\n...\n").rstrip("\n")
