"""Weekly digests end to end: when they fall due (DST included), what they hold, and that the production worker
sends each subscriber exactly one a week against the Slack stand-in, through crashes, rate limits, people who
left and channels the bot was removed from, on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import new_team
from sqlalchemy import delete, func, select, update

from bot.chats import store as chat_store
from bot.chats.definition import parse_chat_fields
from bot.db import transaction
from bot.delivery.lease import LAPSES_AFTER
from bot.digests import compose, planner, subscriptions
from bot.models import (
    ChatAnswer,
    ChatRecord,
    DeliveryRecord,
    DigestPlay,
    DigestSubscriptionRecord,
    PlayRecord,
    TipRecord,
    TipVote,
)
from bot.sandbox import payloads
from bot.sandbox.chat_run import FakeClock, run_until, sandbox_worker
from bot.sandbox.harness import BotHarness
from bot.sandbox.slack_api import SlackStandIn
from bot.slack import digest_blocks
from bot.slack.services import Services
from bot.tips.store import ensure_workspace
from bot.worker import Worker

LA, NZ = "America/Los_Angeles", "Pacific/Auckland"
NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # Tuesday, 09:00 in Los Angeles
FIRST = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # the Monday after, 07:00 in Los Angeles (PST)
WEEK = timedelta(days=7)
MONDAY_7 = (0, time(7, 0))


@pytest.fixture(autouse=True)
def _nothing_from_earlier_tests(database) -> None:
    """The database lives for the module: each test's worker sees only its own subscriptions and rows."""
    with transaction(database.sessions) as session:
        for table in (DigestPlay, DeliveryRecord, DigestSubscriptionRecord, ChatAnswer, ChatRecord, TipRecord):
            session.execute(delete(table))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def team() -> str:
    return new_team()


@pytest.fixture
def harness(database, clock, team) -> Iterator[BotHarness]:
    """The bot and a Slack stand-in whose message timestamps and rate-limit minutes follow the fake clock."""
    standin = SlackStandIn(team_id=team, wall_clock=clock, clock=lambda: clock().timestamp())
    services = Services(database.sessions, clock=clock, rng=random.Random(1), default_timezone=LA)
    with BotHarness(
        database, services=services, clock=clock, standin=standin, workspace=payloads.Workspace(team_id=team)
    ) as bot:
        yield bot


# -- helpers ----------------------------------------------------------------------------------------------------


def subscribe(
    database,
    team: str,
    channel: str,
    *,
    user: str | None = None,
    zone: str = LA,
    weekday: int = 0,
    at: time = time(7, 0),
    now: datetime = NOW,
) -> int:
    with transaction(database.sessions) as session:
        subscription, created = subscriptions.subscribe(
            session, team, user or channel, channel, now, zone=zone, weekday=weekday, send_time=at
        )
    assert created
    return subscription.id


def add_tip(
    session,
    team: str,
    text: str,
    *,
    helpful: int = 0,
    created: datetime,
    hidden: bool = False,
    pending: bool = False,
    author: str = "U0AUTHOR",
) -> int:
    """A tip with `helpful` colleagues' votes."""
    ensure_workspace(session, team)
    record = TipRecord(
        team_id=team,
        author=author,
        shared_by=author,
        text=text,
        text_hash=hashlib.sha256(f"{team}:{text}".encode()).hexdigest(),
        source="command",
        created_at=created,
        updated_at=created,
        helpful_count=helpful,
        hidden=hidden,
        pending=pending,
    )
    session.add(record)
    session.flush()
    voters = [f"U0VOTER{n}" for n in range(helpful)]
    session.add_all(TipVote(tip_id=record.id, user_id=voter, created_at=created) for voter in voters)
    session.flush()
    return record.id


