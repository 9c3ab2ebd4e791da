"""A chat as a moderator defines it (a chat file or the `/plchat schedule` form), validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

MAX_QUESTIONS = 20
X_MAX_CHARS = 280
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=1))
NETWORKS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}
"""The networks a chat can post to besides Slack (delivery targets), with the names people know them by."""


@dataclass(frozen=True)
class Question:
    at: float  # minutes after the start
    text: str


@dataclass(frozen=True)
class ChatSpec:
    title: str
    hashtag: str  # without '#'
    starts: datetime  # naive: wall-clock time in `timezone`
    timezone: str  # IANA name
    duration: int  # minutes
    repeat: Literal["weekly", "none"]
    until: date | None  # last date a weekly chat may run
    skip: tuple[date, ...]
    slack_channels: tuple[str, ...]
    post_to_x: bool
    reminders: tuple[timedelta, ...]  # before the start, longest first
    questions: tuple[Question, ...]  # every `at` resolved (the default cadence filled in), in order
    post_to_bluesky: bool = False
    post_to_mastodon: bool = False

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks it posts to, of NETWORKS, in that order."""
        wanted = {"x": self.post_to_x, "bluesky": self.post_to_bluesky, "mastodon": self.post_to_mastodon}
        return tuple(name for name in NETWORKS if wanted[name])


@dataclass(frozen=True)
class FieldProblem:
    field: str  # e.g. "timezone", "questions[2].text"
    message: str
    line: int | None = None  # 1-based line in the chat file, when there is a file

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.message}"


class ChatSpecError(ValueError):
    """The chat definition is wrong; `problems` names each field (and line) to fix."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


_X_MENTION = re.compile(r"(?<!\w)([@\uff20])(?=\w)")


def not_connected(spec: ChatSpec, connected: frozenset[str], settings: dict[str, str]) -> str | None:
    """What to tell whoever schedules `spec` when it names a network the bot has no account for (`settings`: the
    settings each network needs), or None."""
    missing = [name for name in spec.networks if name not in connected]
    if not missing:
        return None
    lines = [
        f"{NETWORKS[name]} isn't connected yet, so this chat's {NETWORKS[name]} posts will be skipped until "
        f"whoever runs the bot sets {settings[name]}."
        for name in missing
    ]
    return " ".join(lines)


def x_inert(text: str) -> str:
    """Text for an X post that mentions nobody: a word joiner after each @ that would start a mention (X reads
    the fullwidth ＠ as one too). The X channel applies it to every post; builders apply it to measure right."""
    return _X_MENTION.sub("\\1\u2060", text)


def x_question_text(number: int, text: str, hashtag: str) -> str:
    """A question as posted on X; its length is what the 280-character check measures."""
    return f"Q{number} {x_inert(text)} #{hashtag}"


@dataclass(frozen=True)
class ScheduledChat:
    """A chat as stored: its definition, and where it stands."""

    id: int
    team_id: str
    spec: ChatSpec
    cancelled: bool
    next_start: datetime | None  # UTC; None once a chat has no occurrence left
    scheduled_at: datetime | None = None  # UTC; a date that started before it never ran (None: no such bound)
