"""A draft can be an edit of a published play: play_drafts.play_id names the play it will replace when published
(NULL for a new play; set to NULL if the play is removed meanwhile, so the draft is kept and publishes as new).
A draft also holds its grade-band notes (play_drafts.grade_notes: band -> note; drafts made before have none).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("play_drafts") as batch_op:
        batch_op.add_column(sa.Column("play_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("grade_notes", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.create_foreign_key("fk_play_drafts_play_id", "plays", ["play_id"], ["id"], ondelete="SET NULL")
    op.create_index("ix_play_drafts_play", "play_drafts", ["play_id"])


def downgrade() -> None:
    op.drop_index("ix_play_drafts_play", table_name="play_drafts")
    with op.batch_alter_table("play_drafts") as batch_op:
        batch_op.drop_constraint("fk_play_drafts_play_id", type_="foreignkey")
        batch_op.drop_column("grade_notes")
        batch_op.drop_column("play_id")
