"""Saving tips: one per source, near-duplicates held, validation, ownership, votes and a workspace's data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import FIXED_NOW as NOW
from conftest import new_team, scratch
from sqlalchemy import exists, false, func, select
from sqlalchemy.orm import Session

from bot.bootstrap import Database
from bot.db import transaction
from bot.models import ModerationEntry, Moderator, SearchWord, TipRecord, TipVote, Workspace
from bot.tips import moderation, store
from bot.tips.records import MAX_TEXT, SOURCES, NewTip, TipRejected, TooShort, split_tags
from bot.tips.search import parse_query, search_tips

WARM_UP = "Start each class with a two minute warm up question on the board"
MODERATOR = "UMOD"


def share(
    session: Session,
    team: str,
    text: str,
    *,
    author: str = "UANA",
    shared_by: str | None = None,
    source: str = "command",
    when: datetime = NOW,
    check_similar: bool = True,
    **fields,
) -> store.Saved:
    new = NewTip(team, author, shared_by or author, text, source, created_at=when, **fields)
    return store.save_tip(session, new, when, check_similar=check_similar)


def found(session: Session, team: str, words: str) -> list[int]:
    return [t.id for t in search_tips(session, team, parse_query(words), now=NOW).tips]


def count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def same(tip: store.Tip | None, expected: store.Tip) -> bool:
    return tip is not None and replace(tip, created_at=as_utc(tip.created_at)) == expected


def team_tips(session: Session, team: str) -> int:
    return count(session, TipRecord, TipRecord.team_id == team)


# -- saving --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_saves_a_searchable_tip(session: Session, team: str, source: str) -> None:
    saved = share(
        session,
        team,
        "Use exit tickets to check understanding",
        source=source,
        source_ref=f"{source}:1",
        permalink="https://example.slack.com/archives/C1/p1",
    )

    assert saved.status == "created"
    assert saved.similar is None
    assert (saved.tip.source, saved.tip.source_ref, saved.tip.pending) == (source, f"{source}:1", False)
    assert same(store.get_tip(session, team, saved.tip.id), saved.tip)
    assert found(session, team, "exit tickets") == [saved.tip.id]


@pytest.mark.parametrize("second_sharer", ["UANA", "UBEN"], ids=["same person", "second person"])
def test_one_tip_per_source_ref(session: Session, team: str, second_sharer: str) -> None:
    first = share(
        session,
        team,
        "Post the learning target before the bell",
        author="UAUTHOR",
        shared_by="UANA",
        source="reaction",
        source_ref="C1:1700000000.000100",
    )

    again = share(
        session,
        team,
        "Post the learning target before the bell",
        author="UAUTHOR",
        shared_by=second_sharer,
        source="shortcut",
        source_ref="C1:1700000000.000100",
    )

    assert again.status == "existing"
    assert again.tip.id == first.tip.id
    assert again.tip.shared_by == "UANA"
    assert count(session, TipRecord, TipRecord.team_id == team, TipRecord.source_ref == "C1:1700000000.000100") == 1


def test_same_source_ref_in_another_workspace_is_another_tip(session: Session, team: str) -> None:
    ours = share(session, team, "Post the learning target before the bell", source_ref="C1:1.2")

    theirs = share(session, new_team(), "Post the learning target before the bell", source_ref="C1:1.2")

    assert theirs.status == "created"
    assert theirs.tip.id != ours.tip.id


def test_a_concurrent_save_of_the_same_source_loses_cleanly(
    session: Session, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = share(session, team, "Post the learning target before the bell", source_ref="C1:9.9")
    real, lookups = store._by_source, []

    def first_misses(*args):  # the other save had not committed when this one looked
        lookups.append(args)
        return None if len(lookups) == 1 else real(*args)

    monkeypatch.setattr(store, "_by_source", first_misses)

    again = share(
        session,
        team,
        "Post the learning target before the bell",
        shared_by="UBEN",
        source_ref="C1:9.9",
        check_similar=False,
    )

    assert (again.status, again.tip.id) == ("existing", first.tip.id)
    assert len(lookups) == 2  # found after the insert lost to the unique index
    assert team_tips(session, team) == 1
    assert found(session, team, "learning target") == [first.tip.id]  # the session is still usable


# -- near-duplicates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "again",
    [
        "Start each class with a two-minute warm up question on the whiteboard",
        "START each class with a two minute warm-up question... on the board!",
    ],
    ids=["one word differs", "same words, other case and punctuation"],
)
def test_near_duplicate_is_held_with_the_original(session: Session, team: str, again: str) -> None:
    original = share(session, team, WARM_UP).tip

    held = share(session, team, again, author="UBEN", when=NOW + timedelta(hours=1))

    assert held.status == "held"
    assert same(held.similar, original)
    assert held.tip.pending is True
    assert found(session, team, "warm up question") == [original.id]
    assert held.tip.id not in [t.id for t in store.newest(session, team, limit=10)]


def test_short_tips_that_differ_by_a_word_are_not_duplicates(session: Session, team: str) -> None:
    share(session, team, "Use exit tickets daily")

    assert share(session, team, "Use exit tickets weekly").status == "created"


def test_only_the_sharer_confirms_a_held_tip(session: Session, team: str) -> None:
    original = share(session, team, WARM_UP).tip
    held = share(session, team, WARM_UP + " each morning", author="UAUTHOR", shared_by="UBEN", source="reaction").tip

    assert store.confirm_held(session, team, held.id, "UCARA") is None
    assert store.confirm_held(session, team, held.id, "UAUTHOR") is None  # the author did not share it
    assert store.get_tip(session, team, held.id).pending is True
    assert found(session, team, "warm up question") == [original.id]

    confirmed = store.confirm_held(session, team, held.id, "UBEN")

    assert confirmed is not None and confirmed.pending is False
    assert sorted(found(session, team, "warm up question")) == sorted([original.id, held.id])


def test_confirm_held_in_another_workspace_finds_nothing(session: Session, team: str) -> None:
    share(session, team, WARM_UP)
    held = share(session, team, WARM_UP + " today", author="UBEN").tip

    assert store.confirm_held(session, new_team(), held.id, "UBEN") is None
    assert store.get_tip(session, team, held.id).pending is True


def test_purge_held_drops_only_old_unconfirmed_tips(session: Session, team: str) -> None:
    week_ago = NOW - timedelta(days=7)
    original = share(session, team, WARM_UP, when=week_ago - timedelta(days=1)).tip
    old_held = share(session, team, WARM_UP + " today", when=week_ago).tip
    new_held = share(session, team, WARM_UP + " again", when=NOW).tip
    cutoff = NOW - timedelta(days=1)
    expected = count(session, TipRecord, TipRecord.pending.is_(True), TipRecord.created_at < cutoff)

    purged = store.purge_held(session, older_than=cutoff)

    assert purged == expected >= 1
    assert store.get_tip(session, team, old_held.id) is None
    assert store.get_tip(session, team, new_held.id) is not None
    assert store.get_tip(session, team, original.id) is not None


# -- validation ----------------------------------------------------------------------------

LONGEST = ("Plan the week around one big question. " * 80)[: MAX_TEXT - 1] + "."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  \r\n ",
        LONGEST + "!",
        "Use exit tickets\x00 daily",
        (b"\x89PNG\r\n\x1a\n\xff\xfe\xfd" * 40).decode("utf-8", "surrogateescape"),
        "\x1b[31m\x07\x08\x0b\x0c\x7f use exit tickets \x1b[0m",
    ],
    ids=["empty", "whitespace", "3,001 characters", "NUL byte", "binary junk", "control characters"],
)
def test_unusable_text_is_refused_and_nothing_saved(session: Session, team: str, text: str) -> None:
    before = count(session, TipRecord)

    with pytest.raises(TipRejected) as refused:
        share(session, team, text)

    assert count(session, TipRecord) == before
    assert session.get(Workspace, team) is None
    assert len(str(refused.value)) > 20  # says what to do instead


@pytest.mark.parametrize("text", ["hi", "test", "+1", "Use it!", "#routines", "  love   this  "])
def test_too_short_a_tip_is_refused_with_what_was_typed(session: Session, team: str, text: str) -> None:
    with pytest.raises(TooShort, match="at least 3 words or 15 characters") as refused:
        share(session, team, text)

    assert refused.value.text == text.strip()
    assert team_tips(session, team) == 0


@pytest.mark.parametrize("text", ["Exit tickets daily", "Think-pair-share", "A1: wait time"])
def test_three_words_or_fifteen_characters_are_a_tip(session: Session, team: str, text: str) -> None:
    assert share(session, team, text).tip.text == text


@pytest.mark.parametrize("source", ["chat", "x", "bluesky", "mastodon"])
def test_a_chat_answer_may_be_two_words_its_question_says_the_rest(session: Session, team: str, source: str) -> None:
    assert share(session, team, "Gallery walks", source=source).tip.text == "Gallery walks"
    with pytest.raises(TooShort):
        share(session, team, "Pizza", source=source)
    with pytest.raises(TooShort):
        share(session, team, "Gallery walks ", source="command")  # typed to the bot: it can ask for more


def test_oversized_text_message_gives_the_limit(session: Session, team: str) -> None:
    with pytest.raises(TipRejected, match="3,001 characters; tips can be up to 3,000"):
        share(session, team, LONGEST + "!")


@pytest.mark.parametrize("text", [LONGEST, f"  \n{LONGEST}\n\n  "], ids=["exactly 3,000", "3,000 once trimmed"])
def test_text_up_to_the_limit_is_saved(session: Session, team: str, text: str) -> None:
    tip = share(session, team, text).tip

    assert len(LONGEST) == MAX_TEXT
    assert tip.text == LONGEST


def test_text_is_tidied(session: Session, team: str) -> None:
    tip = share(session, team, "  Cafe\u0301 talk:   \r\nask one question   \r\n  then wait  ").tip

    assert tip.text == "Caf\u00e9 talk:\nask one question\n  then wait"


# -- tags and grade bands ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text", "tags"),
    [
        ("Use exit tickets daily #Exit_Tickets #exit-tickets #A", "Use exit tickets daily", ("exit-tickets", "a")),
        ("Try #flipped lessons on Fridays #video", "Try #flipped lessons on Fridays", ("flipped", "video")),
        (
            "C# club meets at https://example.org/#join &#39;today&#39;",
            "C# club meets at https://example.org/#join &#39;today&#39;",
            (),
        ),
        ("#routines", "#routines", ("routines",)),
    ],
    ids=["normalised and deduplicated", "tags inside the text stay", "not tags", "a lone tag keeps its text"],
)
def test_split_tags(typed: str, text: str, tags: tuple[str, ...]) -> None:
    assert split_tags(typed) == (text, tags)


def test_saved_tags_are_normalised(session: Session, team: str) -> None:
    text, tags = split_tags("Use exit tickets daily #Exit_Tickets #exit-tickets #A")
    tip = share(session, team, text, tags=tags + ("#Station Rotation", "station_rotation", "  ", "x" * 50)).tip

    assert tip.tags == ("exit-tickets", "a", "station-rotation", "x" * 30)
    assert store.get_tip(session, team, tip.id).tags == tip.tags


def test_at_most_ten_tags_are_kept(session: Session, team: str) -> None:
    tip = share(session, team, "Rotate roles in group work", tags=tuple(f"tag{i}" for i in range(15))).tip

    assert tip.tags == tuple(f"tag{i}" for i in range(10))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("k-2", "K-2"), (" 9 - 12 ", "9-12"), ("ALL", "all"), ("", ""), ("K-5", "K-5"), ("k5", "K-5"), ("K–5", "K-5")],
)
def test_grade_bands_are_normalised(session: Session, team: str, typed: str, stored: str) -> None:
    assert share(session, team, "Rotate roles in group work", grade=typed).tip.grade == stored


@pytest.mark.parametrize("grade", ["13", "K-12", "grade 5", "6th"])
def test_unknown_grade_band_is_refused(session: Session, team: str, grade: str) -> None:
    with pytest.raises(TipRejected, match="K-2, 3-5, K-5, 6-8, 9-12, all"):
        share(session, team, "Rotate roles in group work", grade=grade)

    assert team_tips(session, team) == 0


# -- ownership -----------------------------------------------------------------------------


@pytest.fixture
def reacted(session: Session, team: str) -> store.Tip:
    """A tip saved by UBEN reacting to UAUTHOR's message."""
    return share(
        session,
        team,
        "Give students a choice board for practice",
        author="UAUTHOR",
        shared_by="UBEN",
        source="reaction",
        source_ref="C1:2.3",
    ).tip


