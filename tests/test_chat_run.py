"""Whole chats run by the production worker against the Slack and X stand-ins, on an injected clock."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import CHAT_MODERATOR
from conftest import schedule as schedule_chat
from sqlalchemy import delete, select

from bot.chats import store
from bot.chats.answers import build_recap
from bot.chats.definition import parse_chat_file
from bot.chats.spec import ChatSpec
from bot.db import transaction
from bot.models import ChatAnswer, ChatRecord, DeliveryRecord, TipRecord
from bot.sandbox.chat_run import FakeClock, run_until, sandbox_worker
from bot.sandbox.console import Console
from bot.sandbox.harness import BotHarness
from bot.sandbox.x_api import XStandIn

CHANNEL = "C0PLCHAT"
MODERATOR = CHAT_MODERATOR
CHAT_FILE = """\
title: "Feedback that moves learning"
hashtag: PLChat
starts: 2026-12-01 17:00
timezone: America/Los_Angeles
duration: 30
slack_channels: [C0PLCHAT]
post_to_x: true
questions:
  - at: 5
    text: "How do your students give each other feedback?"
  - at: 15
    text: "Which tool made feedback faster this year?"
"""
START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 17:00 in Los Angeles on Dec 1
BEFORE = START - timedelta(days=2)


@pytest.fixture(autouse=True)
def _no_chats_from_earlier_tests(database) -> None:
    """The database lives for the module; each test's worker must see only its own chat."""
    with transaction(database.sessions) as session:
        for table in (ChatAnswer, DeliveryRecord, ChatRecord, TipRecord):
            session.execute(delete(table))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BEFORE)


def schedule(harness: BotHarness, clock: FakeClock, text: str = CHAT_FILE) -> int:
    return schedule_chat(harness, clock, text)


def slack_posts(harness: BotHarness, channel: str = CHANNEL) -> list[dict]:
    return [
        call.args
        for call in harness.standin.calls_to("chat.postMessage")
        if call.args.get("channel") == channel and call.status == 200
    ]


def post_keys(harness: BotHarness) -> list[str]:
    return [post["metadata"]["event_payload"]["key"].split(":")[3] for post in slack_posts(harness)]


def deliveries(harness: BotHarness) -> list[DeliveryRecord]:
    with harness.database.sessions() as session:
        return list(session.scalars(select(DeliveryRecord).order_by(DeliveryRecord.due_at, DeliveryRecord.id)))


def test_a_whole_chat_from_reminder_to_recap_on_slack_and_x(harness, x, clock):
    chat_id = schedule(harness, clock)
    worker = sandbox_worker(harness, x, clock, plchat_public_url="https://plchat.example.org")
    try:
        run_until(worker, clock, START + timedelta(minutes=6))
        assert post_keys(harness) == ["reminder-1440m", "reminder-60m", "welcome", "q1"]
        q1 = slack_posts(harness)[-1]
        assert q1["text"].startswith("Q1") and "#PLChat" in q1["text"]
        # Answers: one in Q1's Slack thread, one on X with the hashtag and A1 (posted twice), and one on X that
        # isn't an answer.
        q1_ts = next(row.sent_ref for row in deliveries(harness) if row.key.endswith(f":q1:slack:{CHANNEL}"))
        reply = harness.standin.seed_message(
            CHANNEL, "U0TEACHER", "A1: Peer review with a simple rubric #feedback", thread_ts=q1_ts
        )
        exchange = harness.event(
            {
                "type": "message",
                "channel": CHANNEL,
                "user": "U0TEACHER",
                "text": reply["text"],
                "ts": reply["ts"],
                "thread_ts": q1_ts,
                "channel_type": "channel",
            }
        )
        assert exchange.status == 200
        x.add_post("msfrizzle", "A1 Exit tickets with one glow and one grow #PLChat", created_at=clock())
        x.add_post("msfrizzle", "a1. #plchat exit tickets with one glow and one grow", created_at=clock())
        x.add_post("lurker", "Loving tonight's #PLChat", created_at=clock())
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()

    assert post_keys(harness) == ["reminder-1440m", "reminder-60m", "welcome", "q1", "q2", "wrapup", "recap"]
    on_x = [post.text for post in x.posts_by_me()]
    assert [text.split()[0] for text in on_x[3:5]] == ["Q1", "Q2"]
    assert len(on_x) == 7 and len(set(on_x)) == 7, "reminders, welcome, two questions, wrap-up, recap; distinct"
    assert on_x[-1].endswith(f"https://plchat.example.org/chats/{chat_id}")
    assert "Dec" in on_x[0] and "PT" in on_x[0] and "ET" in on_x[0] and "UTC" in on_x[0]
    recap = slack_posts(harness)[-1]
    recap_text = str(recap["blocks"])
    assert "Peer review with a simple rubric" in recap_text
    assert recap_text.lower().count("exit tickets with one glow") == 1, "one person's answer posted twice shows once"
    assert "#PLChat" not in recap_text.split("*Q1*")[1] and "A1" not in recap_text
    with harness.database.sessions() as session:
        tips = {tip.source: tip for tip in session.scalars(select(TipRecord).order_by(TipRecord.id))}
        summary = build_recap(session, chat_id, date(2026, 12, 1))
    assert set(tips) == {"chat", "x"}
    assert (tips["chat"].text, tips["chat"].tags) == ("Peer review with a simple rubric", " feedback ")
    assert tips["x"].text.lower() == "exit tickets with one glow and one grow", "no A1, no #PLChat, on any network"
    assert tips["x"].author == "@msfrizzle" and tips["x"].permalink.startswith("https://x.com/msfrizzle/status/")
    assert (summary.participants, summary.first_timers) == (2, 2)
    assert [q.answer_count for q in summary.questions] == [2, 0]
    assert {row.state for row in deliveries(harness)} == {"sent"}


