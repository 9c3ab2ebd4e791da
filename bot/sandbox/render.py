"""Render Slack messages and views (Block Kit) as readable plain text for a console."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

DIVIDER = "-" * 40

_LINK = re.compile(r"<([^<>]*)>")
_BROADCASTS = frozenset({"channel", "here", "everyone"})
_DATE_TOKEN = re.compile(r"\{([a-z_]+)\}")
OPTION_ELEMENTS = frozenset({"static_select", "radio_buttons", "checkboxes"})


@dataclass(frozen=True)
class Reader:
    """Who reads the rendered text, as Slack knows them: the people and channels it can name, the reader's time
    zone, and their clock (for "today" and "3 minutes ago")."""

    names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name
    channels: Mapping[str, str] = field(default_factory=dict)  # channel id -> name
    zone: tzinfo = UTC
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def at(self, moment: datetime) -> Reader:
        """The same reader at `moment`: reading a post as it arrives."""
        return Reader(self.names, self.channels, self.zone, lambda: moment)

    def local(self, moment: datetime) -> str:
        """`moment` on the reader's wall clock: 'Mon Dec 7, 7:00 AM PST'."""
        shown = moment.astimezone(self.zone)
        return f"{shown:%a %b} {shown.day}, {_clock(shown)} {shown.tzname()}"


@dataclass(frozen=True)
class Button:
    """A clickable button, numbered across the whole message from 1."""

    number: int
    label: str
    action_id: str
    value: str | None = None
    block_id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Rendered:
    """Console text plus the buttons it shows as "[n] label"."""

    text: str
    buttons: list[Button] = field(default_factory=list)


def render_message(text: str | None, blocks: list[dict[str, Any]] | None, reader: Reader = Reader()) -> Rendered:
    """Render a message; without blocks, its (mrkdwn) text."""
    if not blocks:
        return Rendered(mrkdwn_to_text(text or "", reader))
    renderer = _BlockRenderer(fallback_text=text, reader=reader)
    return Rendered("\n".join(renderer.lines(blocks)), renderer.buttons)


def render_view(view: dict[str, Any], reader: Reader = Reader()) -> Rendered:
    """Render a modal or App Home view: title, blocks, then its submit/close labels."""
    renderer = _BlockRenderer(fallback_text=None, reader=reader)
    lines = []
    title = _text(view.get("title"), reader)
    if title:
        lines += _underline(title)
    lines += renderer.lines(view.get("blocks") or [])
    closers = [
        f"({role}: {label})"
        for role, label in (("submit", _text(view.get("submit"), reader)), ("close", _text(view.get("close"), reader)))
        if label
    ]
    if closers:
        lines.append("  ".join(closers))
    return Rendered("\n".join(lines), renderer.buttons)