def run_digests(worker: Worker, clock: FakeClock, until: datetime) -> None:
    """`run_until`, also waking when a digest comes within the planner's reach (run_until only wakes for chats,
    the scheduler plans every few minutes in production)."""
    while True:
        with worker.database.sessions() as session:
            soonest = session.scalar(select(func.min(DigestSubscriptionRecord.next_send)))
        if soonest is None or soonest - planner.AHEAD >= until:
            break
        run_until(worker, clock, max(clock(), soonest - planner.AHEAD))
    run_until(worker, clock, until)


def posts(harness: BotHarness, channel: str) -> list[dict]:
    """Digests the stand-in accepted for `channel`, oldest first."""
    return [
        call.args
        for call in harness.standin.calls_to("chat.postMessage")
        if call.args.get("channel") == channel and call.status == 200
    ]


def attempts(harness: BotHarness, channel: str) -> int:
    return len([call for call in harness.standin.calls_to("chat.postMessage") if call.args.get("channel") == channel])


def key_of(post: dict) -> str:
    return post["metadata"]["event_payload"]["key"]


def rows(database, subscription_id: int) -> list[DeliveryRecord]:
    with database.sessions() as session:
        return list(
            session.scalars(
                select(DeliveryRecord)
                .where(DeliveryRecord.subject == planner.subject(subscription_id))
                .order_by(DeliveryRecord.due_at)
            )
        )


def stored(database, team: str, subscription_id: int) -> subscriptions.Subscription:
    with database.sessions() as session:
        return subscriptions.get(session, team, subscription_id)


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


# -- when a digest is due -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # Auckland: NZDT (UTC+13) until Sunday April 5, 2026; NZST (UTC+12) until Sunday Sept 27, 2026.
        (NZ, datetime(2026, 3, 25, tzinfo=UTC), datetime(2026, 3, 29, 18, 0, tzinfo=UTC)),  # Mon Mar 30, NZDT
        (NZ, datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 4, 5, 19, 0, tzinfo=UTC)),  # Mon Apr 6, NZST
        (NZ, datetime(2026, 9, 15, tzinfo=UTC), datetime(2026, 9, 20, 19, 0, tzinfo=UTC)),  # Mon Sept 21, NZST
        (NZ, datetime(2026, 9, 22, tzinfo=UTC), datetime(2026, 9, 27, 18, 0, tzinfo=UTC)),  # Mon Sept 28, NZDT
        # Los Angeles: PDT (UTC-7) from Sunday March 8, 2026 until Sunday Nov 1, 2026.
        (LA, datetime(2026, 2, 27, tzinfo=UTC), datetime(2026, 3, 2, 15, 0, tzinfo=UTC)),  # Mon Mar 2, PST
        (LA, datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 9, 14, 0, tzinfo=UTC)),  # Mon Mar 9, PDT
        (LA, datetime(2026, 10, 21, tzinfo=UTC), datetime(2026, 10, 26, 14, 0, tzinfo=UTC)),  # Mon Oct 26, PDT
        (LA, datetime(2026, 10, 27, tzinfo=UTC), datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),  # Mon Nov 2, PST
    ],
)
def test_monday_seven_is_the_right_instant_on_both_sides_of_each_dst_change(zone, after, expected):
    found = subscriptions.next_send_after(*MONDAY_7, zone, after)
    assert found == expected
    wall = local(found, zone)
    assert (wall.weekday(), wall.time()) == MONDAY_7


@pytest.mark.parametrize("zone", [NZ, LA])
def test_a_year_of_mondays_keeps_seven_on_the_wall_clock(zone):
    moment, offsets = datetime(2026, 1, 1, tzinfo=UTC), set()
    for _ in range(53):
        following = subscriptions.next_send_after(*MONDAY_7, zone, moment)
        wall = local(following, zone)
        assert (wall.weekday(), wall.time()) == MONDAY_7, following
        if offsets:  # from one Monday to the next: a week, an hour less or more across a DST change
            assert following - moment in (WEEK, WEEK - timedelta(hours=1), WEEK + timedelta(hours=1))
        offsets.add(wall.utcoffset())
        moment = following
    assert len(offsets) == 2, "both standard and daylight time were crossed"


