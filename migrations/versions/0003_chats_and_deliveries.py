"""Scheduled chats, the delivery outbox every post goes through, and chat answers (tips linked to a question).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("hashtag", sa.String(length=50), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_local", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("repeat", sa.String(length=8), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("skip", sa.JSON(), nullable=False),
        sa.Column("slack_channels", sa.JSON(), nullable=False),
        sa.Column("post_to_x", sa.Boolean(), nullable=False),
        sa.Column("reminders", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("x_since_id", sa.String(length=32), nullable=True),
        sa.Column("x_reads", sa.JSON(), nullable=False),
        sa.Column("x_read_denied", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index("ix_chats_planned_through", ["planned_through"], unique=False)
        batch_op.create_index("ix_chats_team_next_start", ["team_id", "next_start"], unique=False)
        batch_op.create_index("ix_chats_next_start", ["next_start"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("verify", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sent_ref", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_sent_ref", ["target", "channel", "sent_ref"], unique=False)
        batch_op.create_index("ix_deliveries_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_deliveries_state_not_before", ["state", "not_before"], unique=False)
        batch_op.create_index("ix_deliveries_subject_state", ["subject", "state"], unique=False)

    op.create_table(
        "chat_answers",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Date(), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("participant", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tip_id"),
    )
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.create_index("ix_chat_answers_chat_occurrence", ["chat_id", "occurrence"], unique=False)
        batch_op.create_index(
            "ix_chat_answers_team_participant", ["team_id", "participant", "occurrence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_answers_team_participant")
        batch_op.drop_index("ix_chat_answers_chat_occurrence")

    op.drop_table("chat_answers")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_subject_state")
        batch_op.drop_index("ix_deliveries_state_not_before")
        batch_op.drop_index("ix_deliveries_state_due")
        batch_op.drop_index("ix_deliveries_sent_ref")

    op.drop_table("deliveries")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index("ix_chats_next_start")
        batch_op.drop_index("ix_chats_team_next_start")
        batch_op.drop_index("ix_chats_planned_through")

    op.drop_table("chats")