def test_weekly_chat_keeps_its_local_time_across_the_dst_change_and_skips_dates(harness, clock):
    chat = CHAT_FILE.replace("starts: 2026-12-01 17:00", "starts: 2027-02-23 17:00").replace(
        "post_to_x: true", "post_to_x: false\nrepeat: weekly\nuntil: 2027-03-30\nskip: [2027-03-09]\nreminders: [1h]"
    )
    clock.set(datetime(2027, 2, 23, 0, 0, tzinfo=UTC))
    schedule(harness, clock, chat)
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, datetime(2027, 3, 31, tzinfo=UTC))
    finally:
        worker.close()
    welcomes = [row for row in deliveries(harness) if row.key.split(":")[3] == "welcome"]
    assert [row.key.split(":")[2] for row in welcomes] == [
        "2027-02-23",
        "2027-03-02",
        "2027-03-16",
        "2027-03-23",
        "2027-03-30",
    ]
    # 17:00 in Los Angeles is 01:00 UTC in winter (PST) and 00:00 UTC after March 14, 2027 (PDT).
    assert [row.due_at.hour for row in welcomes] == [1, 1, 0, 0, 0]
    assert all(row.state == "sent" for row in welcomes)


def test_a_worker_killed_mid_chat_and_restarted_skips_and_repeats_nothing(harness, x, clock):
    schedule(harness, clock)
    first = sandbox_worker(harness, x, clock)
    try:
        run_until(first, clock, START + timedelta(minutes=5, seconds=1))
    finally:
        first.close()
    # The worker dies while Q1 is on its way out: the row stays `sending` though Slack has the post.
    with transaction(harness.database.sessions) as session:
        row = session.scalar(select(DeliveryRecord).where(DeliveryRecord.key.like("%:q1:slack:%")))
        row.state, row.sent_ref = "sending", None
        # ...and Q2 (due later) was claimed by the same run but its send had not begun: no check needed.
        later = session.scalar(select(DeliveryRecord).where(DeliveryRecord.key.like("%:q2:slack:%")))
        later.state, later.claimed_at = "sending", clock()
    clock.advance(timedelta(minutes=2))  # the new worker comes back two minutes later, within the grace window
    second = sandbox_worker(harness, x, clock)
    try:
        run_until(second, clock, START + timedelta(minutes=45))
    finally:
        second.close()
    keys = post_keys(harness)
    assert keys == ["reminder-1440m", "reminder-60m", "welcome", "q1", "q2", "wrapup", "recap"], keys
    assert len(x.posts_by_me()) == 6
    assert len(harness.standin.calls_to("conversations.history")) == 1, "only the post that had begun is checked"
    with harness.database.sessions() as session:
        recovered = session.scalar(select(DeliveryRecord).where(DeliveryRecord.key.like("%:q1:slack:%")))
    assert recovered.state == "sent" and recovered.reason == "found after a restart"


def test_a_worker_down_past_the_grace_window_skips_what_it_missed_and_says_why(harness, clock):
    schedule(harness, clock, CHAT_FILE.replace("post_to_x: true", "post_to_x: false"))
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, START - timedelta(minutes=30))
        clock.set(START + timedelta(minutes=16))  # down from before the welcome until just after Q2 was due
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    assert post_keys(harness) == ["reminder-1440m", "reminder-60m", "q2", "wrapup", "recap"]
    skipped = {row.key.split(":")[3]: row.reason for row in deliveries(harness) if row.state == "skipped"}
    assert set(skipped) == {"welcome", "q1"} and all("missed" in reason for reason in skipped.values())