def test_the_moment_itself_is_not_after_it_and_a_time_in_the_spring_gap_reads_as_before_the_change():
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert subscriptions.next_send_after(*MONDAY_7, LA, monday) == monday + WEEK
    assert subscriptions.next_send_after(*MONDAY_7, LA, monday - timedelta(seconds=1)) == monday
    # 02:30 on Sunday March 8, 2026 does not exist in Los Angeles: read as PST (10:30 UTC).
    gap = subscriptions.next_send_after(6, time(2, 30), LA, datetime(2026, 3, 7, tzinfo=UTC))
    assert gap == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_subscribing_schedules_the_next_monday_and_pausing_clears_it(database, team):
    nz = subscribe(database, team, "U0KIWI", zone=NZ)
    assert stored(database, team, nz).next_send == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # Mon 07:00 NZDT
    with transaction(database.sessions) as session:
        paused = subscriptions.set_paused(session, team, nz, "U0KIWI", True, NOW, moderator=False)
    assert paused.paused and paused.next_send is None
    with transaction(database.sessions) as session, pytest.raises(subscriptions.NotAllowed):
        subscriptions.set_paused(session, team, nz, "U0OTHER", False, NOW, moderator=True)  # a DM: its owner's


# -- what a digest holds ------------------------------------------------------------------------------------------


def chat_fields(title: str, starts: str, **more: object) -> dict:
    return {
        "title": title,
        "hashtag": "PLChat",
        "starts": starts,
        "timezone": LA,
        "duration": 60,
        "repeat": "weekly",
        "slack_channels": ["C0PLCHAT"],
        "post_to_x": False,
        "questions": [{"at": 5, "text": "What worked this week?"}],
        **more,
    }


def test_a_digest_holds_the_weeks_best_visible_tips_of_its_own_workspace_chats_a_recap_and_a_play(database, team):
    other = new_team()
    subscription_id = subscribe(database, team, "U0READER")
    since = FIRST - WEEK
    with transaction(database.sessions) as session:
        ranked = [
            add_tip(session, team, f"Tip helped by {votes}", helpful=votes, created=since + timedelta(hours=h))
            for h, votes in enumerate((3, 9, 0, 5, 1, 7, 2), start=1)
        ]
        add_tip(session, team, "Hidden by a moderator", helpful=50, created=NOW, hidden=True)
        add_tip(session, team, "Held as a near-duplicate", helpful=40, created=NOW, pending=True)
        add_tip(session, team, "Shared last month", helpful=30, created=since - timedelta(minutes=1))
        add_tip(session, other, "Another workspace's tip", helpful=99, created=NOW)
        # A weekly chat that ran on Thursday (a recap) and runs again next Thursday (coming up); one far off;
        # another workspace's chat this week.
        weekly = chat_store.create_chat(
            session,
            team,
            parse_chat_fields(chat_fields("Feedback that moves learning", "2026-11-19 17:00"), default_timezone=LA),
            "U0MOD",
            datetime(2026, 11, 1, tzinfo=UTC),
        )
        chat_store.create_chat(
            session,
            team,
            parse_chat_fields(chat_fields("Winter planning", "2026-12-20 17:00"), default_timezone=LA),
            "U0MOD",
            NOW,
        )
        chat_store.create_chat(
            session,
            other,
            parse_chat_fields(chat_fields("Elsewhere", "2026-12-01 17:00"), default_timezone=LA),
            "U0MOD",
            NOW,
        )
    with transaction(database.sessions) as session:
        assert planner.plan(session, FIRST - timedelta(minutes=10)) == 1
    with database.sessions() as session:
        subscription = subscriptions.get(session, team, subscription_id)
        digest = compose.compose(session, subscription, "2026-W49", FIRST)
        chosen = session.scalar(select(DigestPlay.slug).where(DigestPlay.subscription_id == subscription_id))

    assert [tip.helpful for tip in digest.tips] == [9, 7, 5, 3, 2]
    assert {tip.id for tip in digest.tips} <= set(ranked)
    assert digest.new_tips == 7
    assert [chat.spec.title for chat in digest.chats] == ["Feedback that moves learning"]
    assert digest.chats[0].next_start == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert digest.recap is not None and digest.recap.chat_id == weekly.id
    assert digest.recap.starts == datetime(2026, 11, 26, 17, 0, tzinfo=ZoneInfo(LA))
    assert digest.play is not None and digest.play.slug == chosen
    assert not digest.quiet
    text = str(digest_blocks.digest_message(digest))
    for absent in (
        "Hidden by a moderator",
        "Held as a near-duplicate",
        "Another workspace",
        "Shared last month",
        "Elsewhere",
        "Winter planning",
    ):
        assert absent not in text
    assert text.index("Tip helped by 9") < text.index("Tip helped by 7") < text.index("Tip helped by 2")


