"""Finding plays: ranked full-text search, hostile input, categories, random picks and the play of the week."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import PlayRecord
from bot.play_files import load_play_dir
from bot.plays import (
    CATEGORIES,
    category_counts,
    category_for,
    play_of_the_week,
    plays_in_category,
    random_play,
    search_plays,
)
from bot.search_text import MAX_QUERY_TERMS, MAX_TERM_LENGTH

SHIPPED_PLAYS = len(load_play_dir()[0])


def play_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PlayRecord))


# -- ranked search -------------------------------------------------------------------------


def test_best_match_for_station_rotation(session: Session) -> None:
    result = search_plays(session, "station rotation")

    assert result.plays[0].slug == "station-rotation-starter"
    assert result.broadened is False


def test_flipped_classroom_query_ranks_flipped_plays_first(session: Session) -> None:
    flipped = len(plays_in_category(session, "flipped-classroom"))

    result = search_plays(session, "flipped classroom", limit=flipped + 1)

    assert flipped >= 1
    assert [p.category for p in result.plays[:flipped]] == ["flipped-classroom"] * flipped


def test_word_prefix_falls_back_to_prefix_matching(session: Session) -> None:
    # "rota": no exact word matches, so only the prefix pass finds "rotation". ("rotat" would not
    # test the fallback: it is the stem of "rotation" on both backends, so it matches exactly.)
    result = search_plays(session, "rota")

    assert result.broadened is True
    assert result.plays[0].slug == "station-rotation-starter"


@pytest.mark.parametrize("half_typed", ["rotati", "rotatio"])
def test_half_typed_word_longer_than_its_stem_still_finds_the_play(session: Session, half_typed: str) -> None:
    result = search_plays(session, half_typed)

    assert result.broadened is True
    assert result.plays[0].slug == "station-rotation-starter"


def test_stem_finds_the_play_too(session: Session) -> None:
    assert search_plays(session, "rotat").plays[0].slug == "station-rotation-starter"


def test_nonsense_word_finds_nothing_but_keeps_its_terms(session: Session) -> None:
    result = search_plays(session, "zzyzxqv")

    assert result.plays == []
    assert result.terms == ["zzyzxqv"]


def test_punctuation_only_query_has_no_terms(session: Session) -> None:
    result = search_plays(session, "!!! ???")

    assert result.terms == []
    assert result.plays == []


@pytest.mark.parametrize(
    "query",
    [
        '" OR NEAR(a b) * ^ -x',
        "'; DROP TABLE plays; --",
        "col:val",
        "a AND OR NOT",
        "title:rotation",
        "rotation & | ! <-> :* ()",
        "NEAR/2 \"\" '' \\",
    ],
)
def test_full_text_syntax_is_inert(session: Session, query: str) -> None:
    result = search_plays(session, query)

    assert all(term.isalnum() for term in result.terms)
    assert play_count(session) == SHIPPED_PLAYS


@pytest.mark.parametrize("query", ["日本語の授業", "урок математики", "🎉🍎 ✏️", "Ünïcödé naïve café"])
def test_non_latin_queries_do_not_fail(session: Session, query: str) -> None:
    result = search_plays(session, query)

    assert isinstance(result.plays, list)
    assert play_count(session) == SHIPPED_PLAYS


def test_long_query_is_capped_in_terms(session: Session) -> None:
    query = ("rotation station " * 600)[:10_000]

    result = search_plays(session, query)

    assert len(result.terms) == MAX_QUERY_TERMS
    assert result.plays[0].slug == "station-rotation-starter"


def test_long_word_is_cut_to_max_term_length(session: Session) -> None:
    result = search_plays(session, "x" * 10_000)

    assert result.terms == ["x" * MAX_TERM_LENGTH]
    assert result.plays == []


def test_search_respects_limit(session: Session) -> None:
    assert len(search_plays(session, "students", limit=2).plays) == 2


# -- categories ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Project based learning", "project-based"),
        ("project-based", "project-based"),
        ("flipped classroom", "flipped-classroom"),
        ("  Flipped   Classroom!", "flipped-classroom"),
        ("station rotation", None),
        ("", None),
    ],
)
def test_category_for(query: str, expected: str | None) -> None:
    assert category_for(query) == expected


def test_category_counts_cover_every_play(session: Session) -> None:
    counts = category_counts(session)

    assert [c.slug for c in counts] == list(CATEGORIES)
    assert sum(c.count for c in counts) == play_count(session) == SHIPPED_PLAYS


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_plays_in_category_are_sorted_by_title(session: Session, category: str) -> None:
    found = plays_in_category(session, category)
    titles = [p.title for p in found]

    assert found
    assert {p.category for p in found} == {category}
    assert titles == sorted(titles)


# -- random picks --------------------------------------------------------------------------


def test_random_play_never_returns_the_excluded_slug(session: Session) -> None:
    rng = random.Random(20261124)

    drawn = [random_play(session, rng, exclude="station-rotation-starter") for _ in range(50)]

    assert None not in drawn
    assert "station-rotation-starter" not in {p.slug for p in drawn}
    assert len({p.slug for p in drawn}) > 1


@pytest.mark.parametrize("monday", [date(2026, 11, 23), date(2026, 12, 28)])  # the second spans new year
def test_play_of_the_week_is_the_same_all_week(session: Session, monday: date) -> None:
    slugs = {play_of_the_week(session, monday + timedelta(days=d)).slug for d in range(7)}

    assert len(slugs) == 1


def test_play_of_the_week_changes_across_weeks(session: Session) -> None:
    start = date(2026, 11, 23)

    slugs = {play_of_the_week(session, start + timedelta(weeks=w)).slug for w in range(8)}

    assert len(slugs) >= 2
