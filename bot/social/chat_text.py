"""A chat's posts on the networks (X, Bluesky, Mastodon) as plain text in parts: the chat's hashtag and the
recap's link are parts of their own, so Bluesky can make them a tappable tag and link (facets) while X and
Mastodon post the same text. Every text fits its network's `TextRule`: the moderator's title or question is cut
short with '…' when the whole would not fit.

Times are given in PT, ET and UTC (zoneinfo, so PST/PDT and EST/EDT are right on either side of a change), and
every text but a question names the chat's date: two weeks' posts differ, so no network refuses one as a
duplicate. The date is the date in PT, the first time given; a time that falls on another day where it is given
names its own day ('5:00 PM PT / 8:00 PM ET / 01:00 UTC Wed').
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.chats.spec import ChatSpec

PACIFIC = ZoneInfo("America/Los_Angeles")
EASTERN = ZoneInfo("America/New_York")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Part:
    text: str
    tag: str | None = None  # this part is the hashtag `tag` (without '#')
    link: str | None = None  # this part is a link to `link`


@dataclass(frozen=True)
class SocialText:
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)

    def message(self) -> dict[str, Any]:
        """As the sender hands it to a channel."""
        return {"text": self.text, "parts": [[part.text, part.tag, part.link] for part in self.parts]}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> SocialText:
        parts = message.get("parts") or [[message["text"], None, None]]
        return cls(tuple(Part(text, tag, link) for text, tag, link in parts))


@dataclass(frozen=True)
class TextRule:
    """How long a post may be on a network, as that network counts, and what it does to people's text so that
    it mentions nobody (applied to every post at the network's door, and here to measure what will be sent)."""

    limit: int
    measure: Callable[[str], int]
    inert: Callable[[str], str] = lambda text: text

    def fits(self, text: str) -> bool:
        return self.measure(self.inert(text)) <= self.limit


def reminder(spec: ChatSpec, start: datetime, lead: timedelta, rule: TextRule) -> SocialText:
    """'Reminder: #PLChat “Title” is Tue Dec 1 at 5:00 PM PT / 8:00 PM ET / 01:00 UTC Wed (in 1 hour). Join us!',
    sent `lead` before `start` (what is really left when it goes out: `Post.lead_at`)."""
    when = f"{_date(start)} at {times(start)}"
    return _fit(
        rule,
        spec.title,
        lambda title: [Part("Reminder: "), _tag(spec), Part(f" “{title}” is {when} ({_lead(lead)}). Join us!")],
    )


def welcome(spec: ChatSpec, start: datetime, rule: TextRule) -> SocialText:
    """The chat's first post: what it is about and how to answer."""
    return _fit(
        rule,
        spec.title,
        lambda title: [
            Part("Welcome to "),
            _tag(spec),
            Part(f": “{title}”, {_date(start)}! Questions come as Q1, Q2… Answer with A1, A2… and "),
            _tag(spec),
            Part(" so everyone can follow along."),
        ],
    )


def question(spec: ChatSpec, number: int, rule: TextRule) -> SocialText:
    """'Q3 How do you … #PLChat'; a reply to it counts as its answer too."""
    return _fit(rule, spec.questions[number - 1].text, lambda text: [Part(f"Q{number} {text} "), _tag(spec)])


def wrapup(spec: ChatSpec, start: datetime, rule: TextRule) -> SocialText:
    """The chat's last question-time post."""
    return _fit(
        rule,
        spec.title,
        lambda title: [
            Part("Thank you for joining "),
            _tag(spec),
            Part(f" “{title}” on {_date(start)}! Keep sharing ideas with "),
            _tag(spec),
            Part(" all week."),
        ],
    )


def recap_link(spec: ChatSpec, start: datetime, url: str, rule: TextRule) -> SocialText:
    """After the chat: where its recap (every question, the answers from every network) can be read."""
    return _fit(
        rule,
        spec.title,
        lambda title: [
            Part("The "),
            _tag(spec),
            Part(f" “{title}” recap ({_date(start)}): every question and the answers shared. "),
            Part(url, link=url),
        ],
    )


def _tag(spec: ChatSpec) -> Part:
    return Part(f"#{spec.hashtag}", tag=spec.hashtag)


def _fit(rule: TextRule, words: str, render: Callable[[str], list[Part]]) -> SocialText:
    """`render(words)`, the moderator's words cut short with '…' when the whole would pass the network's limit."""
    whole = SocialText(tuple(render(words)))
    if rule.fits(whole.text):
        return whole
    low, high = 0, len(words)  # the longest cut that fits: fitting only gets harder as the cut grows
    while low < high:
        middle = (low + high + 1) // 2
        if rule.fits(SocialText(tuple(render(words[:middle].rstrip() + ELLIPSIS))).text):
            low = middle
        else:
            high = middle - 1
    return SocialText(tuple(render(words[:low].rstrip() + ELLIPSIS)))


def _date(start: datetime) -> str:
    local = _aware(start).astimezone(ZONES[0].zone)
    return f"{local:%a} {local:%b} {local.day}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _clock24(moment: datetime) -> str:
    return f"{moment:%H:%M}"


@dataclass(frozen=True)
class Zone:
    """Where a time is given, and how it is written there."""

    zone: tzinfo
    label: str
    clock: Callable[[datetime], str] = _clock


ZONES = (Zone(PACIFIC, "PT"), Zone(EASTERN, "ET"), Zone(UTC, "UTC", _clock24))


def times(start: datetime, zones: tuple[Zone, ...] = ZONES) -> str:
    """'5:00 PM PT / 8:00 PM ET / 01:00 UTC Wed': `start` in each zone, the first on the date the text names and
    every other that falls on another day with that day's name."""
    moment = _aware(start)
    first = moment.astimezone(zones[0].zone).date()
    shown = []
    for where in zones:
        local = moment.astimezone(where.zone)
        day = f" {local:%a}" if local.date() != first else ""
        shown.append(f"{where.clock(local)} {where.label}{day}")
    return " / ".join(shown)


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
