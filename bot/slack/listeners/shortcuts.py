"""Shortcuts: "Share a tip" (global) opens the tip form; "Save as tip" (on a message) saves that message."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.slack import manifest, tip_blocks, tip_replies
from bot.slack.deferred import ack_now, reply_later
from bot.slack.messages import permalink
from bot.slack.services import Services
from bot.slack.tip_replies import workspace_of


def register(app: App, services: Services) -> None:
    def open_tip_form(body: dict, client: WebClient) -> None:
        client.views_open(trigger_id=body["trigger_id"], view=tip_blocks.tip_modal(channel=None))

    def save_message(body: dict, context: dict, client: WebClient, respond: Respond) -> None:
        channel, message = body["channel"]["id"], body.get("message") or {}
        new = tip_replies.tip_from_message(
            workspace_of(context),
            body["user"]["id"],
            channel,
            message,
            "shortcut",
            permalink(client, channel, message.get("ts", "")),
        )
        respond(response_type="ephemeral", replace_original=False, **tip_replies.share(services, new))

    replies: dict[manifest.Shortcut, Callable[..., None]] = {
        manifest.SHARE_TIP: open_tip_form,
        manifest.SAVE_TIP: save_message,
    }
    for shortcut, reply in manifest.bind(manifest.SHORTCUTS, replies):
        listen = app.shortcut if shortcut.type == "global" else app.message_shortcut
        listen(shortcut.callback_id)(ack=ack_now, lazy=[reply_later(reply)])
