"""What chat, digest and play rows become in Slack: Block Kit messages, registered with the sender's renderers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import plays
from bot.chats import answers
from bot.chats.posts import chat_post
from bot.delivery.outbox import Outgoing
from bot.delivery.render import Renderers, Skip
from bot.digests import compose as digests
from bot.links import Links
from bot.slack import chat_blocks, digest_blocks, play_blocks


def register(renderers: Renderers, links: Links, clock: Callable[[], datetime]) -> None:
    """`clock`: a message is rendered when it is sent, and a reminder says how far ahead the start is then."""
    renderers.register("chat", "slack", lambda session, outgoing: _chat_message(session, outgoing, links, clock()))
    renderers.register("digest", "slack", lambda session, outgoing: _digest_message(session, outgoing, links))
    renderers.register("play", "slack", _credit_notice)


def _chat_message(session: Session, outgoing: Outgoing, links: Links, now: datetime) -> dict[str, Any] | Skip:
    found = chat_post(session, outgoing)
    if isinstance(found, Skip):
        return found
    spec, post = found.spec, found.post
    if post.kind == "reminder":
        assert post.lead is not None
        return chat_blocks.reminder_message(spec, post.start, post.lead_at(now), links.calendar())
    if post.kind == "welcome":
        return chat_blocks.welcome_message(spec, post.start)
    if post.kind == "question":
        assert post.number is not None
        return chat_blocks.question_message(spec, post.number, spec.questions[post.number - 1])
    if post.kind == "wrapup":
        return chat_blocks.wrapup_message(spec, post.start)
    recap = answers.build_recap(session, found.chat_id, date.fromisoformat(outgoing.payload["occurrence"]))
    return chat_blocks.recap_message(recap, links.archive(found.chat_id))


def _digest_message(session: Session, outgoing: Outgoing, links: Links) -> dict[str, Any] | Skip:
    digest = digests.for_delivery(
        session, outgoing.team_id, int(outgoing.payload["subscription_id"]), outgoing.payload["period"], outgoing.due_at
    )
    if isinstance(digest, Skip):
        return digest
    return digest_blocks.digest_message(digest, calendar_url=links.calendar())


def _credit_notice(session: Session, outgoing: Outgoing) -> dict[str, Any] | Skip:
    """The DM telling a tip's author that a play made from it was published."""
    play = plays.get_play(session, outgoing.payload["slug"], team=outgoing.team_id)
    if play is None or not play.from_community:
        return Skip("the play was removed before its authors were told")
    return play_blocks.credit_notice(play)
