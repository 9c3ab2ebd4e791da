"""A tip reaction: read the message reacted to, save it as a tip, and tell the person who reacted. When Slack
rate-limits the read, the reaction is queued and the worker reads it once Slack allows (`save_queued`), so no
reply worker ever waits out a 429; the person hears in plain words that it will take a minute, then that it
was saved."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, select

from bot.db import transaction
from bot.models import QueuedReaction
from bot.slack import blocks, tip_replies
from bot.slack.messages import ReadLater, fetch_message, permalink, tell_privately
from bot.slack.services import Services
from bot.tips.store import ensure_workspace

log = logging.getLogger(__name__)

LATER = (
    "Slack asked me to slow down, so I'll save that message as a tip in about {minutes} and tell you when it's done."
)
CANT_READ = {
    "not_in_channel": "I can't read messages in that channel. Invite me with `/invite @PLChat Bot`, then react again.",
    "channel_not_found": "I can't see that channel. If it's private, invite me with `/invite @PLChat Bot`, then "
    "react again.",
}
CANT_READ_OTHERWISE = "Slack didn't let me read that message, so it isn't saved. Please react again in a minute."
GIVE_UP_AFTER = 10  # reads a queued reaction may take before the person is told it could not be saved
SWEEP_AT_MOST = 50  # queued reactions the worker reads in one go (each is one reactions.get)


def save_reaction(
    services: Services, client: WebClient, team_id: str, channel: str, ts: str, user: str
) -> dict[str, Any] | None:
    """Save the reacted-to message as a tip: the answer to tell the person, or None when there is nothing to
    say (the message is gone). A rate-limited read is queued, and the answer says so."""
    try:
        return _read_and_save(services, client, team_id, channel, ts, user)[0]
    except ReadLater as later:
        queue(services, team_id, channel, ts, user, services.clock() + timedelta(seconds=later.seconds))
        return blocks.problem(LATER.format(minutes=_minutes(later.seconds)))


def _read_and_save(
    services: Services, client: WebClient, team_id: str, channel: str, ts: str, user: str
) -> tuple[dict[str, Any] | None, bool]:
    """(the answer to tell the person, or None when the message is gone; whether the tip was saved). Raises
    ReadLater when Slack rate-limits the read."""
    try:
        message = fetch_message(client, channel, ts)
    except SlackApiError as exc:
        return blocks.problem(CANT_READ.get(str(exc.response.get("error")), CANT_READ_OTHERWISE)), False
    if message is None:
        return None, False  # deleted before we got to it: nothing to save
    new = tip_replies.tip_from_message(team_id, user, channel, message, "reaction", permalink(client, channel, ts))
    return tip_replies.share(services, new), True


def queue(services: Services, team_id: str, channel: str, ts: str, user: str, not_before: datetime) -> None:
    with transaction(services.sessions) as session:
        ensure_workspace(session, team_id)
        found = session.scalar(
            select(QueuedReaction).where(
                QueuedReaction.team_id == team_id,
                QueuedReaction.channel == channel,
                QueuedReaction.ts == ts,
                QueuedReaction.user_id == user,
            )
        )
        if found is None:
            session.add(
                QueuedReaction(
                    team_id=team_id,
                    channel=channel,
                    ts=ts,
                    user_id=user,
                    not_before=not_before,
                    attempts=0,
                    created_at=services.clock(),
                )
            )
        else:
            found.not_before = max(found.not_before, not_before)


def save_queued(services: Services, client_for: Callable[[str], WebClient | None]) -> int:
    """The worker's job: read and save the queued reactions that are due, telling each person. Returns how many
    were saved. One still rate-limited waits again; after GIVE_UP_AFTER reads the person is told."""
    now = services.clock()
    with services.sessions() as session:
        due = list(
            session.scalars(
                select(QueuedReaction)
                .where(QueuedReaction.not_before <= now)
                .order_by(QueuedReaction.not_before)
                .limit(SWEEP_AT_MOST)
            )
        )
    saved = 0
    for queued in due:
        client = client_for(queued.team_id)
        answer: dict[str, Any] | None = None
        try:
            if client is not None:
                answer, was_saved = _read_and_save(
                    services, client, queued.team_id, queued.channel, queued.ts, queued.user_id
                )
                saved += was_saved
        except ReadLater as later:
            if queued.attempts + 1 < GIVE_UP_AFTER:
                _again(services, queued.id, now + timedelta(seconds=later.seconds))
                continue
            answer = blocks.problem(CANT_READ_OTHERWISE)
        with transaction(services.sessions) as session:
            session.execute(delete(QueuedReaction).where(QueuedReaction.id == queued.id))
        if answer is not None and client is not None:
            _tell(client, queued, answer)
    return saved


def _again(services: Services, queued_id: int, not_before: datetime) -> None:
    with transaction(services.sessions) as session:
        queued = session.get(QueuedReaction, queued_id)
        if queued is not None:
            queued.attempts, queued.not_before = queued.attempts + 1, not_before


def _tell(client: WebClient, queued: QueuedReaction, answer: dict[str, Any]) -> None:
    try:
        tell_privately(client, queued.channel, queued.user_id, answer)
    except SlackApiError as exc:
        log.warning("Could not tell %s about their queued tip: %s", queued.user_id, exc.response.get("error"))


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"
