"""Button presses on play cards, tips and App Home. Each acks at once and replies lazily (see `deferred`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import plays
from bot.db import transaction
from bot.slack import blocks, chat_replies, digest_replies, play_blocks, play_replies, tip_blocks, tip_replies
from bot.slack.deferred import ack_now, reply_later
from bot.slack.home import home_view
from bot.slack.markup import channel_mention
from bot.slack.messages import retry_after
from bot.slack.services import Services
from bot.slack.tip_replies import workspace_of
from bot.tips import moderation, store
from bot.tips.records import TipRejected
from bot.unicode_safe import ascii_int

log = logging.getLogger(__name__)

SHARE_FAILURES = {
    "not_in_channel": "I'm not in this channel yet. Add me with `/invite @PLChat Bot`, then press Share again.",
    "channel_not_found": "I can't see this channel (private channels need an invite: `/invite @PLChat Bot`).",
    "is_archived": "This channel is archived, so I can't post in it.",
    "restricted_action": "This workspace doesn't let me post here. An admin can change that.",
    "ratelimited": "Slack asked me to slow down, so that wasn't shared. Press Share again in {seconds} seconds.",
}
GONE = "That tip is gone; it may have been deleted."


def _number(action: dict) -> int:
    """The number a button carries (a tip's id, a draft's)."""
    return ascii_int(action.get("value") or "") or 0


def post_in_channel(client: WebClient, channel: str | None, payload: dict[str, Any], respond: Respond) -> bool:
    """Post publicly where the button was pressed; explain privately when Slack refuses."""
    if channel is None:
        respond(replace_original=False, **blocks.problem("I can't share from here. Try it in a channel."))
        return False
    try:
        client.chat_postMessage(channel=channel, **payload)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        log.warning("Sharing in %s failed: %s", channel, error)
        reason = SHARE_FAILURES.get(error, "Slack didn't accept the post. Please try again shortly.").format(
            seconds=round(retry_after(exc, default=30))
        )
        respond(replace_original=False, **blocks.problem(reason))
        return False
    return True


def reply_or_dm(respond: Respond, client: WebClient, user: str, payload: dict[str, Any]) -> None:
    """Answer beside the message whose button was pressed; a button on App Home has no response_url, so there the
    answer comes as a DM."""
    if respond.response_url:
        respond(replace_original=False, **payload)
    else:
        client.chat_postMessage(channel=user, **payload)


def open_form_or_reply(client: WebClient, body: dict, respond: Respond, form: dict[str, Any]) -> None:
    """Open `form` when it is a modal; else it says why not, beside the button (or in a DM from App Home)."""
    if form.get("type") == "modal":
        client.views_open(trigger_id=body["trigger_id"], view=form)
    else:
        reply_or_dm(respond, client, body["user"]["id"], form)


def register(app: App, services: Services) -> None:
    def on(action_id: str, reply: Callable[..., None]) -> None:
        app.action(action_id)(ack=ack_now, lazy=[reply_later(reply)])

    def another_play(action: dict, context: dict, respond: Respond) -> None:
        slug, band = play_replies.play_value(action.get("value") or "")
        with services.sessions() as session:
            play = plays.random_play(session, services.rng, exclude=slug, team=workspace_of(context), band=band)
        respond(replace_original=True, **(blocks.play_card(play, band=band) if play else blocks.empty_playbook()))

    def open_play(action: dict, context: dict, respond: Respond) -> None:
        slug, band = play_replies.play_value(action.get("value") or "")
        with services.sessions() as session:
            play = plays.get_play(session, slug, team=workspace_of(context))
        if play is None:
            respond(replace_original=False, **blocks.problem("That play is no longer in the playbook. Try `/play`."))
            return
        respond(replace_original=True, **blocks.play_card(play, band=band))

    def share_play(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        slug, band = play_replies.play_value(action.get("value") or "")
        with services.sessions() as session:
            play = plays.get_play(session, slug, team=workspace_of(context))
        if play is None:
            respond(replace_original=False, **blocks.problem("I can't share that play here. Try `/play` again."))
            return
        channel = (body.get("channel") or {}).get("id")
        card = blocks.play_card(play, shared_by=body["user"]["id"], band=band)
        if post_in_channel(client, channel, card, respond):
            assert channel is not None  # it posts nowhere without one
            respond(
                replace_original=True,
                **blocks.message(f"You shared *{blocks.escape(play.title)}* in {channel_mention(channel)}."),
            )

    def tip_to_play(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        form = play_replies.make_play_form(services, workspace_of(context), body["user"]["id"], _number(action))
        open_form_or_reply(client, body, respond, form)

    def add_tip_to_draft(action: dict, body: dict, context: dict, client: WebClient) -> None:
        view = body.get("view") or {}
        form = play_replies.add_tip(
            services, workspace_of(context), body["user"]["id"], view, str(action.get("value") or "")
        )
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=form)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("hash_conflict", "not_found"):
                raise
            # Enter pressed again before the last update showed (it stands), or the form was closed meanwhile.
            log.info("Left the play draft form as it is: %s", exc.response.get("error"))

    def edit_draft(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        form = play_replies.edit_form(services, workspace_of(context), body["user"]["id"], _number(action))
        open_form_or_reply(client, body, respond, form)

    def edit_play(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        form = play_replies.edit_play_form(
            services, workspace_of(context), body["user"]["id"], str(action.get("value") or "")
        )
        open_form_or_reply(client, body, respond, form)

    def unpublish_play(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        answer = play_replies.unpublish(
            services, workspace_of(context), body["user"]["id"], str(action.get("value") or "")
        )
        reply_or_dm(respond, client, body["user"]["id"], answer)

    def publish_draft(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        answer = play_replies.publish(services, workspace_of(context), body["user"]["id"], _number(action))
        reply_or_dm(respond, client, body["user"]["id"], answer)

    def discard_draft(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        answer = play_replies.discard(services, workspace_of(context), body["user"]["id"], _number(action))
        reply_or_dm(respond, client, body["user"]["id"], answer)

    def home_another_play(action: dict, body: dict, context: dict, client: WebClient) -> None:
        user = body["user"]["id"]
        view = home_view(services, workspace_of(context), user, other_than=action.get("value") or "")
        client.views_publish(user_id=user, view=view)

    def undo_tip(action: dict, body: dict, context: dict, respond: Respond) -> None:
        with transaction(services.sessions) as session:
            tip = store.delete_tip(session, workspace_of(context), _number(action), body["user"]["id"])
        respond(replace_original=True, **blocks.message("Undone: that tip is no longer saved." if tip else GONE))

    def confirm_tip(action: dict, body: dict, context: dict, respond: Respond) -> None:
        with transaction(services.sessions) as session:
            tip = store.confirm_held(session, workspace_of(context), _number(action), body["user"]["id"])
        respond(replace_original=True, **(tip_blocks.tip_saved(tip) if tip else blocks.problem(GONE)))

    def cancel_tip(action: dict, body: dict, context: dict, respond: Respond) -> None:
        with transaction(services.sessions) as session:
            store.delete_tip(session, workspace_of(context), _number(action), body["user"]["id"])
        respond(replace_original=True, **blocks.message("OK, I didn't add it."))

    def share_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        with services.sessions() as session:
            tip = store.get_tip(session, workspace_of(context), _number(action))
        if tip is None or tip.hidden or tip.pending:
            respond(replace_original=False, **blocks.problem("That tip can't be shared: it is gone or hidden."))
            return
        channel = (body.get("channel") or {}).get("id")
        if post_in_channel(client, channel, tip_blocks.shared_tip(tip, body["user"]["id"]), respond):
            assert channel is not None  # it posts nowhere without one
            respond(replace_original=False, **blocks.message(f"You shared that tip in {channel_mention(channel)}."))

    def helpful_tip(action: dict, body: dict, context: dict, respond: Respond) -> None:
        try:
            with transaction(services.sessions) as session:
                voted = store.vote_helpful(
                    session, workspace_of(context), _number(action), body["user"]["id"], services.clock()
                )
        except TipRejected as refused:  # their own tip
            respond(replace_original=False, **blocks.message(str(refused)))
            return
        if voted is None:
            respond(replace_original=False, **blocks.problem(GONE))
            return
        tip, counted = voted
        lead = "Thanks! Marked as helpful" if counted else "You already marked this one as helpful"
        respond(replace_original=False, **blocks.message(f"{lead} ({tip.helpful_count} so far)."))

    def report_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        reporter = body["user"]["id"]
        with transaction(services.sessions) as session:
            reported = moderation.report(
                session, workspace_of(context), _number(action), reporter, services.moderators, services.clock()
            )
        if reported is None:
            respond(replace_original=False, **blocks.problem(GONE))
            return
        tip, moderators = reported
        told = sorted(moderators - {reporter})  # a moderator who reports knows of it
        for moderator in told:
            client.chat_postMessage(channel=moderator, **tip_blocks.report_notice(tip, reporter))
        respond(replace_original=False, **tip_blocks.report_recorded(bool(told), bool(moderators)))

    def settle(
        body: dict, context: dict, client: WebClient, respond: Respond, outcome: tuple[dict[str, Any], bool]
    ) -> None:
        """A moderator's answer beside the button; pressed on App Home (its reported tips), Home itself shows it."""
        (answer, done), team, user = outcome, workspace_of(context), body["user"]["id"]
        if done and not respond.response_url:
            client.views_publish(user_id=user, view=home_view(services, team, user))
        else:
            reply_or_dm(respond, client, user, answer)

    def hide_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        settle(
            body,
            context,
            client,
            respond,
            tip_replies.moderate(services, workspace_of(context), body["user"]["id"], _number(action), True),
        )

    def restore_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        settle(
            body,
            context,
            client,
            respond,
            tip_replies.moderate(services, workspace_of(context), body["user"]["id"], _number(action), False),
        )

    def keep_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        settle(
            body,
            context,
            client,
            respond,
            tip_replies.keep(services, workspace_of(context), body["user"]["id"], _number(action)),
        )

    def edit_tip(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        tip = tip_replies.tip_for_author(services, workspace_of(context), _number(action), body["user"]["id"])
        if tip is None:
            respond(
                replace_original=False,
                **blocks.problem("Only the tip's author can edit it (whoever saved it can delete it)."),
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=tip_blocks.tip_modal(channel=None, tip=tip))

    def delete_tip(action: dict, body: dict, context: dict, respond: Respond) -> None:
        with transaction(services.sessions) as session:
            tip = store.delete_tip(session, workspace_of(context), _number(action), body["user"]["id"])
        answer = (
            blocks.message("Deleted that tip.")
            if tip
            else blocks.problem("Only the tip's author, or whoever saved it, can delete it (moderators can hide it).")
        )
        respond(replace_original=False, **answer)

    def page_tips(action: dict, body: dict, context: dict, respond: Respond) -> None:
        try:
            state = json.loads(action.get("value") or "{}")
            raw, page = str(state["q"]), int(state["p"])
        except (ValueError, KeyError, TypeError):
            respond(replace_original=False, **blocks.problem("That page has expired; search again with `/tips`."))
            return
        answer = tip_replies.search_answer(services, workspace_of(context), body["user"]["id"], raw, page)
        respond(replace_original=True, **answer)

    def delete_my_tips(body: dict, context: dict, respond: Respond) -> None:
        with transaction(services.sessions) as session:
            count = store.delete_tips_by(session, workspace_of(context), body["user"]["id"])
        respond(replace_original=True, **blocks.message(f"Deleted your {count} tips."))

    def keep_my_tips(respond: Respond) -> None:
        respond(replace_original=True, **blocks.message("OK, your tips stay."))

    def edit_chat(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        form = chat_replies.schedule_form(services, workspace_of(context), body["user"]["id"], _number(action))
        if form.get("type") == "modal":
            client.views_open(trigger_id=body["trigger_id"], view=form)
        else:
            respond(replace_original=False, **form)

    def cancel_chat(action: dict, body: dict, context: dict, respond: Respond) -> None:
        respond(
            replace_original=True,
            **chat_replies.cancel(services, workspace_of(context), body["user"]["id"], _number(action)),
        )

    def skip_chat(action: dict, body: dict, context: dict, respond: Respond) -> None:
        respond(
            replace_original=True,
            **chat_replies.skip(services, workspace_of(context), body["user"]["id"], action.get("value") or ""),
        )

    def unsubscribe_digest(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        team, user = workspace_of(context), body["user"]["id"]
        answer, done = digest_replies.apply(services, team, user, _number(action), "unsubscribe")
        if done and not respond.response_url:  # on App Home: Home itself shows the change
            client.views_publish(user_id=user, view=home_view(services, team, user))
        else:
            reply_or_dm(respond, client, user, answer)

    def digest_settings(action: dict, body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        form = digest_replies.settings_form(
            services, workspace_of(context), body["user"]["id"], subscription_id=_number(action)
        )
        open_form_or_reply(client, body, respond, form)

    for action_id, reply in (
        ("digest_unsubscribe", unsubscribe_digest),
        ("digest_settings", digest_settings),
        ("chat_edit", edit_chat),
        ("chat_cancel", cancel_chat),
        ("chat_skip", skip_chat),
        ("play_another", another_play),
        ("play_open", open_play),
        ("play_share", share_play),
        ("home_another_play", home_another_play),
        ("tip_undo", undo_tip),
        ("tip_confirm", confirm_tip),
        ("tip_cancel", cancel_tip),
        ("tip_share", share_tip),
        ("tip_helpful", helpful_tip),
        ("tip_report", report_tip),
        ("tip_hide", hide_tip),
        ("tip_restore", restore_tip),
        ("tip_keep", keep_tip),
        ("tip_edit", edit_tip),
        ("tip_delete", delete_tip),
        ("tips_page", page_tips),
        ("tips_delete_mine", delete_my_tips),
        ("tips_keep_mine", keep_my_tips),
        ("tip_to_play", tip_to_play),
        ("play_draft_edit", edit_draft),
        ("play_draft_publish", publish_draft),
        ("play_draft_discard", discard_draft),
        ("play_edit", edit_play),
        ("play_unpublish", unpublish_play),
        (play_blocks.ADD_TIP, add_tip_to_draft),
    ):
        on(action_id, reply)
    for link_button in ("chat_calendar", "digest_calendar"):  # Slack opens the link; the bot only acknowledges
        app.action(link_button)(ack_now)
