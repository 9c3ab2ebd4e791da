"""X as a delivery channel: posts an outbox row's text, and after a crash looks for it in the account's own
recent posts (X has no metadata to carry a key, but every post's text is unique: it carries the date)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.chats.spec import x_inert
from bot.delivery.outbox import Outgoing
from bot.social.x import XAccount


class XPoster:
    def __init__(self, account: XAccount):
        self._account = account

    def send(self, outgoing: Outgoing, message: dict[str, Any]) -> str:
        return self._account.post(x_inert(message["text"]))

    def find_sent(self, outgoing: Outgoing, message: dict[str, Any]) -> str | None:
        assert outgoing.resumed_from is not None
        for post in self._account.own_posts_since(outgoing.resumed_from - timedelta(minutes=1)):
            if post.text == x_inert(message["text"]):
                return post.id
        return None
