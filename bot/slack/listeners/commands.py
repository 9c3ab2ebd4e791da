"""Slash commands. Each acknowledges at once, then answers privately through `respond` (see `deferred`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.slack import blocks, chat_replies, digest_replies, manifest, play_replies, tip_blocks, tip_replies
from bot.slack.deferred import ack_now, reply_later
from bot.slack.services import Services
from bot.slack.tip_replies import workspace_of
from bot.tips import transfer


def register(app: App, services: Services) -> None:
    def play_command(command: dict, context: dict, respond: Respond) -> None:
        answer = play_replies.answer_play(
            services, workspace_of(context), command["user_id"], command.get("text") or ""
        )
        respond(response_type="ephemeral", **answer)

    def plchat_command(command: dict, context: dict, client: WebClient, respond: Respond) -> None:
        team, user, text = workspace_of(context), command["user_id"], command.get("text") or ""
        if text.strip().lower() == "schedule":
            form = chat_replies.schedule_form(services, team, user)
            if form.get("type") == "modal":
                client.views_open(trigger_id=command["trigger_id"], view=form)
                return
            respond(response_type="ephemeral", **form)
            return
        respond(response_type="ephemeral", **answer_plchat(services, team, user, text))

    def tip_command(command: dict, context: dict, client: WebClient, respond: Respond) -> None:
        text = command.get("text") or ""
        if not text.strip():
            client.views_open(
                trigger_id=command["trigger_id"], view=tip_blocks.tip_modal(channel=command.get("channel_id"))
            )
            return
        new = tip_replies.tip_from_command(workspace_of(context), command["user_id"], text)
        respond(response_type="ephemeral", **tip_replies.share(services, new))

    def tips_command(command: dict, context: dict, client: WebClient, respond: Respond) -> None:
        team, user, text = workspace_of(context), command["user_id"], command.get("text") or ""
        answer = tip_replies.answer_tips(services, team, user, text)
        if answer is None:
            answer = send_my_tips(services, client, team, user)
        respond(response_type="ephemeral", **answer)

    def digest_command(command: dict, context: dict, client: WebClient, respond: Respond) -> None:
        team, user, text = workspace_of(context), command["user_id"], command.get("text") or ""
        words = text.split()
        if words and words[0].lower() == "settings":
            form = digest_replies.settings_form(services, team, user, words[1:])
            if form.get("type") == "modal":
                client.views_open(trigger_id=command["trigger_id"], view=form)
                return
            respond(response_type="ephemeral", **form)
            return
        respond(response_type="ephemeral", **digest_replies.answer(services, client, team, user, text))

    replies: dict[manifest.SlashCommand, Callable[..., None]] = {
        manifest.PLAY: play_command,
        manifest.PLCHAT: plchat_command,
        manifest.TIP: tip_command,
        manifest.TIPS: tips_command,
        manifest.DIGEST: digest_command,
    }
    for command, reply in manifest.bind(manifest.COMMANDS, replies):
        app.command(command.command)(ack=ack_now, lazy=[reply_later(reply)])


def send_my_tips(services: Services, client: WebClient, team_id: str, user_id: str) -> dict[str, Any]:
    """`/tips export-mine`: a CSV of the person's tips, uploaded to their direct messages with the bot."""
    with services.sessions() as session:
        content, count = transfer.export_author(session, team_id, user_id)
    if not count:
        return blocks.message("You haven't shared any tips yet, so there is nothing to export.")
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(
        channel=channel,
        content=content,
        filename="my-plchat-tips.csv",
        title="My PLChat tips",
        initial_comment=f"Here are your {count} tips.",
    )
    return blocks.message(f"I've sent you a file with your {count} tips in our direct messages.")


def answer_plchat(services: Services, team_id: str, user_id: str, text: str) -> dict[str, Any]:
    words = text.split()
    subcommand = words[0].lower() if words else ""
    if subcommand in ("", "help"):
        return blocks.help_message()
    if subcommand == "moderators":
        return tip_replies.answer_moderators(services, team_id, user_id, words[1:])
    if subcommand == "chats":
        return chat_replies.chats_list(services, team_id, user_id)
    help_card = blocks.help_message()
    lead = blocks.problem(f"I don't know `/plchat {blocks.echo(text)}`. Here is what I can do:")
    return blocks.message(lead["text"], lead["blocks"] + help_card["blocks"])
