"""Finding tips: ranking, all-then-any words, spelling, the thesaurus, filters, hostile queries, pages, isolation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from conftest import FIXED_NOW as NOW
from conftest import new_team
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import transaction
from bot.models import TipRecord
from bot.plays import search_plays
from bot.search_text import query_terms
from bot.tips import moderation, store
from bot.tips.engine import Filters
from bot.tips.records import NewTip, TipRejected
from bot.tips.search import (
    MAX_QUERY,
    PAGE_SIZE,
    TipPage,
    TipQuery,
    closest,
    correct_spelling,
    matches,
    parse_query,
    search_tips,
    typos,
)

MODERATOR = "UMOD"


def share(
    session: Session,
    team: str,
    text: str,
    *,
    author: str = "UANA",
    when: datetime = NOW,
    tags: tuple[str, ...] = (),
    grade: str = "",
    check_similar: bool = False,
) -> int:
    """Saves a tip and returns its id. Near-duplicate checks are off unless asked for: tests here search."""
    new = NewTip(team, author, author, text, "command", tags=tags, grade=grade, created_at=when)
    saved = store.save_tip(session, new, when, check_similar=check_similar)
    assert saved.status == "created"
    return saved.tip.id


def find(session: Session, team: str, query: str, **options) -> TipPage:
    return search_tips(session, team, parse_query(query), now=NOW, **options)


def ids(session: Session, team: str, query: str, **options) -> list[int]:
    return [tip.id for tip in find(session, team, query, **options).tips]


def vote(session: Session, team: str, tip_id: int, voters: int) -> None:
    for n in range(voters):
        store.vote_helpful(session, team, tip_id, f"UVOTER{n}", NOW)


# -- ranking -------------------------------------------------------------------------------


def test_better_text_match_ranks_first(session: Session, team: str) -> None:
    better = share(session, team, "Rubric first: build the rubric with students, then review work with the rubric")
    weaker = share(session, team, "Share a rubric before students start the essay draft")  # newer, higher id

    assert ids(session, team, "rubric") == [better, weaker]


def test_with_equal_text_more_helpful_votes_rank_first(session: Session, team: str) -> None:
    voted = share(session, team, "Use a rubric for peer review", when=NOW - timedelta(days=1))
    newer = share(session, team, "Use a rubric for peer review")
    vote(session, team, voted, 2)

    assert ids(session, team, "rubric") == [voted, newer]


def test_with_equal_text_and_votes_newer_ranks_first(session: Session, team: str) -> None:
    newer = share(session, team, "Use a rubric for peer review", when=NOW - timedelta(days=1))
    older = share(session, team, "Use a rubric for peer review", when=NOW - timedelta(days=60))  # higher id
    vote(session, team, newer, 1)
    vote(session, team, older, 1)

    assert ids(session, team, "rubric") == [newer, older]


# -- all words, then any -------------------------------------------------------------------


@pytest.fixture
def exits(session: Session, team: str) -> tuple[int, int]:
    return (
        share(session, team, "Exit tickets at the end of every lesson"),
        share(session, team, "Exit polls with sticky notes on the door"),
    )


def test_all_words_must_match_first(session: Session, team: str, exits) -> None:
    page = find(session, team, "exit tickets")

    assert [t.id for t in page.tips] == [exits[0]]
    assert page.broadened is False


@pytest.mark.parametrize("query", ["tickets sticky", "exit zzyzxqv"])
def test_any_word_when_all_together_match_nothing(session: Session, team: str, exits, query: str) -> None:
    page = find(session, team, query)

    assert page.broadened is True
    assert page.corrected is None
    assert {t.id for t in page.tips} == set(exits)


def test_nothing_matching_is_an_empty_page(session: Session, team: str, exits) -> None:
    page = find(session, team, "zzyzxqv")

    assert (page.tips, page.broadened, page.has_next) == ([], False, False)


# -- spelling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "corrected"),
    [
        ("blnded lerning", "blended learning"),
        ("stattion rotaton", "station rotation"),
        ("Blended lernin", "blended learning"),
    ],
)
def test_misspelt_words_are_corrected_from_the_workspace_words(
    session: Session, team: str, typed: str, corrected: str
) -> None:
    blended = share(session, team, "Blended learning: run a station rotation with a teacher-led table")
    share(session, team, "Learning walks help new staff see routines")

    page = find(session, team, typed)

    assert page.corrected == corrected
    assert [t.id for t in page.tips] == [blended]
    assert page.broadened is False


def test_a_correction_keeps_the_first_letter_when_a_word_with_it_is_nearly_as_alike(
    session: Session, team: str
) -> None:
    organizer = share(session, team, "A graphic organizer for every reading")
    share(session, team, "Rafi's class reads outside on Fridays")  # "rafi" is more alike to "grafic", by a hair

    page = find(session, team, "grafic organizer")

    assert page.corrected == "graphic organizer" and [t.id for t in page.tips] == [organizer]


def test_correctly_spelt_words_are_not_corrected(session: Session, team: str) -> None:
    share(session, team, "Blended learning: run a station rotation with a teacher-led table")

    assert find(session, team, "blended learning").corrected is None


def test_correction_is_reported_when_the_corrected_words_match_only_broadened(session: Session, team: str) -> None:
    blended = share(session, team, "Blended learning: run a station rotation with a teacher-led table")

    page = find(session, team, "blnded zzyzxqv")

    assert [t.id for t in page.tips] == [blended]
    assert page.broadened is True
    assert page.corrected == "blended zzyzxqv"


def test_a_word_is_never_corrected_to_one_that_is_no_likely_typo_of_it(session: Session, team: str) -> None:
    share(session, team, "Morning meeting: greet every student by name")  # "morning" is two letters from "lerning"

    page = find(session, team, "blnded lerning")

    assert (page.tips, page.corrected) == ([], None)
    assert "morning" not in (correct_spelling(session, team, ["blnded", "lerning"]) or [])


def test_a_correction_is_used_when_it_matches_all_words_where_the_original_matched_some(
    session: Session, team: str
) -> None:
    blended = share(session, team, "Blended learning: run a station rotation with a teacher-led table")
    share(session, team, "Blended days on Fridays, with one station a week")

    page = find(session, team, "blended lerning")

    assert (page.corrected, page.broadened, [t.id for t in page.tips]) == ("blended learning", False, [blended])


def test_a_typo_of_a_thesaurus_word_finds_its_synonyms(session: Session, team: str) -> None:
    families = share(session, team, "Send families a short photo update every Friday")

    page = find(session, team, "caregivrs")

    assert page.corrected == "caregivers" and [t.id for t in page.tips] == [families]


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("lerning", "learning"),
        ("grafic", "graphic"),
        ("ubric", "rubric"),
        ("rubirc", "rubric"),
        ("stattion", "station"),
        ("lernin", "learning"),
    ],
)
def test_the_closest_word_is_a_likely_typo(typed: str, wanted: str) -> None:
    options = [(w, 1) for w in ("learning", "morning", "earning", "graphic", "rafi", "rubric", "station", "nation")]
    assert closest(typed, options) == wanted


def test_no_word_is_close_enough_for_a_different_word() -> None:
    assert closest("lerning", [("morning", 50), ("turning", 9)]) is None
    assert closest("math", [("path", 3), ("bath", 2)]) is None  # a different first letter is a second typo
    assert typos("ab", "ba") == 1 and typos("abc", "abc") == 0 and typos("kitten", "sitting") == 3


TYPO_WORDS = (
    "blended",
    "learning",
    "station",
    "rotation",
    "morning",
    "meeting",
    "families",
    "rubric",
    "graphic",
    "organizer",
    "exit",
    "tickets",
    "turning",
    "warning",
)


def _typo(word: str, at: int, kind: int) -> str:
    at %= len(word)
    return [word[:at] + word[at + 1 :], word[:at] + "x" + word[at + 1 :], word[:at] + word[at] + word[at:]][kind]


QUERY_WORDS = st.one_of(
    st.sampled_from(TYPO_WORDS),
    st.builds(_typo, st.sampled_from(TYPO_WORDS), st.integers(0, 12), st.integers(0, 2)),
    st.sampled_from(["zzyzxqv", "blnded", "lerning", "caregivrs", "famlies"]),
)


@pytest.fixture(scope="module")
def typo_team(database) -> str:
    """A workspace whose tips use TYPO_WORDS, shared by the property's examples (nothing is written after)."""
    team = new_team()
    with transaction(database.sessions) as session:
        for text in (
            "Blended learning: run a station rotation with a teacher-led table",
            "Morning meeting: greet every student by name",
            "Send families a short photo update",
            "A graphic organizer for every reading",
            "Exit tickets with a rubric",
            "Turning the tables: students write the warning signs",
        ):
            share(session, team, text)
    return team


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.lists(QUERY_WORDS, min_size=1, max_size=3))
def test_a_correction_is_only_ever_a_better_answer(session: Session, typo_team: str, typed: list[str]) -> None:
    """The corrected words are shown only when they find tips with all words where the original did not, or more
    tips; so a correction never loses the tips the words as typed found, and words that all match stay as typed."""
    query = " ".join(typed)
    original = matches(session, typo_team, query_terms(query), Filters())

    page = find(session, typo_team, query)

    if page.corrected is None:
        assert bool(page.tips) == bool(original.rows)
        return
    corrected = matches(session, typo_team, query_terms(page.corrected), Filters())
    assert original.broadened or not original.rows, "a query whose words all match is never corrected"
    assert corrected.beats(original) and page.tips
    assert len(corrected.rows) >= len(original.rows) or not corrected.broadened


