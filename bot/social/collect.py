"""Reads a running chat's hashtag on a network (X, Bluesky, Mastodon), and the replies to its questions' own
posts, and saves the answers as tips linked to their questions: `A2 …` answers question 2; a reply to the Q2 post
answers it too.

Reading costs: X bills every post read, Bluesky and Mastodon limit requests. Each occurrence has a read budget
per network (X_READ_BUDGET, BLUESKY_READ_BUDGET, MASTODON_READ_BUDGET), and an account that may not read gets one
message to the moderators and is not asked again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.chats import answers, store, timetable
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.errors import DeliveryError, Permanent, ReadDenied, RetryAfter, Transient
from bot.models import ChatRecord
from bot.social.network import Network, SocialPost
from bot.tips.moderation import moderators
from bot.tips.records import NewTip, TipRejected

log = logging.getLogger(__name__)

REPLIES_READ_FOR = timedelta(minutes=20)  # a question's replies are read this long after it, and once the chat ends
BACKOFF_FIRST, BACKOFF_LONGEST = timedelta(minutes=1), timedelta(minutes=4)  # under timetable.COLLECT_AFTER
READ_DENIED = (
    "PLChat Bot can post #{hashtag} to {network} but can't read it there ({reason}), so answers on "
    "{network} are not being collected into tips. Fix the account's access (or turn "
    "`post_to_{name}` off); answers elsewhere are still collected."
)


def collect(
    sessions: sessionmaker[Session],
    network: Network,
    *,
    budget: int,
    clock: Callable[[], datetime],
    configured_moderators: Iterable[str] = (),
) -> int:
    """One pass over the chats live on `network` (but those backing off after a failure); returns how many
    answers were saved. What a pass found is saved even when a read fails part way."""
    now = clock()
    with sessions() as session:
        live = [
            (record.id, start)
            for record, start in store.live_on(session, network.name, now)
            if store.may_read(session, record.id, network.name, now)
        ]
    saved = 0
    for chat_id, start in live:
        try:
            found = _read_chat(sessions, network, chat_id, start, budget, now)
        except DeliveryError as exc:  # before anything was read (the bot's own account, say)
            found = _Found([], None, 0, exc)
        saved += _keep(sessions, network, chat_id, start, found, now, configured_moderators)
        if isinstance(found.error, RetryAfter):
            log.warning(
                "%s rate limit while reading answers: next pass in %.0f s or later", network.label, found.error.seconds
            )
            break
    return saved


@dataclass(frozen=True)
class _Found:
    """What one pass read of a chat on a network, and why it stopped short (None: it did not)."""

    posts: list[SocialPost]
    cursor: str | None
    reads: int
    error: DeliveryError | None


def _read_chat(
    sessions: sessionmaker[Session], network: Network, chat_id: int, start: datetime, budget: int, now: datetime
) -> _Found:
    with sessions() as session:
        spec = store.spec_of(store.get_record(session, chat_id))
        progress = store.read_progress(session, chat_id, network.name)
        cursor, spent = (progress.cursor, dict(progress.reads or {})) if progress else (None, {})
        day = start.astimezone(ZoneInfo(spec.timezone)).date()
        end = start + timedelta(minutes=spec.duration)
        questions = answers.question_posts(session, chat_id, day, network.name)
    me = network.own_id()
    used = int(spent.get(day.isoformat(), 0))
    page = network.read_tag(
        spec.hashtag, cursor=cursor, since=start, until=end + timetable.COLLECT_AFTER, budget=budget - used
    )
    posts, used, error = list(page.posts), used + page.reads, page.error
    for ref, (_number, posted_at) in questions.items():
        if isinstance(error, (RetryAfter, ReadDenied, Permanent)):
            break  # asking again now gets the same answer
        if used >= budget or not (now - posted_at <= REPLIES_READ_FOR or now >= end):
            continue
        try:
            replies = network.replies(ref, budget=budget - used)
        except Transient as exc:  # this thread is read again on a later pass; the other threads go on
            error = error or exc
            continue
        except DeliveryError as exc:  # refused, or rate limited: asking again now gets the same answer
            error = exc
            break
        used += replies.reads
        posts += replies.posts
    return _Found([post for post in posts if post.person != me], page.cursor, used, error)


def _keep(
    sessions: sessionmaker[Session],
    network: Network,
    chat_id: int,
    start: datetime,
    found: _Found,
    now: datetime,
    configured: Iterable[str],
) -> int:
    """Save what a pass found and where it got to, in one transaction; after a failure, when to read again (or,
    refused for good, tell the chat's moderators once and read no more)."""
    saved = 0
    with transaction(sessions) as session:
        record = store.get_record(session, chat_id)
        spec = store.spec_of(record)
        day = start.astimezone(ZoneInfo(spec.timezone)).date()
        end = start + timedelta(minutes=spec.duration)
        questions = answers.question_posts(session, chat_id, day, network.name)
        for post in found.posts:
            if not start <= post.created_at <= end + timetable.COLLECT_AFTER:
                continue
            saved += _save(session, network, record, day, post, questions, len(spec.questions), now)
        state = store.read_state(session, chat_id, network.name)
        state.cursor = found.cursor or state.cursor
        state.reads = {**(state.reads or {}), day.isoformat(): found.reads} if found.reads else state.reads
        error = found.error
        if isinstance(error, (ReadDenied, Permanent)):
            state.denied = True
            _tell_moderators(session, network, record, error.reason, now, configured)
        elif isinstance(error, RetryAfter):
            state.retry_at = now + timedelta(seconds=error.seconds)
        elif error is not None:
            state.failures = (state.failures or 0) + 1
            state.retry_at = now + backoff(state.failures)
        else:
            state.failures, state.retry_at = 0, None
        failures = state.failures
    if isinstance(error, (ReadDenied, Permanent)):
        log.warning("Chat %d: answers on %s are not collected: %s", chat_id, network.label, error.reason)
    elif error is not None and not isinstance(error, RetryAfter):
        log.log(
            logging.WARNING if failures == 1 else logging.INFO,
            "Reading chat %d's answers on %s failed %d time(s) in a row (%s); %d answer(s) found before it "
            "were kept; trying again in %s",
            chat_id,
            network.label,
            failures,
            error.reason,
            saved,
            backoff(failures),
        )
    return saved


def backoff(failures: int) -> timedelta:
    """How long reading waits after `failures` failed passes in a row: 1, 2, then 4 minutes (never longer, so
    the reads after the chat ends still happen)."""
    return min(BACKOFF_FIRST * 2 ** (failures - 1), BACKOFF_LONGEST)


def _save(
    session: Session,
    network: Network,
    record: ChatRecord,
    day: date,
    post: SocialPost,
    questions: dict[str, tuple[int, datetime]],
    count: int,
    now: datetime,
) -> int:
    numbered = answers.answer_number(post.text, count)
    replied = questions.get(post.reply_to or "")
    if numbered is not None:
        number, text = numbered
    elif replied is not None:
        number, text = replied[0], answers.without_mentions(post.text)
    else:
        return 0
    tip = NewTip(
        record.team_id,
        post.author,
        network.name,
        text,
        network.name,
        source_ref=f"{network.name}:{post.ref}",
        permalink=post.url or None,
        created_at=post.created_at.astimezone(UTC),
    )
    ref = answers.QuestionRef(record.id, record.team_id, day, number)
    try:
        saved = answers.save_answer(session, ref, tip, f"{network.name}:{post.person}", now)
    except TipRejected:
        return 0
    return int(saved.status == "created")


def _tell_moderators(
    session: Session, network: Network, record: ChatRecord, reason: str, now: datetime, configured: Iterable[str]
) -> None:
    """One message to each of the chat's moderators (its channels when it has none), once: the key is unique."""
    people = sorted(moderators(session, record.team_id, configured)) or list(record.slack_channels)
    text = READ_DENIED.format(hashtag=record.hashtag, network=network.label, reason=reason, name=network.name)
    subject = store.subject(record.id)
    outbox.enqueue(
        session,
        [
            outbox.new_row(
                key=f"{subject}:{network.name}-read-denied:slack:{person}",
                team_id=record.team_id,
                subject=subject,
                target="slack",
                channel=person,
                due_at=now,
                expires_at=None,
                payload={"text": text},
                now=now,
            )
            for person in people
        ],
    )