def test_slack_rate_limits_hold_the_posts_in_order_and_lose_none(harness, clock):
    schedule(harness, clock, CHAT_FILE.replace("post_to_x: true", "post_to_x: false"))
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, START - timedelta(minutes=1))
        harness.standin.inject("chat.postMessage", status=429, times=2, retry_after=20)
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    assert post_keys(harness) == ["reminder-1440m", "reminder-60m", "welcome", "q1", "q2", "wrapup", "recap"]
    limited = [c for c in harness.standin.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 2


def test_x_errors_lose_no_other_post(harness, x, clock):
    schedule(harness, clock)
    x.inject("POST /2/tweets", status=503, times=1)
    worker = sandbox_worker(harness, x, clock)
    try:
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    on_x = [post.text.split()[0] for post in x.posts_by_me()]
    assert len(on_x) == 6, on_x
    assert post_keys(harness)[-1] == "recap"


def test_an_x_account_without_read_access_tells_the_moderators_once(harness, clock):
    with XStandIn(clock=clock, read_access=False) as x:
        schedule(harness, clock)
        worker = sandbox_worker(harness, x, clock, plchat_moderators=MODERATOR)
        try:
            run_until(worker, clock, START + timedelta(minutes=45))
        finally:
            worker.close()
        searches = x.calls_to("/2/tweets/search/recent")
    notices = slack_posts(harness, MODERATOR)
    assert len(notices) == 1 and "read" in notices[0]["text"]
    assert len(searches) == 1, "asked once, not every minute of the chat"
    assert post_keys(harness)[-1] == "recap"


def test_a_cancelled_chat_posts_nothing_more(harness, clock):
    chat_id = schedule(harness, clock, CHAT_FILE.replace("post_to_x: true", "post_to_x: false"))
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, START - timedelta(hours=2))
        with transaction(harness.database.sessions) as session:
            store.cancel_chat(session, chat_id, clock())
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    assert post_keys(harness) == ["reminder-1440m"]
    assert {row.reason for row in deliveries(harness) if row.state == "skipped"} == {"chat cancelled"}


def test_spec_round_trips_through_the_database(session, team):
    spec = parse_chat_file(
        CHAT_FILE.replace("duration: 30", "duration: 60\nrepeat: weekly\nuntil: 2027-06-01\nskip: [2026-12-22]"),
        default_timezone="America/Los_Angeles",
    )
    chat = store.create_chat(session, team, spec, MODERATOR, BEFORE)
    assert isinstance(chat.spec, ChatSpec)
    assert store.get_chat(session, chat.id, BEFORE).spec == spec
    assert chat.next_start == START


def test_the_sandbox_chat_lists_every_post_as_it_went_out_in_the_readers_zone(harness, clock):
    out = io.StringIO()
    console = Console(harness, out, clock=clock)  # you are @teacher, in Los Angeles

    console.handle("chat")

    shown = out.getvalue()
    assert "<!date" not in shown
    # The demo chat starts a day and a half hour after now: 01:30 UTC on Dec 1, 5:30 PM on Nov 30 in Los Angeles.
    assert (
        "Sun Nov 29, 5:30 PM PST  reminder-1440m  Slack #general\n"
        "    :alarm_clock: *Feedback that moves learning* starts tomorrow\n"
        "    tomorrow at 5:30 PM · #PLChat · 30 minutes"
    ) in shown
    headings = [line for line in shown.splitlines() if line and not line.startswith(" ")]
    q1, q2 = (
        headings.index("Mon Nov 30, 5:35 PM PST  q1  Slack #general"),
        headings.index("Mon Nov 30, 5:42 PM PST  q2  Slack #general"),
    )
    assert headings[q1 + 1] == "Mon Nov 30, 5:35 PM PST  q1  X, Bluesky, Mastodon"
    assert headings[q1 + 2 : q2] == [
        "Mon Nov 30, 5:35 PM PST  answer on Slack, in the thread of Q1  @Ana",
        "Mon Nov 30, 5:35 PM PST  answer on X  @msfrizzle",
        "Mon Nov 30, 5:35 PM PST  answer on Bluesky, replying to Q1  @mrsvaughan.bsky.social",
        "Mon Nov 30, 5:35 PM PST  answer on Mastodon  @mrdiaz@edutooters.net",
    ]
    assert "answer on X  @msfrizzle\n    A1 Exit tickets: one glow, one grow #PLChat\n" in shown
    recap = shown.split("Mon Nov 30, 6:10 PM PST  recap  Slack #general\n", 1)[1]
    assert recap.startswith(
        "    :memo: *Recap: Feedback that moves learning* #PLChat\n      today at 5:30 PM · 4 people took part"
    )
    assert "• Peer review with a two-star rubric — @Ana" in recap  # stored without its A1, as every answer is
    assert headings[-1] == "Mon Nov 30, 6:10 PM PST  recap  X, Bluesky, Mastodon"


def test_a_second_sandbox_chat_reaches_its_own_bluesky_stand_in(harness, clock):
    """Each chat runs against new stand-ins; the Bluesky session kept from the first chat (in the sandbox's lasting
    database) belongs to a stand-in that is gone, so the second must log in to its own."""
    console = Console(harness, io.StringIO(), clock=clock)
    console.handle("chat")
    out = io.StringIO()
    console.out = out

    console.handle("chat")

    shown = out.getvalue()
    assert "[failed" not in shown
    assert "q1  X, Bluesky, Mastodon" in shown
