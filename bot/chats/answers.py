"""Answers to a chat's questions become tips linked to their question (Slack thread replies; posts on X, Bluesky
and Mastodon with A1 …, or replying to a question's post), and the recap is built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import NETWORKS
from bot.chats.store import get_record, spec_of
from bot.chats.timetable import local_start
from bot.db import changed_rows
from bot.delivery import outbox
from bot.models import ChatAnswer, DeliveryRecord, TipRecord, WaitingReply
from bot.tips.records import NewTip, TipRejected, clean_text
from bot.tips.store import Saved, save_tip

TOP_ANSWERS = 3
REPLIES_WAIT = timedelta(days=1)  # a reply whose thread never turns out to be a question is dropped after this
_QUESTION_SLUG = re.compile(r"q(\d+)")
_MENTIONS = r"^\s*(?:(?:[@\uff20][\w.@\u2060-]+|RT)\s+)*"  # a reply's leading @handles (X, Bluesky, Mastodon)
_ANSWER = re.compile(_MENTIONS + r"A\s?(\d{1,2})\b[\s:.)\-–—]*", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(_MENTIONS)
_NUMBERED = re.compile(_MENTIONS + r"A\d{1,2}\b[\s:.)\-–—]*", re.IGNORECASE)  # "A 10-minute timer" is no A10
_HASHTAG = r"(?<![\w&/])[#\uff03]{}(?![\w-])"  # as `bot.tips.records` reads a tag: not inside a word or a link
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class QuestionRef:
    chat_id: int
    team_id: str
    occurrence: date
    number: int


def question_for_thread(session: Session, channel: str, thread_ts: str) -> QuestionRef | None:
    """The chat question a Slack thread hangs from, if it is one of ours."""
    sent = outbox.find_sent(session, "slack", channel, thread_ts)
    if sent is None or not sent.subject.startswith("chat:"):
        return None
    number = _QUESTION_SLUG.fullmatch(str(sent.payload.get("post", "")))
    if number is None:
        return None
    return QuestionRef(
        int(sent.payload["chat_id"]), sent.team_id, date.fromisoformat(sent.payload["occurrence"]), int(number.group(1))
    )


def may_become_question(session: Session, channel: str) -> bool:
    """A chat post to `channel` is on its way out (or waits to be checked after a crash), so a reply in a thread
    that is not known yet may be an answer to it."""
    return outbox.in_flight(session, "slack", channel, "chat:")


def keep_waiting(session: Session, channel: str, thread_ts: str, tip: NewTip, now: datetime) -> None:
    """Keep a thread reply until its thread is known (`adopt_waiting`). Raises TipRejected for junk."""
    text = clean_text(tip.text, answer=True)
    if session.scalar(select(WaitingReply.id).where(WaitingReply.source_ref == tip.source_ref)) is None:
        session.add(
            WaitingReply(
                team_id=tip.team_id,
                channel=channel,
                thread_ts=thread_ts,
                author=tip.author,
                text=text,
                tags=list(tip.tags),
                source_ref=tip.source_ref or "",
                permalink=tip.permalink,
                received_at=now,
            )
        )
        session.flush()


def adopt_waiting(session: Session, now: datetime) -> int:
    """Save the kept replies whose thread is now a known question as its answers; drop those kept too long.
    Returns how many were saved."""
    found = (
        session.execute(
            select(WaitingReply).join(
                DeliveryRecord,
                (DeliveryRecord.target == "slack")
                & (DeliveryRecord.channel == WaitingReply.channel)
                & (DeliveryRecord.sent_ref == WaitingReply.thread_ts),
            )
        )
        .scalars()
        .all()
    )
    saved = 0
    for reply in found:
        ref = question_for_thread(session, reply.channel, reply.thread_ts)
        if ref is not None and ref.team_id == reply.team_id:
            tip = NewTip(
                reply.team_id,
                reply.author,
                reply.author,
                reply.text,
                "chat",
                tuple(reply.tags),
                source_ref=reply.source_ref,
                permalink=reply.permalink,
            )
            try:
                saved += save_answer(session, ref, tip, reply.author, now).status == "created"
            except TipRejected:
                pass
        session.delete(reply)
    session.execute(delete(WaitingReply).where(WaitingReply.received_at < now - REPLIES_WAIT))
    return saved


def purge_answers(session: Session, before: date) -> int:
    """Delete the answers collected in chats held before `before` (the retention setting), tips and all."""
    old = select(ChatAnswer.tip_id).where(ChatAnswer.occurrence < before)
    return changed_rows(session.execute(delete(TipRecord).where(TipRecord.id.in_(old))))


def answer_number(text: str, questions: int) -> tuple[int, str] | None:
    """`A2 Exit tickets! #PLChat` → (2, 'Exit tickets! #PLChat'), when the chat has a question 2."""
    found = _ANSWER.match(text)
    if found is None or not 1 <= int(found.group(1)) <= questions:
        return None
    return int(found.group(1)), text[found.end() :]


def normalised(text: str, hashtag: str) -> str:
    """An answer as it is stored, the same from every network: without the `A1` / `A1:` / `a1.` it starts with (and
    any @handles before it) and without the chat's own hashtag wherever it stands; other hashtags and text kept."""
    own_tag = re.compile(_HASHTAG.format(re.escape(hashtag.lstrip("#"))), re.IGNORECASE)
    while True:  # until nothing changes: taking off a hashtag can bring an `A2` to the front
        tidied = _SPACES.sub(" ", _NUMBERED.sub("", own_tag.sub("", text), count=1)).strip()
        tidied = "\n".join(line.strip() for line in tidied.split("\n"))
        if tidied == text:
            return text
        text = tidied