def test_a_subscriber_is_not_sent_a_play_they_had_in_the_previous_eight_weeks(database, team):
    with database.sessions() as session:
        playbook = session.scalar(select(func.count()).select_from(PlayRecord))
    assert playbook >= 12, "the real playbook is synced in"
    subscription_id = subscribe(database, team, "U0READER")
    due = FIRST
    for _week in range(12):
        with transaction(database.sessions) as session:
            assert planner.plan(session, due - timedelta(minutes=5)) == 1
            due = session.get(DigestSubscriptionRecord, subscription_id).next_send
    with database.sessions() as session:
        chosen = session.execute(
            select(DigestPlay.period, DigestPlay.slug)
            .where(DigestPlay.subscription_id == subscription_id)
            .order_by(DigestPlay.period)
        ).all()
    periods, slugs = [period for period, _ in chosen], [slug for _, slug in chosen]
    assert periods[0] == "2026-W49" and periods[-1] == "2027-W07" and len(periods) == 12
    for week, slug in enumerate(slugs):
        assert slug not in slugs[max(0, week - planner.PLAY_MEMORY) : week], (week, slugs)
    for start in range(len(slugs) - planner.PLAY_MEMORY + 1):
        assert len(set(slugs[start : start + planner.PLAY_MEMORY])) == planner.PLAY_MEMORY
    # Planning a week again (a replan, a second worker) keeps the row and the play it already has.
    with transaction(database.sessions) as session:
        session.execute(
            update(DigestSubscriptionRecord)
            .where(DigestSubscriptionRecord.id == subscription_id)
            .values(next_send=FIRST)
        )
        planner.plan(session, FIRST - timedelta(minutes=5))
    with database.sessions() as session:
        again = session.scalar(
            select(DigestPlay.slug).where(
                DigestPlay.subscription_id == subscription_id, DigestPlay.period == "2026-W49"
            )
        )
        keys = session.scalar(
            select(func.count())
            .select_from(DeliveryRecord)
            .where(DeliveryRecord.subject == planner.subject(subscription_id))
        )
    assert again == slugs[0] and keys == 12


# -- exactly once, with the production worker against the Slack stand-in -----------------------------------------


def test_each_subscriber_gets_exactly_one_digest_a_week(harness, database, clock, team):
    channels = ["U0ANA", "U0BEN", "U0CAL", "C0NEWS"]
    ids = {
        channel: subscribe(database, team, channel, user="U0MOD" if channel.startswith("C") else None)
        for channel in channels
    }
    kiwi = subscribe(database, team, "U0KIWI", zone=NZ)
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST + 2 * WEEK + timedelta(hours=1))
    finally:
        worker.close()
    for channel, subscription_id in ids.items():
        sent = posts(harness, channel)
        assert [key_of(post) for post in sent] == [f"digest:{subscription_id}:2026-W{week}" for week in (49, 50, 51)]
        assert attempts(harness, channel) == 3
    assert [key_of(post) for post in posts(harness, "U0KIWI")] == [f"digest:{kiwi}:2026-W{w}" for w in (49, 50, 51)]
    kiwi_rows = rows(database, kiwi)
    assert [local(row.due_at, NZ).strftime("%a %H:%M") for row in kiwi_rows] == ["Mon 07:00"] * 3
    assert all(row.state == "sent" for row in kiwi_rows)