# -- thesaurus -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("caregivers", "Send families a short photo update every Friday"),
        ("engage parents", "Invite families to a showcase night and ask for their involvement"),
        ("kids", "Let students choose where they sit on Fridays"),
        ("grading", "Use a single-point assessment for lab reports"),
        ("PBL", "Start each project-based unit with a driving question"),
        ("1:1", "Keep a sign-out sheet for the laptops cart"),
        ("centers", "A station rotation keeps small groups moving"),
    ],
)
def test_thesaurus_finds_the_words_teachers_use(session: Session, team: str, query: str, text: str) -> None:
    share(session, team, "Write the agenda on the whiteboard before class starts")
    wanted = share(session, team, text)

    page = find(session, team, query)

    assert [t.id for t in page.tips] == [wanted]
    assert page.broadened is False


def test_engage_parents_finds_a_community_play_first(session: Session) -> None:
    assert search_plays(session, "engage parents").plays[0].category == "community"


# -- filters -------------------------------------------------------------------------------


def test_tag_filter_matches_whole_tags_only(session: Session, team: str) -> None:
    tickets = share(session, team, "Collect exit tickets at the door", tags=("exit-tickets",))
    exit_ = share(session, team, "Line up by table at the exit", tags=("exit",))
    share(session, team, "Stamp the tickets for extra credit", tags=("tickets-extra",))

    assert ids(session, team, "#exit") == [exit_]
    assert ids(session, team, "#Exit_Tickets") == [tickets]
    assert ids(session, team, "#tickets") == []
    assert ids(session, team, "#exit door") == []
    assert ids(session, team, "#exit-tickets door") == [tickets]


