"""PLCHAT_RETENTION_DAYS: the worker deletes the records of posts that ended, and the answers collected in
chats, once they are older than that; what is still owed, and what is newer, stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import Database
from bot.chats import answers, store
from bot.chats.spec import ChatSpec, Question
from bot.config import Settings
from bot.db import transaction
from bot.delivery import outbox
from bot.models import ChatAnswer, DeliveryRecord, TipRecord
from bot.tips.records import NewTip
from bot.worker import Worker

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def spec() -> ChatSpec:
    return ChatSpec(
        title="Feedback",
        hashtag="PLChat",
        starts=datetime(2026, 1, 6, 17, 0),
        timezone="America/Los_Angeles",
        duration=60,
        repeat="weekly",
        until=None,
        skip=(),
        slack_channels=("C0PLCHAT",),
        post_to_x=False,
        reminders=(),
        questions=(Question(5, "Q?"),),
    )


def test_records_older_than_the_retention_are_deleted_and_the_rest_kept(database: Database) -> None:
    team = f"T{uuid.uuid4().hex[:10].upper()}"
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=5)
    with transaction(database.sessions) as session:
        chat = store.create_chat(session, team, spec(), "U0MOD", old)
        for day, word in ((old.date(), "zqold"), (recent.date(), "zqrecent")):
            ref = answers.QuestionRef(chat.id, team, day, 1)
            answers.save_answer(
                session,
                ref,
                NewTip(team, "U0ANA", "U0ANA", f"An answer {word}", "chat", source_ref=f"C0PLCHAT:{word}"),
                "U0ANA",
                NOW,
            )
        rows = [
            outbox.new_row(
                key=f"{team}:{name}",
                team_id=team,
                subject="notice:1",
                target="slack",
                channel="C0PLCHAT",
                due_at=due,
                expires_at=None,
                payload={"text": "hi"},
                now=due,
            )
            for name, due in (("old-sent", old), ("old-owed", old), ("recent-sent", recent))
        ]
        outbox.enqueue(session, rows)
        for key in (f"{team}:old-sent", f"{team}:recent-sent"):
            session.scalar(select(DeliveryRecord).where(DeliveryRecord.key == key)).state = "sent"

    settings = Settings(_env_file=None, database_url=str(database.engine.url), plchat_retention_days=30)
    worker = Worker(settings, database, lambda: NOW, slack_client_for=lambda _team: None)
    try:
        posts, collected = worker.purge_old_records()
    finally:
        worker.close()

    assert (posts, collected) >= (1, 1)
    with database.sessions() as session:
        keys = set(session.scalars(select(DeliveryRecord.key).where(DeliveryRecord.team_id == team)))
        texts = [tip.text for tip in session.scalars(select(TipRecord).where(TipRecord.team_id == team))]
        linked = session.scalars(select(ChatAnswer.occurrence).where(ChatAnswer.team_id == team)).all()
    assert keys == {f"{team}:old-owed", f"{team}:recent-sent"}, "what is owed is never forgotten"
    assert texts == ["An answer zqrecent"] and linked == [recent.date()]
