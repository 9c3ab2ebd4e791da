"""Events API subscriptions: App Home, the tip reaction, answers in a chat question's thread, and uninstalls
(which delete the workspace's data)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient

from bot.db import transaction
from bot.slack import chat_replies, manifest
from bot.slack.deferred import ack_now, reply_later
from bot.slack.home import home_view
from bot.slack.messages import permalink, tell_privately
from bot.slack.reaction_tips import save_reaction
from bot.slack.services import Services
from bot.slack.tip_replies import workspace_of
from bot.tips import store

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    installations = app.installation_store

    def publish_home(event: dict, context: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        client.views_publish(user_id=event["user"], view=home_view(services, workspace_of(context), event["user"]))

    def save_reacted_message(event: dict, context: dict, client: WebClient) -> None:
        item = event.get("item") or {}
        if event.get("reaction") != services.tip_reaction or item.get("type") != "message":
            return
        channel, ts, user = item["channel"], item["ts"], event["user"]
        answer = save_reaction(services, client, workspace_of(context), channel, ts, user)
        if answer is not None:
            tell_privately(client, channel, user, answer)

    def forget_workspace(event: dict, context: dict) -> None:
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked: the bot is still installed
        team = workspace_of(context)
        with transaction(services.sessions) as session:
            tips = store.delete_workspace(session, team)
        if installations is not None:
            installations.delete_all(enterprise_id=context.get("enterprise_id"), team_id=context.get("team_id"))
        log.info("Workspace uninstalled: deleted its data (%d tips)", tips)

    def save_chat_answer(event: dict, context: dict, client: WebClient) -> None:
        link = permalink(client, event["channel"], event["ts"])
        chat_replies.save_thread_answer(services, workspace_of(context), event, link)

    def thread_reply(event: dict) -> bool:
        return chat_replies.is_thread_reply(event)

    replies: dict[str, Callable[..., None]] = {
        "message": save_chat_answer,
        "app_home_opened": publish_home,
        "reaction_added": save_reacted_message,
        "app_uninstalled": forget_workspace,
        "tokens_revoked": forget_workspace,
    }
    for event, reply in manifest.bind(manifest.EVENTS, replies):
        if event == "message":  # every channel message arrives: only a thread reply (a chat answer?) gets work
            app.event(event, matchers=[thread_reply])(ack=ack_now, lazy=[reply_later(reply)])
            app.event(event)(ack_now)
        else:
            app.event(event)(ack=ack_now, lazy=[reply_later(reply)])
