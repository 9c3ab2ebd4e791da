"""Saving, changing and removing tips; helpful votes; a workspace's data as a whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import changed_rows
from bot.models import (
    ModerationEntry,
    Moderator,
    SearchWord,
    TipRecord,
    TipVote,
    Workspace,
)
from bot.search_text import words
from bot.tips.records import (
    ANSWER_SOURCES,
    NewTip,
    Tip,
    TipRejected,
    clean_grade,
    clean_text,
    may_delete,
    may_edit,
    normalise_tags,
    stored_tags,
    text_hash,
)
from bot.tips.similar import find_similar

MIN_WORD, MAX_WORD = 3, 40


@dataclass(frozen=True)
class Saved:
    """What happened to a tip someone shared.

    created: saved and searchable. existing: that source was saved before (by anyone), nothing new.
    held: saved but held back, because `similar` looks like the same tip; the sharer confirms or cancels.
    """

    tip: Tip
    status: Literal["created", "existing", "held"]
    similar: Tip | None = None


def ensure_workspace(session: Session, team_id: str) -> None:
    if session.get(Workspace, team_id) is None:
        session.add(Workspace(team_id=team_id))
        session.flush()


def known_teams(session: Session) -> list[str]:
    return list(session.scalars(select(Workspace.team_id).order_by(Workspace.team_id)))


def validated(new: NewTip) -> NewTip:
    """The tip with clean text, tags and grade, or TipRejected saying what is wrong."""
    return NewTip(
        new.team_id,
        new.author[:120],
        new.shared_by,
        clean_text(new.text, answer=new.source in ANSWER_SOURCES),
        new.source,
        normalise_tags(new.tags),
        clean_grade(new.grade),
        new.source_ref,
        new.permalink,
        new.created_at,
    )


def save_tip(session: Session, new: NewTip, now: datetime, *, check_similar: bool = True) -> Saved:
    """Save a tip once per source; hold it back for confirmation when it looks like one already there."""
    new = validated(new)
    ensure_workspace(session, new.team_id)
    if new.source_ref and (found := _by_source(session, new.team_id, new.source_ref)):
        return Saved(Tip.from_record(found), "existing")
    similar = find_similar(session, new.team_id, new.text) if check_similar else None
    record = TipRecord(**record_values(new, now, pending=similar is not None))
    try:
        with session.begin_nested():  # a savepoint: a concurrent save of the same message loses the race cleanly
            session.add(record)
    except IntegrityError:
        found = _by_source(session, new.team_id, new.source_ref or "")
        if found is None:
            raise
        return Saved(Tip.from_record(found), "existing")
    remember_words(session, new.team_id, [new.text, " ".join(new.tags)])
    return Saved(Tip.from_record(record), "held" if similar else "created", similar)


def record_values(new: NewTip, now: datetime, *, pending: bool = False) -> dict[str, Any]:
    """The tips row for a validated tip, as column values (imports insert these in bulk)."""
    return dict(
        team_id=new.team_id,
        author=new.author,
        shared_by=new.shared_by,
        text=new.text,
        text_hash=text_hash(new.text),
        tags=stored_tags(new.tags),
        grade=new.grade,
        source=new.source,
        source_ref=new.source_ref,
        permalink=new.permalink,
        created_at=new.created_at or now,
        updated_at=now,
        helpful_count=0,
        hidden=False,
        pending=pending,
    )


def _by_source(session: Session, team_id: str, source_ref: str) -> TipRecord | None:
    return session.scalar(select(TipRecord).where(TipRecord.team_id == team_id, TipRecord.source_ref == source_ref))


def remember_words(session: Session, team_id: str, texts: Iterable[str]) -> None:
    """Add the texts' words to the workspace's word list, which spelling correction draws on.

    Imports pass a whole batch of tips: the words are counted in one pass and filtered once per distinct
    word, and the upsert is a Core executemany (no ORM bulk bookkeeping per row).
    """
    counts = Counter(words(" ".join(texts)))
    rows = [
        {"team_id": team_id, "word": w, "uses": n}
        for w, n in sorted(counts.items())
        if MIN_WORD <= len(w) <= MAX_WORD and not w.isdigit()
    ]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SearchWord.__table__)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[statement.table.c.team_id, statement.table.c.word],
            set_={"uses": statement.table.c.uses + statement.excluded.uses},
        ),
        rows,
    )


def get_tip(session: Session, team_id: str, tip_id: int) -> Tip | None:
    """A tip of this workspace (a tip id from another workspace finds nothing)."""
    record = _owned_by_team(session, team_id, tip_id)
    return Tip.from_record(record) if record else None


def _owned_by_team(session: Session, team_id: str, tip_id: int) -> TipRecord | None:
    record = session.get(TipRecord, tip_id)
    return record if record is not None and record.team_id == team_id else None


def confirm_held(session: Session, team_id: str, tip_id: int, user_id: str) -> Tip | None:
    """The sharer says a held tip is not a duplicate after all: make it searchable."""
    record = _owned_by_team(session, team_id, tip_id)
    if record is None or record.shared_by != user_id:
        return None
    record.pending = False
    return Tip.from_record(record)


def delete_tip(session: Session, team_id: str, tip_id: int, user_id: str) -> Tip | None:
    """Its author (or whoever saved it) deletes a tip; Undo is the same. None when not theirs or gone."""
    record = _owned_by_team(session, team_id, tip_id)
    if record is None or not may_delete(user_id, record.author, record.shared_by):
        return None
    tip = Tip.from_record(record)
    session.delete(record)
    return tip


def edit_tip(
    session: Session,
    team_id: str,
    tip_id: int,
    user_id: str,
    *,
    text: str,
    tags: Iterable[str],
    grade: str,
    now: datetime,
) -> Tip:
    record = _owned_by_team(session, team_id, tip_id)
    if record is None:
        raise TipRejected("That tip is gone; it may have been deleted.")
    if not may_edit(user_id, record.author):
        raise TipRejected("Only the tip's author can edit it. Whoever saved it can delete it; moderators can hide it.")
    record.text = clean_text(text)
    record.text_hash = text_hash(record.text)
    record.tags = stored_tags(normalise_tags(tags))
    record.grade = clean_grade(grade)
    record.updated_at = now
    remember_words(session, team_id, [record.text, record.tags])
    return Tip.from_record(record)


def vote_helpful(session: Session, team_id: str, tip_id: int, user_id: str, now: datetime) -> tuple[Tip, bool] | None:
    """One vote per person: (tip, True) when this vote counted, (tip, False) when they had voted already.
    A tip's author can't vote for it (TipRejected): Helpful is what colleagues say."""
    record = _owned_by_team(session, team_id, tip_id)
    if record is None:
        return None
    if user_id == record.author:
        raise TipRejected(
            "That's your own tip, so I didn't count a vote: Helpful is how colleagues say a tip worked for them."
        )
    if session.scalar(select(exists().where(TipVote.tip_id == tip_id, TipVote.user_id == user_id))):
        return Tip.from_record(record), False
    try:
        with session.begin_nested():
            session.add(TipVote(tip_id=tip_id, user_id=user_id, created_at=now))
    except IntegrityError:  # a double click raced us
        return Tip.from_record(record), False
    session.execute(update(TipRecord).where(TipRecord.id == tip_id).values(helpful_count=TipRecord.helpful_count + 1))
    session.refresh(record)
    return Tip.from_record(record), True


def tips_by(session: Session, team_id: str, user_id: str, *, limit: int | None = None, offset: int = 0) -> list[Tip]:
    """The tips a person wrote, newest first (hidden ones too: they are still theirs; held ones aren't saved yet)."""
    query = (
        select(TipRecord)
        .where(TipRecord.team_id == team_id, TipRecord.author == user_id, TipRecord.pending.is_(False))
        .order_by(TipRecord.created_at.desc(), TipRecord.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [Tip.from_record(r) for r in session.scalars(query)]


def count_by(session: Session, team_id: str, user_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                TipRecord.team_id == team_id, TipRecord.author == user_id, TipRecord.pending.is_(False)
            )
        )
        or 0
    )


def delete_tips_by(session: Session, team_id: str, user_id: str) -> int:
    return changed_rows(
        session.execute(delete(TipRecord).where(TipRecord.team_id == team_id, TipRecord.author == user_id))
    )


def newest(session: Session, team_id: str, limit: int = 3) -> list[Tip]:
    return _visible(session, team_id, limit, TipRecord.created_at.desc())


def most_helpful(session: Session, team_id: str, limit: int = 3, *, minimum_votes: int = 1) -> list[Tip]:
    """The visible tips with the most Helpful votes (at least `minimum_votes`), newest first among equals. An
    author can't vote for their own tip (`vote_helpful`), so the count is colleagues' votes alone."""
    query = (
        select(TipRecord)
        .where(
            TipRecord.team_id == team_id,
            TipRecord.hidden.is_(False),
            TipRecord.pending.is_(False),
            TipRecord.helpful_count >= minimum_votes,
        )
        .order_by(TipRecord.helpful_count.desc(), TipRecord.created_at.desc(), TipRecord.id.desc())
        .limit(limit)
    )
    return [Tip.from_record(r) for r in session.scalars(query)]


def _visible(session: Session, team_id: str, limit: int, *order: ColumnElement[Any]) -> list[Tip]:
    query = select(TipRecord).where(
        TipRecord.team_id == team_id, TipRecord.hidden.is_(False), TipRecord.pending.is_(False)
    )
    return [Tip.from_record(r) for r in session.scalars(query.order_by(*order).limit(limit))]


def purge_held(session: Session, older_than: datetime) -> int:
    """Held tips nobody confirmed are dropped (the sharer was told they had not been added)."""
    return changed_rows(
        session.execute(delete(TipRecord).where(TipRecord.pending.is_(True), TipRecord.created_at < older_than))
    )


def delete_workspace(session: Session, team_id: str) -> int:
    """Everything the bot keeps for a workspace, gone (the app was uninstalled). Returns tips deleted."""
    tips = changed_rows(session.execute(delete(TipRecord).where(TipRecord.team_id == team_id)))
    for model in (SearchWord, Moderator, ModerationEntry):
        session.execute(delete(model).where(model.team_id == team_id))
    session.execute(delete(Workspace).where(Workspace.team_id == team_id))
    return tips
