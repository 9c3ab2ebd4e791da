"""`/tips`: what a person asked for, and the matching tips, best first, a page at a time.

Ranking blends text relevance with helpful votes and recency. A query looks for tips with all its words, then
for tips with any of them. When that finds nothing, or only some words matched, misspelt words are corrected from
the workspace's own words and the thesaurus ("blnded lerning" → "blended learning"), and the corrected words are
used only when they find a better answer: all words where the original matched some or none, or more tips.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import grades
from bot.models import TipRecord
from bot.search_text import THESAURUS, concepts, query_terms, words
from bot.tips import engine
from bot.tips.records import Tip, TipRejected, normalise_tags

PAGE_SIZE = 5
MAX_QUERY = 300
RELEVANCE, VOTES, RECENCY = 0.6, 0.25, 0.15
RECENCY_HALF_LIFE_DAYS = 90
MIN_CORRECTABLE = 4

_THESAURUS_WORDS = frozenset(w for group in THESAURUS for phrase in group for w in words(phrase))
_CHANNEL_TAG = re.compile(r"^<#C[A-Z0-9]+\|([^>]*)>$")  # Slack escapes #name when a channel has that name
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class TipQuery:
    words: str = ""
    tags: tuple[str, ...] = ()
    author: str | None = None
    since: date | None = None
    grade: str | None = None  # a band: the tips for any band sharing a grade with it (K-5 finds K-2, 3-5, all)

    @property
    def empty(self) -> bool:
        return not (self.words.strip() or self.tags or self.author or self.since or self.grade)


@dataclass(frozen=True)
class TipPage:
    query: TipQuery
    tips: list[Tip] = field(default_factory=list)
    page: int = 0
    has_next: bool = False
    corrected: str | None = None  # the words actually searched, when spelling was corrected
    broadened: bool = False  # True when only some of the words matched


def parse_query(raw: str) -> TipQuery:
    """`words #tag from:@user since:YYYY-MM-DD grade:3-5`, in any order. Raises TipRejected for a bad filter."""
    if len(raw) > MAX_QUERY:
        raise TipRejected(f"That search is {len(raw)} characters; I read up to {MAX_QUERY}. A few words work best.")
    plain, tags, author, since, grade = [], [], None, None, None
    for token in raw.split():
        lowered = token.lower()
        if lowered.startswith("from:"):
            author = _user_id(token[5:])
        elif lowered.startswith("since:"):
            since = _date(token[6:])
        elif lowered.startswith(("grade:", "grades:")):
            grade = _grade(token.partition(":")[2])
        elif token.startswith("#") and len(token) > 1:
            tags.append(token)
        elif match := _CHANNEL_TAG.match(token):
            tags.append(match.group(1))
        else:
            plain.append(token)
    return TipQuery(" ".join(plain), normalise_tags(tags), author, since, grade)


def _user_id(value: str) -> str:
    if match := _USER.match(value):
        return match.group(1)
    raise TipRejected("For `from:`, pick the person from the @ menu (e.g. `from:@Ana`) so I know who they are.")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TipRejected(f"`since:` takes a date like 2026-09-01, not `{value[:20]}`.") from None


def _grade(value: str) -> str:
    if found := grades.band(value):
        return found
    raise TipRejected(f"`grade:` takes a grade band ({', '.join(grades.BANDS)}), not `{value[:20]}`.")


def search_tips(
    session: Session, team_id: str, query: TipQuery, *, now: datetime, page: int = 0, include_hidden: bool = False
) -> TipPage:
    filters = engine.Filters(
        query.tags,
        query.author,
        _start_of(query.since),
        include_hidden,
        grades.matching(query.grade) if query.grade else (),
    )
    terms = query_terms(query.words)
    found = matches(session, team_id, terms, filters)
    corrected = None
    if terms and (found.broadened or not found.rows) and (fixed := correct_spelling(session, team_id, terms)):
        better = matches(session, team_id, fixed, filters)
        if better.beats(found):
            found, corrected = better, " ".join(fixed)
    ranked = rank(found.rows, now)
    start = max(page, 0) * PAGE_SIZE
    ids = ranked[start : start + PAGE_SIZE]
    records = {r.id: r for r in session.scalars(select(TipRecord).where(TipRecord.id.in_(ids)))} if ids else {}
    tips = [Tip.from_record(records[i]) for i in ids if i in records]
    return TipPage(query, tips, max(page, 0), len(ranked) > start + PAGE_SIZE, corrected, found.broadened)


@dataclass(frozen=True)
class Matches:
    rows: list[engine.Candidate]
    broadened: bool  # only some of the words matched

    def beats(self, other: Matches) -> bool:
        """A better answer: tips where there were none, all words where only some matched, or more tips."""
        if not self.rows:
            return False
        if not other.rows or self.broadened < other.broadened:
            return True
        return self.broadened == other.broadened and len(self.rows) > len(other.rows)


def matches(session: Session, team_id: str, terms: list[str], filters: engine.Filters) -> Matches:
    """The tips with all the words; failing that, those with any of them."""
    found = concepts(terms)
    rows = engine.candidates(session, team_id, found, filters, every=True)
    if rows or len(found) < 2:
        return Matches(rows, False)
    rows = engine.candidates(session, team_id, found, filters, every=False)
    return Matches(rows, bool(rows))


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def rank(rows: list[engine.Candidate], now: datetime) -> list[int]:
    """Tip ids, best first: relevance, then helpful votes (diminishing), then freshness."""
    if not rows:
        return []
    top_relevance = max(r.relevance for r in rows) or 1.0
    top_votes = math.log1p(max(r.helpful_count for r in rows)) or 1.0

    def score(row: engine.Candidate) -> float:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        age_days = max((now - created).total_seconds(), 0) / 86400
        freshness: float = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
        return (
            RELEVANCE * row.relevance / top_relevance
            + VOTES * math.log1p(row.helpful_count) / top_votes
            + RECENCY * freshness
        )

    return [row.id for row in sorted(rows, key=lambda r: (-score(r), -r.id))]


def correct_spelling(session: Session, team_id: str, terms: list[str]) -> list[str] | None:
    """The terms with each unknown word replaced by the closest word the workspace uses or the thesaurus knows,
    where one is close enough to be a typo of it; None when nothing changed."""
    known = engine.known_words(session, team_id, terms)
    fixed = []
    for term in terms:
        if term in known or term in _THESAURUS_WORDS or len(term) < MIN_CORRECTABLE or term.isdigit():
            fixed.append(term)
            continue
        options = [*engine.similar_words(session, team_id, term), *((word, 0) for word in _THESAURUS_WORDS)]
        fixed.append(closest(term, options) or term)
    return fixed if fixed != terms else None


def closest(term: str, options: list[tuple[str, int]]) -> str | None:
    """The option fewest typos away from `term` (then the most used), if it is within the typos a word of that
    length may hold: one up to 4 letters, two up to 8, three beyond. A different first letter counts as one more
    typo, since typos rarely hit it: "lerning" is "learning" (one), never "morning" (three)."""
    allowed = 1 if len(term) <= 4 else 2 if len(term) <= 8 else 3
    scored = [(typos(term, word) + (word[:1] != term[:1]), -uses, word) for word, uses in options if word != term]
    best = min((option for option in scored if option[0] <= allowed), default=None)
    return best[2] if best else None


def typos(a: str, b: str) -> int:
    """Letters to insert, delete, change or swap with a neighbour to turn `a` into `b` (optimal string alignment)."""
    before, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row = row, [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], before[j - 2] + 1)
        before = previous
    return row[-1]
