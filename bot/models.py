"""Database tables as SQLAlchemy 2.0 typed models. Schema changes go through `migrations/`."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class PlayRecord(Base):
    """A play synced from `plays/*.md`.

    Full-text search lives beside the table and is created by the migration, per dialect:
    an FTS5 table kept in step by triggers on SQLite, a generated `tsvector` column with a
    GIN index on PostgreSQL. Neither is mapped here because the ORM never writes them.
    """

    __tablename__ = "plays"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    tags: Mapped[str] = mapped_column(String(250), doc="Comma-separated, lower case")
    grades: Mapped[str] = mapped_column(String(60), default="")
    time_needed: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), doc="sha256 of the file, so unchanged files are skipped")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
