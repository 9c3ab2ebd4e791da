"""What each outbox row says, rendered for its channel when it is sent (so an edit made after planning, or the
answers a recap gathers, are always current). Rows carry what is needed to render them, not the text."""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

from sqlalchemy.orm import Session

from bot.chats import answers, timetable
from bot.chats.store import spec_of
from bot.delivery.outbox import Outgoing
from bot.delivery.sender import Skip
from bot.digests import compose as digests
from bot.digests import subscriptions
from bot.links import Links
from bot.models import ChatRecord
from bot.slack import chat_blocks, digest_blocks
from bot.social import x_text


def renderer(links: Links) -> Callable[[Session, Outgoing], dict[str, Any] | Skip]:
    def render(session: Session, outgoing: Outgoing) -> dict[str, Any] | Skip:
        if "text" in outgoing.payload:  # a notice written out in full
            return {"text": outgoing.payload["text"]}
        if outgoing.subject.startswith("chat:"):
            return _chat_post(session, outgoing, links)
        if outgoing.subject.startswith("digest:"):
            return _digest(session, outgoing, links)
        return Skip(f"nothing renders {outgoing.subject}")

    return render


def _chat_post(session: Session, outgoing: Outgoing, links: Links) -> dict[str, Any] | Skip:
    record = session.get(ChatRecord, int(outgoing.payload["chat_id"]))
    if record is None or record.cancelled:
        return Skip("chat cancelled")
    spec, day = spec_of(record), date.fromisoformat(outgoing.payload["occurrence"])
    if day in spec.skip:
        return Skip("date skipped")
    post = next((p for p in timetable.posts(spec, day) if p.slug == outgoing.payload["post"]), None)
    if post is None:
        return Skip("no longer part of the chat (it was edited)")
    if outgoing.target == "x":
        return {"text": _x_text(spec, post)}
    if post.kind == "reminder":
        assert post.lead is not None
        return chat_blocks.reminder_message(spec, post.start, post.lead, links.calendar())
    if post.kind == "welcome":
        return chat_blocks.welcome_message(spec, post.start)
    if post.kind == "question":
        assert post.number is not None
        return chat_blocks.question_message(spec, post.number, spec.questions[post.number - 1])
    if post.kind == "wrapup":
        return chat_blocks.wrapup_message(spec, post.start)
    recap = answers.build_recap(session, record.id, day)
    return chat_blocks.recap_message(recap, links.archive(record.id))


def _digest(session: Session, outgoing: Outgoing, links: Links) -> dict[str, Any] | Skip:
    try:
        subscription = subscriptions.get(session, outgoing.team_id, int(outgoing.payload["subscription_id"]))
    except subscriptions.NotFound:
        return Skip("unsubscribed")
    if not subscription.active:
        return Skip(subscription.reason or "unsubscribed")
    if subscription.paused:
        return Skip("paused")
    digest = digests.compose(session, subscription, outgoing.payload["period"], outgoing.due_at)
    if digest.quiet and subscription.quiet_weeks == "skip":
        return Skip("a quiet week, and the subscriber asked for nothing then")
    return digest_blocks.digest_message(digest, calendar_url=links.calendar())


def _x_text(spec, post: timetable.Post) -> str:
    if post.kind == "reminder":
        assert post.lead is not None
        return x_text.reminder_text(spec, post.start, post.lead)
    if post.kind == "welcome":
        return x_text.welcome_text(spec, post.start)
    if post.kind == "question":
        assert post.number is not None
        return x_text.question_text(spec, post.number, spec.questions[post.number - 1])
    return x_text.wrapup_text(spec, post.start)
