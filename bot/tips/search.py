"""`/tips`: what a person asked for, and the matching tips, best first, a page at a time.

Ranking blends text relevance with helpful votes and recency. A query that finds nothing is tried again
with misspelt words corrected from the workspace's own words ("blnded lerning" → "blended learning"),
then with any of its words instead of all of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import TipRecord
from bot.search_text import THESAURUS, concepts, query_terms, words
from bot.tips import engine
from bot.tips.records import Tip, TipRejected, normalise_tags

PAGE_SIZE = 5
MAX_QUERY = 300
RELEVANCE, VOTES, RECENCY = 0.6, 0.25, 0.15
RECENCY_HALF_LIFE_DAYS = 90
MIN_CORRECTABLE = 4
CORRECTION_LIKENESS = 0.7
FIRST_LETTER_BONUS = 0.1  # "grafic" is "graphic" (0.77 alike) rather than "rafi" (0.8)

_THESAURUS_WORDS = frozenset(w for group in THESAURUS for phrase in group for w in words(phrase))
_CHANNEL_TAG = re.compile(r"^<#C[A-Z0-9]+\|([^>]*)>$")  # Slack escapes #name when a channel has that name
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class TipQuery:
    words: str = ""
    tags: tuple[str, ...] = ()
    author: str | None = None
    since: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.words.strip() or self.tags or self.author or self.since)


@dataclass(frozen=True)
class TipPage:
    query: TipQuery
    tips: list[Tip] = field(default_factory=list)
    page: int = 0
    has_next: bool = False
    corrected: str | None = None  # the words actually searched, when spelling was corrected
    broadened: bool = False  # True when only some of the words matched


def parse_query(raw: str) -> TipQuery:
    """`words #tag from:@user since:YYYY-MM-DD`, in any order. Raises TipRejected for a bad filter."""
    if len(raw) > MAX_QUERY:
        raise TipRejected(f"That search is {len(raw)} characters; I read up to {MAX_QUERY}. A few words work best.")
    plain, tags, author, since = [], [], None, None
    for token in raw.split():
        lowered = token.lower()
        if lowered.startswith("from:"):
            author = _user_id(token[5:])
        elif lowered.startswith("since:"):
            since = _date(token[6:])
        elif token.startswith("#") and len(token) > 1:
            tags.append(token)
        elif match := _CHANNEL_TAG.match(token):
            tags.append(match.group(1))
        else:
            plain.append(token)
    return TipQuery(" ".join(plain), normalise_tags(tags), author, since)


def _user_id(value: str) -> str:
    if match := _USER.match(value):
        return match.group(1)
    raise TipRejected("For `from:`, pick the person from the @ menu (e.g. `from:@Ana`) so I know who they are.")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TipRejected(f"`since:` takes a date like 2026-09-01, not `{value[:20]}`.") from None


def search_tips(session: Session, team_id: str, query: TipQuery, *, now: datetime, page: int = 0,
                include_hidden: bool = False) -> TipPage:
    filters = engine.Filters(query.tags, query.author, _start_of(query.since), include_hidden)
    terms = query_terms(query.words)
    found = concepts(terms)
    rows = engine.candidates(session, team_id, found, filters, every=True)
    corrected, broadened = None, False
    if not rows and terms and (fixed := correct_spelling(session, team_id, terms)):
        found = concepts(fixed)
        rows = engine.candidates(session, team_id, found, filters, every=True)
        corrected = " ".join(fixed)
    if not rows and len(found) > 1:
        rows = engine.candidates(session, team_id, found, filters, every=False)
        broadened = bool(rows)
    if not rows:
        corrected = None  # nothing found either way: don't claim to have searched other words
    ranked = rank(rows, now)
    start = max(page, 0) * PAGE_SIZE
    ids = ranked[start:start + PAGE_SIZE]
    records = {r.id: r for r in session.scalars(select(TipRecord).where(TipRecord.id.in_(ids)))} if ids else {}
    tips = [Tip.from_record(records[i]) for i in ids if i in records]
    return TipPage(query, tips, max(page, 0), len(ranked) > start + PAGE_SIZE, corrected, broadened)


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.utc) if day else None


def rank(rows, now: datetime) -> list[int]:
    """Tip ids, best first: relevance, then helpful votes (diminishing), then freshness."""
    if not rows:
        return []
    top_relevance = max(r.relevance for r in rows) or 1.0
    top_votes = math.log1p(max(r.helpful_count for r in rows)) or 1.0

    def score(row) -> float:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        age_days = max((now - created).total_seconds(), 0) / 86400
        return (RELEVANCE * row.relevance / top_relevance + VOTES * math.log1p(row.helpful_count) / top_votes
                + RECENCY * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS))

    return [row.id for row in sorted(rows, key=lambda r: (-score(r), -r.id))]


def correct_spelling(session: Session, team_id: str, terms: list[str]) -> list[str] | None:
    """The terms with unknown words replaced by the workspace's most alike word; None when nothing changed."""
    known = engine.known_words(session, team_id, terms)
    fixed = []
    for term in terms:
        if term in known or term in _THESAURUS_WORDS or len(term) < MIN_CORRECTABLE or term.isdigit():
            fixed.append(term)
            continue
        fixed.append(_closest(term, engine.similar_words(session, team_id, term)) or term)
    return fixed if fixed != terms else None


def _closest(term: str, options: list[tuple[str, int]]) -> str | None:
    """The most alike word, preferring one with the same first letter (typos rarely hit it), then the most used."""
    alike = [(SequenceMatcher(None, term, word).ratio(), uses, word) for word, uses in options]
    scored = [(ratio + FIRST_LETTER_BONUS * (word[:1] == term[:1]), uses, word)
              for ratio, uses, word in alike if ratio >= CORRECTION_LIKENESS]
    return max(scored)[2] if scored else None

