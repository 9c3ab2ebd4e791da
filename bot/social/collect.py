"""Reads a running chat's hashtag on X and saves the answers (A1 …) as tips linked to their questions.

X bills every post read: each occurrence has a read budget (X_READ_BUDGET), and an account whose plan cannot
read gets one message to the moderators and is not asked again."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.chats import answers, store, timetable
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.errors import DeliveryError, ReadDenied, RetryAfter
from bot.models import ChatRecord
from bot.social.x import XAccount, XPost
from bot.tips.moderation import moderators
from bot.tips.records import NewTip, TipRejected

log = logging.getLogger(__name__)

READ_DENIED = ("PLChat Bot can post #{hashtag} to X but can't read it: the X account's plan has no read access, "
               "so answers on X are not being collected into tips. Upgrade the X plan (or turn `post_to_x` off) — "
               "Slack answers are still collected.")


def collect(sessions: sessionmaker[Session], account: XAccount, *, budget: int, clock: Callable[[], datetime],
            configured_moderators: Iterable[str] = ()) -> int:
    """One pass over the chats live on X; returns how many answers were saved."""
    now = clock()
    with sessions() as session:
        live = [(record.id, start) for record, start in store.live_on_x(session, now)]
    saved = 0
    for chat_id, start in live:
        try:
            saved += _collect_chat(sessions, account, chat_id, start, budget, now)
        except ReadDenied as exc:
            _read_denied(sessions, chat_id, exc.reason, now, configured_moderators)
        except RetryAfter as exc:
            log.warning("X rate limit while reading answers: next pass in %.0f s or later", exc.seconds)
            break
        except DeliveryError as exc:
            log.warning("Reading chat %d's answers on X failed (%s); trying again next pass", chat_id, exc.reason)
    return saved


def _collect_chat(sessions: sessionmaker[Session], account: XAccount, chat_id: int, start: datetime, budget: int,
                  now: datetime) -> int:
    with sessions() as session:
        record = store.get_record(session, chat_id)
        spec, since_id = store.spec_of(record), record.x_since_id
    day = start.astimezone(ZoneInfo(spec.timezone)).date()
    used = int((record.x_reads or {}).get(day.isoformat(), 0))
    if budget - used < 10:  # X reads at least ten a page
        return 0
    found = account.search_recent(f"#{spec.hashtag} -is:retweet", since_id=since_id, budget=budget - used)
    me = account.me()
    end = start + timedelta(minutes=spec.duration) + timetable.COLLECT_AFTER
    saved = 0
    with transaction(sessions) as session:
        record = store.get_record(session, chat_id)
        for post in found.posts:
            if post.author_id == me.id or not start <= post.created_at <= end:
                continue
            saved += _save(session, record, day, post, len(spec.questions), now)
        record.x_since_id = found.newest_id or record.x_since_id
        record.x_reads = {**(record.x_reads or {}), day.isoformat(): used + found.reads}
    return saved


def _save(session: Session, record: ChatRecord, day, post: XPost, questions: int, now: datetime) -> int:
    answer = answers.x_answer_number(post.text, questions)
    if answer is None:
        return 0
    number, text = answer
    handle = f"@{post.username}" if post.username else f"x:{post.author_id}"
    tip = NewTip(record.team_id, handle, "x", text, "x", source_ref=f"x:{post.id}", permalink=post.url,
                 created_at=post.created_at.astimezone(timezone.utc))
    ref = answers.QuestionRef(record.id, record.team_id, day, number)
    try:
        saved = answers.save_answer(session, ref, tip, f"x:{post.username or post.author_id}", now)
    except TipRejected:
        return 0
    return int(saved.status == "created")


def _read_denied(sessions: sessionmaker[Session], chat_id: int, reason: str, now: datetime,
                 configured: Iterable[str]) -> None:
    with transaction(sessions) as session:
        record = store.get_record(session, chat_id)
        record.x_read_denied = True
        people = sorted(moderators(session, record.team_id, configured)) or list(record.slack_channels)
        text = READ_DENIED.format(hashtag=record.hashtag)
        outbox.enqueue(session, [outbox.new_row(
            key=f"{store.subject(chat_id)}:x-read-denied:slack:{person}", team_id=record.team_id,
            subject=store.subject(chat_id), target="slack", channel=person, due_at=now, expires_at=None,
            payload={"text": text}, now=now) for person in people])
    log.warning("Chat %d: X answers are not collected: %s", chat_id, reason)