@pytest.mark.parametrize("user", ["UAUTHOR", "UBEN"], ids=["author", "sharer"])
def test_author_or_sharer_deletes_a_tip_and_its_votes(session: Session, team: str, reacted, user: str) -> None:
    store.vote_helpful(session, team, reacted.id, "UCARA", NOW)

    deleted = store.delete_tip(session, team, reacted.id, user)
    session.flush()

    assert deleted is not None and deleted.id == reacted.id
    assert store.get_tip(session, team, reacted.id) is None
    assert count(session, TipVote, TipVote.tip_id == reacted.id) == 0
    assert found(session, team, "choice board") == []


def test_another_teacher_cannot_delete_a_tip(session: Session, team: str, reacted) -> None:
    assert store.delete_tip(session, team, reacted.id, "UCARA") is None
    assert store.delete_tip(session, new_team(), reacted.id, "UAUTHOR") is None
    session.flush()

    assert same(store.get_tip(session, team, reacted.id), reacted)


def test_author_edits_a_tip(session: Session, team: str, reacted) -> None:
    later = NOW + timedelta(days=1)

    edited = store.edit_tip(
        session,
        team,
        reacted.id,
        "UAUTHOR",
        text="Offer a menu of practice tasks",
        tags=["#Choice_Boards"],
        grade="3-5",
        now=later,
    )

    assert (edited.text, edited.tags, edited.grade) == ("Offer a menu of practice tasks", ("choice-boards",), "3-5")
    assert as_utc(session.get(TipRecord, reacted.id).updated_at) == later
    assert found(session, team, "menu") == [reacted.id]
    assert found(session, team, "choice board") == [reacted.id]  # through the new tag
    assert found(session, team, "give") == []


