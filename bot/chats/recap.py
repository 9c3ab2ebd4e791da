"""What a chat occurrence gathered: each question with its most helpful answers, and who took part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class RecapAnswer:
    text: str
    author: str  # a Slack user id (U…/W…), or a handle on the network, with its '@'
    via: Literal["slack", "x", "bluesky", "mastodon"]
    helpful: int
    link: str | None


@dataclass(frozen=True)
class RecapQuestion:
    number: int
    text: str
    answers: tuple[RecapAnswer, ...]  # the most helpful first, at most TOP_ANSWERS
    answer_count: int


@dataclass(frozen=True)
class Recap:
    chat_id: int
    title: str
    hashtag: str
    starts: datetime  # aware, in the chat's own timezone
    questions: tuple[RecapQuestion, ...]
    participants: int
    first_timers: int  # took part for the first time in this workspace's chats
