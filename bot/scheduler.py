"""The scheduler worker (`plchat worker`): periodic jobs over the database.

Today it keeps the OAuth state table and held tips tidy; chats, reminders and digests will be scheduled here too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, delete
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.tips.store import purge_held

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)
HELD_TIPS_KEPT = timedelta(days=1)  # a near-duplicate nobody confirmed within a day is dropped
_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(MetaData(), "slack_oauth_states")


def purge_expired_oauth_states(sessions: sessionmaker[Session], now: datetime) -> int:
    """Delete install states nobody came back for (slack-sdk only deletes the ones it consumes)."""
    with transaction(sessions) as session:
        expired = _oauth_states.c.expire_at < normalize_datetime_for_db(now)
        result = session.execute(delete(_oauth_states).where(expired))
    if result.rowcount:
        log.info("Purged %d expired OAuth states", result.rowcount)
    return result.rowcount


def purge_unconfirmed_tips(sessions: sessionmaker[Session], now: datetime) -> int:
    with transaction(sessions) as session:
        purged = purge_held(session, now - HELD_TIPS_KEPT)
    if purged:
        log.info("Dropped %d held tips nobody confirmed", purged)
    return purged


def schedule_jobs(scheduler: BaseScheduler, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
    """Add every job with a fixed id, so re-adding replaces rather than duplicates."""

    def purge() -> None:
        purge_expired_oauth_states(sessions, clock())
        purge_unconfirmed_tips(sessions, clock())

    scheduler.add_job(purge, IntervalTrigger(seconds=PURGE_EVERY.total_seconds()), id="purge-expired",
                      replace_existing=True, coalesce=True, max_instances=1, next_run_time=clock())
