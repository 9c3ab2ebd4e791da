"""A sender killed with SIGKILL mid-run, under rate limits: the rerun (`plchat digest send`) takes over its
claimed rows at once and every digest goes out exactly once; the worker and `plchat digest send` sending at
the same time repeat none. `bench/kill_senders.py` does the same at many more random points."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.bootstrap import Database
from bot.models import DeliveryRecord
from bot.sandbox.crash_run import POST, posted, start_sender, subscribe, wait_for_posts
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn

PER_TEAM = 12


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, database: Database) -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        for name, value in (("DATABASE_URL", database.engine.url.render_as_string(hide_password=False)),
                            ("SLACK_BOT_TOKEN", SANDBOX_TOKEN), ("SLACK_API_URL", standin.api_url),
                            ("SLACK_HISTORY_PER_MINUTE", "50")):  # an internal app's Tier 3: checks go fast
            monkeypatch.setenv(name, value)
        yield standin


def teams() -> tuple[str, ...]:
    return tuple(f"T{uuid.uuid4().hex[:8].upper()}" for _ in range(2))


def send_digests() -> Result:
    from bot.cli import cli

    return CliRunner().invoke(cli, ["digest", "send"])


def open_rows(database: Database, users: list[str]) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(DeliveryRecord.state).where(
            DeliveryRecord.channel.in_(users), DeliveryRecord.state.in_(("pending", "sending")))))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_rerun_right_after_a_kill_sends_every_owed_digest_exactly_once(database: Database, slack: SlackStandIn,
                                                                         seed: int) -> None:
    users = subscribe(database.sessions, teams(), PER_TEAM, datetime.now(timezone.utc))
    rng = random.Random(seed)
    # Slow answers, with a 429 (Retry-After: 1) at a random point before or after the kill.
    slack.inject(POST, delay=0.03, times=rng.randint(1, len(users)))
    slack.inject(POST, status=429, retry_after=1)
    slack.inject(POST, delay=0.03, times=10**9)
    url = database.engine.url.render_as_string(hide_password=False)
    process, started = start_sender(url, slack.api_url, SANDBOX_TOKEN)
    assert started.wait(60), "the sender planned"
    kill_after = rng.randint(1, len(users) - 2)
    wait_for_posts(slack, users, kill_after)
    process.kill()  # SIGKILL: no cleanup, no finally
    process.join()
    before = posted(slack, users)
    assert 0 < sum(before.values()) < len(users), "killed mid-run"
    held = open_rows(database, users).count("sending")

    result = send_digests()  # at once: no waiting for a claim to lapse

    assert result.exit_code == 0, result.output
    after = posted(slack, users)
    assert after == Counter({user: 1 for user in users}), "every digest, once"
    assert open_rows(database, users) == []
    if held:
        assert f"Recovered {held} digest(s) a stopped sender had claimed" in result.stdout


def test_the_worker_and_plchat_digest_send_at_the_same_time_repeat_nothing(database: Database,
                                                                           slack: SlackStandIn) -> None:
    users = subscribe(database.sessions, teams(), PER_TEAM, datetime.now(timezone.utc))
    url = database.engine.url.render_as_string(hide_password=False)
    slack.inject(POST, delay=0.3, times=10**9)  # slower still: the worker is mid-send when the CLI starts
    process, started = start_sender(url, slack.api_url, SANDBOX_TOKEN)
    assert started.wait(60), "the sender planned"
    wait_for_posts(slack, users, 1)

    result = send_digests()  # while the worker sends

    assert result.exit_code == 0, result.output
    assert "being sent by another sender" in result.stdout or "0 sent" not in result.stdout
    process.join(120)
    assert process.exitcode == 0
    assert posted(slack, users) == Counter({user: 1 for user in users})
    assert open_rows(database, users) == []
