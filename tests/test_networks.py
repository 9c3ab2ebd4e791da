"""Chats on Bluesky and Mastodon beside Slack and X: the production worker against the four stand-ins, on both
databases, with a kill -9 mid-chat per network, 429s, an expired Bluesky session, instances with 280 and 1,000
characters, and hostile answers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import CHAT_MODERATOR
from conftest import schedule as schedule_chat
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.chats import store
from bot.chats.answers import build_recap
from bot.chats.definition import parse_chat_file
from bot.chats.spec import ChatSpec, Question
from bot.db import transaction
from bot.models import ChatAnswer, DeliveryRecord, NetworkSession, TipRecord
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.chat_run import FakeClock, run_until, sandbox_worker
from bot.sandbox.crash_run import start_chat_sender
from bot.sandbox.harness import BotHarness
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.slack import chat_replies
from bot.slack.markup import live_markup
from bot.slack.services import Services
from bot.social import chat_text
from bot.social.bluesky import graphemes, record_key
from bot.social.mastodon import mastodon_length
from bot.social.x import X_RULE

CHANNEL = "C0PLCHAT"
MODERATOR = CHAT_MODERATOR
PUBLIC = "https://plchat.example.org"
CHAT_FILE = """\
title: "Feedback that moves learning 🌱"
hashtag: PLChat
starts: 2026-12-01 17:00
timezone: America/Los_Angeles
duration: 30
slack_channels: [C0PLCHAT]
post_to_x: true
post_to_bluesky: true
post_to_mastodon: true
questions:
  - at: 5
    text: "How do your students give each other feedback?"
  - at: 15
    text: "Which tool made feedback faster this year?"
