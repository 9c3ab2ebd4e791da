"""Runs scheduled chats against the Slack and X stand-ins on a clock the caller moves, so a whole chat (a day of
reminders, an hour of questions, the recap) plays out in seconds: for `plchat sandbox` and for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock

from slack_sdk import WebClient

from bot.chats import planner
from bot.sandbox.harness import SANDBOX_TOKEN, BotHarness
from bot.sandbox.x_api import XStandIn
from bot.social.x import XAccount
from bot.worker import Worker

COLLECT_EVERY = timedelta(minutes=1)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime):
        self._now, self._lock = now, Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by


@dataclass(frozen=True)
class SandboxX:
    """Test credentials for the X stand-in (it checks signatures only when given credentials)."""

    api_key: str = "sandbox-key"
    api_secret: str = "sandbox-secret"
    access_token: str = "sandbox-token"
    access_token_secret: str = "sandbox-token-secret"


def sandbox_worker(harness: BotHarness, x: XStandIn | None, clock: FakeClock, **settings: object) -> Worker:
    """The production worker, its Slack calls going to the harness's stand-in and its X calls to `x`."""
    config = harness.settings.model_copy(update=settings)
    account = None
    if x is not None:
        keys = SandboxX()
        account = XAccount(api_key=keys.api_key, api_secret=keys.api_secret, access_token=keys.access_token,
                           access_token_secret=keys.access_token_secret, api_url=x.base_url, clock=clock, timeout=5)
    client = WebClient(token=SANDBOX_TOKEN, base_url=harness.standin.api_url, timeout=5, retry_handlers=[])
    return Worker(config, harness.database, clock, slack_client_for=lambda _team: client, x_account=account)


def run_until(worker: Worker, clock: FakeClock, until: datetime) -> None:
    """Run the worker's jobs at every moment one of them has something to do, up to `until`: plan, read X
    each minute while a chat is live, and send each post at its due time."""
    while True:
        worker.plan()
        worker.collect_x()
        worker.deliver()
        now = clock()
        if now >= until:
            return
        with worker.database.sessions() as session:
            wakeups = [planner.next_plan(session), worker.sender.next_wakeup(), until]
        if worker.x_account is not None and worker.live_on_x():
            wakeups.append(now + COLLECT_EVERY)
        clock.set(max(now + timedelta(seconds=1), min(w for w in wakeups if w is not None)))
