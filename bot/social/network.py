"""What every network (X, Bluesky, Mastodon) offers the bot, in one shape: `bot.social.x`, `bot.social.bluesky`
and `bot.social.mastodon` each implement `Network`. `SocialChannel` makes any of them a delivery channel, and
`register` tells the sender what a chat's rows become there. Failures come out as `bot.delivery.errors` types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.chats.posts import chat_post
from bot.delivery.errors import DeliveryError
from bot.delivery.outbox import Outgoing
from bot.delivery.render import Renderers, Skip
from bot.links import Links
from bot.social import chat_text
from bot.social.chat_text import SocialText, TextRule


@dataclass(frozen=True)
class SocialPost:
    """A post read from a network."""

    ref: str  # what the network calls it (X post id, Bluesky record key or AT URI, Mastodon status id)
    text: str  # plain text
    author: str  # as people know them: "@ana", "@ana.bsky.social", "@ana@mastodon.social"
    person: str  # stable for the same author on this network (an account id or DID)
    url: str  # where anyone can read it
    created_at: datetime  # aware, UTC
    reply_to: str | None = None  # the ref of the post it answers, in the form `publish` returned it


@dataclass(frozen=True)
class Page:
    posts: list[SocialPost]
    cursor: str | None  # where the next read of the same hashtag starts
    reads: int  # what the read cost, in the network's own unit (X: posts; Bluesky, Mastodon: requests)
    error: DeliveryError | None = None  # why the read stopped short: `posts` and `cursor` are what it got before


class Network(Protocol):
    name: str  # "x", "bluesky", "mastodon": the delivery target and the key suffix
    label: str  # "X", "Bluesky", "Mastodon"

    def rule(self) -> TextRule:
        """How long a post may be, and what makes people's text inert there."""

    def publish(self, text: SocialText, *, key: str, due_at: datetime) -> str:
        """Post it (once, however often it is called with the same `key`, where the network allows that); its
        ref."""

    def find_sent(self, text: SocialText, *, key: str, due_at: datetime, attempted: datetime) -> str | None:
        """After a crash mid-send (the attempt began at `attempted`): the ref of the post if it went out."""

    def own_id(self) -> str:
        """The bot's own account (`SocialPost.person` of its posts), so its posts are not read as answers."""

    def read_tag(self, hashtag: str, *, cursor: str | None, since: datetime, until: datetime, budget: int) -> Page:
        """Posts with `#hashtag` from `since` to `until`, newer than `cursor`, spending at most about `budget`. A
        failed page ends the read with what the pages before it found (`Page.error`), and a cursor from which
        the next read misses nothing; a refusal for good is a `ReadDenied` there."""

    def replies(self, ref: str, *, budget: int) -> Page:
        """The direct replies to the bot's post `ref` (a question): each one answers it. No replies when the
        question is gone (deleted); raises `ReadDenied` when the network refuses to read it, and any other
        `DeliveryError` (a 5xx, a rate limit) as it comes."""


class SocialChannel:
    """A network as one of the sender's channels."""

    def __init__(self, network: Network):
        self.network = network

    def send(self, outgoing: Outgoing, message: dict[str, Any]) -> str:
        return self.network.publish(SocialText.from_message(message), key=outgoing.key, due_at=outgoing.due_at)

    def find_sent(self, outgoing: Outgoing, message: dict[str, Any]) -> str | None:
        assert outgoing.resumed_from is not None
        return self.network.find_sent(
            SocialText.from_message(message), key=outgoing.key, due_at=outgoing.due_at, attempted=outgoing.resumed_from
        )


def register(renderers: Renderers, network: Network, links: Links, clock: Callable[[], datetime]) -> None:
    """Chat rows for `network` become its plain-text posts, measured by its own rule, rendered when sent (`clock`:
    a reminder says how far ahead the start is then)."""
    renderers.register(
        "chat", network.name, lambda session, outgoing: _chat_text(session, outgoing, network.rule(), links, clock())
    )


def _chat_text(
    session: Session, outgoing: Outgoing, rule: TextRule, links: Links, now: datetime
) -> dict[str, Any] | Skip:
    found = chat_post(session, outgoing)
    if isinstance(found, Skip):
        return found
    spec, post = found.spec, found.post
    if post.kind == "reminder":
        assert post.lead is not None
        return chat_text.reminder(spec, post.start, post.lead_at(now), rule).message()
    if post.kind == "welcome":
        return chat_text.welcome(spec, post.start, rule).message()
    if post.kind == "question":
        assert post.number is not None
        return chat_text.question(spec, post.number, rule).message()
    if post.kind == "wrapup":
        return chat_text.wrapup(spec, post.start, rule).message()
    url = links.archive(found.chat_id)
    if url is None:
        return Skip("the recap has no public page to link to (set PLCHAT_PUBLIC_URL)")
    return chat_text.recap_link(spec, post.start, url, rule).message()
