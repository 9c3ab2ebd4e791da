"""Slash commands. Each acknowledges at once, then answers privately through `respond`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import plays
from bot.slack import blocks
from bot.slack.services import Services

MAX_PLAY_QUERY = 300


def register(app: App, services: Services) -> None:
    @app.command("/play")
    def play_command(ack: Ack, command: dict, respond: Respond) -> None:
        ack()
        respond(response_type="ephemeral", **answer_play(services, command.get("text") or ""))

    @app.command("/plchat")
    def plchat_command(ack: Ack, command: dict, respond: Respond) -> None:
        ack()
        respond(response_type="ephemeral", **answer_plchat(command.get("text") or ""))


def answer_play(services: Services, text: str) -> dict[str, Any]:
    """`/play`, `/play random`, `/play list`, `/play <category>` or `/play <words>`."""
    text = text.strip()
    if len(text) > MAX_PLAY_QUERY:
        return blocks.problem(
            f"That search is {len(text)} characters long; I read up to {MAX_PLAY_QUERY}. "
            "A few key words work best, e.g. `/play station rotation`."
        )
    keyword = text.lower()
    with services.sessions() as session:
        if keyword in ("", "random"):
            play = plays.random_play(session, services.rng)
            return blocks.play_card(play) if play else blocks.empty_playbook()
        if keyword in ("list", "categories"):
            return blocks.category_list(plays.category_counts(session))
        if category := plays.category_for(text):
            return blocks.category_plays(plays.CATEGORIES[category], plays.plays_in_category(session, category))
        result = plays.search_plays(session, text)
        if result.plays:
            return blocks.search_answer(result, text)
        if not result.terms:
            return blocks.problem(
                f"I found no words to search for in `{blocks.echo(text)}`. Try `/play feedback` or `/play list`."
            )
        return blocks.no_match(text, plays.category_counts(session), plays.random_play(session, services.rng))


def answer_plchat(text: str) -> dict[str, Any]:
    subcommand = text.strip().lower()
    if subcommand in ("", "help"):
        return blocks.help_message()
    help_card = blocks.help_message()
    lead = blocks.problem(f"I don't know `/plchat {blocks.echo(text)}`. Here is what I can do:")
    return blocks.message(lead["text"], lead["blocks"] + help_card["blocks"])
