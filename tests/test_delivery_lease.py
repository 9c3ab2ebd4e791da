"""Claims live exactly as long as their sender: a lease per sender (its process on SQLite, an advisory lock on
its own connection on PostgreSQL), rows of a sender that is gone taken over at once, and a sender that lost a
row never sends or records it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from bot.bootstrap import Database
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.lease import LAPSES_AFTER, LOCK_CLASS, Lease, live_senders, process_alive
from bot.models import DeliveryRecord, DeliverySender
from bot.tips.store import ensure_workspace

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def lease(database: Database, clock=lambda: NOW) -> Lease:
    return Lease(database.engine, database.sessions, clock)


def rows(database: Database, count: int) -> tuple[str, list[int]]:
    team = f"T{uuid.uuid4().hex[:10].upper()}"
    with transaction(database.sessions) as session:
        ensure_workspace(session, team)
        outbox.enqueue(
            session,
            [
                outbox.new_row(
                    key=f"notice:{team}:{n}",
                    team_id=team,
                    subject="notice:1",
                    target="slack",
                    channel=f"C0{n:04d}",
                    due_at=NOW - timedelta(minutes=1),
                    expires_at=None,
                    payload={"text": "hi"},
                    now=NOW,
                )
                for n in range(count)
            ],
        )
        ids = list(session.scalars(select(DeliveryRecord.id).where(DeliveryRecord.team_id == team)))
    return team, ids


def claim(database: Database, sender: int, team: str) -> list[outbox.Outgoing]:
    with transaction(database.sessions) as session:
        return outbox.claim_due(session, NOW, sender, team_id=team)


def drop_lock_connection(database: Database, held: Lease) -> None:
    """The lease's connection drops as a dead process's does: its server backend is ended (from another
    connection, which waits until it has), and the lock with it."""
    assert held._connection is not None
    pid = held._connection.execute(text("SELECT pg_backend_pid()")).scalar()
    held._connection.commit()
    with database.engine.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid}).scalar(), (
            "the backend ended within 10 s"
        )


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_sender_is_live_and_a_released_one_is_not(database: Database) -> None:
    mine = lease(database)
    me = mine.hold()
    with database.sessions() as session:
        assert me in live_senders(session, NOW)
    mine.release()
    with database.sessions() as session:
        assert me not in live_senders(session, NOW)
        assert session.get(DeliverySender, me) is None


def test_a_sender_that_stopped_renewing_lapses(database: Database) -> None:
    mine = lease(database)
    me = mine.hold()
    with database.sessions() as session:
        assert me in live_senders(session, NOW + LAPSES_AFTER - timedelta(seconds=1))
        assert me not in live_senders(session, NOW + LAPSES_AFTER + timedelta(seconds=1)), "a hang lapses too"
    mine.release()


def test_the_rows_of_a_killed_sender_are_taken_over_at_once_and_a_live_senders_are_not(database: Database):
    team, ids = rows(database, 4)
    first, second = lease(database), lease(database)
    first_id, second_id = first.hold(), second.hold()
    assert len(claim(database, first_id, team)) == 4
    assert claim(database, second_id, team) == [], "held by a live sender"

    if database.engine.dialect.name == "postgresql":
        drop_lock_connection(database, first)  # the process died: its connection, and so its lock, is gone
    else:
        with transaction(database.sessions) as session:
            session.execute(update(DeliverySender).where(DeliverySender.id == first_id).values(pid=dead_pid()))

    taken = claim(database, second_id, team)
    assert sorted(row.id for row in taken) == sorted(ids) and all(row.taken_over for row in taken)
    with database.sessions() as session:
        assert set(session.scalars(select(DeliveryRecord.claimed_by).where(DeliveryRecord.team_id == team))) == {
            second_id
        }
    second.release()


def test_a_sender_that_lost_a_row_neither_sends_nor_records_it(database: Database) -> None:
    team, [row_id] = rows(database, 1)
    slow, other = lease(database), lease(database)
    slow_id, other_id = slow.hold(), other.hold()
    claim(database, slow_id, team)
    with transaction(database.sessions) as session:  # the slow sender hung past its lease; the other took over
        session.execute(update(DeliveryRecord).where(DeliveryRecord.id == row_id).values(claimed_by=other_id))

    with transaction(database.sessions) as session:
        assert outbox.mark_attempted(session, row_id, slow_id) is False
        assert outbox.finish(session, row_id, slow_id, "sent", NOW, sent_ref="1.2") is False
        assert outbox.mark_attempted(session, row_id, other_id) is True
    with database.sessions() as session:
        assert session.get(DeliveryRecord, row_id).state == "sending"
    slow.release()
    other.release()


def test_a_postgres_sender_whose_lock_connection_dropped_takes_a_new_lease(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    mine = lease(database)
    before = mine.hold()
    drop_lock_connection(database, mine)
    after = mine.hold()
    assert after != before
    with database.sessions() as session:
        assert after in live_senders(session, NOW) and before not in live_senders(session, NOW)
    mine.release()


def test_process_alive_knows_a_running_process_from_a_gone_one() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(dead_pid())


def test_an_id_whose_lock_another_session_still_holds_is_passed_over_not_waited_on(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    probe = lease(database)
    last = probe.hold()
    probe.release()
    with database.engine.connect() as other:  # e.g. a sender of the table before it was rebuilt, ids restarted
        for taken in range(last + 1, last + 4):
            other.execute(text("SELECT pg_advisory_lock(:cls, :id)"), {"cls": LOCK_CLASS, "id": taken})
        other.commit()
        mine = lease(database)
        got = mine.hold()
        assert got > last + 3
        with database.sessions() as session:
            assert got in live_senders(session, NOW)
        mine.release()


def test_a_postgres_sender_is_not_kept_alive_by_the_same_lock_in_another_database(database: Database) -> None:
    """Advisory locks belong to a database, while pg_locks lists the server's: a sender of another database
    with the same id (ids start at 1 in each) does not keep this one's rows from being taken over."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    gone = lease(database)
    dead = gone.hold()
    drop_lock_connection(database, gone)  # its row stays, its lock is gone: it died
    elsewhere = create_engine(database.engine.url.set(database="postgres"))
    try:
        with elsewhere.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:cls, :id)"), {"cls": LOCK_CLASS, "id": dead})
            other.commit()
            with database.sessions() as session:
                assert dead not in live_senders(session, NOW)
    finally:
        elsewhere.dispose()
