"""Button presses on play cards and on App Home."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import plays
from bot.slack import blocks
from bot.slack.services import Services

log = logging.getLogger(__name__)

SHARE_FAILURES = {
    "not_in_channel": "I'm not in this channel yet. Add me with `/invite @PLChat Bot`, then press Share again.",
    "channel_not_found": "I can't see this channel (private channels need an invite: `/invite @PLChat Bot`).",
    "is_archived": "This channel is archived, so I can't post in it.",
    "restricted_action": "This workspace doesn't let me post here. An admin can change that.",
}


def register(app: App, services: Services) -> None:
    @app.action("play_another")
    def another_play(ack: Ack, action: dict, respond: Respond) -> None:
        ack()
        with services.sessions() as session:
            play = plays.random_play(session, services.rng, exclude=action.get("value"))
        respond(replace_original=True, **(blocks.play_card(play) if play else blocks.empty_playbook()))

    @app.action("play_open")
    def open_play(ack: Ack, action: dict, respond: Respond) -> None:
        ack()
        with services.sessions() as session:
            play = plays.get_play(session, action.get("value", ""))
        if play is None:
            respond(replace_original=False, **blocks.problem("That play is no longer in the playbook. Try `/play`."))
            return
        respond(replace_original=True, **blocks.play_card(play))

    @app.action("play_share")
    def share_play(ack: Ack, action: dict, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with services.sessions() as session:
            play = plays.get_play(session, action.get("value", ""))
        channel = (body.get("channel") or {}).get("id")
        if play is None or channel is None:
            respond(replace_original=False, **blocks.problem("I can't share that play here. Try `/play` again."))
            return
        user = body["user"]["id"]
        try:
            client.chat_postMessage(channel=channel, **blocks.play_card(play, shared_by=user))
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error")
            log.warning("Sharing play %s in %s failed: %s", play.slug, channel, error)
            reason = SHARE_FAILURES.get(error, f"Slack didn't accept the post ({error}). Please try again shortly.")
            respond(replace_original=False, **blocks.problem(reason))
            return
        respond(replace_original=True, **blocks.message(f"You shared *{blocks.escape(play.title)}* in <#{channel}>."))

    @app.action("home_another_play")
    def home_another_play(ack: Ack, action: dict, body: dict, client: WebClient) -> None:
        ack()
        with services.sessions() as session:
            play = plays.random_play(session, services.rng, exclude=action.get("value"))
        client.views_publish(user_id=body["user"]["id"], view=blocks.home_view(play))
