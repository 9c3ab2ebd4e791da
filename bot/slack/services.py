"""What listeners need from the rest of the bot, passed in explicitly so tests can supply their own."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.tips.moderation import Configured


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = system_clock
    rng: random.Random = field(default_factory=random.Random)
    moderators: Configured = frozenset()  # PLCHAT_MODERATORS, and who is a workspace admin; more are added in Slack
    tip_reaction: str = "bulb"  # PLCHAT_TIP_REACTION
    default_timezone: str = "America/Los_Angeles"  # PLCHAT_TIMEZONE
    connected_networks: frozenset[str] = frozenset()  # the networks whose accounts the settings give

    @classmethod
    def from_settings(
        cls, sessions: sessionmaker[Session], settings: Settings, clock: Callable[[], datetime] = system_clock
    ) -> Services:
        return cls(
            sessions,
            clock=clock,
            moderators=settings.moderator_ids,
            tip_reaction=settings.plchat_tip_reaction,
            default_timezone=settings.plchat_timezone,
            connected_networks=settings.connected_networks,
        )
