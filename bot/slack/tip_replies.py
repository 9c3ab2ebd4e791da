"""What the bot answers when people share, search and manage tips: plain functions from Slack's request
fields to reply payloads, so listeners stay a few lines each. The domain (`bot.tips`) does the work."""

from __future__ import annotations

import re
from typing import Any

from bot.db import transaction
from bot.slack import blocks, tip_blocks
from bot.slack.markup import mention, plain_text
from bot.slack.services import Services
from bot.tips import moderation, search, store
from bot.tips.moderation import NotAllowed
from bot.tips.records import NewTip, Tip, TipRejected, TooShort, split_tags

MY_TIPS_SHOWN = 10
NO_MODERATORS = (
    "This workspace has no moderators yet, so its admins and owners moderate. An admin or owner can "
    "add moderators with `/plchat moderators add @person`."
)


def workspace_of(context: dict) -> str:
    """The workspace a request belongs to: as `bot.slack.installs.request_workspace` found it (an org-wide
    install's events name the workspace only in the body), else Bolt's team, else the enterprise."""
    return context.get("workspace_id") or context.get("team_id") or context.get("enterprise_id") or ""


def share(services: Services, new: NewTip) -> dict[str, Any]:
    """Save a tip and say what happened: saved (with Undo), already there, held as a near-duplicate, or refused."""
    try:
        with transaction(services.sessions) as session:
            saved = store.save_tip(session, new, services.clock())
    except TooShort as refused:
        return tip_blocks.tip_too_short(refused, typed_here=new.source in ("command", "modal"))
    except TipRejected as refused:
        return blocks.problem(str(refused))
    if saved.status == "existing":
        return tip_blocks.tip_already_saved(saved.tip)
    if saved.status == "held" and saved.similar is not None:
        return tip_blocks.tip_held(saved.tip, saved.similar)
    return tip_blocks.tip_saved(saved.tip)


def tip_from_command(team_id: str, user_id: str, text: str) -> NewTip:
    """`/tip …`: Slack sends the text as it sends a message's (`&lt;` for a typed `<`, `<@U…|name>`)."""
    body, tags = split_tags(plain_text(text))
    return NewTip(team_id, user_id, user_id, body, "command", tags)


def tip_from_message(
    team_id: str, sharer: str, channel: str, message: dict, source: str, permalink: str | None
) -> NewTip:
    """A Slack message as a tip, credited to whoever wrote it. One message is one tip, however saved."""
    body, tags = split_tags(plain_text(message.get("text") or ""))
    author = message.get("user") or message.get("bot_id") or message.get("username") or "unknown"
    return NewTip(
        team_id, author, sharer, body, source, tags, source_ref=f"{channel}:{message.get('ts')}", permalink=permalink
    )


def search_answer(services: Services, team_id: str, user_id: str, raw: str, page: int = 0) -> dict[str, Any]:
    try:
        query = search.parse_query(raw)
    except TipRejected as refused:
        return blocks.problem(str(refused))
    with services.sessions() as session:
        is_moderator = moderation.is_moderator(session, team_id, user_id, services.moderators)
        found = search.search_tips(
            session, team_id, query, now=services.clock(), page=page, include_hidden=is_moderator
        )
    return tip_blocks.search_results(found, raw, user_id, is_moderator)


def answer_tips(services: Services, team_id: str, user_id: str, text: str) -> dict[str, Any] | None:
    """`/tips ...` answers, except export-mine (a file, sent by the listener): None for that one."""
    keyword = text.strip().lower()
    if keyword in ("help", "?"):
        return tip_blocks.tips_help()
    if keyword == "mine":
        with services.sessions() as session:
            mine = store.tips_by(session, team_id, user_id, limit=MY_TIPS_SHOWN)
            total = store.count_by(session, team_id, user_id)
        return tip_blocks.my_tips(mine, total, user_id)
    if keyword == "delete-mine":
        with services.sessions() as session:
            return tip_blocks.delete_mine_confirm(store.count_by(session, team_id, user_id))
    if keyword == "export-mine":
        return None
    return search_answer(services, team_id, user_id, text.strip())


def moderate(services: Services, team_id: str, user_id: str, tip_id: int, hide: bool) -> tuple[dict[str, Any], bool]:
    """Hide or restore a tip: the answer, and whether it was done."""
    try:
        with transaction(services.sessions) as session:
            tip = moderation.set_hidden(session, team_id, tip_id, user_id, hide, services.moderators, services.clock())
    except NotAllowed as refused:
        return blocks.problem(str(refused)), False
    if tip is None:
        return blocks.problem("That tip is gone; it may have been deleted."), False
    verb = "Hidden: nobody but moderators sees it now." if hide else "Restored: everyone can find it again."
    return blocks.message(verb, [blocks.section(f":white_check_mark: {verb}"), *tip_blocks.tip_blocks(tip)]), True


def keep(services: Services, team_id: str, user_id: str, tip_id: int) -> tuple[dict[str, Any], bool]:
    """A moderator keeps a reported tip as it is, settling its reports: the answer, and whether it was done."""
    try:
        with transaction(services.sessions) as session:
            tip = moderation.keep(session, team_id, tip_id, user_id, services.moderators, services.clock())
    except NotAllowed as refused:
        return blocks.problem(str(refused)), False
    if tip is None:
        return blocks.problem("That tip is gone; it may have been deleted."), False
    return blocks.message("Kept: its reports are settled, and it stays as it is."), True


def answer_moderators(services: Services, team_id: str, user_id: str, words: list[str]) -> dict[str, Any]:
    """`/plchat moderators list|add @person|remove @person`."""
    verb = words[0].lower() if words else "list"
    if verb == "list":
        with services.sessions() as session:
            people = sorted(moderation.moderators(session, team_id, services.moderators))
        if not people:
            return blocks.message(NO_MODERATORS)
        return blocks.message(f"Moderators: {', '.join(mention(p) for p in people)}")
    mentioned = [m.group(1) for w in words[1:] if (m := re.fullmatch(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", w))]
    if verb not in ("add", "remove") or len(mentioned) != 1:
        return blocks.problem(
            "Use `/plchat moderators add @person`, `/plchat moderators remove @person` "
            "or `/plchat moderators list`, picking the person from the @ menu."
        )
    change = moderation.add_moderator if verb == "add" else moderation.remove_moderator
    try:
        with transaction(services.sessions) as session:
            changed = change(session, team_id, user_id, mentioned[0], services.moderators, services.clock())
    except NotAllowed as refused:
        return blocks.problem(str(refused))
    who = mention(mentioned[0])
    if verb == "add":
        return blocks.message(f"{who} is now a moderator." if changed else f"{who} already is a moderator.")
    return blocks.message(f"{who} is no longer a moderator." if changed else f"{who} wasn't a moderator.")


def tip_for_author(services: Services, team_id: str, tip_id: int, user_id: str) -> Tip | None:
    """The tip, for its author to edit; None when it is gone or someone else's words."""
    with services.sessions() as session:
        tip = store.get_tip(session, team_id, tip_id)
    return tip if tip and tip.editable_by(user_id) else None