@pytest.mark.parametrize(
    "channels",
    [
        pytest.param(["C0ANA", "C0BEN", "C0CAL", "C0DAN", "C0NEWS", "C0TEAM"], id="channels"),
        pytest.param(["U0ANA", "U0BEN", "U0CAL", "U0DAN", "C0NEWS", "C0TEAM"], id="dms-and-channels"),
    ],
)
def test_a_worker_killed_mid_run_and_restarted_sends_no_duplicate_and_misses_none(
    harness, database, clock, team, channels
):
    ids = {
        channel: subscribe(database, team, channel, user="U0MOD" if channel.startswith("C") else None)
        for channel in channels
    }
    week50 = {channel: f"digest:{ids[channel]}:2026-W50" for channel in channels}
    crashed_after_post, crashed_before_post, never_claimed = (
        [channels[0], "C0NEWS", channels[2]],
        [channels[1]],
        [channels[3], "C0TEAM"],
    )
    first = sandbox_worker(harness, None, clock)
    try:
        run_digests(first, clock, FIRST + timedelta(hours=1))  # week 49 goes out normally
        run_digests(first, clock, FIRST + WEEK - timedelta(minutes=10))  # week 50 is planned
        # At the due time the worker sends some, then dies before recording them as sent.
        held_back = [week50[c] for c in crashed_before_post + never_claimed]
        with transaction(database.sessions) as session:
            session.execute(
                update(DeliveryRecord).where(DeliveryRecord.key.in_(held_back)).values(due_at=FIRST + 3 * WEEK)
            )
        clock.set(FIRST + WEEK)
        assert first.deliver().sent == len(crashed_after_post)
    finally:
        first.close()
    with transaction(database.sessions) as session:
        session.execute(update(DeliveryRecord).where(DeliveryRecord.key.in_(held_back)).values(due_at=FIRST + WEEK))
        # Slack has these posts, but the database still says `sending` (no ts recorded) ...
        session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.key.in_([week50[c] for c in crashed_after_post]))
            .values(state="sending", sent_ref=None, finished_at=None, reason="")
        )
        # ... this one was claimed but never reached Slack; the rest were never claimed at all.
        session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.key.in_([week50[c] for c in crashed_before_post]))
            .values(state="sending", claimed_at=clock(), attempts=1)
        )
    before = {channel: len(posts(harness, channel)) for channel in channels}
    assert before == {c: 2 if c in crashed_after_post else 1 for c in channels}
    clock.advance(LAPSES_AFTER + timedelta(seconds=30))
    second = sandbox_worker(harness, None, clock)
    try:
        run_digests(second, clock, FIRST + WEEK + timedelta(hours=2))
    finally:
        second.close()
    after = {channel: len(posts(harness, channel)) for channel in channels}
    assert after == dict.fromkeys(channels, 2), "one digest of each week in each place"
    with database.sessions() as session:
        final = {
            row.key: row
            for row in session.scalars(select(DeliveryRecord).where(DeliveryRecord.key.in_(week50.values())))
        }
    assert {row.state for row in final.values()} == {"sent"}
    assert [final[week50[c]].reason for c in crashed_after_post] == ["found after a restart"] * 3
    assert all(final[week50[c]].sent_ref for c in channels)
    for channel in channels:
        keys = Counter(key_of(post) for post in posts(harness, channel))
        assert keys == Counter({f"digest:{ids[channel]}:2026-W49": 1, week50[channel]: 1}), (channel, keys)


