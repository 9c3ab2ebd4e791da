"""Tips: workspaces, tips with full-text search, helpful votes, moderators and their log, and a
per-workspace word list with a trigram index for spelling correction.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The FTS table indexes the workspace and author as columns too, so a query names its workspace inside the
# index ("team : t123 AND ...") and never walks another workspace's matches. Votes and flags change often:
# the update trigger fires only when indexed columns change.
SQLITE_FTS = [
    """CREATE VIRTUAL TABLE tips_fts USING fts5(
        text, tags, team, author,
        content='tips', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER tips_fts_insert AFTER INSERT ON tips BEGIN
        INSERT INTO tips_fts(rowid, text, tags, team, author)
        VALUES (new.id, new.text, new.tags, new.team_id, new.author);
    END""",
    """CREATE TRIGGER tips_fts_delete AFTER DELETE ON tips BEGIN
        INSERT INTO tips_fts(tips_fts, rowid, text, tags, team, author)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id, old.author);
    END""",
    """CREATE TRIGGER tips_fts_update AFTER UPDATE OF text, tags, team_id, author ON tips BEGIN
        INSERT INTO tips_fts(tips_fts, rowid, text, tags, team, author)
        VALUES ('delete', old.id, old.text, old.tags, old.team_id, old.author);
        INSERT INTO tips_fts(rowid, text, tags, team, author)
        VALUES (new.id, new.text, new.tags, new.team_id, new.author);
    END""",
    """CREATE VIRTUAL TABLE search_words_fts USING fts5(
        word, content='search_words', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER search_words_fts_insert AFTER INSERT ON search_words BEGIN
        INSERT INTO search_words_fts(rowid, word) VALUES (new.id, new.word);
    END""",
    """CREATE TRIGGER search_words_fts_delete AFTER DELETE ON search_words BEGIN
        INSERT INTO search_words_fts(search_words_fts, rowid, word) VALUES ('delete', old.id, old.word);
    END""",
]
SQLITE_OBJECTS = [
    "tips_fts_insert",
    "tips_fts_delete",
    "tips_fts_update",
    "search_words_fts_insert",
    "search_words_fts_delete",
]

POSTGRES_FTS = [
    """ALTER TABLE tips ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', replace(tags, '-', ' ')), 'A') ||
        setweight(to_tsvector('english', text), 'B')) STORED""",
    "CREATE INDEX ix_tips_search_vector ON tips USING gin (search_vector)",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_search_words_trgm ON search_words USING gin (word gin_trgm_ops)",
]


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("shared_by", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("tags", sa.String(320), nullable=False),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(255)),
        sa.Column("permalink", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("pending", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.create_index("uq_tips_team_source_ref", "tips", ["team_id", "source_ref"], unique=True)
    op.create_index("ix_tips_team_created", "tips", ["team_id", "created_at"])
    op.create_index("ix_tips_team_author", "tips", ["team_id", "author"])
    op.create_index("ix_tips_team_helpful", "tips", ["team_id", "helpful_count"])
    op.create_index("ix_tips_team_text_hash", "tips", ["team_id", "text_hash"])
    op.create_table(
        "tip_votes",
        sa.Column("tip_id", sa.Integer, sa.ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "search_words",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"), nullable=False),
        sa.Column("word", sa.String(40), nullable=False),
        sa.Column("uses", sa.Integer, nullable=False),
    )
    op.create_index("uq_search_words_team_word", "search_words", ["team_id", "word"], unique=True)
    op.create_table(
        "moderators",
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("added_by", sa.String(32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("tip_id", sa.Integer),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_moderation_log_team_at", "moderation_log", ["team_id", "at"])
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in SQLITE_OBJECTS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_words_fts")
        op.execute("DROP TABLE IF EXISTS tips_fts")
    for table in ("moderation_log", "moderators", "search_words", "tip_votes", "tips", "workspaces"):
        op.drop_table(table)
