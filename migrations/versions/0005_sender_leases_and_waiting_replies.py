"""Delivery claims that die with their sender (a sender row, and the sender each claimed row belongs to), and
thread replies kept until the chat question they answer is known.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_senders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
    op.create_table(
        "waiting_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_ref"),
    )
    with op.batch_alter_table("waiting_replies", schema=None) as batch_op:
        batch_op.create_index("ix_waiting_replies_thread", ["channel", "thread_ts"], unique=False)
        batch_op.create_index(batch_op.f("ix_waiting_replies_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("waiting_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waiting_replies_received_at"))
        batch_op.drop_index("ix_waiting_replies_thread")
    op.drop_table("waiting_replies")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    op.drop_table("delivery_senders")
