"""Block Kit for weekly digests: the digest itself, its settings form, the App Home list of subscriptions,
`/digest help` and the subscribe confirmation. Pure functions: no database, no I/O.

Every tip, title, hashtag, question, answer and name goes through `blocks.escape`, in the fallback text as much
as in the blocks: nothing anyone typed can ping @channel/@here/@everyone, mention a group or become a link. Times
are Slack date tokens (`chat_blocks.slack_date`), so every reader sees them in their own time zone. Every digest
ends with one-click Unsubscribe and Settings buttons.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import NETWORKS, ScheduledChat
from bot.digests.records import WEEKDAYS, Digest, DigestTip, Subscription
from bot.plays import Play
from bot.slack.blocks import (
    HEADER_LIMIT,
    Blocks,
    button,
    clip,
    context,
    hashtag,
    message,
    person,
    plural,
    section,
    truncate,
)
from bot.slack.markup import (
    channel_mention,
    cut,
    link,
    safe_url,
    slack_date,
)
from bot.unicode_safe import ascii_int

SETTINGS_MODAL = "digest_settings"
MAX_MESSAGE_BLOCKS = 50
MAX_HOME_SUBSCRIPTIONS = 20  # two blocks each, well inside a Home view's 100
TEXT_LIMIT = 3000  # the fallback text we send (Slack allows more; a notification shows far less)
SHOWN_TIPS = 5
SHOWN_CHATS = 5
SHOWN_QUESTIONS = 3
TEASER_LIMIT = 280
TITLE_LIMIT = 150
LINK_LIMIT = 600  # a longer permalink is left out rather than crowding the section
QUIET_OPTIONS = {"note": "Send a short note", "skip": "Send nothing"}

DIGEST_HELP = [
    ("/digest subscribe", "a weekly digest in your DMs: the week's best tips, upcoming chats, a play to try"),
    ("/digest subscribe #channel friday 08:30", "…or in a channel, on another day, at another time"),
    ("/digest settings", "change the day, time, time zone, or what a quiet week sends"),
    ("/digest pause", "stop sending for now, keeping your settings"),
    ("/digest resume", "start sending again"),
    ("/digest unsubscribe", "stop the digest"),
    ("/digest preview", "see this week's digest now, just for you"),
]

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


# -- shared pieces ----------------------------------------------------------------------------------------------


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _day_label(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}"


def _week_label(since: datetime) -> str:
    """ "Nov 30 – Dec 6, 2026": the seven days the digest looks back on."""
    end = since + timedelta(days=6)
    if since.year != end.year:
        return f"{_day_label(since)}, {since.year} – {_day_label(end)}, {end.year}"
    return f"{_day_label(since)} – {_day_label(end)}, {end.year}"


def _weekday(subscription: Subscription) -> str:
    day = subscription.weekday
    return WEEKDAYS[day].capitalize() if 0 <= day < len(WEEKDAYS) else "?"


def _where(subscription: Subscription) -> str:
    if subscription.to_dm:
        return "your DMs"
    channel = subscription.channel
    return channel_mention(channel)


def _when(subscription: Subscription) -> str:
    """ "Mondays at 07:00 (Europe/Berlin)"."""
    return f"{_weekday(subscription)}s at {subscription.send_time:%H:%M} ({clip(subscription.timezone, 64)})"


def _next_send(subscription: Subscription) -> str:
    if not subscription.active:
        return "stopped"
    if subscription.paused or subscription.next_send is None:
        return "paused"
    return slack_date(subscription.next_send)


def _subscription_actions(subscription: Subscription) -> dict[str, Any]:
    """Settings, and a one-click Unsubscribe (no confirm dialog: stopping must be effortless)."""
    value = str(subscription.id)
    return {
        "type": "actions",
        "block_id": f"digest:{subscription.id}",
        "elements": [
            button("Unsubscribe", "digest_unsubscribe", value),
            button("Settings", "digest_settings", value),
        ],
    }


# -- the digest -------------------------------------------------------------------------------------------------


def _tip_section(tip: DigestTip) -> dict[str, Any]:
    meta = [f"by {person(tip.author)}"]
    if tip.helpful:
        meta.append(f"{tip.helpful} found it helpful")
    view = link(tip.permalink, "view tip", LINK_LIMIT)
    if view:
        meta.append(view)
    return section(f"• {clip(tip.teaser, TEASER_LIMIT)}\n{' · '.join(meta)}")


def _tip_blocks(digest: Digest) -> Blocks:
    blocks: Blocks = []
    if digest.tips:
        blocks.append(section(":bulb: *Most helpful tips this week*"))
        blocks += [_tip_section(tip) for tip in digest.tips[:SHOWN_TIPS]]
    if digest.new_tips:
        blocks.append(context(f"{plural(digest.new_tips, 'new tip')} shared this week · search them all with `/tips`"))
    return blocks


def _chat_line(chat: ScheduledChat) -> str:
    line = f"• *{clip(chat.spec.title, TITLE_LIMIT)}* {hashtag(chat.spec.hashtag)}"
    return line + (f" · {slack_date(chat.next_start)}" if chat.next_start is not None else "")


def _chat_blocks(chats: tuple[ScheduledChat, ...], calendar_url: str | None) -> Blocks:
    upcoming = [chat for chat in chats if not chat.cancelled and chat.next_start is not None]
    if not upcoming:
        return []
    lines = [":speech_balloon: *Chats coming up*", *(_chat_line(chat) for chat in upcoming[:SHOWN_CHATS])]
    if len(upcoming) > SHOWN_CHATS:
        lines.append(f"…and {plural(len(upcoming) - SHOWN_CHATS, 'more chat')}: `/plchat chats`")
    block = section("\n".join(lines))
    url = safe_url(calendar_url)
    if url:
        block["accessory"] = {
            "type": "button",
            "text": _plain("Add to calendar"),
            "action_id": "digest_calendar",
            "url": url,
        }
    return [block]


def _answer_line(answer: RecapAnswer) -> str:
    who = person(answer.author) if answer.via == "slack" else clip(answer.author, 60)
    meta = [who + (f" on {NETWORKS[answer.via]}" if answer.via in NETWORKS else "")]
    if answer.helpful:
        meta.append(f"{answer.helpful} found it helpful")
    view = link(answer.link, "view", LINK_LIMIT)
    if view:
        meta.append(view)
    return f"• {clip(answer.text, 1500)} — {' · '.join(meta)}"


def _recap_question(question: RecapQuestion) -> str:
    return f"*Q{question.number}* {clip(question.text, 600)}\n{_answer_line(question.answers[0])}"


def _recap_blocks(recap: Recap) -> Blocks:
    people = f"{recap.participants} {'person' if recap.participants == 1 else 'people'} took part"
    head = section(
        f":memo: *From the last chat: {clip(recap.title, TITLE_LIMIT)}* {hashtag(recap.hashtag)}\n"
        f"{slack_date(recap.starts)} · {people}"
    )
    answered = [question for question in recap.questions if question.answers]
    shown = answered[:SHOWN_QUESTIONS]
    blocks: Blocks = [head, *(section(_recap_question(question)) for question in shown)]
    rest = len(recap.questions) - len(shown)
    if rest > 0:
        blocks.append(context(f"…and {plural(rest, 'more question')} in the recap."))
    return blocks


def _play_block(play: Play, lead: str = ":jigsaw: *A play to try:* ") -> dict[str, Any]:
    mark = "  ·  _from your community_" if play.from_community else ""
    block = section(f"{lead}*{clip(play.title, TITLE_LIMIT)}*{mark}\n_{clip(play.summary, 1500)}_")
    block["accessory"] = button("Open play", "play_open", play.slug)
    return block


def _footer(subscription: Subscription) -> Blocks:
    note = f"Sent to {_where(subscription)} on {_when(subscription)} · change it with `/digest settings`."
    return [context(note), _subscription_actions(subscription)]


def _fallback(digest: Digest, week: str) -> str:
    if digest.quiet:
        text = "A quiet week in PLChat: no new tips or chats."
        if digest.play:
            text += f" A play to try: {clip(digest.play.title, TITLE_LIMIT)}."
        return cut(text, TEXT_LIMIT)
    parts = []
    if digest.new_tips or digest.tips:
        parts.append(plural(max(digest.new_tips, len(digest.tips)), "new tip"))
    if digest.chats:
        parts.append(plural(len(digest.chats), "upcoming chat"))
    if digest.recap:
        parts.append(f"a recap of {clip(digest.recap.title, TITLE_LIMIT)}")
    if digest.play:
        parts.append(f"a play: {clip(digest.play.title, TITLE_LIMIT)}")
    text = f"Your PLChat week ({week}): {', '.join(parts)}."
    if digest.tips:
        top = digest.tips[0]
        text += f" Top tip: {clip(top.teaser, TEASER_LIMIT)} (by {person(top.author)})"
    return cut(text, TEXT_LIMIT)


def digest_message(digest: Digest, *, calendar_url: str | None = None) -> dict[str, Any]:
    """A week's digest: the most helpful tips, how many were shared, the chats coming up, the last chat's
    highlights and a play to try, then Unsubscribe and Settings. A quiet week gets a short note instead."""
    subscription, week = digest.subscription, _week_label(digest.since)
    footer = _footer(subscription)
    if digest.quiet:
        note = "A quiet week in PLChat: no new tips or chats."
        body: Blocks = [section(f":zzz: {note}" + (" Here's a play to try:" if digest.play else ""))]
        if digest.play:
            body.append(_play_block(digest.play, ":jigsaw: "))
        return message(_fallback(digest, week), body + footer)

    parts: list[Blocks] = [
        _tip_blocks(digest),
        _chat_blocks(digest.chats, calendar_url),
        _recap_blocks(digest.recap) if digest.recap else [],
        [_play_block(digest.play)] if digest.play else [],
    ]
    header: Blocks = [{"type": "header", "text": _plain(truncate(f"Your PLChat week: {week}", HEADER_LIMIT))}]
    body = []
    for part in filter(None, parts):
        if body:
            body.append({"type": "divider"})
        body += part
    room = MAX_MESSAGE_BLOCKS - len(header) - len(footer)
    if len(body) > room:  # cannot happen with the SHOWN_* limits; a last guard for Slack's 50 blocks
        body = body[: room - 1] + [context("…and more: `/digest preview` shows it all.")]
    return message(_fallback(digest, week), header + body + footer)


# -- settings -------------------------------------------------------------------------------------------------


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _input(name: str, label: str, element: dict[str, Any], hint: str = "") -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": name,
        "label": _plain(label),
        "element": {**element, "action_id": name},
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def settings_modal(subscription: Subscription) -> dict[str, Any]:
    """The digest's settings form; each input's block_id and action_id is its field name."""
    days = [_option(day, day.capitalize()) for day in WEEKDAYS]
    weekday = days[subscription.weekday] if 0 <= subscription.weekday < len(days) else days[0]
    quiet = {value: _option(value, label) for value, label in QUIET_OPTIONS.items()}
    return {
        "type": "modal",
        "callback_id": SETTINGS_MODAL,
        "private_metadata": str(subscription.id),
        "title": _plain("Digest settings"),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": [
            section(f"Your weekly digest to {_where(subscription)}."),
            _input("weekday", "Day", {"type": "static_select", "options": days, "initial_option": weekday}),
            _input("send_time", "Time", {"type": "timepicker", "initial_time": f"{subscription.send_time:%H:%M}"}),
            _input(
                "timezone",
                "Time zone",
                {
                    "type": "plain_text_input",
                    "max_length": 64,
                    "initial_value": subscription.timezone,
                    "placeholder": _plain("e.g. America/Chicago"),
                },
                hint="The day and time above are read in this time zone (an IANA name).",
            ),
            _input(
                "quiet_weeks",
                "When a week has no new tips or chats",
                {
                    "type": "radio_buttons",
                    "options": list(quiet.values()),
                    "initial_option": quiet.get(subscription.quiet_weeks, quiet["note"]),
                },
            ),
        ],
    }


def _state(values: dict[str, Any], name: str) -> dict[str, Any]:
    return (values.get(name) or {}).get(name) or {}


def settings_values(values: dict[str, Any]) -> dict[str, Any]:
    """The settings form's `view["state"]["values"]` as {"weekday", "send_time", "timezone", "quiet_weeks"};
    a field left empty (or not understood) is None."""
    day = (_state(values, "weekday").get("selected_option") or {}).get("value") or ""
    if day in WEEKDAYS:
        weekday: int | None = WEEKDAYS.index(day)
    else:
        weekday = number if (number := ascii_int(day)) is not None and number < len(WEEKDAYS) else None
    picked = _TIME.fullmatch(_state(values, "send_time").get("selected_time") or "")
    send_time = f"{int(picked.group(1)):02d}:{picked.group(2)}" if picked else None
    zone = (_state(values, "timezone").get("value") or "").strip() or None
    quiet = (_state(values, "quiet_weeks").get("selected_option") or {}).get("value")
    return {
        "weekday": weekday,
        "send_time": send_time,
        "timezone": zone,
        "quiet_weeks": quiet if quiet in QUIET_OPTIONS else None,
    }


# -- App Home, help, confirmation -------------------------------------------------------------------------------


def _subscription_summary(subscription: Subscription) -> str:
    quiet = "a short note" if subscription.quiet_weeks == "note" else "nothing"
    return (
        f"*To {_where(subscription)}*\n{_when(subscription)} · quiet weeks: {quiet}\nNext: {_next_send(subscription)}"
    )


def subscriptions_home_blocks(subscriptions: list[Subscription]) -> Blocks:
    """App Home's "Your digests": each active subscription with Settings and Unsubscribe."""
    active = [subscription for subscription in subscriptions if subscription.active]
    blocks: Blocks = [{"type": "divider"}, section("*Your digests*")]
    if not active:
        return blocks + [
            context(
                "No weekly digest yet. `/digest subscribe` sends the week's best tips, "
                "upcoming chats and a play to your DMs."
            )
        ]
    for subscription in active[:MAX_HOME_SUBSCRIPTIONS]:
        blocks += [section(_subscription_summary(subscription)), _subscription_actions(subscription)]
    if len(active) > MAX_HOME_SUBSCRIPTIONS:
        blocks.append(context(f"…and {plural(len(active) - MAX_HOME_SUBSCRIPTIONS, 'more digest')}."))
    return blocks


def digest_help() -> dict[str, Any]:
    lines = "\n".join(f"• `{usage}`: {what}" for usage, what in DIGEST_HELP)
    blocks = [
        section(f"*The weekly digest*\n{lines}"),
        context(
            "Usage: `/digest subscribe [#channel] [monday..sunday] [HH:MM]`. "
            "Every digest also has Unsubscribe and Settings buttons."
        ),
    ]
    return message("Digest: /digest subscribe, settings, pause, resume, unsubscribe, preview", blocks)


def subscribed_message(subscription: Subscription) -> dict[str, Any]:
    where, when, first = _where(subscription), _when(subscription), _next_send(subscription)
    text = f"Subscribed: the PLChat digest comes to {where} on {when}."
    blocks = [
        section(f":white_check_mark: *Subscribed!* The PLChat digest comes to {where} on {when}.\nNext one: {first}"),
        context("Change it with `/digest settings`, or stop it any time with `/digest unsubscribe`."),
        _subscription_actions(subscription),
    ]
    return message(cut(text, TEXT_LIMIT), blocks)