def test_channel_name_counts_as_a_tag(session: Session, team: str) -> None:
    tagged = share(session, team, "Single-point rubrics save time", tags=("assessment",))
    share(session, team, "Rubrics for assessment, shared with families")  # says it, isn't tagged

    assert parse_query("<#C123ABC|assessment> rubrics").tags == ("assessment",)
    assert ids(session, team, "<#C123ABC|assessment>") == [tagged]


@pytest.mark.parametrize("mention", ["<@UANA|ana>", "<@UANA>"])
def test_from_filter_keeps_one_persons_tips(session: Session, team: str, mention: str) -> None:
    anas = share(session, team, "Read aloud for five minutes a day")
    share(session, team, "Read aloud with voices for each character", author="UBEN")
    share(session, team, "Read aloud the instructions twice", author="UANAB")

    assert ids(session, team, f"from:{mention} read aloud") == [anas]
    assert ids(session, team, f"from:{mention}") == [anas]


def test_since_filter_keeps_tips_from_that_day_on(session: Session, team: str) -> None:
    first = datetime(2026, 11, 1, tzinfo=NOW.tzinfo)
    share(session, team, "Warm up with a riddle", when=first - timedelta(minutes=1))
    midnight = share(session, team, "Warm up with a sketch", when=first)
    later = share(session, team, "Warm up with a quick write", when=first + timedelta(days=3))

    assert set(ids(session, team, "warm since:2026-11-01")) == {midnight, later}
    assert ids(session, team, "since:2026-11-02") == [later]


