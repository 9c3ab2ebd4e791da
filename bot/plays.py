"""Plays: finding a strategy card to try. Plain Python over a SQLAlchemy session."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.models import PlayRecord
from bot.search_text import concepts, fts5_match, query_terms, tsquery, words

CATEGORIES: dict[str, str] = {
    "mindset": "The personalized-learning mindset",
    "why-personalize": "Why personalize",
    "technology": "Technology that amplifies the teacher",
    "whole-school-design": "Whole-school design",
    "blended-learning": "Blended learning and station rotation",
    "flipped-classroom": "Flipped classroom",
    "project-based": "Project-based learning",
    "competency-based": "Competency-based progress",
    "student-ownership": "Feedback and student ownership",
    "community": "What students, teachers and families want",
}

# The index holds stems ("rotation" -> "rotat"), so a half-typed word ("rotati") only prefix-matches
# once cut back to a length stems rarely go below.
PREFIX_LENGTH = 5


@dataclass(frozen=True)
class Play:
    slug: str
    title: str
    category: str
    summary: str
    tags: tuple[str, ...]
    grades: tuple[str, ...]
    time_needed: str
    source: str
    body: str

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @classmethod
    def from_record(cls, record: PlayRecord) -> Play:
        def split(value: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in value.split(",") if part.strip())

        return cls(record.slug, record.title, record.category, record.summary, split(record.tags),
                   split(record.grades), record.time_needed, record.source, record.body)


@dataclass(frozen=True)
class CategoryCount:
    slug: str
    label: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    plays: list[Play]
    terms: list[str]
    broadened: bool = False  # True when only prefix matches were found


# Every way a query can name a category: its slug's words ("project based") or its label's.
_CATEGORY_NAMES = {" ".join(words(name)): slug for slug, label in CATEGORIES.items() for name in (slug, label)}


# The words that say what each category is about, for preferring its plays when a query names its topic
# ("engage parents" reaches the families category through the thesaurus). Words every category shares
# in an education playbook say nothing about any one of them.
_GENERIC_WORDS = {"what", "and", "the", "want", "why", "student", "students", "teacher", "teachers", "learning",
                  "based"}
_CATEGORY_TOPICS = {slug: frozenset(words(f"{slug} {label}")) - _GENERIC_WORDS for slug, label in CATEGORIES.items()}
CANDIDATE_PLAYS = 50


def category_for(query: str) -> str | None:
    """The category a query names, by slug ('project-based') or label ('project based learning')."""
    return _CATEGORY_NAMES.get(" ".join(words(query)))


def get_play(session: Session, slug: str) -> Play | None:
    record = session.scalar(select(PlayRecord).where(PlayRecord.slug == slug))
    return Play.from_record(record) if record else None


def random_play(session: Session, rng: random.Random, exclude: str | None = None) -> Play | None:
    query = select(PlayRecord)
    if exclude:
        query = query.where(PlayRecord.slug != exclude)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total == 0:
        return None
    record = session.scalar(query.order_by(PlayRecord.id).offset(rng.randrange(total)).limit(1))
    return Play.from_record(record)


def play_of_the_week(session: Session, today: date) -> Play | None:
    """The same play all week for everyone, a different one each week."""
    year, week, _ = today.isocalendar()
    return random_play(session, random.Random(year * 100 + week))


def category_counts(session: Session) -> list[CategoryCount]:
    rows = dict(session.execute(select(PlayRecord.category, func.count()).group_by(PlayRecord.category)).all())
    return [CategoryCount(slug, label, rows.get(slug, 0)) for slug, label in CATEGORIES.items()]


def plays_in_category(session: Session, category: str) -> list[Play]:
    records = session.scalars(select(PlayRecord).where(PlayRecord.category == category).order_by(PlayRecord.title))
    return [Play.from_record(r) for r in records]


def search_plays(session: Session, query: str, limit: int = 3) -> SearchResult:
    """Ranked full-text search over title, tags, summary and body; falls back to prefix matches."""
    terms = query_terms(query)
    if not terms:
        return SearchResult([], terms)
    for broadened in (False, True):
        ids = _ranked_ids(session, terms, CANDIDATE_PLAYS, prefix=broadened)
        if ids:
            records = {r.id: r for r in session.scalars(select(PlayRecord).where(PlayRecord.id.in_(ids)))}
            ranked = [Play.from_record(records[i]) for i in ids if i in records]
            return SearchResult(_topic_first(ranked, terms)[:limit], terms, broadened)
    return SearchResult([], terms)


def _topic_first(ranked: list[Play], terms: list[str]) -> list[Play]:
    """Plays of a category whose topic the query names (directly or through the thesaurus) first, in rank order."""
    asked = {w for concept in concepts(terms) for phrase in concept.alternatives for w in phrase}
    named = {slug for slug, topics in _CATEGORY_TOPICS.items() if topics & asked}
    return sorted(ranked, key=lambda play: play.category not in named)  # stable: rank order within each part


def _ranked_ids(session: Session, terms: list[str], limit: int, *, prefix: bool) -> list[int]:
    """Any concept may match (OR): a play about families answers "engage parents" through the thesaurus."""
    found = concepts(terms)
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(f'"{t[:PREFIX_LENGTH]}"*' for t in terms) if prefix else fts5_match(found, every=False)
        statement = text(
            "SELECT rowid FROM plays_fts WHERE plays_fts MATCH :match "
            "ORDER BY bm25(plays_fts, 10.0, 4.0, 8.0, 1.0) LIMIT :limit"
        )
        return list(session.scalars(statement, {"match": match, "limit": limit}))
    query = " | ".join(f"{t[:PREFIX_LENGTH]}:*" for t in terms) if prefix else tsquery(found, every=False)
    statement = text(
        "SELECT id FROM plays, to_tsquery('english', :tsquery) AS q WHERE search_vector @@ q "
        "ORDER BY ts_rank_cd(search_vector, q) DESC, id LIMIT :limit"
    )
    return list(session.scalars(statement, {"tsquery": query, "limit": limit}))
