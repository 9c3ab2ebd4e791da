"""Weekly digests: subscriptions, the play each week's digest carried, and whether channel members (not only
moderators) may subscribe a channel.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("send_time", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("quiet_weeks", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("next_send", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_digest_subscriptions_next_send", ["next_send"], unique=False)
        batch_op.create_index("ix_digest_subscriptions_team_user", ["team_id", "user_id"], unique=False)
        batch_op.create_index("uq_digest_subscriptions_team_channel", ["team_id", "channel"], unique=True)

    op.create_table(
        "digest_plays",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["digest_subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "period"),
    )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("members_subscribe_channels", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("members_subscribe_channels")

    op.drop_table("digest_plays")
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("uq_digest_subscriptions_team_channel")
        batch_op.drop_index("ix_digest_subscriptions_team_user")
        batch_op.drop_index("ix_digest_subscriptions_next_send")

    op.drop_table("digest_subscriptions")
