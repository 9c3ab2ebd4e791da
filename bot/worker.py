"""The worker's jobs as plain methods over the database, with an injected clock: plan chats into the outbox,
send what is due, read chat answers on X. `bot.scheduler` runs them on APScheduler; tests and the sandbox call
them directly."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.bootstrap import Database
from bot.chats import answers, planner, store
from bot.config import Settings
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.compose import renderer
from bot.delivery.outbox import Outgoing
from bot.delivery.sender import Channel, RunReport, Sender
from bot.digests import planner as digest_planner
from bot.digests import subscriptions
from bot.links import Links
from bot.slack import reaction_tips
from bot.slack.client import GuardedWebClient
from bot.slack.installs import client_factory
from bot.slack.poster import SlackPoster
from bot.slack.services import Services
from bot.social import collect
from bot.social.poster import XPoster
from bot.social.x import XAccount

log = logging.getLogger(__name__)

RECHECK = timedelta(seconds=30)  # the sender looks again at least this often (rate limits lifting, new rows)


class Worker:
    def __init__(self, settings: Settings, database: Database, clock: Callable[[], datetime], *,
                 slack_client_for: Callable[[str], WebClient | None] | None = None,
                 x_account: XAccount | None = None):
        self.settings, self.database, self.clock = settings, database, clock
        self.x_account = x_account if x_account is not None else XAccount.from_settings(settings)
        client_for = slack_client_for or client_factory(settings, database.engine)
        self.slack_client_for = lambda team: (GuardedWebClient.like(client) if (client := client_for(team))
                                              else None)  # what the worker sends is guarded, whoever built it
        channels: dict[str, Channel] = {"slack": SlackPoster(
            self.slack_client_for, clock, history_per_minute=settings.slack_history_per_minute)}
        if self.x_account is not None:
            channels["x"] = XPoster(self.x_account)
        self.sender = Sender(database.sessions, channels, renderer(Links(settings.public_link)), clock,
                             on_failed=self._stop_gone_subscription)

    def close(self) -> None:
        self.sender.close()

    def _stop_gone_subscription(self, session: Session, outgoing: Outgoing, reason: str) -> None:
        """A digest whose channel or person is gone stops its subscription, saying why, not just this week's."""
        if outgoing.subject.startswith("digest:") and reason in subscriptions.GONE:
            subscriptions.deactivate(session, int(outgoing.payload["subscription_id"]), reason, self.clock())
            log.info("Digest subscription %s stopped: %s", outgoing.payload["subscription_id"], reason)

    def plan(self) -> int:
        """Write the outbox rows of chats and digests coming up (or changed); returns how many were planned."""
        with transaction(self.database.sessions) as session:
            chats = planner.plan(session, self.clock())
        with transaction(self.database.sessions) as session:
            digests = digest_planner.plan(session, self.clock())
        if chats or digests:
            log.info("Planned %d chat(s) and %d digest(s)", chats, digests)
        self.adopt_answers()
        return chats + digests

    def adopt_answers(self) -> int:
        """Thread replies that came before their question's ts was recorded, saved as its answers now."""
        with transaction(self.database.sessions) as session:
            adopted = answers.adopt_waiting(session, self.clock())
        if adopted:
            log.info("Saved %d chat answer(s) that had come before their question was recorded", adopted)
        return adopted

    def save_queued_reactions(self) -> int:
        """Tip reactions whose read Slack rate-limited, read and saved now that it allows (each person told)."""
        services = Services.from_settings(self.database.sessions, self.settings, self.clock)
        return reaction_tips.save_queued(services, self.slack_client_for)

    def purge_old_records(self) -> tuple[int, int]:
        """Posts' records and chat answers older than PLCHAT_RETENTION_DAYS, deleted: (posts, answers)."""
        before = self.clock() - timedelta(days=self.settings.plchat_retention_days)
        with transaction(self.database.sessions) as session:
            posts = outbox.purge_finished(session, before)
            collected = answers.purge_answers(session, before.date())
        if posts or collected:
            log.info("Retention: deleted %d post records and %d chat answers older than %d days", posts, collected,
                     self.settings.plchat_retention_days)
        return posts, collected

    def deliver(self, subject_prefix: str = "", team_id: str | None = None) -> RunReport:
        return self.sender.run_due(subject_prefix, team_id)

    def next_delivery(self) -> datetime:
        """When `deliver` should run next."""
        now = self.clock()
        due = self.sender.next_wakeup()
        return max(now, min(due, now + RECHECK)) if due else now + RECHECK

    def live_on_x(self) -> bool:
        with self.database.sessions() as session:
            return bool(store.live_on_x(session, self.clock()))

    def collect_x(self) -> int:
        if self.x_account is None:
            return 0
        return collect.collect(self.database.sessions, self.x_account, budget=self.settings.x_read_budget,
                               clock=self.clock, configured_moderators=self.settings.moderator_ids)
