"""Two senders at the same moment, over the Slack stand-in: one starts and sends while the other is between
looking at who is alive and claiming rows. The second must not take over what the first is sending (on
PostgreSQL each statement sees the database anew, so a look taken before the first sender existed is stale by
the time the claim runs; on SQLite the claim's write lock holds the first sender off until the claim is done).
The order of events is forced with the stand-in's gate and the database's own statements, not with sleeps."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Event
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.bootstrap import Database, open_database
from bot.config import Settings
from bot.sandbox.crash_run import POST, posted, subscribe
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn
from bot.worker import Worker

WAIT = 30.0  # a bound on each wait for the other thread, never reached when the code is right


def clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


def worker(database: Database, slack: SlackStandIn) -> Worker:
    """A worker of its own (its own engine, as another process would have) sending to the stand-in."""
    url = database.engine.url.render_as_string(hide_password=False)
    settings = Settings(
        _env_file=None,
        database_url=url,
        slack_api_url=slack.api_url,
        slack_bot_token=SANDBOX_TOKEN,
        slack_history_per_minute=50,
    )
    return Worker(settings, open_database(settings), clock)


def on_statement(engine: Engine, matches: Callable[[str], bool], then: Callable[[], None]) -> None:
    """Call `then` in the thread about to run the first statement on `engine` that `matches`, before it runs."""
    seen = Event()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not seen.is_set() and matches(statement):
            seen.set()
            then()

    event.listen(engine, "before_cursor_execute", before)


def test_a_sender_that_starts_sending_while_another_is_claiming_is_not_taken_over(
    database: Database, slack: SlackStandIn
) -> None:
    [user] = subscribe(database.sessions, (f"T{uuid.uuid4().hex[:8].upper()}",), 1, clock())
    first, second = worker(database, slack), worker(database, slack)
    first.plan()
    held = slack.hold(POST)  # the first sender's post stays in flight: not in the DM's history yet
    at_claim, go_on, first_writes, second_decided = Event(), Event(), Event(), Event()

    def pause_at_claim() -> None:  # the second sender has looked at who is alive; it claims only when told
        at_claim.set()
        assert go_on.wait(WAIT)

    on_statement(second.database.engine, lambda sql: "row_number() OVER" in sql, pause_at_claim)
    on_statement(
        second.database.engine, lambda sql: sql.startswith("UPDATE deliveries SET verify"), second_decided.set
    )  # it is about to send (having checked the DM's history, if it took over)
    on_statement(first.database.engine, lambda sql: sql.startswith("BEGIN IMMEDIATE"), first_writes.set)
    try:
        with ThreadPoolExecutor(2) as threads:
            second_run = threads.submit(second.deliver, "digest:")
            second_run.add_done_callback(lambda _: second_decided.set())
            assert at_claim.wait(WAIT)
            first_run = threads.submit(first.deliver, "digest:")
            if database.engine.dialect.name == "sqlite":
                assert first_writes.wait(WAIT)  # it waits for the write lock the claim holds
            else:
                assert held.wait_arrived(WAIT), "the first sender claimed the row and is sending it"
            go_on.set()
            assert second_decided.wait(WAIT)
            held.release()
            reports = first_run.result(WAIT), second_run.result(WAIT)
    finally:
        go_on.set()
        held.release()
        first.close()
        second.close()

    assert posted(slack, [user]) == Counter({user: 1}), "sent once, by one of them"
    assert sum(report.sent for report in reports) == 1
    assert sum(report.taken_over for report in reports) == 0, "neither sender had stopped"