def test_another_teacher_cannot_edit_a_tip(session: Session, team: str, reacted) -> None:
    with pytest.raises(TipRejected, match="Only the tip's author"):
        store.edit_tip(session, team, reacted.id, "UCARA", text="Mine now", tags=[], grade="", now=NOW)
    session.flush()

    assert same(store.get_tip(session, team, reacted.id), reacted)


def test_edit_validates_like_saving(session: Session, team: str, reacted) -> None:
    with pytest.raises(TipRejected):
        store.edit_tip(session, team, reacted.id, "UAUTHOR", text="   ", tags=[], grade="", now=NOW)
    with pytest.raises(TipRejected, match="gone"):
        store.edit_tip(session, new_team(), reacted.id, "UAUTHOR", text="Hi there", tags=[], grade="", now=NOW)


# -- helpful votes -------------------------------------------------------------------------


def test_one_helpful_vote_per_person(session: Session, team: str, reacted) -> None:
    first = store.vote_helpful(session, team, reacted.id, "UCARA", NOW)
    again = store.vote_helpful(session, team, reacted.id, "UCARA", NOW + timedelta(minutes=1))

    assert first is not None and first[1] is True and first[0].helpful_count == 1
    assert again is not None and again[1] is False and again[0].helpful_count == 1
    assert count(session, TipVote, TipVote.tip_id == reacted.id) == 1