def test_a_storm_of_rate_limits_delays_digests_but_loses_and_repeats_none(harness, database, clock, team):
    channels = [f"U0P{n:02d}" for n in range(7)] + ["C0NEWS"]
    ids = {
        channel: subscribe(database, team, channel, user="U0MOD" if channel.startswith("C") else None)
        for channel in channels
    }
    harness.standin.rate_limit("chat.postMessage", per_minute=3)
    harness.standin.inject("chat.postMessage", status=429, times=2, retry_after=7)
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST + timedelta(hours=1))
    finally:
        worker.close()
    limited = [call for call in harness.standin.calls_to("chat.postMessage") if call.status == 429]
    assert len(limited) >= 3, "the storm happened"
    assert harness.standin.calls_to("conversations.history") == [], (
        "a post refused with a 429 went nowhere: its retry needs no check of the channel's history"
    )
    for channel, subscription_id in ids.items():
        assert [key_of(post) for post in posts(harness, channel)] == [f"digest:{subscription_id}:2026-W49"]
    sent_at = sorted(row.finished_at for channel in channels for row in rows(database, ids[channel]))
    assert sent_at[-1] - sent_at[0] >= timedelta(minutes=2), "8 posts at 3 a minute take over two minutes"
    assert sent_at[-1] < FIRST + timedelta(minutes=10)


def test_a_person_who_left_and_a_channel_without_the_bot_stop_their_subscriptions(harness, database, clock, team):
    stay, left, removed = (
        subscribe(database, team, "U0STAY"),
        subscribe(database, team, "U0LEFT"),
        subscribe(database, team, "C0GONE", user="U0MOD"),
    )
    harness.standin.set_user("U0LEFT", deleted=True)
    harness.standin.fail_channel("C0GONE", "not_in_channel")
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST + timedelta(hours=1))
        for subscription_id, reason in ((left, "account_inactive"), (removed, "not_in_channel")):
            gone = stored(database, team, subscription_id)
            assert (gone.active, gone.reason, gone.next_send) == (False, reason, None)
            [row] = rows(database, subscription_id)
            assert (row.state, row.reason, row.attempts) == ("failed", reason, 1)
        run_digests(worker, clock, FIRST + 2 * WEEK + timedelta(hours=1))
    finally:
        worker.close()
    assert attempts(harness, "U0LEFT") == 1 and attempts(harness, "C0GONE") == 1, "tried once, never again"
    assert len(posts(harness, "U0STAY")) == 3 and stored(database, team, stay).active
    assert len(rows(database, left)) == 1 and len(rows(database, removed)) == 1


def test_a_quiet_week_sends_a_short_note_or_nothing_as_the_subscriber_chose(harness, database, clock, team):
    note, skip = subscribe(database, team, "U0NOTE"), subscribe(database, team, "U0SKIP")
    with transaction(database.sessions) as session:
        subscriptions.change(session, team, skip, "U0SKIP", NOW, moderator=False, quiet_weeks="skip")
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST + timedelta(hours=1))  # week 49: nothing new anywhere
        with transaction(database.sessions) as session:
            add_tip(session, team, "Name one thing a student taught you", helpful=2, created=clock())
        run_digests(worker, clock, FIRST + WEEK + timedelta(hours=1))  # week 50: a new tip
    finally:
        worker.close()
    [quiet, busy] = posts(harness, "U0NOTE")
    assert [key_of(post) for post in (quiet, busy)] == [f"digest:{note}:2026-W49", f"digest:{note}:2026-W50"]
    assert "quiet week" in quiet["text"].lower() and len(quiet["blocks"]) <= 5
    assert "Name one thing a student taught you" in busy["text"]
    [skipped, sent] = rows(database, skip)
    assert skipped.state == "skipped" and "quiet week" in skipped.reason
    assert sent.state == "sent"
    [only] = posts(harness, "U0SKIP")
    assert key_of(only) == sent.key and "Name one thing a student taught you" in only["text"]


