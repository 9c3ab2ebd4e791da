"""`plchat digest send` killed with SIGKILL mid-run under a rate limit of 8 a second: the rerun takes over its
claimed rows at once, waits out the limit and sends every digest owed exactly once, in that one run; the worker
and `plchat digest send` sending at the same time repeat none. `bench/kill_senders.py` does the same at many
more random points."""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from typer.testing import CliRunner, Result

from bot.bootstrap import Database
from bot.models import DeliveryRecord
from bot.sandbox.crash_run import POST, SkippedTime, posted, start_digest_send, start_sender, subscribe, wait_for_posts
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn

pytestmark = pytest.mark.slow  # kill -9 of plchat digest send and the worker, on the real clock

PER_TEAM = 20  # 40 digests: five seconds' worth at 8 a second


@pytest.fixture
def skipped() -> SkippedTime:
    """The stand-in's time: the real clock, plus what a rerun skips (`rerun_skips_waits`)."""
    return SkippedTime()


@pytest.fixture
def rerun_skips_waits(monkeypatch: pytest.MonkeyPatch, skipped: SkippedTime) -> None:
    """The rerun (in this process) waits out rate limits on `skipped`, at once, as the stand-in sees it."""
    monkeypatch.setattr("bot.cli.digest._now", skipped.now)
    monkeypatch.setattr("bot.cli.digest._sleep", skipped.sleep)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, database: Database, skipped: SkippedTime) -> Iterator[SlackStandIn]:
    with SlackStandIn(clock=skipped.monotonic) as standin:
        for name, value in (
            ("DATABASE_URL", database.engine.url.render_as_string(hide_password=False)),
            ("SLACK_BOT_TOKEN", SANDBOX_TOKEN),
            ("SLACK_API_URL", standin.api_url),
            ("SLACK_HISTORY_PER_MINUTE", "50"),
        ):  # an internal app's Tier 3: checks go fast
            monkeypatch.setenv(name, value)
        yield standin


def teams() -> tuple[str, ...]:
    return tuple(f"T{uuid.uuid4().hex[:8].upper()}" for _ in range(2))


def send_digests() -> Result:
    from bot.cli import cli

    return CliRunner().invoke(cli, ["digest", "send"])


def open_rows(database: Database, users: list[str]) -> list[str]:
    with database.sessions() as session:
        return list(
            session.scalars(
                select(DeliveryRecord.state).where(
                    DeliveryRecord.channel.in_(users), DeliveryRecord.state.in_(("pending", "sending"))
                )
            )
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_rerun_right_after_killing_plchat_digest_send_under_a_1_second_rate_limit_sends_every_owed_digest_once(
    database: Database, slack: SlackStandIn, skipped: SkippedTime, rerun_skips_waits: None, seed: int
) -> None:
    users = subscribe(database.sessions, teams(), PER_TEAM, datetime.now(UTC))
    rng = random.Random(seed)
    slack.rate_limit(POST, 8, window=1)  # 8 a second, then 429 with Retry-After: 1
    slack.inject(POST, delay=0.03, times=10**9)  # slow answers: the kill lands in sends as well as in waits
    url = database.engine.url.render_as_string(hide_password=False)
    process = start_digest_send(url, slack.api_url, SANDBOX_TOKEN, SLACK_HISTORY_PER_MINUTE="50")
    kill_after = rng.randint(1, len(users) - 2)
    wait_for_posts(slack, users, kill_after)
    process.kill()  # SIGKILL: no cleanup, no finally
    process.communicate()
    before = posted(slack, users)
    assert 0 < sum(before.values()) < len(users), "killed mid-run"
    owed = open_rows(database, users)

    result = send_digests()  # at once: no waiting for a claim to lapse

    assert result.exit_code == 0, result.output
    assert posted(slack, users) == Counter(dict.fromkeys(users, 1)), "every digest, once, in this one run"
    assert open_rows(database, users) == []
    assert f"{len(owed)} digest(s) were due: {len(owed)} sent." in result.stdout
    if owed.count("sending"):
        assert f"Recovered {owed.count('sending')} digest(s) a stopped sender had claimed" in result.stdout
    if len(owed) > 8:
        assert skipped.waits, "it waited out the rate limit"


def test_the_worker_and_plchat_digest_send_at_the_same_time_repeat_nothing(
    database: Database, slack: SlackStandIn
) -> None:
    users = subscribe(database.sessions, teams(), PER_TEAM, datetime.now(UTC))
    url = database.engine.url.render_as_string(hide_password=False)
    held = slack.hold(POST)  # the worker's posts wait in the stand-in: it is mid-send when the CLI starts
    process, started = start_sender(url, slack.api_url, SANDBOX_TOKEN)
    assert started.wait(60), "the sender planned"
    assert held.wait_arrived(60), "the worker claimed the digests and is sending them"

    def release_after_claim(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "row_number() OVER" in statement:  # the CLI has claimed what it could: let the worker's posts go
            held.release()

    event.listen(Engine, "after_cursor_execute", release_after_claim)  # the CLI's engine, in this process
    try:
        result = send_digests()  # while the worker sends
    finally:
        event.remove(Engine, "after_cursor_execute", release_after_claim)
        held.release()

    assert result.exit_code == 0, result.output
    assert re.search(r"^(\d+) digest\(s\) were due: \1 sent\.$", result.stdout, re.MULTILINE), (
        "it waited for the rows the worker held, and they went"
    )
    process.join(120)
    assert process.exitcode == 0
    assert posted(slack, users) == Counter(dict.fromkeys(users, 1))
    assert open_rows(database, users) == []
