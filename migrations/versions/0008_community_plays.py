"""A workspace's own plays beside the shared playbook: plays.team_id (NULL for the shared ones, so one search
ranks both), slugs unique within the shared playbook and within each workspace, drafts, and who is credited.

SQLite cannot drop a table's unique constraint in place, so there the table is rebuilt (ids kept, so the FTS5
index still points at the right rows) and its FTS triggers, dropped with the old table, are made again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The triggers migration 0001 made, as they were: a rebuilt table has none.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER plays_fts_insert AFTER INSERT ON plays BEGIN
        INSERT INTO plays_fts(rowid, title, summary, tags, body)
        VALUES (new.id, new.title, new.summary, new.tags, new.body);
    END""",
    """CREATE TRIGGER plays_fts_delete AFTER DELETE ON plays BEGIN
        INSERT INTO plays_fts(plays_fts, rowid, title, summary, tags, body)
        VALUES ('delete', old.id, old.title, old.summary, old.tags, old.body);
    END""",
    """CREATE TRIGGER plays_fts_update AFTER UPDATE ON plays BEGIN
        INSERT INTO plays_fts(plays_fts, rowid, title, summary, tags, body)
        VALUES ('delete', old.id, old.title, old.summary, old.tags, old.body);
        INSERT INTO plays_fts(rowid, title, summary, tags, body)
        VALUES (new.id, new.title, new.summary, new.tags, new.body);
    END""",
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table("plays", recreate="always" if _sqlite() else "auto") as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key("fk_plays_team_id", "workspaces", ["team_id"], ["team_id"], ondelete="CASCADE")
        batch_op.drop_constraint("uq_plays_slug", type_="unique")
    if _sqlite():
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_index(
        "uq_plays_shared_slug",
        "plays",
        ["slug"],
        unique=True,
        sqlite_where=sa.text("team_id IS NULL"),
        postgresql_where=sa.text("team_id IS NULL"),
    )
    op.create_index(
        "uq_plays_team_slug",
        "plays",
        ["team_id", "slug"],
        unique=True,
        sqlite_where=sa.text("team_id IS NOT NULL"),
        postgresql_where=sa.text("team_id IS NOT NULL"),
    )
    op.create_index("ix_plays_team_category", "plays", ["team_id", "category"])
    op.create_table(
        "play_credits",
        sa.Column("play_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tip_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["play_id"], ["plays.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("play_id", "author"),
    )
    op.create_index("ix_play_credits_team_author", "play_credits", ["team_id", "author"])
    op.create_table(
        "play_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.Column("looks_like", sa.Text(), nullable=False),
        sa.Column("watch_out", sa.Text(), nullable=False),
        sa.Column("grades", sa.String(length=60), nullable=False),
        sa.Column("time_needed", sa.String(length=60), nullable=False),
        sa.Column("tags", sa.String(length=250), nullable=False),
        sa.Column("tip_ids", sa.JSON(), nullable=False),
        sa.Column("credits", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_play_drafts_team_updated", "play_drafts", ["team_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_play_drafts_team_updated", table_name="play_drafts")
    op.drop_table("play_drafts")
    op.drop_index("ix_play_credits_team_author", table_name="play_credits")
    op.drop_table("play_credits")
    op.execute("DELETE FROM plays WHERE team_id IS NOT NULL")  # the shared playbook alone had a place before
    op.drop_index("ix_plays_team_category", table_name="plays")
    op.drop_index("uq_plays_team_slug", table_name="plays")
    op.drop_index("uq_plays_shared_slug", table_name="plays")
    with op.batch_alter_table("plays", recreate="always" if _sqlite() else "auto") as batch_op:
        batch_op.drop_constraint("fk_plays_team_id", type_="foreignkey")
        batch_op.drop_column("team_id")
        batch_op.create_unique_constraint("uq_plays_slug", ["slug"])
    if _sqlite():
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
