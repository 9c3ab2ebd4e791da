"""Collection keeps what it found: a failed read of one thread or one page keeps the answers the pass had already
found (and a cursor that loses and doubles nothing); a network that refuses reads for good tells the chat's
moderators once and is not asked again; a failure for a while is retried with backoff, per chat and network.
The production worker against the Bluesky and Mastodon stand-ins, which answer as the services do, on both
databases."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from conftest import CHAT_MODERATOR
from conftest import schedule as schedule_chat
from sqlalchemy import select

from bot.delivery.errors import ReadDenied
from bot.models import ChatRead, DeliveryRecord, TipRecord
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.chat_run import FakeClock, run_until, sandbox_worker
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.social import collect
from bot.social.bluesky import BlueskyAccount
from bot.social.mastodon import PAGE, MastodonAccount

CHAT_FILE = """\
title: "Feedback that moves learning"
hashtag: PLChat
starts: 2026-12-01 17:00
timezone: America/Los_Angeles
duration: 30
slack_channels: [C0PLCHAT]
post_to_x: false
post_to_bluesky: {bluesky}
post_to_mastodon: {mastodon}
questions:
  - at: 5
    text: "How do your students give each other feedback?"
  - at: 15
    text: "Which tool made feedback faster this year?"
"""
START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 17:00 in Los Angeles on Dec 1
TIMELINE = "/api/v1/timelines/tag/:hashtag"


@pytest.fixture(autouse=True)
def _only_this_tests_chats(no_chats) -> None:
    """Tests here share a module database: each starts with no chats (conftest's `no_chats`)."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(hours=2))


def schedule(harness, clock, *, bluesky: bool = False, mastodon: bool = False) -> int:
    return schedule_chat(harness, clock, CHAT_FILE.format(bluesky=str(bluesky).lower(), mastodon=str(mastodon).lower()))


def tips(harness, source: str) -> list[str]:
    with harness.database.sessions() as session:
        return sorted(session.scalars(select(TipRecord.text).where(TipRecord.source == source)))


def progress(harness, chat_id: int, network: str) -> ChatRead:
    with harness.database.sessions() as session:
        found = session.get(ChatRead, (chat_id, network))
        assert found is not None
        return found


def question_ref(harness, network: str, number: int = 1) -> str:
    with harness.database.sessions() as session:
        return session.scalar(
            select(DeliveryRecord.sent_ref).where(
                DeliveryRecord.target == network,
                DeliveryRecord.key.contains(f":q{number}:"),
                DeliveryRecord.state == "sent",
            )
        )


def moderator_notices(harness) -> list[str]:
    return [
        call.args.get("text", "")
        for call in harness.standin.calls_to("chat.postMessage")
        if call.args.get("channel") == CHAT_MODERATOR
    ]


# -- a failed read keeps the rest ----------------------------------------------------------------------------


def test_a_failed_thread_read_keeps_the_answers_the_search_found(harness, bluesky, clock):
    chat_id = schedule(harness, clock, bluesky=True)
    worker = sandbox_worker(harness, None, clock, bluesky=bluesky, plchat_moderators=CHAT_MODERATOR)
    try:
        run_until(worker, clock, START + timedelta(minutes=5, seconds=30))
        q1 = f"at://{bluesky.did}/app.bsky.feed.post/{question_ref(harness, 'bluesky')}"
        bluesky.add_post("ana.bsky.social", "A1 Two stars and a wish #PLChat", clock())
        bluesky.add_post("ben.bsky.social", "@plchat.bsky.social Gallery walks", clock(), reply_to=q1)
        bluesky.inject("app.bsky.feed.getPostThread", status=502)
        clock.advance(timedelta(seconds=30))
        worker.collect_answers()
        # The search's answer is saved although the thread's read failed; the reply waits for the next pass.
        assert tips(harness, "bluesky") == ["Two stars and a wish"]
        state = progress(harness, chat_id, "bluesky")
        assert state.failures == 1 and state.retry_at == clock() + timedelta(minutes=1) and not state.denied
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    assert tips(harness, "bluesky") == ["Gallery walks", "Two stars and a wish"], "each once"
    assert progress(harness, chat_id, "bluesky").failures == 0
    assert moderator_notices(harness) == [], "a failure for a while is no refusal"


def test_a_failed_page_keeps_the_pages_before_it_and_the_cursor_loses_and_doubles_nothing(harness, mastodon, clock):
    chat_id = schedule(harness, clock, mastodon=True)
    worker = sandbox_worker(harness, None, clock, mastodon=mastodon)
    try:
        run_until(worker, clock, START + timedelta(minutes=5, seconds=30))
        for number in range(PAGE + 5):  # two pages
            mastodon.add_status(
                f"t{number}@edutooters.net",
                f"A1 Idea number {number} #PLChat",
                clock() + timedelta(milliseconds=number),
            )
        mastodon.inject(TIMELINE, delay=0.001)  # the first page is read as usual,
        mastodon.inject(TIMELINE, status=503)  # the second fails
        clock.advance(timedelta(seconds=30))
        worker.collect_answers()
        assert len(tips(harness, "mastodon")) == PAGE
        first = progress(harness, chat_id, "mastodon")
        assert first.failures == 1 and first.cursor is not None
        clock.set(first.retry_at)
        worker.collect_answers()
    finally:
        worker.close()
    saved = tips(harness, "mastodon")
    assert sorted(saved) == sorted(f"Idea number {n}" for n in range(PAGE + 5)), (
        "none lost, none twice"
    )  # stored without A1 and the chat tag
    reads = [call.query.get("min_id") for call in mastodon.calls_to(TIMELINE)]
    assert reads[-1] == first.cursor, "the pass after the failure went on from the last page read"


# -- refused for good ----------------------------------------------------------------------------------------


def test_a_bluesky_pds_without_an_appview_tells_the_moderators_once_and_is_not_asked_again(harness, clock):
    with BlueskyStandIn(clock=clock, appview=False) as bluesky:
        chat_id = schedule(harness, clock, bluesky=True)
        worker = sandbox_worker(harness, None, clock, bluesky=bluesky, plchat_moderators=CHAT_MODERATOR)
        try:
            run_until(worker, clock, START + timedelta(minutes=45))
        finally:
            worker.close()
        searches = bluesky.calls_to("app.bsky.feed.searchPosts")
        posted = bluesky.posts_by_me()
    notices = moderator_notices(harness)
    assert len(notices) == 1 and "No service configured for app.bsky.feed.searchPosts" in notices[0]
    assert "Bluesky" in notices[0] and "can't read" in notices[0]
    assert len(searches) == 1, "asked once, not every minute of the chat"
    assert progress(harness, chat_id, "bluesky").denied
    assert {"Q1", "Q2"} <= {post.text.split()[0] for post in posted}, "posting goes on"


def test_a_mastodon_token_without_the_read_scope_tells_the_moderators_once(harness, clock):
    with MastodonStandIn(clock=clock, scopes=("write",)) as mastodon:
        chat_id = schedule(harness, clock, mastodon=True)
        worker = sandbox_worker(harness, None, clock, mastodon=mastodon, plchat_moderators=CHAT_MODERATOR)
        try:
            run_until(worker, clock, START + timedelta(minutes=45))
        finally:
            worker.close()
        reads = [call for call in mastodon.calls if call.method == "GET" and call.status == 403]
        posted = mastodon.statuses_by_me()
    notices = moderator_notices(harness)
    assert len(notices) == 1 and "outside the authorized scopes" in notices[0]
    assert len(reads) == 1 and progress(harness, chat_id, "mastodon").denied
    assert {"Q1", "Q2"} <= {status.text.split()[0] for status in posted}, "posting goes on"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_mastodon_read_is_read_denied(mastodon, clock, status):
    account = MastodonAccount(base_url=mastodon.base_url, access_token=mastodon.token, clock=clock, timeout=5)
    mastodon.inject(TIMELINE, status=status, error="This action is outside the authorized scopes")
    page = account.read_tag("PLChat", cursor=None, since=clock() - timedelta(hours=1), until=clock(), budget=5)
    assert isinstance(page.error, ReadDenied) and page.posts == []
    mastodon.inject("/api/v1/statuses/:id/context", status=status, error="This action is outside the authorized scopes")
    with pytest.raises(ReadDenied):
        account.replies(mastodon.add_status("ana@mastodon.social", "Q?"), budget=5)


def test_a_deleted_question_has_no_replies_but_a_refused_thread_is_read_denied(harness, bluesky, mastodon, clock):
    sky = BlueskyAccount(
        handle=bluesky.handle,
        app_password=bluesky.password,
        service_url=bluesky.base_url,
        sessions=harness.database.sessions,
        clock=clock,
        timeout=5,
    )
    assert sky.replies("3kgonegonegon", budget=5).posts == []  # getPostThread: 400 NotFound
    bluesky.inject(
        "app.bsky.feed.getPostThread",
        error="InvalidRequest",
        message="No service configured for app.bsky.feed.getPostThread",
    )
    with pytest.raises(ReadDenied, match="No service configured"):
        sky.replies("3kgonegonegon", budget=5)
    toot = MastodonAccount(base_url=mastodon.base_url, access_token=mastodon.token, clock=clock, timeout=5)
    assert toot.replies("1234", budget=5).posts == []  # 404


# -- a failure for a while -----------------------------------------------------------------------------------


def test_a_failing_network_is_retried_with_backoff_and_one_warning(harness, mastodon, clock, caplog):
    chat_id = schedule(harness, clock, mastodon=True)
    worker = sandbox_worker(harness, None, clock, mastodon=mastodon)
    try:
        run_until(worker, clock, START + timedelta(minutes=5, seconds=30))
        mastodon.add_status("cam@edutooters.net", "A1 Peer conferences #PLChat", clock())
        mastodon.inject(TIMELINE, status=503, times=3)
        read_in: list[tuple[int, int]] = []  # (minute, status) of each hashtag read
        with caplog.at_level(logging.INFO, logger=collect.__name__):
            for minute in range(1, 11):  # one pass a minute, as the scheduler runs it
                clock.advance(timedelta(minutes=1))
                before = len(mastodon.calls_to(TIMELINE))
                worker.collect_answers()
                read_in += [(minute, call.status) for call in mastodon.calls_to(TIMELINE)[before:]]
    finally:
        worker.close()
    # Failed at minutes 1, 2 and 4 (waiting 1, 2, then 4 minutes), read again at 8, then every minute.
    assert read_in == [(1, 503), (2, 503), (4, 503), (8, 200), (9, 200), (10, 200)]
    assert tips(harness, "mastodon") == ["Peer conferences"]
    assert progress(harness, chat_id, "mastodon").failures == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == collect.__name__]
    assert len(warnings) == 1 and "503" in warnings[0].getMessage(), "one WARNING, not one a minute"


def test_backoff_doubles_up_to_its_longest() -> None:
    assert [collect.backoff(n) for n in range(1, 6)] == [timedelta(minutes=m) for m in (1, 2, 4, 4, 4)]
