"""Moderators' App Home lists the tips with open reports: reports and the moderator's last look at each tip are
found through (team_id, action, tip_id), not by reading the workspace's whole moderation log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_moderation_log_team_action_tip", "moderation_log", ["team_id", "action", "tip_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_moderation_log_team_action_tip", "moderation_log")