def test_paused_subscriptions_get_nothing_and_resumed_ones_get_the_next(harness, database, clock, team):
    steady, paused, wavering = (
        subscribe(database, team, "U0STEADY"),
        subscribe(database, team, "U0PAUSED"),
        subscribe(database, team, "U0WAVER"),
    )
    with transaction(database.sessions) as session:
        subscriptions.set_paused(session, team, paused, "U0PAUSED", True, NOW, moderator=False)
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST - timedelta(minutes=10))  # week 49 planned for all who are not paused
        with transaction(database.sessions) as session:  # paused after its digest was planned
            subscriptions.set_paused(session, team, wavering, "U0WAVER", True, clock(), moderator=False)
        run_digests(worker, clock, FIRST + timedelta(hours=1))
        assert [row.state for row in rows(database, wavering)] == ["skipped"]
        assert rows(database, wavering)[0].reason == "paused" and rows(database, paused) == []
        with transaction(database.sessions) as session:
            subscriptions.set_paused(session, team, paused, "U0PAUSED", False, clock(), moderator=False)
            resumed = subscriptions.set_paused(session, team, wavering, "U0WAVER", False, clock(), moderator=False)
        assert resumed.next_send == FIRST + WEEK, "the next Monday, not the one just skipped"
        run_digests(worker, clock, FIRST + WEEK + timedelta(hours=1))
    finally:
        worker.close()
    assert [key_of(p) for p in posts(harness, "U0STEADY")] == [f"digest:{steady}:2026-W{w}" for w in (49, 50)]
    assert [key_of(p) for p in posts(harness, "U0PAUSED")] == [f"digest:{paused}:2026-W50"]
    assert [key_of(p) for p in posts(harness, "U0WAVER")] == [f"digest:{wavering}:2026-W50"]


def test_pausing_and_resuming_before_the_send_time_still_sends_that_weeks_digest_once(harness, database, clock, team):
    subscription_id = subscribe(database, team, "U0FICKLE")
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST - timedelta(minutes=10))
        with transaction(database.sessions) as session:
            subscriptions.set_paused(session, team, subscription_id, "U0FICKLE", True, clock(), moderator=False)
            subscriptions.set_paused(session, team, subscription_id, "U0FICKLE", False, clock(), moderator=False)
        run_digests(worker, clock, FIRST + timedelta(hours=1))
    finally:
        worker.close()
    assert [key_of(p) for p in posts(harness, "U0FICKLE")] == [f"digest:{subscription_id}:2026-W49"]


def test_an_unsubscribed_digest_already_planned_is_skipped(harness, database, clock, team):
    subscription_id = subscribe(database, team, "U0BYE")
    worker = sandbox_worker(harness, None, clock)
    try:
        run_digests(worker, clock, FIRST - timedelta(minutes=10))
        with transaction(database.sessions) as session:
            subscriptions.unsubscribe(session, team, subscription_id, "U0BYE", clock(), moderator=False)
        run_digests(worker, clock, FIRST + WEEK + timedelta(hours=1))
    finally:
        worker.close()
    assert posts(harness, "U0BYE") == []
    assert [(row.state, row.reason) for row in rows(database, subscription_id)] == [("skipped", "unsubscribed")]


def test_period_is_the_subscribers_own_iso_week(database, team):
    kiwi = subscribe(database, team, "U0KIWI", zone=NZ, now=datetime(2026, 12, 27, tzinfo=UTC))
    due = stored(database, team, kiwi).next_send
    assert local(due, NZ).date() == date(2026, 12, 28) and due.date() == date(2026, 12, 27)
    with transaction(database.sessions) as session:
        planner.plan(session, due - timedelta(minutes=1))
    [row] = rows(database, kiwi)
    assert row.key == f"digest:{kiwi}:2026-W53"