def distinct(answers: list[RecapAnswer], hashtag: str) -> list[RecapAnswer]:
    """The answers, each once: the same words from the same person (posted twice, or stored from two networks
    before answers were normalised) count as one, the first (most helpful) kept."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for answer in answers:
        key = (" ".join(normalised(answer.text, hashtag).casefold().split()), answer.author.casefold())
        if key not in seen:
            seen.add(key)
            kept.append(answer)
    return kept


def without_mentions(text: str) -> str:
    """A reply's text without the @handles a network puts at its start."""
    found = _LEADING_MENTIONS.match(text)
    return text[found.end() :] if found else text


def question_posts(session: Session, chat_id: int, occurrence: date, network: str) -> dict[str, tuple[int, datetime]]:
    """The chat's question posts of that occurrence on `network` that went out: their ref → (number, sent at)."""
    rows = session.execute(
        select(DeliveryRecord.sent_ref, DeliveryRecord.payload, DeliveryRecord.finished_at).where(
            DeliveryRecord.subject == f"chat:{chat_id}",
            DeliveryRecord.state == "sent",
            DeliveryRecord.target == network,
        )
    ).all()
    found = {}
    for ref, payload, sent_at in rows:
        number = _QUESTION_SLUG.fullmatch(str(payload.get("post", "")))
        if ref and number and payload.get("occurrence") == occurrence.isoformat() and sent_at is not None:
            found[ref] = (int(number.group(1)), sent_at)
    return found


def save_answer(session: Session, ref: QuestionRef, tip: NewTip, participant: str, now: datetime) -> Saved:
    """Save an answer as a tip (once per source), `normalised` whichever network it came from, and link it to its
    question. Raises TipRejected for an empty, junk or too short answer."""
    hashtag = spec_of(get_record(session, ref.chat_id)).hashtag
    tip = replace(
        tip,
        text=normalised(tip.text, hashtag),
        tags=tuple(tag for tag in tip.tags if tag.casefold() != hashtag.casefold()),
    )
    saved = save_tip(session, tip, now, check_similar=False)
    if saved.status == "created":
        session.add(
            ChatAnswer(
                tip_id=saved.tip.id,
                team_id=ref.team_id,
                chat_id=ref.chat_id,
                occurrence=ref.occurrence,
                question=ref.number,
                participant=participant[:120],
            )
        )
        session.flush()
    return saved


def build_recap(session: Session, chat_id: int, occurrence: date, team_id: str | None = None) -> Recap:
    """Each question with its most helpful answers, how many took part and how many for the first time."""
    record = get_record(session, chat_id, team_id)
    spec = spec_of(record)
    answers = session.execute(
        select(ChatAnswer.question, ChatAnswer.participant, TipRecord)
        .join(TipRecord, TipRecord.id == ChatAnswer.tip_id)
        .where(ChatAnswer.chat_id == chat_id, ChatAnswer.occurrence == occurrence, TipRecord.hidden.is_(False))
        .order_by(TipRecord.helpful_count.desc(), TipRecord.created_at, TipRecord.id)
    ).all()
    by_question: dict[int, list[RecapAnswer]] = {}
    participants: set[str] = set()
    for number, participant, tip in answers:
        participants.add(participant)
        network = participant.split(":", 1)[0]
        via = network if network in NETWORKS else "slack"
        answer = RecapAnswer(tip.text, tip.author, via, tip.helpful_count, tip.permalink)  # type: ignore[arg-type]
        by_question.setdefault(number, []).append(answer)
    distinct_answers = {number: distinct(found, spec.hashtag) for number, found in by_question.items()}
    questions = tuple(
        RecapQuestion(
            number,
            question.text,
            tuple(distinct_answers.get(number, [])[:TOP_ANSWERS]),
            len(distinct_answers.get(number, [])),
        )
        for number, question in enumerate(spec.questions, 1)
    )
    return Recap(
        chat_id,
        spec.title,
        spec.hashtag,
        local_start(spec, occurrence),
        questions,
        len(participants),
        _first_timers(session, record.team_id, participants, occurrence),
    )


def _first_timers(session: Session, team_id: str, participants: set[str], occurrence: date) -> int:
    if not participants:
        return 0
    returning = session.scalar(
        select(func.count(func.distinct(ChatAnswer.participant))).where(
            ChatAnswer.team_id == team_id, ChatAnswer.participant.in_(participants), ChatAnswer.occurrence < occurrence
        )
    )
    return len(participants) - (returning or 0)
