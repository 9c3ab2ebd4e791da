"""Plays: finding a strategy card to try. Plain Python over a SQLAlchemy session.

A workspace sees the shared playbook and its own plays (those its moderators published from its tips) as one
playbook: every function here takes the workspace (`team`) and never returns another workspace's plays; without one
(`plchat plays search`), only the shared playbook.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.orm import Session

from bot import grades
from bot.models import PlayCredit, PlayRecord
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

GRADE_NOTES_HEADING = "## Grade-band notes"
_BAND_HEADING = re.compile(r"^### +(" + "|".join(map(re.escape, grades.NOTE_BANDS)) + r") *$", re.MULTILINE)

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
    team_id: str | None = None  # set for a workspace's own play
    credits: tuple[str, ...] = ()  # whose tips a workspace's play was made from

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def from_community(self) -> bool:
        return self.team_id is not None

    @property
    def main_body(self) -> str:
        """The body without its grade-band notes."""
        return split_grade_notes(self.body)[0]

    def grade_note(self, band: str | None) -> str | None:
        """The note for `band`'s grades (a K-2 or 3-5 reader gets the K-5 note)."""
        note_band = grades.note_band(band)
        return split_grade_notes(self.body)[1].get(note_band) if note_band else None

    @classmethod
    def from_record(cls, record: PlayRecord, credits: tuple[str, ...] = ()) -> Play:
        return cls(
            record.slug,
            record.title,
            record.category,
            record.summary,
            split_list(record.tags),
            split_list(record.grades),
            record.time_needed,
            record.source,
            record.body,
            record.team_id,
            credits,
        )


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def split_grade_notes(body: str) -> tuple[str, dict[str, str]]:
    """(the body before `## Grade-band notes`, {band: its note}) for a play whose practice differs by band."""
    main, found, notes = body.partition(GRADE_NOTES_HEADING)
    if not found:
        return body, {}
    parts = _BAND_HEADING.split(notes)
    return main.rstrip(), {band: note.strip() for band, note in zip(parts[1::2], parts[2::2], strict=True)}


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
_GENERIC_WORDS = {
    "what",
    "and",
    "the",
    "want",
    "why",
    "student",
    "students",
    "teacher",
    "teachers",
    "learning",
    "based",
}
_CATEGORY_TOPICS = {slug: frozenset(words(f"{slug} {label}")) - _GENERIC_WORDS for slug, label in CATEGORIES.items()}
CANDIDATE_PLAYS = 50


def category_for(query: str) -> str | None:
    """The category a query names, by slug ('project-based') or label ('project based learning')."""
    return _CATEGORY_NAMES.get(" ".join(words(query)))


def visible(team: str | None) -> ColumnElement[bool]:
    """The shared playbook, and the workspace's own plays."""
    shared = PlayRecord.team_id.is_(None)
    return or_(shared, PlayRecord.team_id == team) if team else shared


def _for_band(band: str | None) -> ColumnElement[bool] | None:
    """Plays meant for the band: those naming one of its grades, 'all', or no grades at all."""
    if band is None:
        return None
    return or_(PlayRecord.grades == "", *(PlayRecord.grades.like(f"%{grade}%") for grade in grades.matching(band)))


def fits_band(play: Play, band: str | None) -> bool:
    return band is None or not play.grades or bool(set(play.grades) & set(grades.matching(band)))


def with_credits(session: Session, records: list[PlayRecord]) -> list[Play]:
    """The records as plays, the workspace's ones with their credits (one query for all)."""
    ids = [record.id for record in records if record.team_id is not None]
    credits: dict[int, list[str]] = {}
    if ids:
        for play_id, author in session.execute(
            select(PlayCredit.play_id, PlayCredit.author)
            .where(PlayCredit.play_id.in_(ids))
            .order_by(PlayCredit.play_id, PlayCredit.position)
        ):
            credits.setdefault(play_id, []).append(author)
    return [Play.from_record(record, tuple(credits.get(record.id, ()))) for record in records]


def get_play(session: Session, slug: str, *, team: str | None = None) -> Play | None:
    record = session.scalar(
        select(PlayRecord).where(PlayRecord.slug == slug, visible(team)).order_by(PlayRecord.team_id.is_(None))
    )  # a workspace's play first
    return with_credits(session, [record])[0] if record else None


