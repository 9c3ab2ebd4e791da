"""Wiring shared by every mode: settings → database (migrated, playbook synced) → Bolt app."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import Settings
from bot.play_files import PLAYS_DIR, PlayFileError, SyncReport, load_play_dir, sync_plays
from bot.slack.app import create_app
from bot.slack.services import Services

log = logging.getLogger(__name__)


class PlaybookError(Exception):
    """Some play files are invalid; the message lists each file and field, one per line."""

    def __init__(self, errors: list[PlayFileError]):
        self.errors = errors
        super().__init__("\n".join(f"  {error}" for error in errors))


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]


def open_database(settings: Settings) -> Database:
    engine = db.create_db_engine(settings.database_url)
    return Database(engine, db.create_session_factory(engine))


def sync_playbook(database: Database, directory: Path = PLAYS_DIR) -> SyncReport:
    """Load every play file and sync; refuse to sync a playbook with any invalid file."""
    plays, errors = load_play_dir(directory)
    if errors:
        raise PlaybookError(errors)
    with db.transaction(database.sessions) as session:
        report = sync_plays(session, plays)
    log.info(
        "Playbook synced: %d added, %d updated, %d unchanged, %d removed",
        len(report.added),
        len(report.updated),
        len(report.unchanged),
        len(report.removed),
    )
    return report


def prepare_embedded(settings: Settings) -> Database:
    """For `run` and `sandbox`: migrate the embedded database to head and sync the playbook."""
    if db.is_embedded(settings.database_url):
        db.upgrade(settings.database_url)
    database = open_database(settings)
    sync_playbook(database)
    return database


def build_app(
    settings: Settings,
    database: Database,
    services: Services | None = None,
    *,
    listener_executor: Executor | None = None,
) -> App:
    services = services or Services.from_settings(database.sessions, settings)
    return create_app(settings, services, database.engine, listener_executor=listener_executor)