def test_filters_combine(session: Session, team: str) -> None:
    recent = NOW - timedelta(days=2)
    wanted = share(session, team, "Show exemplars before the essay", tags=("writing",), when=recent)
    share(session, team, "Show exemplars before the lab report", tags=("writing",), author="UBEN", when=recent)
    share(session, team, "Show exemplars before the poem", tags=("writing",), when=NOW - timedelta(days=40))
    share(session, team, "Show exemplars before the test", tags=("tests",), when=recent)
    share(session, team, "Show the agenda before the essay", tags=("writing",), when=recent)

    assert ids(session, team, "exemplars #writing from:<@UANA|ana> since:2026-11-01") == [wanted]


def test_grade_filter_knows_k5_is_k2_and_3_5(session: Session, team: str) -> None:
    bands = ("K-2", "3-5", "K-5", "6-8", "9-12", "all", "")
    tip_of = {
        band: share(session, team, f"Number talks every morning for {band or 'any'} classes", grade=band)
        for band in bands
    }

    def found(asked: str) -> set[str]:
        matched = ids(session, team, f"number talks grade:{asked}")
        return {band for band, tip in tip_of.items() if tip in matched}

    assert found("K-2") == found("k2") == {"K-2", "K-5", "all"}
    assert found("3-5") == {"3-5", "K-5", "all"}
    assert found("K-5") == {"K-2", "3-5", "K-5", "all"}
    assert found("9-12") == {"9-12", "all"}
    assert parse_query("grades:K–5 number talks") == TipQuery("number talks", grade="K-5")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("grade:college", "K-2, 3-5, K-5, 6-8, 9-12, all"),
        ("since:2026-13-45", "since:"),
        ("since:last-week", "2026-09-01"),
        ("from:@ana", "@ menu"),
        ("from:ana", "@ menu"),
        ("x" * (MAX_QUERY + 1), f"up to {MAX_QUERY}"),
    ],
)
def test_bad_filters_are_refused_with_help(raw: str, message: str) -> None:
    with pytest.raises(TipRejected, match=message):
        parse_query(raw)


def test_query_at_the_length_limit_is_read() -> None:
    assert parse_query("x" * MAX_QUERY).words == "x" * MAX_QUERY


def test_parse_query_takes_filters_in_any_order() -> None:
    assert parse_query("since:2026-11-01 rubric #Grading_Tips FROM:<@U123|ana> peer") == TipQuery(
        "rubric peer", ("grading-tips",), "U123", date(2026, 11, 1)
    )


# -- query text is data --------------------------------------------------------------------


def tip_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TipRecord))


@pytest.mark.parametrize(
    ("query", "finds_ours"),
    [
        ('"exit tickets"', True),
        ('"exit', True),
        ("exit*", True),
        ("-exit", True),
        ("exit NEAR tickets", True),
        ("NEAR(exit tickets)", True),
        ("(exit) OR (zzyzxqv)", True),
        ("exit AND OR NOT", True),
        ("AND OR NOT", False),
        ("text:exit", True),
        ("team:OTHER", False),
        ("author : x", False),
        ("{text}", False),
        ("^exit", True),
        ("exit & | ! <-> :* ()", True),
        ("'; DROP TABLE tips; --", False),
        ("🎉 exit 🍎", True),
        ("日本語の授業", False),
        ("*", True),
        ("( )", True),
    ],
    ids=repr,
)
def test_query_syntax_is_just_words(session: Session, team: str, query: str, finds_ours: bool) -> None:
    ours = share(session, team, "Exit tickets with one question")
    share(session, new_team(), "Other team text: author x drop table tips near exit tickets 日本語の授業")
    before = tip_count(session)

    page = find(session, team, query)

    assert {t.team_id for t in page.tips} <= {team}
    assert [t.id for t in page.tips] == ([ours] if finds_ours else [])
    assert tip_count(session) == before


# -- pages ---------------------------------------------------------------------------------


def test_results_come_a_page_at_a_time(session: Session, team: str) -> None:
    made = {
        share(session, team, f"Rubric idea {n}: rubric for task {n}", when=NOW - timedelta(hours=n)) for n in range(12)
    }

    pages = [find(session, team, "rubric", page=n) for n in range(3)]

    assert PAGE_SIZE == 5
    assert [len(p.tips) for p in pages] == [5, 5, 2]
    assert [p.has_next for p in pages] == [True, True, False]
    assert [p.page for p in pages] == [0, 1, 2]
    seen = [t.id for p in pages for t in p.tips]
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == made
    assert find(session, team, "rubric", page=3).tips == []


