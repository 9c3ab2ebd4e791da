"""The worker's jobs, run directly with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import text

from bot.db import create_db_engine, transaction, writer
from bot.scheduler import (
    LEADER_LOCK_KEY,
    Leadership,
    purge_expired_oauth_states,
    purge_unconfirmed_tips,
    schedule_jobs,
)
from bot.tips import store
from bot.tips.records import NewTip

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_purge_deletes_only_expired_oauth_states(database):
    store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=writer(database.engine))
    fresh = store.issue()  # slack-sdk stamps it from the real clock, so purge at the real time too
    now = datetime.now(UTC)
    with writer(database.engine).begin() as connection:
        connection.execute(
            text("INSERT INTO slack_oauth_states (state, expire_at) VALUES ('old', :at)"),
            {"at": (now - timedelta(days=1)).replace(tzinfo=None)},
        )
    assert purge_expired_oauth_states(database.sessions, now) == 1
    assert store.consume(fresh), "an unexpired state still works"
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM slack_oauth_states WHERE state = 'old'")).scalar() == 0


def test_jobs_have_fixed_ids_so_rescheduling_never_duplicates(database):
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)  # jobs reach the job store, but nothing runs
    try:
        schedule_jobs(scheduler, database.sessions, lambda: NOW)
        schedule_jobs(scheduler, database.sessions, lambda: NOW)
        assert [(job.id, job.next_run_time) for job in scheduler.get_jobs()] == [("purge-expired", NOW)]
    finally:
        scheduler.shutdown(wait=False)


def test_purge_drops_held_tips_older_than_a_day_and_keeps_the_rest(database):
    team = "T0PURGE"
    with transaction(database.sessions) as session:
        original = store.save_tip(
            session, NewTip(team, "U1", "U1", "Exit tickets every Friday", "command"), NOW - timedelta(days=3)
        ).tip
        stale = store.save_tip(
            session, NewTip(team, "U2", "U2", "Exit tickets every Friday!", "command"), NOW - timedelta(days=2)
        )
        fresh = store.save_tip(
            session, NewTip(team, "U3", "U3", "exit tickets, every friday", "command"), NOW - timedelta(hours=2)
        )
    assert (stale.status, fresh.status) == ("held", "held")
    assert purge_unconfirmed_tips(database.sessions, NOW) == 1
    with database.sessions() as session:
        assert store.get_tip(session, team, stale.tip.id) is None
        assert store.get_tip(session, team, fresh.tip.id) is not None
        assert store.get_tip(session, team, original.id) is not None


def test_exactly_one_worker_schedules_and_the_standby_takes_over_when_it_dies(database):
    engines = [create_db_engine(str(database.engine.url.render_as_string(hide_password=False))) for _ in range(2)]
    first, second = (Leadership(engine) for engine in engines)
    try:
        assert first.try_acquire()
        if not first.shared:
            assert second.try_acquire(), "SQLite is embedded: one process, always the scheduler"
            return
        assert not second.try_acquire(), "a second worker stands by while the first holds the lock"
        with database.engine.connect() as admin:  # the first worker's process dies: its connection is gone
            admin.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key"),
                {"key": LEADER_LOCK_KEY & 0xFFFFFFFF},
            )
        assert not first.held()
        assert second.try_acquire(), "the standby takes over"
        assert second.held()
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.dispose()


def test_worker_jobs_have_fixed_ids(database):
    from bot.bootstrap import Database
    from bot.config import Settings
    from bot.worker import Worker

    settings = Settings(_env_file=None, database_url=str(database.engine.url))
    worker = Worker(
        settings, Database(database.engine, database.sessions), lambda: NOW, slack_client_for=lambda _team: None
    )
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        schedule_jobs(scheduler, database.sessions, lambda: NOW, worker)
        schedule_jobs(scheduler, database.sessions, lambda: NOW, worker)
        assert sorted(job.id for job in scheduler.get_jobs()) == [
            "collect-answers",
            "deliver",
            "plan",
            "purge-expired",
            "purge-retention",
            "queued-reactions",
        ]
    finally:
        scheduler.shutdown(wait=False)
        worker.close()


def test_a_starting_worker_delivers_at_once(database):
    """Posts that fell due while no worker ran go out when one starts, not after the sender's idle recheck (its
    next_wakeup waits 30 s when due rows are there and its last run got nowhere; before any run it looks at once)."""
    from bot.bootstrap import Database
    from bot.config import Settings
    from bot.delivery import outbox
    from bot.worker import Worker

    settings = Settings(_env_file=None, database_url=str(database.engine.url))
    worker = Worker(
        settings, Database(database.engine, database.sessions), lambda: NOW, slack_client_for=lambda _team: None
    )
    with transaction(database.sessions) as session:
        store.ensure_workspace(session, "T0STARTS")
        outbox.enqueue(
            session,
            [
                outbox.new_row(
                    key="test:starts:1",
                    team_id="T0STARTS",
                    subject="test:1",
                    target="slack",
                    channel="C0STARTS",
                    due_at=NOW - timedelta(minutes=3),
                    expires_at=None,
                    payload={"text": "due while down"},
                    now=NOW,
                )
            ],
        )
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        schedule_jobs(scheduler, database.sessions, lambda: NOW, worker)
        assert scheduler.get_job("deliver").next_run_time == NOW
    finally:
        scheduler.shutdown(wait=False)
        worker.close()
        with transaction(database.sessions) as session:
            store.delete_workspace(session, "T0STARTS")