def test_a_double_click_that_races_past_the_check_counts_once(
    session: Session, team: str, reacted, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.vote_helpful(session, team, reacted.id, "UCARA", NOW)
    checks = []

    def sees_no_vote():  # the other click's vote was not there yet when this one checked
        checks.append(1)
        return exists().where(false())

    monkeypatch.setattr(store, "exists", sees_no_vote)

    tip, counted = store.vote_helpful(session, team, reacted.id, "UCARA", NOW)

    assert (counted, tip.helpful_count, len(checks)) == (False, 1, 1)
    assert count(session, TipVote, TipVote.tip_id == reacted.id) == 1


def test_votes_from_two_people_count_two(session: Session, team: str, reacted) -> None:
    store.vote_helpful(session, team, reacted.id, "UCARA", NOW)
    tip, counted = store.vote_helpful(session, team, reacted.id, "UDAN", NOW)

    assert counted is True
    assert tip.helpful_count == 2
    assert store.get_tip(session, team, reacted.id).helpful_count == 2


def test_an_authors_vote_for_their_own_tip_is_refused(session: Session, team: str, reacted) -> None:
    with pytest.raises(TipRejected, match="your own tip"):
        store.vote_helpful(session, team, reacted.id, "UAUTHOR", NOW)

    assert count(session, TipVote, TipVote.tip_id == reacted.id) == 0
    assert store.vote_helpful(session, team, reacted.id, "UBEN", NOW)[1] is True, "who saved it is a colleague"


def test_vote_on_another_workspaces_tip_finds_nothing(session: Session, team: str, reacted) -> None:
    assert store.vote_helpful(session, new_team(), reacted.id, "UCARA", NOW) is None
    assert count(session, TipVote, TipVote.tip_id == reacted.id) == 0


# -- a person's tips -----------------------------------------------------------------------


def test_tips_by_count_by_and_delete_tips_by_touch_one_author_in_one_team(session: Session, team: str) -> None:
    other_team = new_team()
    older = share(session, team, "Label the classroom supply shelves", when=NOW - timedelta(days=2)).tip
    newer = share(session, team, "Greet every student at the door", when=NOW - timedelta(days=1)).tip
    bens = share(session, team, "Play quiet music during work time", author="UBEN").tip
    elsewhere = share(session, other_team, "Rotate seats each month").tip
    moderation.set_hidden(session, team, older.id, MODERATOR, True, {MODERATOR}, NOW)

    assert [t.id for t in store.tips_by(session, team, "UANA")] == [newer.id, older.id]  # hidden ones too
    assert [t.id for t in store.tips_by(session, team, "UANA", limit=1, offset=1)] == [older.id]
    assert store.count_by(session, team, "UANA") == 2

    assert store.delete_tips_by(session, team, "UANA") == 2

    assert store.count_by(session, team, "UANA") == 0
    assert store.get_tip(session, team, bens.id) is not None
    assert store.get_tip(session, other_team, elsewhere.id) is not None
    assert store.count_by(session, other_team, "UANA") == 1


def test_newest_and_most_helpful_skip_hidden_and_held_tips(session: Session, team: str) -> None:
    days = [NOW - timedelta(days=d) for d in range(5)]
    unvoted = share(session, team, "Keep a parking lot poster for questions", when=days[4]).tip
    oldest = share(session, team, "Label the classroom supply shelves", when=days[3]).tip
    older = share(session, team, "Greet every student at the door", when=days[2]).tip
    hidden = share(session, team, "Play quiet music during work time", when=days[1]).tip
    held = share(session, team, "Greet every single student at the door", when=days[0])
    assert held.status == "held"
    for voter in ("U1", "U2"):
        store.vote_helpful(session, team, oldest.id, voter, NOW)
    for voter in ("U1", "U2", "U3"):
        store.vote_helpful(session, team, hidden.id, voter, NOW)
        store.vote_helpful(session, team, held.tip.id, voter, NOW)
    store.vote_helpful(session, team, older.id, "U1", NOW)
    moderation.set_hidden(session, team, hidden.id, MODERATOR, True, {MODERATOR}, NOW)

    assert [t.id for t in store.newest(session, team, limit=10)] == [older.id, oldest.id, unvoted.id]
    assert [t.id for t in store.newest(session, team, limit=1)] == [older.id]
    assert [t.id for t in store.most_helpful(session, team, limit=10)] == [oldest.id, older.id]


# -- a workspace as a whole ----------------------------------------------------------------


def _fill_workspace(session: Session, team: str) -> store.Tip:
    tip = share(session, team, "Use sentence stems for academic talk", tags=("oracy",)).tip
    store.vote_helpful(session, team, tip.id, "UBEN", NOW)
    moderation.add_moderator(session, team, MODERATOR, "UCARA", {MODERATOR}, NOW)
    moderation.set_hidden(session, team, tip.id, "UCARA", True, {MODERATOR}, NOW)
    moderation.set_hidden(session, team, tip.id, "UCARA", False, {MODERATOR}, NOW)
    session.flush()
    return tip


def _workspace_rows(session: Session, team: str, tip_id: int) -> dict[str, int]:
    return {
        "tips": team_tips(session, team),
        "votes": count(session, TipVote, TipVote.tip_id == tip_id),
        "words": count(session, SearchWord, SearchWord.team_id == team),
        "moderators": count(session, Moderator, Moderator.team_id == team),
        "log": count(session, ModerationEntry, ModerationEntry.team_id == team),
        "workspace": count(session, Workspace, Workspace.team_id == team),
    }


def test_delete_workspace_removes_everything_it_owns_and_nothing_else(session: Session, team: str) -> None:
    other_team = new_team()
    ours, theirs = _fill_workspace(session, team), _fill_workspace(session, other_team)
    before = _workspace_rows(session, other_team, theirs.id)

    assert store.delete_workspace(session, team) == 1
    session.flush()

    assert _workspace_rows(session, team, ours.id) == dict.fromkeys(before, 0)
    assert _workspace_rows(session, other_team, theirs.id) == before
    assert all(before.values())
    assert team not in store.known_teams(session) and other_team in store.known_teams(session)
    assert found(session, other_team, "sentence stems") == [theirs.id]
    assert found(session, team, "sentence stems") == []


# -- what the database keeps -----------------------------------------------------------------


def test_ten_tags_of_the_longest_length_fit(session: Session, team: str) -> None:
    tags = tuple(letter * 30 for letter in "abcdefghij")

    tip = share(session, team, "Tag everything you share", tags=tags).tip
    session.flush()

    assert store.get_tip(session, team, tip.id).tags == tags


def test_times_in_other_zones_are_stored_as_the_same_instant(session: Session, team: str) -> None:
    earlier = share(
        session,
        team,
        "Label the classroom supply shelves",
        when=datetime(2026, 11, 1, 1, 0, tzinfo=timezone(timedelta(hours=5))),
    ).tip  # 20:00 UTC Oct 31
    later = share(session, team, "Greet every student at the door", when=datetime(2026, 10, 31, 22, 0, tzinfo=UTC)).tip
    session.flush()
    session.expire_all()

    assert [t.id for t in store.newest(session, team)] == [later.id, earlier.id]
    assert as_utc(store.get_tip(session, team, earlier.id).created_at) == datetime(2026, 10, 31, 20, 0, tzinfo=UTC)


@pytest.fixture
def committed_tip(database: Database, team: str) -> Iterator[store.Tip]:
    """A tip really committed in its own workspace (removed afterwards), for tests of rolled-back work."""
    with transaction(database.sessions) as session:
        tip = share(session, team, "Seat new students next to a buddy").tip
    yield tip
    with transaction(database.sessions) as session:
        store.delete_workspace(session, team)


def test_a_rolled_back_save_leaves_nothing_behind(database: Database, team: str, committed_tip) -> None:
    with scratch(database) as session:
        share(session, team, "Walk the room during independent work")
        session.rollback()

    with database.sessions() as session:
        assert [t.id for t in store.tips_by(session, team, "UANA")] == [committed_tip.id]


def test_a_rolled_back_vote_leaves_nothing_behind(database: Database, team: str, committed_tip) -> None:
    with scratch(database) as session:
        store.vote_helpful(session, team, committed_tip.id, "UBEN", NOW)
        session.rollback()

    with scratch(database) as session:
        assert count(session, TipVote, TipVote.tip_id == committed_tip.id) == 0
        assert store.vote_helpful(session, team, committed_tip.id, "UBEN", NOW)[1] is True  # may still vote
