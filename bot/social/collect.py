"""Reads a running chat's hashtag on a network (X, Bluesky, Mastodon), and the replies to its questions' own
posts, and saves the answers as tips linked to their questions: `A2 …` answers question 2; a reply to the Q2 post
answers it too.

Reading costs: X bills every post read, Bluesky and Mastodon limit requests. Each occurrence has a read budget
per network (X_READ_BUDGET, BLUESKY_READ_BUDGET, MASTODON_READ_BUDGET), and an account that may not read gets one
message to the moderators and is not asked again."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.chats import answers, store, timetable
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.errors import DeliveryError, ReadDenied, RetryAfter
from bot.models import ChatRecord
from bot.social.network import Network, SocialPost
from bot.tips.moderation import moderators
from bot.tips.records import NewTip, TipRejected

log = logging.getLogger(__name__)

REPLIES_READ_FOR = timedelta(minutes=20)  # a question's replies are read this long after it, and once the chat ends
READ_DENIED = ("PLChat Bot can post #{hashtag} to {network} but can't read it there ({reason}), so answers on "
               "{network} are not being collected into tips. Fix the account's access (or turn "
               "`post_to_{name}` off); answers elsewhere are still collected.")


def collect(sessions: sessionmaker[Session], network: Network, *, budget: int, clock: Callable[[], datetime],
            configured_moderators: Iterable[str] = ()) -> int:
    """One pass over the chats live on `network`; returns how many answers were saved."""
    now = clock()
    with sessions() as session:
        live = [(record.id, start) for record, start in store.live_on(session, network.name, now)]
    saved = 0
    for chat_id, start in live:
        try:
            saved += _collect_chat(sessions, network, chat_id, start, budget, now)
        except ReadDenied as exc:
            _read_denied(sessions, network, chat_id, exc.reason, now, configured_moderators)
        except RetryAfter as exc:
            log.warning("%s rate limit while reading answers: next pass in %.0f s or later", network.label,
                        exc.seconds)
            break
        except DeliveryError as exc:
            log.warning("Reading chat %d's answers on %s failed (%s); trying again next pass", chat_id,
                        network.label, exc.reason)
    return saved


def _collect_chat(sessions: sessionmaker[Session], network: Network, chat_id: int, start: datetime, budget: int,
                  now: datetime) -> int:
    with sessions() as session:
        record = store.get_record(session, chat_id)
        spec = store.spec_of(record)
        state = store.read_progress(session, chat_id, network.name)
        cursor, spent = (state.cursor, dict(state.reads or {})) if state else (None, {})
        day = start.astimezone(ZoneInfo(spec.timezone)).date()
        end = start + timedelta(minutes=spec.duration)
        questions = answers.question_posts(session, chat_id, day, network.name)
    used = int(spent.get(day.isoformat(), 0))
    found = network.read_tag(spec.hashtag, cursor=cursor, since=start, until=end + timetable.COLLECT_AFTER,
                             budget=budget - used)
    used += found.reads
    posts = list(found.posts)
    for ref, (number, posted_at) in questions.items():
        if used < budget and (now - posted_at <= REPLIES_READ_FOR or now >= end):
            replies = network.replies(ref, budget=budget - used)
            used += replies.reads
            posts += replies.posts
    me = network.own_id()
    saved = 0
    with transaction(sessions) as session:
        record = store.get_record(session, chat_id)
        for post in posts:
            if post.person == me or not start <= post.created_at <= end + timetable.COLLECT_AFTER:
                continue
            saved += _save(session, network, record, day, post, questions, len(spec.questions), now)
        state = store.read_state(session, chat_id, network.name)
        state.cursor = found.cursor or state.cursor
        state.reads = {**(state.reads or {}), day.isoformat(): used}
    return saved


def _save(session: Session, network: Network, record: ChatRecord, day: date, post: SocialPost,
          questions: dict[str, tuple[int, datetime]], count: int, now: datetime) -> int:
    numbered = answers.answer_number(post.text, count)
    replied = questions.get(post.reply_to or "")
    if numbered is not None:
        number, text = numbered
    elif replied is not None:
        number, text = replied[0], answers.without_mentions(post.text)
    else:
        return 0
    tip = NewTip(record.team_id, post.author, network.name, text, network.name,
                 source_ref=f"{network.name}:{post.ref}", permalink=post.url or None,
                 created_at=post.created_at.astimezone(timezone.utc))
    ref = answers.QuestionRef(record.id, record.team_id, day, number)
    try:
        saved = answers.save_answer(session, ref, tip, f"{network.name}:{post.person}", now)
    except TipRejected:
        return 0
    return int(saved.status == "created")


def _read_denied(sessions: sessionmaker[Session], network: Network, chat_id: int, reason: str, now: datetime,
                 configured: Iterable[str]) -> None:
    with transaction(sessions) as session:
        record = store.get_record(session, chat_id)
        store.read_state(session, chat_id, network.name).denied = True
        people = sorted(moderators(session, record.team_id, configured)) or list(record.slack_channels)
        text = READ_DENIED.format(hashtag=record.hashtag, network=network.label, reason=reason, name=network.name)
        outbox.enqueue(session, [outbox.new_row(
            key=f"{store.subject(chat_id)}:{network.name}-read-denied:slack:{person}", team_id=record.team_id,
            subject=store.subject(chat_id), target="slack", channel=person, due_at=now, expires_at=None,
            payload={"text": text}, now=now) for person in people])
    log.warning("Chat %d: answers on %s are not collected: %s", chat_id, network.label, reason)
