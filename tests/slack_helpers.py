"""Reading what the bot answered in Slack tests: its private reply, the buttons on it, its whole text."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.harness import Exchange
from bot.sandbox.render import Button, render_message
from bot.slack.markup import guard


def reply(exchange: Exchange) -> dict:
    """The one private reply a command or button sent through its response_url."""
    assert exchange.status == 200, exchange.ack_body
    hooks = exchange.hooks()
    assert len(hooks) == 1, [c.method for c in exchange.calls]
    assert hooks[0].status == 200, f"Slack refused the reply: {hooks[0]}"
    return hooks[0].args


def buttons(message: dict) -> list[Button]:
    return render_message(guard(message.get("text")), guard(message.get("blocks"), mrkdwn=False)).buttons


def button(message: dict, action_id: str, nth: int = 0) -> Button:
    return [b for b in buttons(message) if b.action_id == action_id][nth]


def all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def shown_text(payload: Any) -> str:
    """Every string a person could see, as Slack receives it: the fallback and all text objects of the blocks."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "value", "url") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(guard(payload))
    return "\n".join(found)
