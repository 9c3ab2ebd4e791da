"""The scheduler (`plchat worker`, and `plchat run` in-process): runs the worker's jobs on APScheduler.

The database is the source of truth; jobs only look at it. Planning runs every PLAN_EVERY, so a chat created
by the web process is picked up within a minute; the delivery job re-arms itself for the next due post, so
posts go out on time without polling. With PostgreSQL, exactly one worker schedules: it holds an advisory lock,
and a second worker waits as a hot standby, taking over within LEADER_POLL when the first one dies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from threading import Event, Lock
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, MetaData, delete, text
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import Database
from bot.chats import planner
from bot.config import Settings
from bot.db import changed_rows, transaction
from bot.tips.store import purge_held

if TYPE_CHECKING:
    from bot.worker import Worker

log = logging.getLogger(__name__)

PLAN_EVERY = timedelta(seconds=30)
COLLECT_EVERY = timedelta(seconds=60)
QUEUED_READS_EVERY = timedelta(seconds=15)  # a rate-limited tip reaction is read again this soon after it may be
LEADER_POLL = timedelta(seconds=15)
LEADER_LOCK_KEY = 0x504C43686174  # "PLChat"
PURGE_EVERY = timedelta(hours=1)
HELD_TIPS_KEPT = timedelta(days=1)  # a near-duplicate nobody confirmed within a day is dropped
_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(MetaData(), "slack_oauth_states")


def purge_expired_oauth_states(sessions: sessionmaker[Session], now: datetime) -> int:
    """Delete install states nobody came back for (slack-sdk only deletes the ones it consumes)."""
    with transaction(sessions) as session:
        expired = _oauth_states.c.expire_at < normalize_datetime_for_db(now)
        purged = changed_rows(session.execute(delete(_oauth_states).where(expired)))
    if purged:
        log.info("Purged %d expired OAuth states", purged)
    return purged


def purge_unconfirmed_tips(sessions: sessionmaker[Session], now: datetime) -> int:
    with transaction(sessions) as session:
        purged = purge_held(session, now - HELD_TIPS_KEPT)
    if purged:
        log.info("Dropped %d held tips nobody confirmed", purged)
    return purged


def schedule_jobs(
    scheduler: BaseScheduler,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    worker: Worker | None = None,
) -> None:
    """Add every job with a fixed id, so re-adding replaces rather than duplicates."""

    def purge() -> None:
        purge_expired_oauth_states(sessions, clock())
        purge_unconfirmed_tips(sessions, clock())

    scheduler.add_job(
        purge,
        IntervalTrigger(seconds=PURGE_EVERY.total_seconds()),
        id="purge-expired",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=clock(),
    )
    if worker is not None:
        _schedule_worker(scheduler, worker)


def _schedule_worker(scheduler: BaseScheduler, worker: Worker) -> None:
    sending = Lock()

    def arm_delivery() -> None:
        # Two instances may overlap for a moment (a re-arm while a run ends): APScheduler would otherwise skip
        # the new run and, the job being one-off, drop it. The lock makes the overlapping run return at once.
        scheduler.add_job(
            deliver,
            DateTrigger(run_date=worker.next_delivery()),
            id="deliver",
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=2,
        )

    def deliver() -> None:
        if not sending.acquire(blocking=False):
            return  # the run in progress re-arms the job when it ends
        try:
            worker.deliver()
        finally:
            sending.release()
            arm_delivery()

    def plan() -> None:
        planned = 0
        while (batch := worker.plan()) >= planner.BATCH:  # a burst (an import, a mass change) in one go
            planned += batch
        if planned + batch:
            arm_delivery()  # new rows may be due before the delivery job's next run

    every = dict(replace_existing=True, coalesce=True, max_instances=1, next_run_time=worker.clock())
    scheduler.add_job(plan, IntervalTrigger(seconds=PLAN_EVERY.total_seconds()), id="plan", **every)
    scheduler.add_job(
        worker.collect_answers, IntervalTrigger(seconds=COLLECT_EVERY.total_seconds()), id="collect-answers", **every
    )
    scheduler.add_job(
        worker.purge_old_records, IntervalTrigger(seconds=PURGE_EVERY.total_seconds()), id="purge-retention", **every
    )
    scheduler.add_job(
        worker.save_queued_reactions,
        IntervalTrigger(seconds=QUEUED_READS_EVERY.total_seconds()),
        id="queued-reactions",
        **every,
    )
    arm_delivery()  # at once if anything is due: a sender that has not run yet does not wait for a recheck


class Leadership:
    """Who schedules. On PostgreSQL a session-level advisory lock, held on its own connection: if the worker dies,
    its connection closes and the lock is free for the standby. SQLite is embedded: one process, always leader."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._connection: Connection | None = None

    @property
    def shared(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if not self.shared:
            return True
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}).scalar()
        connection.commit()
        if got:
            self._connection = connection
        else:
            connection.close()
        return bool(got)

    def held(self) -> bool:
        """Still the leader? False once the lock's connection is gone (the server restarted, say)."""
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
            return True
        except Exception:  # noqa: BLE001 - whatever failed, the connection is gone, and the lock with it
            log.warning("Lost the scheduler lock's database connection")
            self.release()
            return False

    def release(self) -> None:
        """Give the lock up: the connection is closed for good (back in the pool it would keep the lock)."""
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("Closing the lock connection failed", exc_info=True)
            self._connection = None


def run_scheduler(
    settings: Settings,
    database: Database,
    clock: Callable[[], datetime],
    stop: Event,
    *,
    poll: float = LEADER_POLL.total_seconds(),
) -> None:
    """Stand by until this process holds the scheduler lock, then schedule until it is lost or `stop` is set."""
    from bot.worker import Worker  # the worker wires Slack and X; the purge jobs above need neither

    leadership, waiting_said = Leadership(database.engine), False
    while not stop.is_set():
        if not leadership.try_acquire():
            if not waiting_said:
                log.info("Another worker is scheduling; this one stands by and takes over if it stops")
                waiting_said = True
            stop.wait(poll)
            continue
        log.info("This worker is scheduling")
        worker, scheduler = Worker(settings, database, clock), BackgroundScheduler(timezone="UTC")
        schedule_jobs(scheduler, database.sessions, clock, worker)
        scheduler.start()
        try:
            while not stop.wait(poll) and leadership.held():
                pass
        finally:
            scheduler.shutdown(wait=True)
            worker.close()
            leadership.release()
