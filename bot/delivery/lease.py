"""A sender's lease: the id its claims on outbox rows carry, alive exactly as long as the sender is.

On PostgreSQL a sender holds an advisory lock keyed by its id on a connection of its own; the server drops the
lock the moment that connection closes (the process died, was killed, lost the network), and `live_senders`
reads the locks held. On SQLite, which is embedded, the sender is its process: alive while that process runs.
Both also renew `renewed_at` while they work, so a sender that hangs (stopped, or wedged for a minute in one
send) lapses too; a sender checks that it still holds a row right before sending it, so a lapsed one never
sends what another has taken over.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.models import DeliverySender

log = logging.getLogger(__name__)

LOCK_CLASS = 0x504C4344  # "PLCD": senders' locks use the two-key form, apart from the leader's one-key lock
RENEW_EVERY = timedelta(seconds=10)
LAPSES_AFTER = timedelta(minutes=1)  # a send takes seconds (10 s timeouts): this long without renewal is a hang
FORGOTTEN_AFTER = timedelta(days=1)  # a sender's row outlives it this long, for `plchat digest status`
HOST = socket.gethostname()[:255]


class Lease:
    def __init__(self, engine: Engine, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self._engine, self._sessions, self._clock = engine, sessions, clock
        self._id: int | None = None
        self._renewed: datetime | None = None
        self._connection: Connection | None = None
        self._lock = Lock()

    def hold(self) -> int:
        """This sender's id, registering it (or again, under a new id, if its lock's connection was lost) and
        renewing it at most every RENEW_EVERY."""
        with self._lock:
            if self._id is not None and not self._lock_alive():
                log.warning("Sender %s lost its lease (its database connection closed); starting a new one", self._id)
                self._id = None
            if self._id is None:
                self._register()
            else:
                self._renew()
            assert self._id is not None
            return self._id

    def renew(self) -> None:
        with self._lock:
            if self._id is not None:
                self._renew()

    def release(self) -> None:
        """A clean stop: the sender's row goes (and its lock with its connection)."""
        with self._lock:
            if self._id is None:
                return
            with transaction(self._sessions) as session:
                session.execute(delete(DeliverySender).where(DeliverySender.id == self._id))
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._id = None

    def _register(self) -> None:
        """A new sender row; on PostgreSQL, with its lock taken. An id whose lock some other session still holds
        (ids restart when the table is rebuilt) is given up for the next one, never waited on."""
        while True:
            now = self._clock()
            with transaction(self._sessions) as session:
                session.execute(delete(DeliverySender).where(DeliverySender.renewed_at < now - FORGOTTEN_AFTER))
                sender = DeliverySender(host=HOST, pid=os.getpid(), started_at=now, renewed_at=now)
                session.add(sender)
                session.flush()
                self._id = sender.id
            self._renewed = now
            if self._engine.dialect.name != "postgresql" or self._lock_own_id():
                return
            with transaction(self._sessions) as session:
                session.execute(delete(DeliverySender).where(DeliverySender.id == self._id))

    def _lock_own_id(self) -> bool:
        if self._connection is None:
            self._connection = self._engine.connect()
        got = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:cls, :id)"), {"cls": LOCK_CLASS, "id": self._id}
        ).scalar()
        self._connection.commit()
        return bool(got)

    def _renew(self) -> None:
        now = self._clock()
        if self._renewed is not None and now - self._renewed < RENEW_EVERY:
            return
        with transaction(self._sessions) as session:
            session.execute(update(DeliverySender).where(DeliverySender.id == self._id).values(renewed_at=now))
        self._renewed = now

    def _lock_alive(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True
        try:
            assert self._connection is not None
            held = self._connection.execute(
                text(  # a connection SQLAlchemy opened anew holds no lock of ours
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :cls AND objid = :id "
                    "AND objsubid = 2 AND granted AND pid = pg_backend_pid()"
                ),
                {"cls": LOCK_CLASS, "id": self._id},
            ).scalar()
            self._connection.commit()
        except Exception:  # noqa: BLE001 - any failure means the connection, and so the lock, is gone
            held = 0
        if not held and self._connection is not None:
            self._connection.close()
            self._connection = None
        return bool(held)


def live_senders(session: Session, now: datetime) -> set[int]:
    """The ids of senders alive now; rows any other sender claimed are free to take over at once."""
    renewed = {
        row.id: row
        for row in session.scalars(select(DeliverySender).where(DeliverySender.renewed_at >= now - LAPSES_AFTER))
    }
    if session.get_bind().dialect.name == "postgresql":
        locked = set(
            session.scalars(
                text(  # advisory locks are per database; pg_locks shows the whole server's
                    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = :cls "
                    "AND objsubid = 2 AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"cls": LOCK_CLASS},
            )
        )
        return {sender for sender in renewed if sender in locked}
    return {sender for sender, row in renewed.items() if row.host != HOST or process_alive(row.pid)}


def process_alive(pid: int) -> bool:
    """Whether a process of this machine runs (a killed one not yet reaped by its parent, a zombie, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (not Linux): the process answered, so it runs
