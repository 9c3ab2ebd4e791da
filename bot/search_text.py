"""Turning what people type into full-text queries: words, an education thesaurus, and per-engine syntax.

Query text is data, never syntax. Words are reduced to letters and digits before they reach FTS5 or
`to_tsquery`, and each is quoted (FTS5) or lexeme-only (PostgreSQL), so quotes, NEAR, `*`, `-`,
parentheses and `column:` filters in a query are just more words.

Teachers and the playbook's writers use different words for the same thing, so each word a person
types becomes a *concept*: the word and its synonyms, any of which may match.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

MAX_QUERY_TERMS = 12
MAX_TERM_LENGTH = 40

# Each group: phrases that mean the same thing in a classroom. Multi-word phrases match as phrases.
THESAURUS: tuple[tuple[str, ...], ...] = (
    ("parents", "parent", "families", "family", "caregivers", "caregiver", "guardians", "guardian"),
    ("kids", "kid", "students", "student", "learners", "learner", "pupils", "pupil", "children"),
    ("grading", "grades", "assessment", "assessments", "assess", "marks", "marking", "scoring", "rubric"),
    ("pbl", "project based", "projects", "project"),
    ("cbe", "competency based", "mastery based", "mastery", "competency"),
    ("1 1", "one to one", "devices", "device", "laptops", "laptop", "chromebooks", "chromebook", "tablets"),
    ("sel", "social emotional", "wellbeing", "well being"),
    ("flipped", "flip", "flipped classroom"),
    ("stations", "station rotation", "station", "centers", "centres", "rotation"),
    ("teacher", "teachers", "educator", "educators", "staff"),
    ("principal", "principals", "school leader", "school leaders", "administrators", "admin"),
    ("homework", "home learning", "practice at home"),
    ("feedback", "conferring", "conferences", "comments"),
    ("engage", "engagement", "involve", "involvement", "participation"),
    ("differentiate", "differentiation", "personalize", "personalized", "personalise", "personalised", "individualize"),
    ("goals", "goal setting", "targets", "objectives"),
    ("video", "videos", "screencast", "screencasts", "recording"),
    ("choice", "choices", "options", "voice and choice"),
    ("playlist", "playlists", "checklist", "checklists", "pathway", "pathways"),
)


def words(text: str) -> list[str]:
    """Lower-case runs of letters and digits: the only thing that ever reaches a search engine."""
    return re.findall(r"[^\W_]+", text.lower())


def _build_synonyms() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    index: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for group in THESAURUS:
        phrases = tuple(tuple(words(p)) for p in group)
        for phrase in phrases:
            index[phrase] = phrases
    return index


_SYNONYMS = _build_synonyms()
_LONGEST_PHRASE = max(len(p) for p in _SYNONYMS)


@dataclass(frozen=True)
class Concept:
    """One thing a person asked for: what they typed and the phrases that mean the same."""

    typed: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]


def concepts(terms: list[str]) -> list[Concept]:
    """Group query words into concepts, longest thesaurus phrase first ("project based" is one concept)."""
    found: list[Concept] = []
    i = 0
    while i < len(terms):
        for size in range(min(_LONGEST_PHRASE, len(terms) - i), 0, -1):
            phrase = tuple(terms[i : i + size])
            if phrase in _SYNONYMS or size == 1:
                found.append(Concept(phrase, _SYNONYMS.get(phrase, (phrase,))))
                i += size
                break
    return found


def query_terms(text: str) -> list[str]:
    return [w[:MAX_TERM_LENGTH] for w in words(text)][:MAX_QUERY_TERMS]


def fts5_concept(concept: Concept) -> str:
    """FTS5 syntax for one concept: quoted phrases joined by OR (quotes make every word a literal)."""
    phrases = [f'"{" ".join(p)}"' for p in concept.alternatives]
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def fts5_match(found: list[Concept], *, every: bool) -> str:
    """All concepts (AND) or any of them (OR), for an FTS5 MATCH."""
    return (" AND " if every else " OR ").join(fts5_concept(c) for c in found)


def tsquery_concept(concept: Concept) -> str:
    """`to_tsquery` syntax for one concept: phrases with <->, alternatives with |."""
    phrases = [" <-> ".join(p) for p in concept.alternatives]
    return "(" + " | ".join(f"({p})" for p in phrases) + ")"


def tsquery_tag(tag: str) -> str:
    """`to_tsquery` syntax for a tag: its words in order, each only where tags are indexed (weight A)."""
    return " <-> ".join(f"{w}:A" for w in words(tag))


def tsquery(found: list[Concept], *, every: bool) -> str:
    return (" & " if every else " | ").join(tsquery_concept(c) for c in found)


# Relevance of a tip that already matched, computed from its words: like BM25 without the IDF term.
# FTS5's bm25() counts, for every phrase of a query, how many documents hold it, which at a million tips
# costs 10-30 ms a query for common words and for the workspace filter; the candidates are few and all
# match, so term frequency and length are what tell them apart.
STEM_LENGTH = 5  # "rotation"/"rotations", "family"/"families": alike enough once matched by the index
TAG_WEIGHT = 2.0
K1, B = 1.2, 0.75


def _stems(text: str) -> list[str]:
    return [w[:STEM_LENGTH] for w in words(text)]


@lru_cache(maxsize=1024)
def _stemmed(concept: Concept) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(w[:STEM_LENGTH] for w in phrase) for phrase in concept.alternatives)


def _occurrences(phrase: tuple[str, ...], stems: list[str], counts: Counter[str]) -> int:
    if len(phrase) == 1 or not counts[phrase[0]]:
        return counts[phrase[0]]
    size = len(phrase)
    return sum(stems[i : i + size] == list(phrase) for i, stem in enumerate(stems) if stem == phrase[0])


def relevance(found: list[Concept], text: str, tags: str, average_length: float) -> float:
    """How well a tip's text (and, doubly, its tags) answers the concepts, saturating as words repeat."""
    text_stems, tag_stems = _stems(text), _stems(tags)
    text_counts, tag_counts = Counter(text_stems), Counter(tag_stems)
    length_norm = 1 - B + B * len(text_stems) / max(average_length, 1.0)
    score = 0.0
    for concept in found:
        frequency = sum(
            _occurrences(p, text_stems, text_counts) + TAG_WEIGHT * _occurrences(p, tag_stems, tag_counts)
            for p in _stemmed(concept)
        )
        score += frequency * (K1 + 1) / (frequency + K1 * length_norm)
    return score
