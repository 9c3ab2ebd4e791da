"""What `/digest` and the digest's buttons do: subscribe (your DMs, or a channel), settings, pause, resume,
unsubscribe, preview."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import transaction
from bot.digests import compose, subscriptions
from bot.digests.planner import period_of
from bot.digests.records import WEEKDAYS, Subscription
from bot.slack import blocks, digest_blocks
from bot.slack.markup import channel_mention
from bot.slack.services import Services
from bot.tips import moderation

_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>")
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", re.IGNORECASE)
CHANNEL_MODERATORS_ONLY = (
    "Only moderators subscribe a channel here (a moderator can let everyone with "
    "`/digest channel-subscriptions members`). `/digest subscribe` alone sends it to your DMs."
)


@dataclass(frozen=True)
class Wanted:
    channel: str | None
    weekday: int | None
    send_time: time | None


def parse_subscribe(words: list[str]) -> Wanted | str:
    """`[#channel] [monday..sunday] [HH:MM]`, in any order; a string says what is wrong."""
    channel = weekday = send_time = None
    for word in words:
        lowered = word.lower().rstrip(",.")
        if found := _CHANNEL.fullmatch(word):
            channel = found.group(1)
        elif word.startswith("#"):
            return (
                f"Pick the channel from Slack's suggestions as you type `#`, so I get its id (`{blocks.echo(word)}`)."
            )
        elif len(lowered) >= 3 and (days := [i for i, day in enumerate(WEEKDAYS) if day.startswith(lowered)]):
            weekday = days[0]
        elif (moment := _time(lowered)) is not None:
            send_time = moment
        else:
            return (
                f"I didn't understand `{blocks.echo(word)}`. Try `/digest subscribe`, "
                "`/digest subscribe friday 15:30` or `/digest subscribe #team-news monday 07:00`."
            )
    return Wanted(channel, weekday, send_time)


def _time(word: str) -> time | None:
    found = _TIME.fullmatch(word)
    if found is None:
        return None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), (found.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif found.group(2) is None:
        return None  # a bare number is not a time ("7" could be a date)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def answer(services: Services, client: WebClient, team_id: str, user_id: str, text: str) -> dict[str, Any]:
    """Everything `/digest` answers with a message (settings, which opens a form, is the listener's)."""
    words = text.split()
    verb = words[0].lower() if words else "help"
    if verb in ("help", "?"):
        return digest_blocks.digest_help()
    if verb == "subscribe":
        return subscribe(services, client, team_id, user_id, words[1:])
    if verb in ("pause", "resume", "unsubscribe"):
        return change(services, team_id, user_id, verb, words[1:])
    if verb == "preview":
        return preview(services, team_id, user_id)
    if verb == "channel-subscriptions":
        return channel_subscriptions(services, team_id, user_id, words[1:])
    lead = blocks.problem(f"I don't know `/digest {blocks.echo(text)}`.")
    return blocks.message(lead["text"], lead["blocks"] + digest_blocks.digest_help()["blocks"])


def subscribe(services: Services, client: WebClient, team_id: str, user_id: str, words: list[str]) -> dict[str, Any]:
    wanted = parse_subscribe(words)
    if isinstance(wanted, str):
        return blocks.problem(wanted)
    if wanted.channel is None:
        zone = _user_timezone(client, user_id) or services.default_timezone
    else:
        zone = services.default_timezone
    with transaction(services.sessions) as session:
        if wanted.channel is not None and not (
            moderation.is_moderator(session, team_id, user_id, services.moderators)
            or subscriptions.members_may_subscribe_channels(session, team_id)
        ):
            return blocks.problem(CHANNEL_MODERATORS_ONLY)
        existing = subscriptions.destination(session, team_id, wanted.channel or user_id)
        defaults = existing if existing is not None and existing.active else None
        subscription, _created = subscriptions.subscribe(
            session,
            team_id,
            user_id,
            wanted.channel or user_id,
            services.clock(),
            zone=zone,
            weekday=_first(wanted.weekday, defaults and defaults.weekday, 0),
            send_time=_first(wanted.send_time, defaults and defaults.send_time, time(7, 0)),
        )
    return digest_blocks.subscribed_message(subscription)


def _first(*choices):
    return next(choice for choice in choices if choice is not None)


def _user_timezone(client: WebClient, user_id: str) -> str | None:
    """The person's own timezone, as their Slack profile has it."""
    try:
        zone = (client.users_info(user=user_id).get("user") or {}).get("tz")
        return subscriptions.known_timezone(zone) if zone else None
    except (SlackApiError, ValueError):
        return None


def target(services: Services, team_id: str, user_id: str, words: list[str]) -> Subscription | str:
    """The subscription a command means: `#channel`'s, else the person's DMs."""
    channel = next((found.group(1) for word in words if (found := _CHANNEL.fullmatch(word))), user_id)
    with services.sessions() as session:
        subscription = subscriptions.destination(session, team_id, channel)
    if subscription is None or not subscription.active:
        where = "that channel has no digest" if channel != user_id else "you have no digest"
        return f"Nothing to change: {where}. `/digest subscribe` starts one."
    return subscription


def change(services: Services, team_id: str, user_id: str, verb: str, words: list[str]) -> dict[str, Any]:
    found = target(services, team_id, user_id, words)
    if isinstance(found, str):
        return blocks.problem(found)
    return apply(services, team_id, user_id, found.id, verb)[0]


def apply(
    services: Services, team_id: str, user_id: str, subscription_id: int, verb: str
) -> tuple[dict[str, Any], bool]:
    """Pause, resume or unsubscribe, if the person may (whoever subscribed; moderators for a channel): what to
    tell them, and whether it was done (False: the message explains why not)."""
    now = services.clock()
    try:
        with transaction(services.sessions) as session:
            moderator = moderation.is_moderator(session, team_id, user_id, services.moderators)
            if verb == "unsubscribe":
                subscription = subscriptions.unsubscribe(
                    session, team_id, subscription_id, user_id, now, moderator=moderator
                )
            else:
                subscription = subscriptions.set_paused(
                    session, team_id, subscription_id, user_id, verb == "pause", now, moderator=moderator
                )
    except (subscriptions.NotFound, subscriptions.NotAllowed) as exc:
        return blocks.problem(str(exc)), False
    where = "your DMs" if subscription.to_dm else channel_mention(subscription.channel)
    said = {
        "unsubscribe": f"Unsubscribed: no more digests to {where}. `/digest subscribe` starts it again.",
        "pause": f"Paused the digest to {where}. `/digest resume` brings it back.",
        "resume": f"Resumed the digest to {where}.",
    }[verb]
    return blocks.message(said), True


def preview(services: Services, team_id: str, user_id: str) -> dict[str, Any]:
    """This week's digest as it would be now, privately (the person's own subscription, or as if subscribed)."""
    now = services.clock()
    with services.sessions() as session:
        mine = subscriptions.destination(session, team_id, user_id)
        subscription = mine or Subscription(
            0, team_id, user_id, user_id, 0, time(7, 0), services.default_timezone, "note", True, False, "", None
        )
        digest = compose.compose(session, subscription, period_of(now.date()), now)
    return digest_blocks.digest_message(digest)


def channel_subscriptions(services: Services, team_id: str, user_id: str, words: list[str]) -> dict[str, Any]:
    choice = words[0].lower() if words else ""
    if choice not in ("members", "moderators"):
        return blocks.problem(
            "Say who may subscribe a channel: `/digest channel-subscriptions members` or "
            "`/digest channel-subscriptions moderators`."
        )
    with transaction(services.sessions) as session:
        if not moderation.is_moderator(session, team_id, user_id, services.moderators):
            return blocks.problem("Only moderators decide who may subscribe channels.")
        subscriptions.set_members_may_subscribe_channels(session, team_id, choice == "members")
    who = "any channel member" if choice == "members" else "only moderators"
    return blocks.message(f"From now on {who} may subscribe a channel to the digest.")


def settings_form(
    services: Services, team_id: str, user_id: str, words: list[str] | None = None, subscription_id: int | None = None
) -> dict[str, Any]:
    """The settings modal for a subscription the person may change, or a problem message."""
    if subscription_id is not None:
        with services.sessions() as session:
            try:
                found: Subscription | str = subscriptions.get(session, team_id, subscription_id)
            except subscriptions.NotFound as exc:
                found = str(exc)
    else:
        found = target(services, team_id, user_id, words or [])
    if isinstance(found, str):
        return blocks.problem(found)
    with services.sessions() as session:
        moderator = moderation.is_moderator(session, team_id, user_id, services.moderators)
    if not subscriptions.may_change(found, user_id, moderator=moderator):
        return blocks.problem("Only whoever subscribed (or a moderator, for a channel) can change that digest.")
    return digest_blocks.settings_modal(found)


def save_settings(
    services: Services, team_id: str, user_id: str, subscription_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    wanted = digest_blocks.settings_values(values)
    hour, minute = (int(part) for part in (wanted["send_time"] or "07:00").split(":"))
    try:
        with transaction(services.sessions) as session:
            moderator = moderation.is_moderator(session, team_id, user_id, services.moderators)
            subscription = subscriptions.change(
                session,
                team_id,
                subscription_id,
                user_id,
                services.clock(),
                moderator=moderator,
                weekday=wanted["weekday"],
                send_time=time(hour, minute),
                zone=wanted["timezone"],
                quiet_weeks=wanted["quiet_weeks"],
            )
    except (subscriptions.NotFound, subscriptions.NotAllowed, ValueError) as exc:
        return blocks.problem(str(exc))
    return digest_blocks.subscribed_message(subscription)


def settings_errors(values: dict[str, Any]) -> dict[str, str]:
    """Problems to show under the form's fields (checked before the ack)."""
    wanted = digest_blocks.settings_values(values)
    errors = {}
    if wanted["timezone"]:
        try:
            subscriptions.known_timezone(wanted["timezone"])
        except ValueError as exc:
            errors["timezone"] = str(exc)[:150]
    return errors
