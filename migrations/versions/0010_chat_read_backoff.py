"""Reading a chat's answers on a network backs off after a failure: chat_reads.failures counts the failed passes
in a row, chat_reads.retry_at is when the next pass may read again (NULL: now).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_reads") as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_reads") as batch_op:
        batch_op.drop_column("retry_at")
        batch_op.drop_column("failures")