def mrkdwn_to_text(text: str, reader: Reader = Reader()) -> str:
    """Slack mrkdwn as a reader sees it: mentions by display name, channels by name, dates in the reader's time
    zone, links resolved, entities unescaped."""
    resolved = _LINK.sub(lambda match: _resolve_link(match.group(1), reader), text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _resolve_link(inside: str, reader: Reader) -> str:
    target, _, label = inside.partition("|")
    if target.startswith("@"):
        return "@" + (reader.names.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (reader.channels.get(target[1:]) or label or target[1:])
    if target.startswith("!date^"):
        return _slack_date(target, label, reader)
    if target.startswith("!"):
        name = target[1:]
        if name in _BROADCASTS:
            return "@" + name
        if name.startswith("subteam^"):
            return label or "@" + name.removeprefix("subteam^")
        return label or name
    return _linked(label, target)


def _linked(label: str, target: str) -> str:
    return f"{label} ({target})" if label and label != target else target


def _slack_date(target: str, fallback: str, reader: Reader) -> str:
    """`<!date^SECONDS^FORMAT[^LINK]|fallback>` as Slack shows it: FORMAT's tokens in the reader's time zone,
    linked when a link is given; the fallback when the timestamp or a token can't be read."""
    _date, seconds, *rest = target.split("^", 3)
    if not rest or not seconds.isdigit():
        return fallback
    moment = datetime.fromtimestamp(int(seconds), UTC).astimezone(reader.zone)
    today = reader.now().astimezone(reader.zone).date()
    shown = _DATE_TOKEN.sub(lambda token: _date_token(token.group(1), moment, today, reader.now()), rest[0])
    if "{" in shown:  # a token Slack does not know: Slack shows the fallback
        return fallback
    return _linked(shown, rest[1]) if len(rest) > 1 and rest[1] else shown


def _date_token(token: str, moment: datetime, today: date, now: datetime) -> str:
    """One of Slack's date tokens as its documentation describes them (docs.slack.dev, the rich text date
    element), in US English with a 12-hour clock, Slack's defaults; `{token}` unchanged when Slack knows none."""
    day = moment.date()
    month_day = f"{moment:%B} {day.day}"
    long_date = f"{moment:%A}, {moment:%B} {_ordinal(day.day)}"
    relative = {today - timedelta(days=1): "yesterday", today: "today", today + timedelta(days=1): "tomorrow"}
    formats = {
        "date_num": day.isoformat(),
        "date_slash": f"{day:%d/%m/%Y}",
        "date_long": f"{long_date}, {day.year}",
        "date_long_full": f"{month_day}, {day.year}",
        "date": month_day,
        "date_short": f"{moment:%b} {day.day}, {day.year}",
        "time": _clock(moment),
        "time_secs": _clock(moment, seconds=True),
        "ago": _ago(moment - now),
    }
    formats |= {
        "date_pretty": relative.get(day) or formats["date"],
        "date_short_pretty": relative.get(day) or formats["date_short"],
        "date_long_pretty": relative.get(day) or formats["date_long"],
        "day_divider_pretty": relative.get(day) or (long_date if day.year == today.year else formats["date_long"]),
    }
    return formats.get(token, "{" + token + "}")


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _clock(moment: datetime, *, seconds: bool = False) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M}{moment.strftime(':%S') if seconds else ''} {'AM' if moment.hour < 12 else 'PM'}"


_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def _ago(offset: timedelta) -> str:
    """'3 minutes ago', 'in 2 hours': the largest whole unit."""
    seconds = abs(int(offset.total_seconds()))
    unit, size = next((unit, size) for unit, size in _UNITS if seconds >= size or size == 1)
    amount = f"{seconds // size} {unit}{'' if seconds // size == 1 else 's'}"
    return f"in {amount}" if offset.total_seconds() > 0 else f"{amount} ago"


def _initial(element: dict[str, Any], reader: Reader) -> str:
    """What a form's input shows before anyone types: its initial value, option(s), date, time or channels."""
    if element.get("initial_value"):
        return str(element["initial_value"])
    if isinstance(element.get("initial_option"), dict):
        return _text(element["initial_option"].get("text"), reader)
    if element.get("initial_options"):
        return ", ".join(_text(option.get("text"), reader) for option in element["initial_options"])
    if element.get("initial_conversations"):
        return ", ".join("#" + reader.channels.get(c, c) for c in element["initial_conversations"])
    if element.get("default_to_current_conversation"):
        return "(the channel you are in)"
    for name in ("initial_date", "initial_time"):
        if element.get(name):
            return str(element[name])
    return ""


def options_line(element: dict[str, Any], reader: Reader = Reader()) -> str:
    """What a select, radio buttons or checkboxes offer, as the value to type and the label Slack shows:
    'one of: weekly (Weekly), none (Once)'."""
    shown = []
    for option in element.get("options") or []:
        label, value = _text(option.get("text"), reader), str(option.get("value", ""))
        shown.append(value if label == value else f"{value} ({label})")
    how = "any of, comma separated" if element.get("type") == "checkboxes" else "one of"
    return f"{how}: {', '.join(shown)}"


def _text(text_object: dict[str, Any] | None, reader: Reader = Reader()) -> str:
    if not text_object:
        return ""
    text = text_object.get("text") or ""
    return mrkdwn_to_text(text, reader) if text_object.get("type") == "mrkdwn" else text


def _underline(title: str) -> list[str]:
    return [title, "=" * len(title)]


class _BlockRenderer:
    """Renders blocks in order, numbering buttons as it meets them."""

    def __init__(self, fallback_text: str | None, reader: Reader) -> None:
        self.fallback_text = fallback_text
        self.reader = reader
        self.buttons: list[Button] = []

    def lines(self, blocks: list[dict[str, Any]]) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            lines += self._block(block)
        return lines

    def _block(self, block: dict[str, Any]) -> list[str]:
        kind = block.get("type")
        block_id = block.get("block_id")
        if kind == "header":
            return _underline(_text(block.get("text"), self.reader))
        if kind == "section":
            lines = [_text(block["text"], self.reader)] if block.get("text") else []
            lines += [_text(text, self.reader) for text in block.get("fields") or []]
            if block.get("accessory"):
                lines.append(self._element(block["accessory"], block_id))
            return lines
        if kind == "context":
            return ["  " + "  ".join(self._element(e, block_id) for e in block.get("elements") or [])]
        if kind == "divider":
            return [DIVIDER]
        if kind == "actions":
            return ["  ".join(self._element(e, block_id) for e in block.get("elements") or [])]
        if kind == "image":
            return [_image(block)]
        if kind == "input":
            element = block.get("element") or {}
            shown = _initial(element, self.reader).replace("\n", "\n    ")
            if element.get("type") in OPTION_ELEMENTS:
                return [
                    f"{_text(block.get('label'), self.reader)}: {shown or '(none chosen)'}",
                    f"    {options_line(element, self.reader)}",
                ]
            return [f"{_text(block.get('label'), self.reader)}: {shown or _empty(element, self.reader)}"]
        if kind == "rich_text":
            fallback, self.fallback_text = self.fallback_text, None  # the text stands for the whole message
            return [mrkdwn_to_text(fallback, self.reader)] if fallback else []
        return [f"[{kind} block]"]

    def _element(self, element: dict[str, Any], block_id: str | None) -> str:
        kind = element.get("type")
        if kind == "button":
            button = Button(
                number=len(self.buttons) + 1,
                label=_text(element.get("text"), self.reader),
                action_id=element.get("action_id") or "",
                value=element.get("value"),
                block_id=block_id,
                url=element.get("url"),
            )
            self.buttons.append(button)
            return f"[{button.number}] {button.label}"
        if kind == "image":
            return _image(element)
        if kind in ("plain_text", "mrkdwn"):
            return _text(element, self.reader)
        shown = f"({_text(element.get('placeholder'), self.reader) or kind})"
        return f"{shown} {options_line(element, self.reader)}" if kind in OPTION_ELEMENTS else shown


def _empty(element: dict[str, Any], reader: Reader) -> str:
    """An input nobody has filled in: '(empty)', with the greyed-out text Slack shows in it, if any."""
    placeholder = _text(element.get("placeholder"), reader)
    return f"(empty, showing “{placeholder}”)" if placeholder else "(empty)"


def _image(image: dict[str, Any]) -> str:
    return f"[image: {image.get('alt_text') or image.get('image_url') or 'image'}]"