"""
START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 17:00 in Los Angeles on Dec 1
SLUGS = ["reminder-1440m", "reminder-60m", "welcome", "q1", "q2", "wrapup", "recap"]


@pytest.fixture(autouse=True)
def _only_this_tests_chats(no_chats) -> None:
    """Tests here share a module database: each starts with no chats (conftest's `no_chats`)."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START - timedelta(days=2))


def schedule(harness: BotHarness, clock: FakeClock, text: str = CHAT_FILE) -> int:
    return schedule_chat(harness, clock, text)


def rows(harness: BotHarness, target: str) -> list[DeliveryRecord]:
    with harness.database.sessions() as session:
        return list(
            session.scalars(
                select(DeliveryRecord)
                .where(DeliveryRecord.target == target)
                .order_by(DeliveryRecord.due_at, DeliveryRecord.id)
            )
        )


def slugs(harness: BotHarness, target: str) -> list[str]:
    return [row.key.split(":")[3] for row in rows(harness, target) if row.state == "sent"]


def test_a_whole_chat_runs_on_all_four_networks_and_collects_their_answers(harness, x, bluesky, mastodon, clock):
    chat_id = schedule(harness, clock)
    worker = sandbox_worker(harness, x, clock, bluesky=bluesky, mastodon=mastodon, plchat_public_url=PUBLIC)
    try:
        run_until(worker, clock, START + timedelta(minutes=6))
        q1 = {
            row.target: row.sent_ref
            for row in rows(harness, "bluesky") + rows(harness, "mastodon")
            if row.key.split(":")[3] == "q1"
        }
        # On Bluesky: an A1 with the hashtag, and a plain reply to the Q1 post; on Mastodon the same two ways.
        bluesky.add_post("ana.bsky.social", "A1 Two stars and a wish #PLChat", clock())
        bluesky.add_post(
            "ben.bsky.social",
            "@plchat.bsky.social Gallery walks with sticky notes",
            clock(),
            reply_to=f"at://{bluesky.did}/app.bsky.feed.post/{q1['bluesky']}",
        )
        mastodon.add_status("cam@edutooters.net", "A1 Peer conferences on Fridays #PLChat")
        mastodon.add_status("dee@mastodon.social", "@plchat Rubrics the class wrote", in_reply_to_id=q1["mastodon"])
        mastodon.add_status("eve@mastodon.social", "Loving tonight's #PLChat")  # no answer
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()

    for target in ("slack", "x", "bluesky", "mastodon"):
        assert slugs(harness, target) == SLUGS, target
    assert {row.state for target in ("slack", "x", "bluesky", "mastodon") for row in rows(harness, target)} == {"sent"}
    # Each post went out on time: at its due minute on the injected clock.
    for row in rows(harness, "bluesky") + rows(harness, "mastodon"):
        assert row.finished_at - row.due_at < timedelta(seconds=2), row.key
    # Bluesky: the record key is the delivery's TID, the hashtag a real tag facet at its UTF-8 byte offsets.
    posted = bluesky.posts_by_me()
    assert [post.rkey for post in posted] == [record_key(row.key, row.due_at) for row in rows(harness, "bluesky")]
    welcome = posted[2]
    tags = [facet for facet in welcome.facets if facet["features"][0]["$type"] == "app.bsky.richtext.facet#tag"]
    assert tags and all(
        welcome.text.encode()[f["index"]["byteStart"] : f["index"]["byteEnd"]] == b"#PLChat" for f in tags
    )
    link = [facet for facet in posted[-1].facets if facet["features"][0]["$type"].endswith("#link")]
    assert link and link[0]["features"][0]["uri"] == f"{PUBLIC}/chats/{chat_id}"
    # Mastodon: every post carried its delivery key as Idempotency-Key.
    keys = [call.idempotency_key for call in mastodon.calls_to("/api/v1/statuses")]
    assert keys == [row.key for row in rows(harness, "mastodon")]
    # The answers are tips, credited to their handles and linked to their posts, and in the recap.
    with harness.database.sessions() as session:
        tips = {tip.author: tip for tip in session.scalars(select(TipRecord))}
        recap = build_recap(session, chat_id, date(2026, 12, 1))
        participants = Counter(p.split(":")[0] for p in session.scalars(select(ChatAnswer.participant)))
    assert {"@ana.bsky.social", "@ben.bsky.social", "@cam@edutooters.net", "@dee@mastodon.social"} <= set(tips)
    assert "@eve@mastodon.social" not in tips
    assert tips["@ben.bsky.social"].text == "Gallery walks with sticky notes"
    assert tips["@ana.bsky.social"].source == "bluesky" and tips["@cam@edutooters.net"].source == "mastodon"
    assert tips["@ana.bsky.social"].permalink.startswith("https://bsky.app/profile/ana.bsky.social/post/")
    assert participants == Counter({"bluesky": 2, "mastodon": 2})
    assert recap.questions[0].answer_count == 4 and recap.participants == 4
    assert {answer.via for answer in recap.questions[0].answers} == {"bluesky", "mastodon"}  # the top three
    slack_recap = [
        call.args for call in harness.standin.calls_to("chat.postMessage") if call.args.get("channel") == CHANNEL
    ][-1]
    assert "on Bluesky" in str(slack_recap["blocks"]) and "on Mastodon" in str(slack_recap["blocks"])
    assert bluesky.logins == 1


def test_a_chat_on_the_networks_alone_needs_no_slack_channel(harness, bluesky, mastodon, clock):
    text = CHAT_FILE.replace("slack_channels: [C0PLCHAT]", "slack_channels: []").replace(
        "post_to_x: true", "post_to_x: false"
    )
    schedule(harness, clock, text)
    worker = sandbox_worker(harness, None, clock, bluesky=bluesky, mastodon=mastodon, plchat_public_url=PUBLIC)
    try:
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    assert slugs(harness, "bluesky") == slugs(harness, "mastodon") == SLUGS
    assert rows(harness, "slack") == [] and harness.standin.calls_to("chat.postMessage") == []


def test_a_network_not_connected_is_skipped_and_scheduling_says_so(harness, clock):
    spec = parse_chat_file(CHAT_FILE, default_timezone="America/Los_Angeles")
    services = Services(
        harness.database.sessions, clock=clock, moderators=frozenset({MODERATOR}), connected_networks=frozenset({"x"})
    )
    answer = chat_replies.save_form(services, harness.workspace.team_id, MODERATOR, spec, None)
    notice = answer["blocks"][0]["text"]["text"]
    assert "Bluesky isn't connected" in notice and "BLUESKY_HANDLE" in notice and "MASTODON_BASE_URL" in notice
    assert "X isn't" not in notice
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    skipped = list(rows(harness, "bluesky"))
    assert skipped and {row.state for row in skipped} == {"skipped"} and "not connected" in skipped[0].reason
    assert slugs(harness, "slack") == SLUGS


def test_a_429_on_one_network_holds_only_that_networks_posts(harness, x, bluesky, mastodon, clock):
    schedule(harness, clock)
    worker = sandbox_worker(harness, x, clock, bluesky=bluesky, mastodon=mastodon, plchat_public_url=PUBLIC)
    try:
        run_until(worker, clock, START - timedelta(minutes=1))
        bluesky.inject("com.atproto.repo.createRecord", status=429, reset_in=90)
        mastodon.inject("/api/v1/statuses", status=429, reset_in=150)
        run_until(worker, clock, START + timedelta(seconds=1))
        # The welcome is out on Slack and X at once; Bluesky and Mastodon wait for their own resets.
        assert slugs(harness, "slack")[-1] == slugs(harness, "x")[-1] == "welcome"
        assert "welcome" not in slugs(harness, "bluesky") and "welcome" not in slugs(harness, "mastodon")
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    for target in ("slack", "x", "bluesky", "mastodon"):
        assert slugs(harness, target) == SLUGS, target
    welcome = {
        row.target: row.finished_at - START
        for row in rows(harness, "bluesky") + rows(harness, "mastodon")
        if row.key.split(":")[3] == "welcome"
    }
    # (Mastodon.py moves the reset onto this machine's clock by the answer's Date, which has whole seconds.)
    assert timedelta(seconds=90) <= welcome["bluesky"] < timedelta(seconds=149) <= welcome["mastodon"]
    assert len({post.text for post in bluesky.posts_by_me()}) == len(SLUGS)


def test_an_expired_bluesky_session_is_refreshed_and_a_restart_does_not_log_in_again(harness, bluesky, clock):
    schedule(
        harness,
        clock,
        CHAT_FILE.replace("post_to_x: true", "post_to_x: false").replace(
            "post_to_mastodon: true", "post_to_mastodon: false"
        ),
    )
    first = sandbox_worker(harness, None, clock, bluesky=bluesky, plchat_public_url=PUBLIC)
    try:
        run_until(first, clock, START + timedelta(minutes=1))
    finally:
        first.close()
    bluesky.expire_sessions()  # as after a long night: the kept access token answers ExpiredToken
    second = sandbox_worker(harness, None, clock, bluesky=bluesky, plchat_public_url=PUBLIC)  # a restart
    try:
        run_until(second, clock, START + timedelta(minutes=45))
    finally:
        second.close()
    assert slugs(harness, "bluesky") == SLUGS
    assert bluesky.logins == 1, "one password login across the restart and the expired token"
    assert bluesky.calls_to("com.atproto.server.refreshSession")
    with harness.database.sessions() as session:
        sealed = session.scalar(select(NetworkSession.sealed))
    assert sealed and "accessJwt" not in sealed and "eyJ" not in sealed, "the kept session is sealed"


@pytest.mark.parametrize("limit", [200, 280, 1000])
def test_posts_fit_the_mastodon_instances_own_limit(harness, clock, limit):
    long_title = "Feedback that moves learning, " * 5  # 149 characters: the longest a title may be
    text = CHAT_FILE.replace('"Feedback that moves learning 🌱"', f'"{long_title.strip()}"')
    schedule(
        harness,
        clock,
        text.replace("post_to_x: true", "post_to_x: false").replace("post_to_bluesky: true", "post_to_bluesky: false"),
    )
    with MastodonStandIn(clock=clock, max_characters=limit) as mastodon:
        worker = sandbox_worker(harness, None, clock, mastodon=mastodon, plchat_public_url=PUBLIC)
        try:
            run_until(worker, clock, START + timedelta(minutes=45))
        finally:
            worker.close()
        statuses = [status.text for status in mastodon.statuses_by_me()]
        instance_reads = mastodon.calls_to("/api/v2/instance")
    assert slugs(harness, "mastodon") == SLUGS
    assert all(mastodon_length(status) <= limit for status in statuses)
    # The reminder with the longest title allowed is 250 characters: cut on a 200-character instance only.
    assert ("…" in statuses[0]) == (limit == 200), "the title is cut only where it does not fit"
    assert long_title.strip() in statuses[0] or limit == 200
    # Once for the limit, and once by Mastodon.py itself (cached) to see that hashtag timelines are open to read.
    assert len(instance_reads) == 2, "not once per post"


def test_hostile_answers_from_the_networks_ping_nobody_in_the_slack_recap(harness, bluesky, mastodon, clock):
    schedule(harness, clock, CHAT_FILE.replace("post_to_x: true", "post_to_x: false"))
    worker = sandbox_worker(harness, None, clock, bluesky=bluesky, mastodon=mastodon, plchat_public_url=PUBLIC)
    hostile = "A1 <!channel> <!here> <@U0BOSS> <!subteam^S0ALL> @everyone *bold* <https://evil.example|click> \ud800"
    try:
        run_until(worker, clock, START + timedelta(minutes=6))
        bluesky.add_post("mallory.bsky.social", hostile + " #PLChat", clock())
        mastodon.add_status("mallory@evil.example", hostile + " #PLChat")
        run_until(worker, clock, START + timedelta(minutes=45))
    finally:
        worker.close()
    with harness.database.sessions() as session:
        saved = [
            tip.text for tip in session.scalars(select(TipRecord).where(TipRecord.source.in_(("bluesky", "mastodon"))))
        ]
    assert len(saved) == 2 and all("<!channel>" in text for text in saved), "kept as typed, in the store"
    recap = [call.args for call in harness.standin.calls_to("chat.postMessage") if call.args.get("channel") == CHANNEL][
        -1
    ]
    assert "mallory" in str(recap["blocks"])
    live = live_markup(recap)  # the bot's own date, archive and "view" links are live; nothing of their text
    assert live and not [
        token for token in live if token.startswith(("<!channel", "<!here", "<@", "<!subteam")) or "click" in token
    ]


@pytest.mark.slow  # a worker process killed with SIGKILL
@pytest.mark.parametrize("network", ["bluesky", "mastodon"])
def test_a_worker_killed_mid_chat_posts_every_question_once(database, network, tmp_path):
    """A real SIGKILL while a post's answer is on its way back (the network has it, the outbox does not know),
    then another worker at once: every post of the chat so far is on the network exactly once."""
    now = datetime.now(UTC)
    standin = BlueskyStandIn() if network == "bluesky" else MastodonStandIn()
    with standin:
        settings = (
            {
                "bluesky_handle": standin.handle,
                "bluesky_app_password": standin.password,
                "bluesky_service_url": standin.base_url,
            }
            if isinstance(standin, BlueskyStandIn)
            else {"mastodon_base_url": standin.base_url, "mastodon_access_token": standin.token}
        )
        create = "com.atproto.repo.createRecord" if network == "bluesky" else "/api/v1/statuses"
        # Started a minute ago (well within the posts' grace): every post is due before the sender starts. From
        # the minute's start, the last ones could still be seconds ahead when the rerun found nothing due and
        # stopped, leaving them unsent.
        local = (now - timedelta(minutes=1)).astimezone(UTC).replace(tzinfo=None, second=0, microsecond=0)
        spec = ChatSpec(
            title="Crash test",
            hashtag="PLChat",
            starts=local,
            timezone="UTC",
            duration=15,
            repeat="none",
            until=None,
            skip=(),
            slack_channels=(),
            post_to_x=False,
            reminders=(),
            questions=tuple(Question(number * 0.01, f"Question {number}?") for number in range(6)),
            post_to_bluesky=network == "bluesky",
            post_to_mastodon=network == "mastodon",
        )
        with transaction(database.sessions) as session:
            chat = store.create_chat(session, "T0CRASH", spec, "cli", now)
        standin.inject(create, delay=0.01, times=3)
        standin.inject(create, delay=120, after=True)  # the 4th post goes out; its answer never comes back
        url = database.engine.url.render_as_string(hide_password=False)
        process, started = start_chat_sender(url, settings)
        assert started.wait(60), "the sender planned"
        standin.wait_for(
            lambda calls: sum(getattr(c, "nsid", getattr(c, "route", "")) == create for c in calls) >= 4, timeout=60
        )
        process.kill()  # SIGKILL: no cleanup, no finally
        process.join()

        from bot.bootstrap import open_database
        from bot.config import Settings
        from bot.worker import Worker

        rerun = Worker(
            Settings(_env_file=None, database_url=url, **settings),
            open_database(Settings(_env_file=None, database_url=url)),
            lambda: datetime.now(UTC),
        )
        try:
            for _ in range(20):
                rerun.deliver("chat:")
                with database.sessions() as session:
                    open_rows = session.scalars(
                        select(DeliveryRecord.key).where(
                            DeliveryRecord.subject == store.subject(chat.id),
                            DeliveryRecord.state.in_(("pending", "sending")),
                            DeliveryRecord.due_at <= datetime.now(UTC),
                        )
                    ).all()
                if not open_rows:
                    break
        finally:
            rerun.close()
        texts = (
            [post.text for post in standin.posts_by_me()]
            if isinstance(standin, BlueskyStandIn)
            else [status.text for status in standin.statuses_by_me()]
        )
    counted = Counter(text.split()[0] for text in texts)
    assert open_rows == []
    assert counted == Counter({"Welcome": 1, **{f"Q{number}": 1 for number in range(1, 7)}}), texts


@given(st.text(max_size=200), st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1)))
def test_every_record_key_is_a_valid_tid_of_its_own(key: str, due: datetime) -> None:
    rkey = record_key(key, due.replace(tzinfo=UTC))
    assert len(rkey) == 13 and rkey[0] in "234567abcdefghij"
    assert set(rkey) <= set("234567abcdefghijklmnopqrstuvwxyz")
    assert rkey == record_key(key, due.replace(tzinfo=UTC))
    assert record_key(key + "x", due.replace(tzinfo=UTC)) != rkey


