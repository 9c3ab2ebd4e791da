"""Modal submissions: the tip form (a new tip, or an edit of one's own), the chat schedule form, the digest
settings and the play draft form."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.db import transaction
from bot.slack import (
    blocks,
    chat_blocks,
    chat_replies,
    digest_blocks,
    digest_replies,
    play_blocks,
    play_replies,
    tip_blocks,
    tip_replies,
)
from bot.slack.deferred import reply_later
from bot.slack.messages import tell_privately
from bot.slack.services import Services
from bot.slack.tip_replies import workspace_of
from bot.tips import store
from bot.tips.records import (
    NewTip,
    TipRejected,
    clean_grade,
    clean_text,
    parse_tag_list,
)
from bot.unicode_safe import ascii_int


def form_fields(view: dict) -> tuple[str, str, str]:
    """(text, tags, grade) as typed into the tip form."""
    values = (view.get("state") or {}).get("values") or {}
    text = ((values.get("text") or {}).get("text") or {}).get("value") or ""
    tags = ((values.get("tags") or {}).get("tags") or {}).get("value") or ""
    grade = (((values.get("grade") or {}).get("grade") or {}).get("selected_option") or {}).get("value") or ""
    return text, tags, grade


def form_errors(view: dict) -> dict[str, str]:
    """What is wrong with the form, by block, for Slack to show under each field (checked before the ack)."""
    text, _tags, grade = form_fields(view)
    errors = {}
    for block_id, check, value in (("text", clean_text, text), ("grade", clean_grade, grade)):
        try:
            check(value)
        except TipRejected as refused:
            errors[block_id] = str(refused)[:150]  # Slack shows at most 150 characters under a field
    return errors


def _metadata(view: dict) -> dict[str, Any]:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def register(app: App, services: Services) -> None:
    def check_form(ack: Ack, view: dict) -> None:
        errors = form_errors(view)
        ack(response_action="errors", errors=errors) if errors else ack()

    def save_form(view: dict, body: dict, context: dict, client: WebClient) -> None:
        if form_errors(view):
            return  # the person is still in the form, with the errors shown
        text, tags, grade = form_fields(view)
        metadata, user, team = _metadata(view), body["user"]["id"], workspace_of(context)
        if isinstance(metadata.get("edit"), int):
            try:
                with transaction(services.sessions) as session:
                    tip = store.edit_tip(
                        session,
                        team,
                        metadata["edit"],
                        user,
                        text=text,
                        tags=parse_tag_list(tags),
                        grade=grade,
                        now=services.clock(),
                    )
                answer = blocks.message(
                    "Saved your changes.", [blocks.section("Saved your changes."), *tip_blocks.tip_blocks(tip)]
                )
            except TipRejected as refused:
                answer = blocks.problem(str(refused))
        else:
            new = NewTip(team, user, user, text, "modal", parse_tag_list(tags), grade)
            answer = tip_replies.share(services, new)
        channel = metadata.get("channel") if isinstance(metadata.get("channel"), str) else None
        tell_privately(client, channel, user, answer)

    app.view(tip_blocks.TIP_MODAL)(ack=check_form, lazy=[reply_later(save_form)])

    def check_chat_form(ack: Ack, view: dict) -> None:
        checked = chat_replies.form_spec(services, (view.get("state") or {}).get("values") or {})
        ack(response_action="errors", errors=checked) if isinstance(checked, dict) else ack()

    def save_chat_form(view: dict, body: dict, context: dict, client: WebClient) -> None:
        spec = chat_replies.form_spec(services, (view.get("state") or {}).get("values") or {})
        if isinstance(spec, dict):
            return  # the moderator is still in the form, with the errors shown
        chat_id = view.get("private_metadata") or ""
        user = body["user"]["id"]
        answer = chat_replies.save_form(services, workspace_of(context), user, spec, ascii_int(chat_id))
        client.chat_postMessage(channel=user, **answer)

    app.view(chat_blocks.SCHEDULE_MODAL)(ack=check_chat_form, lazy=[reply_later(save_chat_form)])

    def check_digest_form(ack: Ack, view: dict) -> None:
        errors = digest_replies.settings_errors((view.get("state") or {}).get("values") or {})
        ack(response_action="errors", errors=errors) if errors else ack()

    def save_digest_form(view: dict, body: dict, context: dict, client: WebClient) -> None:
        values = (view.get("state") or {}).get("values") or {}
        if digest_replies.settings_errors(values):
            return
        subscription_id, user = view.get("private_metadata") or "", body["user"]["id"]
        answer = digest_replies.save_settings(
            services, workspace_of(context), user, ascii_int(subscription_id) or 0, values
        )
        client.chat_postMessage(channel=user, **answer)

    app.view(digest_blocks.SETTINGS_MODAL)(ack=check_digest_form, lazy=[reply_later(save_digest_form)])

    def check_play_draft(ack: Ack, view: dict) -> None:
        errors = play_replies.form_errors(view)
        ack(response_action="errors", errors=errors) if errors else ack()

    def save_play_draft(view: dict, body: dict, context: dict, client: WebClient) -> None:
        if play_replies.form_errors(view):
            return  # the moderator is still in the form, with the errors shown
        user = body["user"]["id"]
        client.chat_postMessage(channel=user, **play_replies.save_form(services, workspace_of(context), user, view))

    app.view(play_blocks.PLAY_DRAFT)(ack=check_play_draft, lazy=[reply_later(save_play_draft)])
