"""Database tables as SQLAlchemy 2.0 typed models. Schema changes go through `migrations/`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC. SQLite keeps no offset, so a time in another zone is converted before it is
    written (else 01:00+05:00 would be stored, and ordered, as 01:00 UTC); naive values are taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it once, as the classes are built
        datetime: UTCDateTime,
        date: Date,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class PlayRecord(Base):
    """A play: the shared playbook's, synced from `plays/*.md` (`team_id` NULL), or one a workspace's moderators
    published from its tips (`team_id` set; deleted with the workspace). One table, so one search ranks both.

    Full-text search lives beside the table and is created by the migration, per dialect:
    an FTS5 table kept in step by triggers on SQLite, a generated `tsvector` column with a
    GIN index on PostgreSQL. Neither is mapped here because the ORM never writes them.
    """

    __tablename__ = "plays"
    __table_args__ = (
        Index(
            "uq_plays_shared_slug",
            "slug",
            unique=True,
            sqlite_where=text("team_id IS NULL"),
            postgresql_where=text("team_id IS NULL"),
        ),
        Index(
            "uq_plays_team_slug",
            "team_id",
            "slug",
            unique=True,
            sqlite_where=text("team_id IS NOT NULL"),
            postgresql_where=text("team_id IS NOT NULL"),
        ),
        Index("ix_plays_team_category", "team_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str | None] = mapped_column(
        String(32),
        ForeignKey("workspaces.team_id", ondelete="CASCADE"),
        nullable=True,
        doc="NULL for the shared playbook",
    )
    slug: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    tags: Mapped[str] = mapped_column(String(250), doc="Comma-separated, lower case")
    grades: Mapped[str] = mapped_column(String(60), default="")
    time_needed: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), doc="sha256 of the file, so unchanged files are skipped")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlayCredit(Base):
    """A person whose tip a workspace's play was made from: credited on the card, and found by `/play mine`."""

    __tablename__ = "play_credits"
    __table_args__ = (Index("ix_play_credits_team_author", "team_id", "author"),)

    play_id: Mapped[int] = mapped_column(ForeignKey("plays.id", ondelete="CASCADE"), primary_key=True)
    author: Mapped[str] = mapped_column(
        String(120), primary_key=True, doc="A Slack user id, or a name (an imported tip, a network handle)"
    )
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0, doc="Credits show in the order the tips were added")
    tip_ids: Mapped[list[Any]] = mapped_column(default=list, doc="Their tips the play was made from")


class PlayDraft(Base):
    """A play a moderator is shaping from tips, not yet in the workspace's playbook."""

    __tablename__ = "play_drafts"
    __table_args__ = (
        Index("ix_play_drafts_team_updated", "team_id", "updated_at"),
        Index("ix_play_drafts_play", "play_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    play_id: Mapped[int | None] = mapped_column(
        ForeignKey("plays.id", ondelete="SET NULL", name="fk_play_drafts_play_id"),
        doc="The published play this draft edits (NULL: a new play)",
    )
    title: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(200))
    steps: Mapped[str] = mapped_column(Text, doc="One step a line")
    looks_like: Mapped[str] = mapped_column(Text)
    watch_out: Mapped[str] = mapped_column(Text, doc="One caution a line")
    grades: Mapped[str] = mapped_column(String(60), default="", doc="Comma-separated bands")
    time_needed: Mapped[str] = mapped_column(String(60))
    tags: Mapped[str] = mapped_column(String(250), doc="Comma-separated, lower case")
    tip_ids: Mapped[list[Any]] = mapped_column(default=list, doc="The tips it was made from, in order")
    credits: Mapped[list[Any]] = mapped_column(default=list, doc="Their authors, in order, without repeats")
    grade_notes: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=text("'{}'"), doc="Grade band -> what differs there"
    )
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Workspace(Base):
    """A Slack workspace the bot keeps data for. Deleting it deletes everything it owns (ON DELETE CASCADE)."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enterprise_id: Mapped[str | None] = mapped_column(
        String(32), nullable=True, doc="The enterprise whose org-wide install serves it"
    )
    members_subscribe_channels: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="Channel members (not only moderators) may subscribe a channel to the digest",
    )


class TipRecord(Base):
    """A tip a teacher shared. Search (FTS5 / tsvector) sits beside the table, made by the migration.

    `tags` is stored space-padded (" flipped station-rotation ") so one tag matches with LIKE '% tag %'.
    `source_ref` is unique per workspace: the same Slack message, or the same imported row, is one tip.
    """

    __tablename__ = "tips"
    __table_args__ = (
        Index("uq_tips_team_source_ref", "team_id", "source_ref", unique=True),
        Index("ix_tips_team_created", "team_id", "created_at"),
        Index("ix_tips_team_author", "team_id", "author"),
        Index("ix_tips_team_helpful", "team_id", "helpful_count"),
        Index("ix_tips_team_text_hash", "team_id", "text_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(120), doc="A Slack user id (U…/W…), or a name from an import")
    shared_by: Mapped[str] = mapped_column(String(32), doc="Who saved it (a Slack user id, or 'import')")
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), doc="sha256 of the normalised text, for exact duplicates")
    tags: Mapped[str] = mapped_column(String(320), default=" ", doc="Up to 10 tags of 30 characters, padded")
    grade: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(
        String(16), doc="command, modal, shortcut, reaction, import, chat, x, bluesky, mastodon"
    )
    source_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    permalink: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0, server_default=literal_column("0"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), doc="Saved but held until the sharer confirms a near-duplicate"
    )


class TipVote(Base):
    """One 'Helpful' per person per tip."""

    __tablename__ = "tip_votes"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchWord(Base):
    """The words a workspace's tips use, for spelling correction through a trigram index (per dialect)."""

    __tablename__ = "search_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    word: Mapped[str] = mapped_column(String(40))
    uses: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("uq_search_words_team_word", "team_id", "word", unique=True),)


