"""Sends what the outbox holds: claims due rows, renders each, hands it to its channel (Slack or X) and records
the outcome. Posts to different places (channels, DMs) go in parallel, taken round-robin across rate lanes (a
Slack workspace, the X account) so one busy workspace never starves another; posts to one place go one at a
time in the order they were due. A 429 holds the whole rate lane until its Retry-After has passed.

Each sender claims rows under its own lease (`lease`), renewed while it works: rows a dead sender had claimed
are taken over by the next run of any sender, at once, and a sender checks it still holds a row right before
sending it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import zip_longest
from threading import Lock
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.errors import Deferred, DeliveryError, Permanent, RetryAfter
from bot.delivery.lease import Lease
from bot.delivery.outbox import Outgoing
from bot.delivery.render import Render, Skip

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=15)  # doubled after each failed attempt


class Channel(Protocol):
    """Where posts go (Slack, X). Raises `bot.delivery.errors` on failure."""

    def send(self, outgoing: Outgoing, message: dict[str, Any]) -> str:
        """Post it; return its reference (Slack ts, X post id)."""

    def find_sent(self, outgoing: Outgoing, message: dict[str, Any]) -> str | None:
        """After a crash mid-send: the reference of the post if it did go out, else None."""


FailureHook = Callable[[Session, Outgoing, str], None]
IDLE_RECHECK = timedelta(seconds=30)


@dataclass
class RunReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    taken_over: int = 0  # rows a sender that is gone had claimed
    lost: int = 0  # rows another sender took over from this one before it sent them (it had hung)

    def add(self, other: RunReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Sender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        render: Render,
        clock: Callable[[], datetime],
        *,
        on_failed: FailureHook | None = None,
        places_in_parallel: int = 32,
        per_lane: int = 25,
    ):
        self._sessions, self._channels, self._render, self._clock = sessions, channels, render, clock
        self._lease = Lease(sessions.kw["bind"], sessions, clock)
        self._on_failed = on_failed
        self._pool = ThreadPoolExecutor(places_in_parallel, thread_name_prefix="delivery")
        self._per_lane = per_lane
        self._blocked: dict[str, tuple[datetime, str]] = {}  # rate lane → until when, and why
        self._progressed = True  # no run yet, or the last one finished some rows: more may be ready at once
        self._lock = Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._lease.release()

    def run_due(self, subject_prefix: str = "", team_id: str | None = None) -> RunReport:
        """Send what is due now (of subjects starting with `subject_prefix`, of one workspace); returns what
        happened."""
        now = self._clock()
        with self._lock:
            self._blocked = {lane: limit for lane, limit in self._blocked.items() if limit[0] > now}
            blocked = set(self._blocked)
        me = self._lease.hold()
        with transaction(self._sessions) as session:
            claimed = outbox.claim_due(
                session,
                now,
                me,
                per_lane=self._per_lane,
                blocked_lanes=blocked,
                subject_prefix=subject_prefix,
                team_id=team_id,
            )
        report = RunReport(taken_over=sum(outgoing.taken_over for outgoing in claimed))
        if report.taken_over:
            log.info("Took over %d post(s) a stopped sender had claimed", report.taken_over)
        for place_report in self._pool.map(lambda rows: self._send_place(me, rows), _fair_order(claimed)):
            report.add(place_report)
        self._progressed = bool(report.sent or report.failed or report.skipped or report.lost)
        return report

    def next_wakeup(self) -> datetime | None:
        """When `run_due` has something to do: at once before the first run (rows may have fallen due while no
        sender ran) and after a run that got somewhere (there may be more), else when the next row falls due, or
        a rate limit lifts."""
        with self._sessions() as session:
            due = outbox.next_due(session)
        now = self._clock()
        if due is None or due > now or self._progressed:
            return due if due is None or due > now else now
        with self._lock:
            lifts = [until for until, _ in self._blocked.values() if until > now]
        return min(lifts, default=now + IDLE_RECHECK)

    def rate_limit(self, rate_lane: str) -> tuple[datetime, str] | None:
        """Until when a rate limit this sender met holds `rate_lane`, and the channel's word for it (None: no
        limit holds it now)."""
        with self._lock:
            limit = self._blocked.get(rate_lane)
        return limit if limit is not None and limit[0] > self._clock() else None

    def _send_place(self, me: int, rows: list[Outgoing]) -> RunReport:
        """One channel's posts, one at a time in due order; other channels' go at the same time."""
        report, waiting = RunReport(), list(rows)
        while waiting:
            outgoing = waiting.pop(0)
            limit = self.rate_limit(outgoing.rate_lane)
            if limit is not None:  # another channel hit the limit
                self._defer(me, [outgoing, *waiting], *limit, report)
                return report
            try:
                self._send_one(me, outgoing, report)
            except RetryAfter as exc:
                until = self._clock() + timedelta(seconds=exc.seconds)
                with self._lock:
                    already, _ = self._blocked.get(outgoing.rate_lane, (None, ""))
                    self._blocked[outgoing.rate_lane] = max(until, already or until), exc.reason
                # Refused, so this attempt posted nothing: no check before the retry unless an earlier one may have.
                self._defer(
                    me,
                    [outgoing],
                    until,
                    exc.reason,
                    report,
                    verify=None if outgoing.resumed_from is not None else False,
                )
                self._defer(me, waiting, until, exc.reason, report)
                if already is None or already <= self._clock():  # one line per limit, not per post in flight
                    log.warning("Rate limited on %s for %.0f s", outgoing.rate_lane, exc.seconds)
                return report
            except Deferred as exc:  # this post (and those behind it here) only; the lane goes on
                until = self._clock() + timedelta(seconds=exc.seconds)
                self._defer(me, [outgoing, *waiting], until, exc.reason, report, uncount=True)
                return report
            except Exception as exc:  # noqa: BLE001 - one bad post must not stop the others
                if self._retriable(me, outgoing, exc, report):
                    # A retried post keeps its place: the posts behind it wait with it.
                    until = self._clock() + BACKOFF * 2 ** (outgoing.attempts - 1)
                    self._defer(me, [outgoing], until, _reason(exc), report, verify=True)
                    self._defer(me, waiting, until, "waiting for an earlier post", report)
                    return report
        return report

    def _send_one(self, me: int, outgoing: Outgoing, report: RunReport) -> None:
        channel = self._channels.get(outgoing.target)
        if channel is None:
            self._finish(
                me,
                outgoing,
                "skipped",
                f"{outgoing.target} is not connected (the bot's settings give no account for it)",
                report,
            )
            return
        with self._sessions() as session:
            message = self._render(session, outgoing)
        if isinstance(message, Skip):
            self._finish(me, outgoing, "skipped", message, report)
            return
        if outgoing.resumed_from is not None:
            ref = channel.find_sent(outgoing, message)
            if ref is not None:
                log.info("Delivery %s had gone out before the restart; not sending it again", outgoing.key)
                self._finish(me, outgoing, "sent", "found after a restart", report, ref)
                return
        if outgoing.expires_at is not None and self._clock() > outgoing.expires_at:
            self._finish(
                me,
                outgoing,
                "skipped",
                f"missed: due {outgoing.due_at:%Y-%m-%d %H:%M} UTC, too late to send (the worker was not running)",
                report,
            )
            return
        self._lease.renew()
        with transaction(self._sessions) as session:
            held = outbox.mark_attempted(session, outgoing.id, me)
        if not held:
            log.warning("Delivery %s was taken over by another sender; not sending it from here", outgoing.key)
            report.lost += 1
            return
        self._finish(me, outgoing, "sent", "", report, channel.send(outgoing, message))

    def _retriable(self, me: int, outgoing: Outgoing, exc: Exception, report: RunReport) -> bool:
        """Record a permanent failure (or the last attempt) as failed; True when it is worth another try."""
        if isinstance(exc, Permanent) or outgoing.attempts >= MAX_ATTEMPTS:
            self._finish(me, outgoing, "failed", _reason(exc), report)
            return False
        if not isinstance(exc, DeliveryError):
            log.error("Delivery %s failed unexpectedly; it will be retried", outgoing.key, exc_info=exc)
        return True

    def _defer(
        self,
        me: int,
        rows: list[Outgoing],
        until: datetime,
        reason: str,
        report: RunReport,
        *,
        verify: bool | None = None,
        uncount: bool = False,
    ) -> None:
        with transaction(self._sessions) as session:
            outbox.put_back(session, [row.id for row in rows], me, until, reason, verify=verify, uncount=uncount)
        report.deferred += len(rows)

    def _finish(
        self, me: int, outgoing: Outgoing, state: str, reason: str, report: RunReport, ref: str | None = None
    ) -> None:
        with transaction(self._sessions) as session:
            if not outbox.finish(session, outgoing.id, me, state, self._clock(), reason=reason, sent_ref=ref):
                log.warning(
                    "Delivery %s was taken over by another sender before it was recorded %s", outgoing.key, state
                )
                report.lost += 1
                return
            if state == "failed" and self._on_failed is not None:
                self._on_failed(session, outgoing, reason)
        setattr(report, state, getattr(report, state) + 1)
        if state != "sent":
            log.warning("Delivery %s %s: %s", outgoing.key, state, reason)


def _fair_order(claimed: list[Outgoing]) -> list[list[Outgoing]]:
    """Each channel's posts as one piece of work, taken round-robin across rate lanes (workspaces), so the
    pool serves every workspace at once rather than the first one's thousand DMs before anyone else's."""
    places: dict[tuple[str, str, str], list[Outgoing]] = defaultdict(list)
    for outgoing in claimed:
        places[outgoing.order_lane].append(outgoing)
    by_lane: dict[str, list[list[Outgoing]]] = defaultdict(list)
    for rows in places.values():
        by_lane[rows[0].rate_lane].append(rows)
    return [place for round_ in zip_longest(*by_lane.values()) for place in round_ if place is not None]


def _reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