# -- hidden and held -----------------------------------------------------------------------


def test_hidden_tips_only_with_include_hidden(session: Session, team: str) -> None:
    shown = share(session, team, "Use a timer for transitions")
    hidden = share(session, team, "Use a timer for clean-up")
    moderation.set_hidden(session, team, hidden, MODERATOR, True, {MODERATOR}, NOW)

    assert ids(session, team, "timer") == [shown]
    assert set(ids(session, team, "timer", include_hidden=True)) == {shown, hidden}


def test_held_tips_never_show_even_with_include_hidden(session: Session, team: str) -> None:
    original = share(session, team, "Use a visual timer for every transition between stations")
    held = store.save_tip(
        session,
        NewTip(team, "UBEN", "UBEN", "Use a visual timer for every transition between the stations", "command"),
        NOW,
    )

    assert held.status == "held"
    assert ids(session, team, "timer", include_hidden=True) == [original]


# -- workspaces never see each other's tips ------------------------------------------------


def test_search_never_returns_another_workspaces_tips(session: Session, team: str) -> None:
    ours = share(session, team, "Exit tickets with one question")
    share(session, new_team(), "Exit tickets with one question")

    for query in ("exit tickets", "", "#exit", "exit zzyzxqv"):
        assert {t.id for t in find(session, team, query).tips} <= {ours}
    assert ids(session, team, "exit tickets") == [ours]


def test_near_duplicate_check_stays_in_the_workspace(session: Session, team: str) -> None:
    share(session, new_team(), "Start each class with a two minute warm up question on the board")

    saved = store.save_tip(
        session,
        NewTip(
            team, "UANA", "UANA", "Start each class with a two minute warm up question on the whiteboard", "command"
        ),
        NOW,
    )

    assert (saved.status, saved.similar) == ("created", None)


def test_spelling_is_corrected_only_from_the_workspaces_own_words(session: Session, team: str) -> None:
    share(session, team, "Use math games on Fridays")
    other_team = new_team()
    share(session, other_team, "Manipulatives make fractions concrete")

    page = find(session, team, "manipulatves")

    assert (page.tips, page.corrected) == ([], None)
    assert correct_spelling(session, team, ["manipulatves"]) is None
    assert correct_spelling(session, other_team, ["manipulatves"]) == ["manipulatives"]


def test_get_tip_with_another_workspaces_id_is_none(session: Session, team: str) -> None:
    theirs = share(session, new_team(), "Exit tickets with one question")

    assert store.get_tip(session, team, theirs) is None


def stem_twins() -> tuple[str, str]:
    """Two ids that differ by a final S, which the FTS5 porter stemmer drops ("...DEFS" -> "...def")."""
    base = f"T{uuid.uuid4().hex[:6].upper()}DEF"
    return base, base + "S"


def test_search_keeps_workspaces_apart_even_when_their_ids_stem_alike(session: Session) -> None:
    ours, theirs = stem_twins()
    mine = share(session, ours, "Gallery walk with sticky-note feedback")
    share(session, theirs, "Gallery walk critique for drafts")

    assert ids(session, ours, "gallery walk") == [mine]


def test_near_duplicate_never_shows_another_workspaces_tip_even_when_ids_stem_alike(session: Session) -> None:
    ours, theirs = stem_twins()
    share(session, theirs, "Start each class with a two minute warm up question on the board")

    saved = store.save_tip(
        session,
        NewTip(ours, "UANA", "UANA", "Start each class with a two minute warm up question on the board", "command"),
        NOW,
    )

    assert (saved.status, saved.similar) == ("created", None)


def test_from_filter_is_exact_even_when_user_ids_stem_alike(session: Session, team: str) -> None:
    ana = f"U{uuid.uuid4().hex[:6].upper()}DEF"
    anas = share(session, team, "Read aloud for five minutes a day", author=ana)
    share(session, team, "Read aloud with voices for each character", author=ana + "S")

    assert ids(session, team, f"from:<@{ana}> read aloud") == [anas]
