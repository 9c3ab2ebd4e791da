"""A sender killed with SIGKILL mid-run, then a rerun: shared by the crash tests and `bench/kill_senders.py`
(digests) and the networks' crash tests (`chat_sender`: a chat on Bluesky or Mastodon).

`subscribe` makes digest subscribers due now; `sender` (run in a child process) plans and sends them as the
worker does, on the real clock, and `start_digest_send` runs `plchat digest send` itself as a process; `posted`
counts, from the Slack stand-in, how many digests each subscriber got. `SkippedTime` lets a rerun in the test's
own process wait out rate limits at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any

from sqlalchemy import Table

from bot.db import transaction
from bot.digests import subscriptions
from bot.models import DigestSubscriptionRecord

POST = "chat.postMessage"


class SkippedTime:
    """The real clock plus whatever a test has skipped: what `plchat digest send` waits out in a test passes at
    once, and the Slack stand-in's rate limits (on `monotonic`) see the same time pass. `now` is a UTC clock for
    the CLI, `sleep` skips instead of sleeping."""

    def __init__(self) -> None:
        self._skipped, self._lock = 0.0, Lock()
        self.waits: list[float] = []  # each wait skipped, in order

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.skipped)

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._skipped += seconds
            self.waits.append(seconds)

    @property
    def skipped(self) -> float:
        with self._lock:
            return self._skipped


def subscribe(sessions: Any, teams: tuple[str, ...], per_team: int, now: datetime) -> list[str]:
    """`per_team` DM subscribers in each workspace, all due a minute ago; returns their user ids."""
    users = []
    with transaction(sessions) as session:
        for team_number, team in enumerate(teams):
            for number in range(per_team):
                user = f"U{team_number:02d}{number:05d}"
                subscriptions.subscribe(session, team, user, user, now, zone="America/Los_Angeles")
                users.append(user)
        table = DigestSubscriptionRecord.__table__
        assert isinstance(table, Table)
        session.execute(table.update().values(next_send=now - timedelta(minutes=1)))
    return users


def sender(url: str, api_url: str, token: str, started: Any) -> None:
    """A worker's planning and sending, until no digest is left open (the child process's whole life)."""
    logging.basicConfig(level=logging.ERROR)
    from bot.bootstrap import open_database
    from bot.config import Settings
    from bot.worker import Worker

    settings = Settings(_env_file=None, database_url=url, slack_api_url=api_url, slack_bot_token=token)
    database = open_database(settings)
    worker = Worker(settings, database, lambda: datetime.now(UTC))
    worker.plan()
    started.set()
    while True:
        report = worker.deliver("digest:")
        wake = worker.sender.next_wakeup()
        if wake is None and not report.deferred:
            break
        time.sleep(max(0.0, min(1.0, ((wake or worker.clock()) - worker.clock()).total_seconds())))
    worker.close()


def start_sender(url: str, api_url: str, token: str) -> tuple[Any, Any]:
    """The sender in a fresh (spawned) process, and an event set once it has planned."""
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    process = context.Process(target=sender, args=(url, api_url, token, started), name="digest-sender")
    process.start()
    return process, started


def start_digest_send(url: str, api_url: str, token: str, **settings: str) -> subprocess.Popen[str]:
    """`plchat digest send` as an operator runs it, in a process of its own on the real clock (`settings`: more of
    the bot's settings, by environment variable name)."""
    env = {**os.environ, "DATABASE_URL": url, "SLACK_API_URL": api_url, "SLACK_BOT_TOKEN": token, **settings}
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "digest", "send"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def posted(standin: Any, users: list[str]) -> Counter[str]:
    """How many digests each subscriber's DM got (the stand-in's accepted posts to their user id)."""
    wanted = set(users)
    counts: Counter[str] = Counter(dict.fromkeys(users, 0))
    for call in standin.calls_to(POST):
        if call.status == 200 and call.args.get("channel") in wanted:
            counts[call.args["channel"]] += 1
    return counts


def wait_for_posts(standin: Any, users: list[str], at_least: int, timeout: float = 60.0) -> None:
    """Until the stand-in has accepted `at_least` digests, or `timeout` has passed (the sender may be done)."""
    wanted = set(users)

    def enough(calls: list[Any]) -> bool:
        return (
            sum(
                1 for call in calls if call.method == POST and call.status == 200 and call.args.get("channel") in wanted
            )
            >= at_least
        )

    try:
        standin.wait_for(enough, timeout=timeout)
    except TimeoutError:
        pass


def chat_sender(url: str, settings: dict[str, Any], started: Any) -> None:
    """A worker's planning and sending of chats on the real clock, configured like an operator's (`settings`
    name the networks' accounts), until it is killed."""
    logging.basicConfig(level=logging.ERROR)
    from bot.bootstrap import open_database
    from bot.config import Settings
    from bot.worker import Worker

    database = open_database(Settings(_env_file=None, database_url=url))
    worker = Worker(Settings(_env_file=None, database_url=url, **settings), database, lambda: datetime.now(UTC))
    worker.plan()
    started.set()
    while True:
        worker.deliver("chat:")
        wake = worker.sender.next_wakeup() or worker.clock() + timedelta(seconds=1)
        time.sleep(max(0.0, min(1.0, (wake - worker.clock()).total_seconds())))


def start_chat_sender(url: str, settings: dict[str, str]) -> tuple[Any, Any]:
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    process = context.Process(target=chat_sender, args=(url, settings, started), name="chat-sender")
    process.start()
    return process, started
