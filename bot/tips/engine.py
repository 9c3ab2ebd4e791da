"""The tips' full-text and word-list queries, per dialect: FTS5 on SQLite, tsvector/GIN and pg_trgm on PostgreSQL.

Each search looks at a bounded set of candidates, newest first, and ranks only those: a word that half the
tips contain costs the same as a rare one, and no query walks the tips table. Query words reach SQL only
as bound parameters made of letters and digits (see `bot.search_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, Text, bindparam, select, text
from sqlalchemy.orm import Session

from bot.models import TipRecord, UTCDateTime
from bot.search_text import Concept, fts5_match, relevance, tsquery, tsquery_tag, words

CANDIDATES = 300  # the newest matches a search ranks; at a million tips each costs about 40 µs (SQLite)
_ROW_TYPES = {"id": Integer, "helpful_count": Integer, "created_at": UTCDateTime}


@dataclass(frozen=True)
class Candidate:
    """A matching tip, with what ranking needs: relevance (higher is better), votes and age."""

    id: int
    relevance: float
    helpful_count: int
    created_at: datetime


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()
    author: str | None = None
    since: datetime | None = None
    include_hidden: bool = False
    grades: tuple[str, ...] = ()  # the tip's band is one of these (none: any band, or none)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _column(name: str, value: str) -> str:
    """An FTS5 column filter with the value as a quoted phrase of its words."""
    return f'{name} : "{" ".join(words(value))}"'


def candidates(
    session: Session, team_id: str, found: list[Concept], filters: Filters, *, every: bool, limit: int = CANDIDATES
) -> list[Candidate]:
    """The newest matching tips, at most `limit`. With no concepts, every tip passing the filters matches.

    Relevance is `search_text.relevance` on SQLite (FTS5's bm25() costs a full count of every phrase's
    documents per query) and ts_rank_cd, which reads only the row, on PostgreSQL.
    """
    if _is_sqlite(session):
        return _sqlite_candidates(session, team_id, found, filters, every, limit)
    return _postgres_candidates(session, team_id, found, filters, every, limit)


def _sqlite_candidates(
    session: Session, team_id: str, found: list[Concept], filters: Filters, every: bool, limit: int
) -> list[Candidate]:
    parts = [_column("team", team_id)]
    if found:
        parts.append(f"({fts5_match(found, every=every)})")
    parts += [_column("tags", tag) for tag in filters.tags]
    if filters.author:
        parts.append(_column("author", filters.author))
    # The FTS team/author columns narrow the match inside the index; the row filters decide (see _row_filters).
    where, params = _row_filters(team_id, filters, "t")
    statement = text(
        "SELECT t.id, t.text, t.tags, t.helpful_count, t.created_at "  # noqa: S608 - joins our SQL and placeholders only
        "FROM tips_fts JOIN tips t ON t.id = tips_fts.rowid "
        f"WHERE tips_fts MATCH :match{where} ORDER BY tips_fts.rowid DESC LIMIT :limit"
    )
    params |= {"match": " AND ".join(parts), "limit": limit}
    rows = session.execute(statement.columns(text=Text, tags=Text, **_ROW_TYPES), params).all()
    average = sum(len(row.text.split()) for row in rows) / len(rows) if rows else 1.0
    return [
        Candidate(row.id, relevance(found, row.text, row.tags, average), row.helpful_count, row.created_at)
        for row in rows
    ]


def _postgres_candidates(
    session: Session, team_id: str, found: list[Concept], filters: Filters, every: bool, limit: int
) -> list[Candidate]:
    where, params = _row_filters(team_id, filters, "t")
    params["limit"] = limit
    # Tags go into the query too (as weight-A lexemes), so the GIN index narrows them; LIKE stays exact.
    parts = ([tsquery(found, every=every)] if found else []) + [tsquery_tag(tag) for tag in filters.tags]
    if parts:
        params["q"] = " & ".join(f"({part})" for part in parts)
        statement = text(
            "SELECT t.id, ts_rank_cd(t.search_vector, q) AS relevance, t.helpful_count, t.created_at "  # noqa: S608 - joins our SQL and placeholders only
            "FROM tips t, to_tsquery('english', :q) AS q "
            f"WHERE t.search_vector @@ q{where} ORDER BY t.id DESC LIMIT :limit"
        )
    else:
        statement = text(
            "SELECT t.id, 0.0 AS relevance, t.helpful_count, t.created_at FROM tips t "  # noqa: S608 - joins our SQL and placeholders only
            f"WHERE TRUE{where} ORDER BY t.id DESC LIMIT :limit"
        )
    rows = session.execute(statement.columns(relevance=Float, **_ROW_TYPES), params)
    return [Candidate(row.id, row.relevance, row.helpful_count, row.created_at) for row in rows]


def _row_filters(team_id: str, filters: Filters, alias: str) -> tuple[str, dict[str, Any]]:
    """SQL conditions on the tips row itself: workspace, author, visibility, exact tags, date, grade band.

    Workspace and author are checked on the row even where the index has them too: FTS5's porter tokenizer
    stems ids ("T0TEAMS" and "T0TEAM" are one token), and another workspace must never leak in.
    """
    where, params = f" AND {alias}.team_id = :team", dict[str, Any](team=team_id)
    if filters.author:
        where += f" AND {alias}.author = :author"
        params["author"] = filters.author
    if not filters.include_hidden:
        where += f" AND NOT {alias}.hidden"
    where += f" AND NOT {alias}.pending"
    for i, tag in enumerate(filters.tags):
        where += f" AND {alias}.tags LIKE :tag{i}"
        params[f"tag{i}"] = f"% {tag} %"
    if filters.grades:
        where += f" AND {alias}.grade IN ({', '.join(f':grade{i}' for i in range(len(filters.grades)))})"
        params |= {f"grade{i}": grade for i, grade in enumerate(filters.grades)}
    if filters.since is not None:
        where += f" AND {alias}.created_at >= :since"
        params["since"] = filters.since
    return where, params


def best_matches(session: Session, team_id: str, probe: list[str], limit: int) -> list[TipRecord]:
    """The visible tips sharing the most of these words (for near-duplicates), best first."""
    found = [Concept((w,), ((w,),)) for w in probe]
    rows = candidates(session, team_id, found, Filters(), every=False, limit=CANDIDATES)
    ids = [row.id for row in sorted(rows, key=lambda r: r.relevance, reverse=True)[:limit]]
    return list(session.scalars(select(TipRecord).where(TipRecord.id.in_(ids)))) if ids else []


def known_words(session: Session, team_id: str, candidates_: list[str]) -> set[str]:
    statement = text("SELECT word FROM search_words WHERE team_id = :team AND word IN :words").bindparams(
        bindparam("words", expanding=True)
    )
    return set(session.scalars(statement, {"team": team_id, "words": candidates_}))


def similar_words(session: Session, team_id: str, word: str, limit: int = 30) -> list[tuple[str, int]]:
    """Words of the workspace sharing trigrams with `word` (most alike first), with how often each is used."""
    if _is_sqlite(session):
        grams = {word[i : i + 3] for i in range(len(word) - 2)}
        statement = text(
            "SELECT w.word, w.uses FROM search_words_fts JOIN search_words w ON w.id = search_words_fts.rowid "
            "WHERE search_words_fts MATCH :grams AND w.team_id = :team ORDER BY search_words_fts.rank LIMIT :limit"
        )
        params = {"grams": " OR ".join(f'"{g}"' for g in sorted(grams)), "team": team_id, "limit": limit}
    else:
        statement = text(
            "SELECT word, uses FROM search_words WHERE team_id = :team AND word % :word "
            "ORDER BY similarity(word, :word) DESC LIMIT :limit"
        )
        params = {"word": word, "team": team_id, "limit": limit}
    return [(row.word, row.uses) for row in session.execute(statement, params)]