class Moderator(Base):
    """A moderator added in Slack (those in PLCHAT_MODERATORS are moderators without a row)."""

    __tablename__ = "moderators"

    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationEntry(Base):
    """Who did what to which tip, and when: every moderator action and every report."""

    __tablename__ = "moderation_log"
    __table_args__ = (
        Index("ix_moderation_log_team_at", "team_id", "at"),
        Index("ix_moderation_log_team_action_tip", "team_id", "action", "tip_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24), doc="hide, restore, report, moderator_add, moderator_remove")
    tip_id: Mapped[int | None] = mapped_column(Integer, nullable=True, doc="No FK: the record outlives the tip")
    detail: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


NEVER = datetime(9999, 1, 1, tzinfo=UTC)
REPLAN = datetime(1970, 1, 1, tzinfo=UTC)


class ChatRecord(Base):
    """A scheduled hashtag chat (see `bot.chats.spec.ChatSpec` for the fields' meaning).

    `planned_through`: the deliveries of every occurrence starting before it are written; an edit sets it
    back to REPLAN, and a chat with nothing left to plan has NEVER, so the planner's query stays indexed.
    """

    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_team_next_start", "team_id", "next_start"),
        Index("ix_chats_next_start", "next_start"),
        Index("ix_chats_planned_through", "planned_through"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(150))
    hashtag: Mapped[str] = mapped_column(String(50))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_local: Mapped[str] = mapped_column(String(16), doc="Wall-clock start, YYYY-MM-DDTHH:MM in `timezone`")
    duration: Mapped[int] = mapped_column(Integer, doc="Minutes")
    repeat: Mapped[str] = mapped_column(String(8))
    until: Mapped[date | None] = mapped_column(nullable=True)
    skip: Mapped[list[Any]] = mapped_column(default=list, doc="ISO dates")
    slack_channels: Mapped[list[Any]] = mapped_column(default=list)
    post_to_x: Mapped[bool] = mapped_column(Boolean, default=False)
    post_to_bluesky: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    post_to_mastodon: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reminders: Mapped[list[Any]] = mapped_column(default=list, doc="Minutes before the start")
    questions: Mapped[list[Any]] = mapped_column(default=list, doc='[{"at": minutes, "text": ...}]')
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    next_start: Mapped[datetime | None] = mapped_column(nullable=True, doc="UTC; None when no occurrence is left")
    planned_through: Mapped[datetime] = mapped_column(default=REPLAN)


class ChatRead(Base):
    """Where reading a chat's hashtag on one network (x, bluesky, mastodon) has got to, and what it cost."""

    __tablename__ = "chat_reads"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    network: Mapped[str] = mapped_column(String(8), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(
        String(64), nullable=True, doc="X since_id, Mastodon min_id, Bluesky newest time seen"
    )
    reads: Mapped[dict[str, Any]] = mapped_column(default=dict, doc="Posts read, by occurrence date")
    denied: Mapped[bool] = mapped_column(Boolean, default=False, doc="The account may post but not read")
    failures: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default=literal_column("0"),
        doc="Passes in a row whose reading failed for a while (5xx, no network)",
    )
    retry_at: Mapped[datetime | None] = mapped_column(nullable=True, doc="UTC; no read before then (backing off)")


class NetworkSession(Base):
    """A network login kept between runs and shared by every process (Bluesky allows few logins a day),
    encrypted with a key derived from the account's own password, so the database alone does not give it away."""

    __tablename__ = "network_sessions"

    network: Mapped[str] = mapped_column(String(8), primary_key=True)
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class DeliveryRecord(Base):
    """One post, written before it is sent: its unique key is never sent twice (see `bot.delivery`)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_due", "state", "due_at"),
        Index("ix_deliveries_state_not_before", "state", "not_before"),
        Index("ix_deliveries_subject_state", "subject", "state"),
        Index("ix_deliveries_sent_ref", "target", "channel", "sent_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(64), doc="What it belongs to, e.g. chat:42 or digest:17")
    target: Mapped[str] = mapped_column(String(8), doc="slack, x, bluesky or mastodon")
    channel: Mapped[str] = mapped_column(String(64), default="", doc="A Slack channel or user id; '' on the networks")
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True, doc="Skipped when not sent by then")
    not_before: Mapped[datetime | None] = mapped_column(nullable=True, doc="Rate limited or retrying until")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(8), default="pending", doc="pending, sending, sent, failed, skipped")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300), default="")
    verify: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="An attempt may have reached the channel: check before resending",
    )
    sent_ref: Mapped[str | None] = mapped_column(
        String(64), nullable=True, doc="Slack ts, X post id, Bluesky record key, Mastodon status id"
    )
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_by: Mapped[int | None] = mapped_column(
        Integer, nullable=True, doc="The sender (delivery_senders.id) holding a row in sending"
    )
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliverySender(Base):
    """A running sender. Its claims on deliveries live as long as it does: on PostgreSQL while it holds an
    advisory lock on its own connection, on SQLite while its process runs and renews `renewed_at`."""

    __tablename__ = "delivery_senders"
    # An id is never reused: a dead sender's claims stay its own.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy reads it once

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    renewed_at: Mapped[datetime]


class QueuedReaction(Base):
    """A tip reaction whose message Slack would not let the bot read yet (rate limited): read again, and
    saved, once `not_before` has passed, by the worker rather than a reply worker waiting."""

    __tablename__ = "queued_reactions"
    __table_args__ = (UniqueConstraint("team_id", "channel", "ts", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32), doc="Who reacted: saves the tip, and is told")
    not_before: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class WaitingReply(Base):
    """A reply in a Slack thread whose parent may be a chat question still being sent (or checked after a
    crash): kept until the question's `ts` is known, then saved as its answer, or dropped when it never is."""

    __tablename__ = "waiting_replies"
    __table_args__ = (Index("ix_waiting_replies_thread", "channel", "thread_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    source_ref: Mapped[str] = mapped_column(String(200), unique=True)
    permalink: Mapped[str | None] = mapped_column(String(500), nullable=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class ChatAnswer(Base):
    """A tip that answered a chat question: a Slack thread reply, or a post on a network (A1 … #hashtag, or a
    reply to the question's own post)."""

    __tablename__ = "chat_answers"
    __table_args__ = (
        Index("ix_chat_answers_chat_occurrence", "chat_id", "occurrence"),
        Index("ix_chat_answers_team_participant", "team_id", "participant", "occurrence"),
    )

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    occurrence: Mapped[date] = mapped_column(doc="The local date the chat ran")
    question: Mapped[int] = mapped_column(Integer, doc="1-based")
    participant: Mapped[str] = mapped_column(String(120), doc="A Slack user id, or network:account (x:ana)")


class DigestSubscriptionRecord(Base):
    """A weekly digest to someone's DMs (`channel` is their user id) or to a channel; one per destination."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        Index("uq_digest_subscriptions_team_channel", "team_id", "channel", unique=True),
        Index("ix_digest_subscriptions_team_user", "team_id", "user_id"),
        Index("ix_digest_subscriptions_next_send", "next_send"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), doc="Who subscribed")
    channel: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer, doc="0 = Monday")
    send_time: Mapped[str] = mapped_column(String(5), doc="HH:MM, local")
    timezone: Mapped[str] = mapped_column(String(64))
    quiet_weeks: Mapped[str] = mapped_column(String(8), default="note")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reason: Mapped[str] = mapped_column(String(100), default="", doc="Why it was deactivated")
    next_send: Mapped[datetime | None] = mapped_column(nullable=True, doc="UTC; None when paused or inactive")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DigestPlay(Base):
    """The play a subscription's digest of a week carries, so the next eight weeks bring other plays."""

    __tablename__ = "digest_plays"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(10), primary_key=True, doc="ISO week, e.g. 2026-W49")
    slug: Mapped[str] = mapped_column(String(60))
