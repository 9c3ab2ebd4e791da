"""Slack's 2025 read limits for an app distributed outside the Marketplace (conversations.history and .replies:
1 call a minute per workspace, 15 messages a call), met by the stand-in when told the app is distributed:
tip reactions read through reactions.get, a rate-limited read queued for the worker (never slept out on a
reply worker), and the crash check paging 15 at a time within a budget of one history call a minute."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import FIXED_NOW
from slack_helpers import reply

from bot.bootstrap import Database
from bot.delivery.errors import Deferred
from bot.delivery.outbox import Outgoing
from bot.sandbox.chat_run import FakeClock, sandbox_worker
from bot.sandbox.harness import SANDBOX_TOKEN, BotHarness
from bot.sandbox.slack_api import SlackStandIn
from bot.slack.client import GuardedWebClient
from bot.slack.poster import METADATA_EVENT, SlackPoster
from bot.slack.services import Services
from bot.tips import store

COLLEAGUE = "U0COLLEAGUE"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FIXED_NOW)


@pytest.fixture
def distributed(database: Database, clock: FakeClock) -> Iterator[BotHarness]:
    """The bot, installed as a distributed app: the stand-in answers history and replies as Slack does then."""
    services = Services(database.sessions, clock=clock, rng=random.Random(3))
    with BotHarness(database, services=services, standin=SlackStandIn(distributed=True)) as harness:
        yield harness


def tips_with(database: Database, team: str, word: str) -> list[store.Tip]:
    with database.sessions() as session:
        return [tip for tip in store.newest(session, team, limit=200) if word in tip.text]


def test_ten_reactions_in_a_minute_all_become_tips_and_play_answers_meanwhile(
    distributed: BotHarness, database: Database
) -> None:
    channel = distributed.workspace.channel_id
    messages = [
        distributed.standin.seed_message(channel, COLLEAGUE, f"Idea number {n} zqten{n} for the class")
        for n in range(10)
    ]

    reactions = [distributed.react("bulb", message) for message in messages]
    play = reply(distributed.slash("/play", "station rotation"))

    assert all(r.status == 200 and "Saved your tip" in r.api("chat.postEphemeral")[0].args["text"] for r in reactions)
    assert [len(tips_with(database, distributed.workspace.team_id, f"zqten{n}")) for n in range(10)] == [1] * 10
    assert not distributed.standin.calls_to("conversations.history")
    assert not distributed.standin.calls_to("conversations.replies")
    assert "station" in play["text"].lower()


def test_a_rate_limited_read_is_queued_and_saved_by_the_worker_with_word_to_the_teacher(
    distributed: BotHarness, database: Database, clock: FakeClock
) -> None:
    channel = distributed.workspace.channel_id
    message = distributed.standin.seed_message(channel, COLLEAGUE, "Sticky-note exit poll zqlater")
    distributed.standin.inject("reactions.get", status=429, retry_after=60)

    exchange = distributed.react("bulb", message)

    assert len(exchange.api("reactions.get")) == 1, "one try: nothing is slept out on a reply worker"
    [told] = exchange.api("chat.postEphemeral")
    assert "in about a minute" in told.args["text"] and "ratelimited" not in told.args["text"]
    assert tips_with(database, distributed.workspace.team_id, "zqlater") == []

    worker = sandbox_worker(distributed, None, clock)
    try:
        assert worker.save_queued_reactions() == 0, "not before Slack's Retry-After"
        clock.advance(timedelta(seconds=61))
        mark = len(distributed.standin.calls)
        assert worker.save_queued_reactions() == 1
        assert worker.save_queued_reactions() == 0, "saved once"
    finally:
        worker.close()
    [tip] = tips_with(database, distributed.workspace.team_id, "zqlater")
    assert (tip.author, tip.shared_by, tip.source) == (COLLEAGUE, distributed.workspace.user_id, "reaction")
    [saved] = [call for call in distributed.standin.calls[mark:] if call.method == "chat.postEphemeral"]
    assert saved.args["user"] == distributed.workspace.user_id and "Saved your tip" in saved.args["text"]


def outgoing(key: str, channel: str, team: str = "T0SANDBOX") -> Outgoing:
    return Outgoing(
        id=1,
        key=key,
        team_id=team,
        subject="notice:1",
        target="slack",
        channel=channel,
        due_at=FIXED_NOW,
        expires_at=None,
        payload={},
        attempts=1,
        resumed_from=FIXED_NOW - timedelta(seconds=30),
    )


def test_the_crash_check_reads_15_at_a_time_within_one_history_call_a_minute(clock: FakeClock) -> None:
    with SlackStandIn(distributed=True, wall_clock=clock, clock=lambda: clock().timestamp()) as standin:
        client = GuardedWebClient(token=SANDBOX_TOKEN, base_url=standin.api_url, retry_handlers=[])
        poster = SlackPoster(lambda _team: client, clock)
        standin.seed_message(
            "C0BUSY", "U0BOT", "the post", metadata={"event_type": METADATA_EVENT, "event_payload": {"key": "k:busy"}}
        )
        for n in range(20):  # a busy channel: twenty messages after ours
            standin.seed_message("C0BUSY", "U0SOMEONE", f"chatter {n}")

        with pytest.raises(Deferred):  # the newest 15 don't hold it: the next page, in a minute
            poster.find_sent(outgoing("k:busy", "C0BUSY"), {})
        with pytest.raises(Deferred):  # another check in the same workspace waits for the next minute too
            poster.find_sent(outgoing("k:other", "C0QUIET"), {})
        [first] = standin.calls_to("conversations.history")
        assert int(first.args["limit"]) == 15

        clock.advance(timedelta(seconds=61))
        found = poster.find_sent(outgoing("k:busy", "C0BUSY"), {})

        assert found is not None and len(standin.calls_to("conversations.history")) == 2
        assert all(call.status == 200 for call in standin.calls_to("conversations.history")), "never a 429"
