"""An author's Helpful vote for their own tip no longer counts (it is refused when cast): the ones stored before
that are deleted, and their tips' helpful_count lowered to match, so every query can keep reading the count.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OWN_VOTE = "SELECT 1 FROM tips t WHERE t.id = tip_votes.tip_id AND t.author = tip_votes.user_id"


def upgrade() -> None:
    op.execute(
        "UPDATE tips SET helpful_count = helpful_count - 1 WHERE helpful_count > 0 AND EXISTS "
        "(SELECT 1 FROM tip_votes v WHERE v.tip_id = tips.id AND v.user_id = tips.author)"
    )
    op.execute(f"DELETE FROM tip_votes WHERE EXISTS ({OWN_VOTE})")


def downgrade() -> None:
    """Nothing to undo: the votes deleted were never meant to count."""
