"""A digest subscription, and a week's digest, as plain objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal

from bot.chats.recap import Recap
from bot.chats.spec import ScheduledChat
from bot.plays import Play

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKDAY, DEFAULT_TIME = 0, time(7, 0)  # Monday, 07:00 in the subscriber's own timezone
QuietWeeks = Literal["note", "skip"]  # a week with nothing new: a short note, or nothing at all


@dataclass(frozen=True)
class Subscription:
    id: int
    team_id: str
    user_id: str  # who subscribed (and may change it)
    channel: str  # a Slack channel id, or the subscriber's user id for their DMs
    weekday: int  # 0 = Monday
    send_time: time
    timezone: str  # IANA
    quiet_weeks: QuietWeeks
    active: bool  # False once unsubscribed, or deactivated (see `reason`)
    paused: bool
    reason: str  # why it was deactivated (unsubscribed, channel_not_found, account_inactive, ...)
    next_send: datetime | None  # UTC; None when paused or inactive

    @property
    def to_dm(self) -> bool:
        return self.channel == self.user_id


@dataclass(frozen=True)
class DigestTip:
    id: int
    teaser: str  # the tip's text, cut to a teaser
    author: str  # a Slack user id, or a name / X handle
    helpful: int
    permalink: str | None


@dataclass(frozen=True)
class Digest:
    subscription: Subscription
    period: str  # the ISO week it covers, e.g. 2026-W49
    since: datetime  # UTC: the week the digest looks back on
    tips: tuple[DigestTip, ...]  # the week's most helpful, best first
    new_tips: int
    chats: tuple[ScheduledChat, ...]  # coming up, soonest first
    recap: Recap | None  # the workspace's last chat, if it ran this past week
    play: Play | None  # one this subscriber has not been sent in the last 8 weeks

    @property
    def quiet(self) -> bool:
        """Nothing new this week (a play alone is not news)."""
        return not (self.tips or self.new_tips or self.chats or self.recap)
