"""Query words, the thesaurus and the relevance of a matched tip: pure functions, no database."""

from __future__ import annotations

from bot.search_text import concepts, query_terms, relevance


def score(query: str, text: str, tags: str = "", average_length: float = 10) -> float:
    return relevance(concepts(query_terms(query)), text, tags, average_length)


def test_more_of_the_asked_words_scores_higher() -> None:
    assert score("exit tickets", "Exit tickets on Fridays") > score("exit tickets", "Tickets to the school play")


def test_repeats_count_but_saturate() -> None:
    once, twice, thrice = (
        score("rubric", text)
        for text in ("rubric one two three", "rubric rubric two three", "rubric rubric rubric three")
    )
    assert once < twice < thrice and thrice - twice < twice - once


def test_a_tag_counts_more_than_a_word_in_the_text() -> None:
    assert score("assessment", "Quick checks", " assessment ") > score("assessment", "Quick assessment checks")


def test_inflections_and_synonyms_match_once_the_index_has_matched() -> None:
    assert score("station rotation", "Three stations, rotations every ten minutes") > 0
    assert score("parents", "Send families a photo on Friday") > 0
    assert score("pbl", "Start each project based unit with a question") > 0


def test_a_phrase_must_be_in_order() -> None:
    assert score("project based", "based on the project") < score("project based", "a project based unit")


def test_longer_tips_with_the_same_words_score_lower() -> None:
    short = score("feedback", "Feedback in one minute", average_length=10)
    long = score("feedback", "Feedback " + "and more words " * 10, average_length=10)
    assert long < short
