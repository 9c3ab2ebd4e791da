"""The worker's jobs as plain methods over the database, with an injected clock: plan chats into the outbox,
send what is due, read chat answers on the networks. `bot.scheduler` runs them on APScheduler; tests and the
sandbox call them directly."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.bootstrap import Database
from bot.chats import answers, planner, store
from bot.config import Settings
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.outbox import Outgoing
from bot.delivery.render import Renderers
from bot.delivery.sender import Channel, RunReport, Sender
from bot.digests import planner as digest_planner
from bot.digests import subscriptions
from bot.links import Links
from bot.slack import delivery as slack_delivery
from bot.slack import reaction_tips
from bot.slack.client import GuardedWebClient
from bot.slack.installs import client_factory
from bot.slack.poster import SlackPoster
from bot.slack.services import Services
from bot.social import collect
from bot.social import network as social_delivery
from bot.social.bluesky import BlueskyAccount
from bot.social.mastodon import MastodonAccount
from bot.social.network import Network, SocialChannel
from bot.social.x import XAccount

log = logging.getLogger(__name__)

RECHECK = timedelta(seconds=30)  # the sender looks again at least this often (rate limits lifting, new rows)


class Worker:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        clock: Callable[[], datetime],
        *,
        slack_client_for: Callable[[str], WebClient | None] | None = None,
        networks: Mapping[str, Network] | None = None,
    ):
        self.settings, self.database, self.clock = settings, database, clock
        self.networks = dict(networks) if networks is not None else configured_networks(settings, database, clock)
        client_for = slack_client_for or client_factory(settings, database.engine)
        self.slack_client_for = lambda team: (
            GuardedWebClient.like(client) if (client := client_for(team)) else None
        )  # what the worker sends is guarded, whoever built it
        channels: dict[str, Channel] = {
            "slack": SlackPoster(self.slack_client_for, clock, history_per_minute=settings.slack_history_per_minute)
        }
        links = Links(settings.public_link)
        renderers = Renderers()
        slack_delivery.register(renderers, links, clock)
        for name, network in self.networks.items():
            channels[name] = SocialChannel(network)
            social_delivery.register(renderers, network, links, clock)
        self.sender = Sender(database.sessions, channels, renderers, clock, on_failed=self._stop_gone_subscription)

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
            log.info(
                "Retention: deleted %d post records and %d chat answers older than %d days",
                posts,
                collected,
                self.settings.plchat_retention_days,
            )
        return posts, collected

    def deliver(self, subject_prefix: str = "", team_id: str | None = None) -> RunReport:
        return self.sender.run_due(subject_prefix, team_id)

    def next_delivery(self) -> datetime:
        """When `deliver` should run next."""
        now = self.clock()
        due = self.sender.next_wakeup()
        return max(now, min(due, now + RECHECK)) if due else now + RECHECK

    def live_on_networks(self) -> bool:
        """A chat is running on a network the bot is connected to (its answers are being read)."""
        with self.database.sessions() as session:
            return any(store.live_on(session, name, self.clock()) for name in self.networks)

    def collect_answers(self) -> int:
        """One pass reading the answers of the chats running on each network; returns how many were saved."""
        budgets = {
            "x": self.settings.x_read_budget,
            "bluesky": self.settings.bluesky_read_budget,
            "mastodon": self.settings.mastodon_read_budget,
        }
        return sum(
            collect.collect(
                self.database.sessions,
                network,
                budget=budgets[name],
                clock=self.clock,
                configured_moderators=self.settings.moderator_ids,
            )
            for name, network in self.networks.items()
        )


def configured_networks(settings: Settings, database: Database, clock: Callable[[], datetime]) -> dict[str, Network]:
    """The networks whose accounts the settings give, by delivery target."""
    accounts: list[Network | None] = [
        XAccount.from_settings(settings, clock=clock),
        BlueskyAccount.from_settings(settings, database.sessions, clock=clock),
        MastodonAccount.from_settings(settings, clock=clock),
    ]
    return {account.name: account for account in accounts if account is not None}