def test_bluesky_counts_graphemes() -> None:
    assert graphemes("👩🏽‍🏫") == 1 and graphemes("é") == 1 and graphemes("Q1") == 2


# -- a reminder sent late says what is really left ----------------------------------------------------------------


def test_a_reminder_sent_late_after_a_restart_says_how_long_is_really_left(harness, mastodon, clock):
    text = (
        CHAT_FILE.replace("post_to_x: true", "post_to_x: false")
        .replace("post_to_bluesky: true", "post_to_bluesky: false")
        .replace("slack_channels: [C0PLCHAT]", "slack_channels: [C0PLCHAT]\nreminders: [1h, 5m]")
    )
    schedule(harness, clock, text)
    first = sandbox_worker(harness, None, clock, mastodon=mastodon)
    try:
        run_until(first, clock, START - timedelta(minutes=6))  # the 1-hour reminder goes out on time
    finally:
        first.close()
    clock.set(START - timedelta(seconds=90))  # down over the 5-minute reminder's due time; within its grace
    second = sandbox_worker(harness, None, clock, mastodon=mastodon)
    try:
        run_until(second, clock, START - timedelta(seconds=30))
    finally:
        second.close()
    slack = [
        call.args["text"]
        for call in harness.standin.calls_to("chat.postMessage")
        if call.args.get("channel") == CHANNEL
    ]
    toots = [status.text for status in mastodon.statuses_by_me()]
    assert len(slack) == len(toots) == 2
    assert "starts in 1 hour" in slack[0] and "(in 1 hour)" in toots[0]
    assert "starts in 2 minutes" in slack[1] and "(in 2 minutes)" in toots[1], (slack[1], toots[1])
    assert "5 minutes" not in slack[1] + toots[1]


@given(
    st.sampled_from([timedelta(minutes=m) for m in (5, 30, 60, 90, 1440)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=10)),
)
def test_a_reminder_never_promises_more_time_than_is_left(lead: timedelta, late: timedelta) -> None:
    from bot.chats.timetable import Post

    post = Post("reminder", "reminder", START, START - lead, START + timedelta(minutes=10), lead=lead)
    sent = START - lead + late
    said = post.lead_at(sent)
    left = max(START - sent, timedelta(0))
    assert timedelta(0) <= said <= lead and said - left < timedelta(minutes=1)
    assert (said == lead) == (late < timedelta(minutes=1))
    words = chat_text.reminder(
        ChatSpec(
            title="T",
            hashtag="PLChat",
            starts=START.replace(tzinfo=None),
            timezone="UTC",
            duration=30,
            repeat="none",
            until=None,
            skip=(),
            slack_channels=(),
            post_to_x=False,
            reminders=(lead,),
            questions=(),
        ),
        START,
        said,
        X_RULE,
    ).text
    assert ("starting now" in words) == (left < timedelta(seconds=30) and said == left)
