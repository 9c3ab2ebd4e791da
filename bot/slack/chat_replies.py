"""What the chat listeners do: the schedule form, the upcoming list with its buttons (moderators only), and
answers in a question's thread saved as tips."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from bot.chats import answers, store
from bot.chats.definition import parse_chat_fields
from bot.chats.spec import ChatSpec, ChatSpecError, not_connected
from bot.config import NETWORK_SETTINGS
from bot.db import transaction
from bot.slack import blocks, chat_blocks
from bot.slack.markup import plain_text
from bot.slack.services import Services
from bot.tips import moderation
from bot.tips.records import NewTip, TipRejected, split_tags
from bot.tips.store import Saved

log = logging.getLogger(__name__)

# An emoji shortcode (":tada:", ":+1::skin-tone-2:"): a reply with nothing but these (and unicode emoji, which are
# no word characters either) is not an answer.
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:", re.IGNORECASE)
MODERATORS_ONLY = (
    "Only moderators schedule or change chats. A moderator can add you with `/plchat moderators add @you`."
)


def is_moderator(services: Services, team_id: str, user_id: str) -> bool:
    with services.sessions() as session:
        return moderation.is_moderator(session, team_id, user_id, services.moderators)


def chats_list(services: Services, team_id: str, user_id: str) -> dict[str, Any]:
    with services.sessions() as session:
        chats = store.upcoming(session, services.clock(), team_id)
        moderator = moderation.is_moderator(session, team_id, user_id, services.moderators)
    return chat_blocks.chats_list_message(chats, moderator=moderator)


def schedule_form(services: Services, team_id: str, user_id: str, chat_id: int | None = None) -> dict[str, Any]:
    """The schedule modal (to edit `chat_id` when given), or a problem message to show instead."""
    if not is_moderator(services, team_id, user_id):
        return blocks.problem(MODERATORS_ONLY)
    chat = None
    if chat_id is not None:
        with services.sessions() as session:
            try:
                chat = store.get_chat(session, chat_id, services.clock(), team_id)
            except store.ChatNotFound:
                return blocks.problem("That chat is gone.")
    return chat_blocks.schedule_modal(default_timezone=services.default_timezone, chat=chat)


def form_spec(services: Services, values: dict[str, Any]) -> ChatSpec | dict[str, str]:
    """The chat the form describes, or the errors to show under its fields."""
    try:
        return parse_chat_fields(chat_blocks.schedule_fields(values), default_timezone=services.default_timezone)
    except ChatSpecError as exc:
        return chat_blocks.field_errors(exc.problems)


def save_form(services: Services, team_id: str, user_id: str, spec: ChatSpec, chat_id: int | None) -> dict[str, Any]:
    """Create or change the chat; the answer says what was done."""
    now = services.clock()
    with transaction(services.sessions) as session:
        if not moderation.is_moderator(session, team_id, user_id, services.moderators):
            return blocks.problem(MODERATORS_ONLY)
        try:
            chat = (
                store.update_chat(session, chat_id, spec, now, team_id)
                if chat_id is not None
                else store.create_chat(session, team_id, spec, user_id, now)
            )
        except store.ChatNotFound:
            return blocks.problem("That chat is gone, so the change wasn't saved.")
    verb = "changed" if chat_id is not None else "scheduled"
    answer = chat_blocks.chats_list_message([chat], moderator=True) | {
        "text": f"Chat {verb}: {blocks.escape(spec.title)}"
    }
    notice = not_connected(spec, services.connected_networks, NETWORK_SETTINGS)
    if notice:
        answer["blocks"] = [blocks.section(f":warning: {blocks.escape(notice)}"), *answer["blocks"]]
    return answer


def cancel(services: Services, team_id: str, user_id: str, chat_id: int) -> dict[str, Any]:
    return _change(
        services,
        team_id,
        user_id,
        lambda session, now: store.cancel_chat(session, chat_id, now, team_id),
        "Cancelled. Nothing more of that chat will be posted.",
    )


def skip(services: Services, team_id: str, user_id: str, value: str) -> dict[str, Any]:
    chat_id, _, day = value.partition(":")
    try:
        skipped = date.fromisoformat(day)
    except ValueError:
        return blocks.problem("That button is out of date; run `/plchat chats` again.")
    return _change(
        services,
        team_id,
        user_id,
        lambda session, now: store.skip_date(session, int(chat_id), skipped, now, team_id),
        f"Skipped {skipped:%a %b %-d}.",
    )


def _change(services: Services, team_id: str, user_id: str, change, done: str) -> dict[str, Any]:
    with transaction(services.sessions) as session:
        if not moderation.is_moderator(session, team_id, user_id, services.moderators):
            return blocks.problem(MODERATORS_ONLY)
        try:
            change(session, services.clock())
        except (store.ChatNotFound, store.NotAnOccurrence, ValueError) as exc:
            return blocks.problem(str(exc))
        chats = store.upcoming(session, services.clock(), team_id)
    listing = chat_blocks.chats_list_message(chats, moderator=True)
    return blocks.message(done, [blocks.section(f":white_check_mark: {done}"), *listing["blocks"]])


def is_thread_reply(event: dict[str, Any]) -> bool:
    """A person's reply in a thread (not the thread's parent, an edit, or a bot's post)."""
    return (
        bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


def save_thread_answer(services: Services, team_id: str, event: dict[str, Any], permalink: str | None) -> Saved | None:
    """A reply in a chat question's thread, saved as a tip linked to the question; None when it isn't one."""
    channel, user, thread = event.get("channel", ""), event["user"], event["thread_ts"]
    text, tags = split_tags(plain_text(event.get("text") or ""))
    if not re.search(r"\w", _EMOJI_CODE.sub("", text)):
        return None  # an emoji-only reply ("🎉", ":tada: :+1:") is part of the conversation, not an answer
    tip = NewTip(team_id, user, user, text, "chat", tags, source_ref=f"{channel}:{event['ts']}", permalink=permalink)
    with services.sessions() as session:
        ref = answers.question_for_thread(session, channel, thread)
        wait = ref is None and answers.may_become_question(session, channel)
    if (ref is None and not wait) or (ref is not None and ref.team_id != team_id):
        return None
    try:
        with transaction(services.sessions) as session:
            if ref is None:  # maybe a question whose ts is not recorded yet: kept, and saved once it is
                answers.keep_waiting(session, channel, thread, tip, services.clock())
                return None
            return answers.save_answer(session, ref, tip, user, services.clock())
    except TipRejected:
        return None  # an empty or binary reply is not an answer either
