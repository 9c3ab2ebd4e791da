"""Chats on Bluesky and Mastodon beside X: a chat says which networks it posts to; where reading each network's
hashtag has got to moves from X-only columns on chats into chat_reads (one row per chat and network); network
logins kept between runs (network_sessions).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_to_bluesky", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("post_to_mastodon", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "chat_reads",
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=8), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("reads", sa.JSON(), nullable=False),
        sa.Column("denied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "network"),
    )
    op.execute(
        "INSERT INTO chat_reads (chat_id, network, cursor, reads, denied) "
        "SELECT id, 'x', x_since_id, x_reads, x_read_denied FROM chats "
        "WHERE x_since_id IS NOT NULL OR x_read_denied"
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("x_since_id")
        batch_op.drop_column("x_reads")
        batch_op.drop_column("x_read_denied")
    op.create_table(
        "network_sessions",
        sa.Column("network", sa.String(length=8), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("network", "account"),
    )


def downgrade() -> None:
    op.drop_table("network_sessions")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("x_since_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("x_reads", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("x_read_denied", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE chats SET x_since_id = (SELECT cursor FROM chat_reads r WHERE r.chat_id = chats.id "
        "AND r.network = 'x'), x_read_denied = COALESCE((SELECT denied FROM chat_reads r "
        "WHERE r.chat_id = chats.id AND r.network = 'x'), false)"
    )
    op.drop_table("chat_reads")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("post_to_mastodon")
        batch_op.drop_column("post_to_bluesky")
