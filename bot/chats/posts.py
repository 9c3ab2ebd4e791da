"""Which post of which chat an outbox row is, as it stands now (or why it should not go out any more)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.chats import timetable
from bot.chats.spec import ChatSpec
from bot.chats.store import spec_of
from bot.delivery.outbox import Outgoing
from bot.delivery.render import Skip
from bot.models import ChatRecord


@dataclass(frozen=True)
class ChatPost:
    chat_id: int
    spec: ChatSpec
    post: timetable.Post


def chat_post(session: Session, outgoing: Outgoing) -> ChatPost | Skip:
    record = session.get(ChatRecord, int(outgoing.payload["chat_id"]))
    if record is None or record.cancelled:
        return Skip("chat cancelled")
    spec, day = spec_of(record), date.fromisoformat(outgoing.payload["occurrence"])
    if day in spec.skip:
        return Skip("date skipped")
    post = next((p for p in timetable.posts(spec, day) if p.slug == outgoing.payload["post"]), None)
    if post is None:
        return Skip("no longer part of the chat (it was edited)")
    return ChatPost(record.id, spec, post)