def random_play(
    session: Session,
    rng: random.Random,
    exclude: str | None = None,
    *,
    team: str | None = None,
    band: str | None = None,
) -> Play | None:
    query = select(PlayRecord).where(visible(team))
    if exclude:
        query = query.where(PlayRecord.slug != exclude)
    if (fits := _for_band(band)) is not None:
        query = query.where(fits)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if total == 0:
        return None
    record = session.scalar(query.order_by(PlayRecord.id).offset(rng.randrange(total)).limit(1))
    return with_credits(session, [record])[0] if record else None


def play_of_the_week(session: Session, today: date, *, team: str | None = None) -> Play | None:
    """The same play all week for everyone in a workspace, a different one each week."""
    year, week, _ = today.isocalendar()
    return random_play(session, random.Random(year * 100 + week), team=team)  # noqa: S311 - the week's pick


def category_counts(session: Session, *, team: str | None = None) -> list[CategoryCount]:
    rows = dict(
        session.execute(
            select(PlayRecord.category, func.count()).where(visible(team)).group_by(PlayRecord.category)
        ).all()
    )
    return [CategoryCount(slug, label, rows.get(slug, 0)) for slug, label in CATEGORIES.items()]


def plays_in_category(
    session: Session, category: str, *, team: str | None = None, band: str | None = None
) -> list[Play]:
    query = select(PlayRecord).where(PlayRecord.category == category, visible(team))
    if (fits := _for_band(band)) is not None:
        query = query.where(fits)
    return with_credits(session, list(session.scalars(query.order_by(PlayRecord.title))))


def search_plays(
    session: Session, query: str, limit: int = 3, *, team: str | None = None, band: str | None = None
) -> SearchResult:
    """Ranked full-text search over title, tags, summary and body of the shared playbook and the workspace's own
    plays together; falls back to prefix matches."""
    terms = query_terms(query)
    if not terms:
        return SearchResult([], terms)
    for broadened in (False, True):
        ids = _ranked_ids(session, terms, team, CANDIDATE_PLAYS, prefix=broadened)
        if ids:
            records = {r.id: r for r in session.scalars(select(PlayRecord).where(PlayRecord.id.in_(ids)))}
            ranked = [
                play
                for play in with_credits(session, [records[i] for i in ids if i in records])
                if fits_band(play, band)
            ]
            if ranked:
                return SearchResult(_topic_first(ranked, terms)[:limit], terms, broadened)
    return SearchResult([], terms)


def _topic_first(ranked: list[Play], terms: list[str]) -> list[Play]:
    """Plays of a category whose topic the query names (directly or through the thesaurus) first, in rank order."""
    asked = {w for concept in concepts(terms) for phrase in concept.alternatives for w in phrase}
    named = {slug for slug, topics in _CATEGORY_TOPICS.items() if topics & asked}
    return sorted(ranked, key=lambda play: play.category not in named)  # stable: rank order within each part


def _ranked_ids(session: Session, terms: list[str], team: str | None, limit: int, *, prefix: bool) -> list[int]:
    """Any concept may match (OR): a play about families answers "engage parents" through the thesaurus."""
    found = concepts(terms)
    scope = {"team": team or ""}
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(f'"{t[:PREFIX_LENGTH]}"*' for t in terms) if prefix else fts5_match(found, every=False)
        statement = text(
            "SELECT plays.id FROM plays_fts JOIN plays ON plays.id = plays_fts.rowid "
            "WHERE plays_fts MATCH :match AND (plays.team_id IS NULL OR plays.team_id = :team) "
            "ORDER BY bm25(plays_fts, 10.0, 4.0, 8.0, 1.0) LIMIT :limit"
        )
        return list(session.scalars(statement, {"match": match, "limit": limit, **scope}))
    query = " | ".join(f"{t[:PREFIX_LENGTH]}:*" for t in terms) if prefix else tsquery(found, every=False)
    statement = text(
        "SELECT id FROM plays, to_tsquery('english', :tsquery) AS q WHERE search_vector @@ q "
        "AND (team_id IS NULL OR team_id = :team) "
        "ORDER BY ts_rank_cd(search_vector, q) DESC, id LIMIT :limit"
    )
    return list(session.scalars(statement, {"tsquery": query, "limit": limit, **scope}))
