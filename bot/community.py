"""The community playbook: moderators shape tips into drafts, publish them into their workspace's playbook
(crediting the tips' authors), edit or unpublish them later, and move a workspace's plays in and out as files in
the `plays/` format.

Plain Python over a SQLAlchemy session. Every play published or imported passes the checks `plchat plays check`
runs (`bot.play_files`), so a workspace's plays always export as files the bot reads back unchanged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import grades, plays
from bot.delivery import outbox
from bot.models import PlayCredit, PlayDraft, PlayRecord, TipRecord
from bot.play_files import (
    NOTE_LIMIT,
    PlayFile,
    PlayFileError,
    PlayFrontMatter,
    body_problem,
    fill,
    parse_play_file,
    play_markdown,
)
from bot.plays import GRADE_NOTES_HEADING, Play
from bot.tips import moderation, store
from bot.tips.records import Tip, is_slack_user
from bot.tips.store import ensure_workspace

SOURCE = "Tips shared by teachers in this workspace"
DEFAULT_TIME = "One lesson"
READY_VOTES = 3  # Helpful votes that make a tip worth suggesting to moderators
MAX_STEPS, MAX_CREDITS = 8, 10
CREDIT_NOTICE_KEPT = timedelta(days=7)
_PLAIN = re.compile(r"[<>&\n\r]")
_TAG = re.compile(r"^[a-z0-9][a-z0-9 -]{1,29}$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_HEADING = re.compile(r"^#+ ", re.MULTILINE)
_SECTION = re.compile(r"^## .*$", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:(?:\d+[.)]|[-*•])(?:\s+|$))+")  # a list item's numbers or bullets ("1. -" too)


class DraftRejected(ValueError):
    """The draft can't be saved or published as it is: `errors` says what, by form field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class DraftFields:
    """A play as the moderator shapes it: each field as typed into the `play_draft` form."""

    title: str = ""
    category: str = ""
    summary: str = ""
    steps: str = ""  # one step a line
    looks_like: str = ""
    watch_out: str = ""  # one caution a line
    grades: tuple[str, ...] = ()
    time_needed: str = DEFAULT_TIME
    tags: str = ""  # comma-separated
    grade_notes: tuple[tuple[str, str], ...] = ()  # (band, what differs there), in grades.NOTE_BANDS order


@dataclass(frozen=True)
class Draft:
    id: int | None
    fields: DraftFields
    tip_ids: tuple[int, ...] = ()
    credits: tuple[str, ...] = ()  # the tips' authors, in the order their tips were added
    play_id: int | None = None  # the published play this draft edits; None for a new play

    @classmethod
    def from_record(cls, record: PlayDraft) -> Draft:
        return cls(
            record.id,
            DraftFields(
                record.title,
                record.category,
                record.summary,
                record.steps,
                record.looks_like,
                record.watch_out,
                plays.split_list(record.grades),
                record.time_needed,
                record.tags,
                _in_band_order(record.grade_notes),
            ),
            tuple(record.tip_ids),
            tuple(record.credits),
            record.play_id,
        )


@dataclass(frozen=True)
class Published:
    play: Play
    told: tuple[str, ...]  # the credited people who will hear about it in a DM (never the one who published)
    edited: bool = False  # it replaced a published play (only people newly credited are told)
    credits_you: bool = False  # the one who published it is newly credited (their own tip): they know already


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[PlayFileError] = field(default_factory=list)  # every problem of every file refused


# -- from a tip to a draft ------------------------------------------------------------------------------------


def plain_line(text: str, limit: int) -> str:
    """Text fit for a one-line field of a play: on one line, without the characters play files refuse."""
    line = " ".join(_PLAIN.sub(" ", text.replace("&", " and ")).split())
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _items(text: str) -> list[str]:
    """The lines of a list as typed, without their numbers or bullets, blank lines dropped."""
    return [item for line in text.splitlines() if (item := _BULLET.sub("", line).strip())]


def _steps(text: str) -> list[str]:
    """A tip's text as steps: its lines, or its sentences when it is one paragraph."""
    lines = _items(text)
    if len(lines) == 1:
        lines = [part.strip() for part in _SENTENCE.split(lines[0]) if part.strip()]
    return [_HEADING.sub("", line) for line in lines]


def from_tip(session: Session, team: str, tip: Tip) -> Draft:
    """A draft prefilled from a tip: its text as steps, its tags and grade band, a suggested category."""
    steps = _steps(tip.text) or ["A colleague's tip"]
    category = _suggested_category(session, team, tip)
    tags = [tag for tag in tip.tags if _TAG.match(tag)][:6] or [category]
    fields = DraftFields(
        title=plain_line(steps[0], 60).rstrip(".") or "A colleague's tip",
        category=category,
        summary=plain_line(tip.text, 200),
        steps="\n".join(steps[:MAX_STEPS]),
        grades=grades.covering((tip.grade,) if tip.grade else ()),
        tags=", ".join(tags),
    )
    return Draft(None, fields, (tip.id,), (tip.author,))


def _suggested_category(session: Session, team: str, tip: Tip) -> str:
    for tag in tip.tags:
        if category := plays.category_for(tag):
            return category
    found = plays.search_plays(session, " ".join(tip.text.split()[:40]), limit=1, team=team)
    return found.plays[0].category if found.plays else "student-ownership"


def add_tip(draft: Draft, tip: Tip) -> Draft:
    """Another tip's text added to the draft's steps, and its author to the credits."""
    if tip.id in draft.tip_ids:
        return draft
    steps = "\n".join(filter(None, [draft.fields.steps.strip(), *_steps(tip.text)]))
    credits = draft.credits if tip.author in draft.credits else (*draft.credits, tip.author)
    return replace(
        draft,
        fields=replace(draft.fields, steps=steps),
        tip_ids=(*draft.tip_ids, tip.id),
        credits=credits[:MAX_CREDITS],
    )


def _in_band_order(notes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((band, notes[band]) for band in grades.NOTE_BANDS if notes.get(band))


def fields_of(play: Play) -> DraftFields:
    """A published play back in the form's fields: `body(fields_of(play))` is its body."""
    steps, looks_like, watch_out = ([part.strip() for part in _SECTION.split(play.main_body)][1:] + ["", "", ""])[:3]
    return DraftFields(
        play.title,
        play.category,
        play.summary,
        "\n".join(_items(steps)),
        looks_like,
        "\n".join(_items(watch_out)),
        grades.covering(play.grades),
        play.time_needed,
        ", ".join(play.tags),
        _in_band_order(plays.split_grade_notes(play.body)[1]),
    )


# -- checking what a moderator typed ----------------------------------------------------------------------------


def body(fields: DraftFields) -> str:
    """The play's Markdown, in the sections every play has, then any grade-band notes."""
    notes = [
        line
        for n, (band, note) in enumerate(fields.grade_notes)
        for line in ([""] if n else []) + [f"### {band}", note.strip()]
    ]
    return "\n".join(
        [
            "## Try this",
            *(f"{n}. {step}" for n, step in enumerate(_items(fields.steps), 1)),
            "",
            "## What it looks like",
            fields.looks_like.strip(),
            "",
            "## Watch out for",
            *(f"- {caution}" for caution in _items(fields.watch_out)),
            *(["", GRADE_NOTES_HEADING, *notes] if notes else []),
        ]
    )


def note_field(band: str) -> str:
    """The form field holding a grade band's note."""
    return f"note:{band}"


_FIELD_OF = {"time": "time_needed"}  # a play file's field names that differ from the form's
_FORM_FIELDS = {f.name for f in dataclass_fields(DraftFields)}


def check(fields: DraftFields) -> dict[str, str]:
    """What is wrong with the form, by field (empty when it can be saved and published)."""
    errors: dict[str, str] = {}
    for name, text in (("steps", fields.steps), ("looks_like", fields.looks_like), ("watch_out", fields.watch_out)):
        lines = [text.strip()] if name == "looks_like" else _items(text)  # a list is checked as it will show
        if not any(lines):
            errors[name] = "Fill this in: every play has it."
        elif any(_HEADING.search(line) for line in lines):
            errors[name] = "A line can't start with '#' and a space: that would start a new section."
    for band, note in fields.grade_notes:
        if not 20 <= len(note.strip()) <= NOTE_LIMIT:
            errors[note_field(band)] = f"Write 20 to {NOTE_LIMIT} characters, or leave it empty."
        elif _HEADING.search(note):
            errors[note_field(band)] = "A line can't start with '#' and a space: that would start a new section."
    try:
        _front(fields, "draft-check", ())
    except DraftRejected as refused:
        errors = {**refused.errors, **errors}
    if not errors and (problem := body_problem(body(fields))):
        errors["steps"] = f"The play {problem}."
    return errors


def compose(fields: DraftFields, slug: str, credits: Iterable[str], *, source: str = SOURCE) -> PlayFile:
    """The play the fields make, as a play file would hold it (an edited play keeps its `source`). Raises
    DraftRejected."""
    return PlayFile(_front(fields, slug, credits, source), body(fields), "")


def _front(fields: DraftFields, slug: str, credits: Iterable[str], source: str = SOURCE) -> PlayFrontMatter:
    tags = [tag.strip() for tag in fields.tags.split(",") if tag.strip()]
    data = {
        "slug": slug,
        "title": fields.title,
        "category": fields.category,
        "summary": fields.summary,
        "tags": tags,
        "grades": list(fields.grades),
        "time": fields.time_needed,
        "source": source,
        "credits": [plain_line(credit, 120) for credit in credits],
    }
    try:
        return PlayFrontMatter.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = _FIELD_OF.get(str(error["loc"][0]), str(error["loc"][0]))
            name = name if name in _FORM_FIELDS else "title"  # slug, source, credits: the bot's, shown at the top
            errors.setdefault(name, _plain_error(name, error))
        raise DraftRejected(errors) from None


def _plain_error(name: str, error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "string_too_short":
        return f"Make it at least {error['ctx']['min_length']} characters."
    if kind == "string_too_long":
        return f"Keep it to {error['ctx']['max_length']} characters."
    if kind == "string_pattern_mismatch":
        if name == "tags":
            return "Tags are 2 to 30 lower-case letters, digits, spaces or hyphens, separated by commas."
        return "Keep it on one line, without <, > or &."
    if name == "tags":
        return "Give between 1 and 6 tags, separated by commas."
    if name == "category":
        return "Pick one of the categories."
    return str(error["msg"])[:150]


# -- drafts ------------------------------------------------------------------------------------------------------


def save_draft(
    session: Session, team: str, actor: str, configured: moderation.Configured, draft: Draft, now: datetime
) -> Draft:
    """Save a new draft, or the changes to one; only moderators may. An edit of a published play is kept in
    that play's one draft. Raises DraftRejected, NotAllowed."""
    moderation.require_moderator(session, team, actor, configured)
    if errors := check(draft.fields):
        raise DraftRejected(errors)
    record = _draft_record(session, team, draft.id) if draft.id else None
    play_id = draft.play_id if _play_record(session, team, draft.play_id) else None
    if record is None and play_id is not None:
        record = _edit_record(session, play_id)
    if record is None:
        ensure_workspace(session, team)
        record = PlayDraft(team_id=team, created_by=actor, created_at=now)
        session.add(record)
    _write(record, replace(draft, play_id=play_id), now)
    session.flush()
    return Draft.from_record(record)


def _write(record: PlayDraft, draft: Draft, now: datetime) -> None:
    f = draft.fields
    record.title, record.category, record.summary = f.title.strip(), f.category, f.summary.strip()
    record.steps, record.looks_like, record.watch_out = f.steps.strip(), f.looks_like.strip(), f.watch_out.strip()
    record.grades, record.time_needed, record.tags = ", ".join(f.grades), f.time_needed.strip(), f.tags.strip()
    record.tip_ids, record.credits, record.updated_at = list(draft.tip_ids), list(draft.credits), now
    record.grade_notes, record.play_id = {band: note.strip() for band, note in f.grade_notes}, draft.play_id


def _draft_record(session: Session, team: str, draft_id: int | None) -> PlayDraft | None:
    record = session.get(PlayDraft, draft_id) if draft_id else None
    return record if record is not None and record.team_id == team else None


def _edit_record(session: Session, play_id: int) -> PlayDraft | None:
    return session.scalar(select(PlayDraft).where(PlayDraft.play_id == play_id).order_by(PlayDraft.id).limit(1))


def _play_record(session: Session, team: str, play_id: int | None) -> PlayRecord | None:
    record = session.get(PlayRecord, play_id) if play_id else None
    return record if record is not None and record.team_id == team else None


def get_draft(session: Session, team: str, draft_id: int) -> Draft | None:
    record = _draft_record(session, team, draft_id)
    return Draft.from_record(record) if record else None


def drafts(session: Session, team: str, limit: int = 20) -> list[Draft]:
    records = session.scalars(
        select(PlayDraft)
        .where(PlayDraft.team_id == team)
        .order_by(PlayDraft.updated_at.desc(), PlayDraft.id.desc())
        .limit(limit)
    )
    return [Draft.from_record(record) for record in records]


def draft_count(session: Session, team: str) -> int:
    return session.scalar(select(func.count()).select_from(PlayDraft).where(PlayDraft.team_id == team)) or 0


def discard(
    session: Session, team: str, actor: str, configured: moderation.Configured, draft_id: int, now: datetime
) -> Draft | None:
    moderation.require_moderator(session, team, actor, configured)
    record = _draft_record(session, team, draft_id)
    if record is None:
        return None
    draft = Draft.from_record(record)
    session.delete(record)
    moderation.record(session, team, actor, "play_discard", now, detail=draft.fields.title)
    return draft


def publish(
    session: Session, team: str, actor: str, configured: moderation.Configured, draft_id: int, now: datetime
) -> Published | None:
    """The draft as a play in the workspace's playbook. Its newly credited Slack users are told in a DM, through
    the outbox in this same transaction (so exactly once), except the one publishing it: they know. None when the
    draft is gone."""
    moderation.require_moderator(session, team, actor, configured)
    draft_record = _draft_record(session, team, draft_id)
    if draft_record is None:
        return None
    draft = Draft.from_record(draft_record)
    if errors := check(draft.fields):
        raise DraftRejected(errors)
    edited = _play_record(session, team, draft.play_id)
    before: tuple[str, ...]
    if edited is None:
        play_file, before = compose(draft.fields, _free_slug(session, team, draft.fields.title), draft.credits), ()
    else:
        old = plays.with_credits(session, [edited])[0]
        play_file, before = compose(draft.fields, old.slug, draft.credits, source=old.source), old.credits
    record = _store(session, team, play_file, _tips_by_author(session, team, draft.tip_ids))
    session.delete(_draft_record(session, team, draft_id))
    moderation.record(session, team, actor, "play_edit" if edited else "play_publish", now, detail=record.title)
    play = plays.with_credits(session, [record])[0]
    credited = tuple(author for author in play.credits if is_slack_user(author) and author not in before)
    told = tuple(author for author in credited if author != actor)
    outbox.enqueue(
        session,
        [
            outbox.new_row(
                key=f"play:{record.id}:credit:{author}",
                team_id=team,
                subject=f"play:{record.id}",
                target="slack",
                channel=author,
                due_at=now,
                expires_at=now + CREDIT_NOTICE_KEPT,
                payload={"slug": record.slug},
                now=now,
            )
            for author in told
        ],
    )
    return Published(play, told, edited is not None, actor in credited)


def edit_play(session: Session, team: str, actor: str, configured: moderation.Configured, slug: str) -> Draft | None:
    """The draft to edit a published play in: the one already begun, or a new one (unsaved) holding the play as
    it is. None when the workspace has no play by that slug. Raises NotAllowed."""
    moderation.require_moderator(session, team, actor, configured)
    record = _own_record(session, team, slug)
    if record is None:
        return None
    begun = _edit_record(session, record.id)
    return Draft.from_record(begun) if begun else _as_draft(session, record)


def unpublish(
    session: Session, team: str, actor: str, configured: moderation.Configured, slug: str, now: datetime
) -> Draft | None:
    """Take a play out of the workspace's playbook and keep it, as it was published, as a draft (with its tips
    and credits), so nothing is lost; an edit already begun stays a draft of its own. None when there is no
    such play. Raises NotAllowed."""
    moderation.require_moderator(session, team, actor, configured)
    record = _own_record(session, team, slug)
    if record is None:
        return None
    as_published = replace(_as_draft(session, record), play_id=None)
    kept = PlayDraft(team_id=team, created_by=actor, created_at=now)
    _write(kept, as_published, now)
    session.add(kept)
    session.delete(record)  # an edit begun on it is kept, as a new play (its play_id is set to NULL)
    moderation.record(session, team, actor, "play_unpublish", now, detail=record.title)
    session.flush()
    return Draft.from_record(kept)


def _as_draft(session: Session, record: PlayRecord) -> Draft:
    """A published play as an unsaved draft that edits it."""
    play = plays.with_credits(session, [record])[0]
    tip_ids = [
        tip_id
        for tips in session.scalars(
            select(PlayCredit.tip_ids).where(PlayCredit.play_id == record.id).order_by(PlayCredit.position)
        )
        for tip_id in tips
    ]
    return Draft(None, fields_of(play), tuple(tip_ids), play.credits, record.id)


def own_plays(session: Session, team: str, limit: int = 20, words: str = "") -> list[Play]:
    """The workspace's published plays (for moderators' `/play drafts`): newest first, or those best matching
    `words`."""
    if words:
        found = plays.search_plays(session, words, limit=plays.CANDIDATE_PLAYS, team=team).plays
        return [play for play in found if play.team_id == team][:limit]
    records = list(
        session.scalars(
            select(PlayRecord).where(PlayRecord.team_id == team).order_by(PlayRecord.id.desc()).limit(limit)
        )
    )
    return plays.with_credits(session, records)


def _tips_by_author(session: Session, team: str, tip_ids: Iterable[int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for tip_id, author in session.execute(
        select(TipRecord.id, TipRecord.author).where(TipRecord.team_id == team, TipRecord.id.in_(list(tip_ids)))
    ):
        found.setdefault(author, []).append(tip_id)
    return found


def _free_slug(session: Session, team: str, title: str) -> str:
    """A slug from the title, used by neither the shared playbook nor the workspace."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50].strip("-") or "community-play"
    base = base if len(base) >= 3 else f"{base}-play"
    taken = set(session.scalars(select(PlayRecord.slug).where(PlayRecord.slug.like(f"{base}%"), plays.visible(team))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _markdown_hash(play: PlayFile) -> str:
    """The sha256 of the play as `plchat plays export` writes it: equal exactly when an export would be."""
    front = play.front
    markdown = play_markdown(
        Play(
            front.slug,
            front.title,
            front.category,
            front.summary,
            tuple(front.tags),
            tuple(front.grades),
            front.time,
            front.source,
            play.body,
            None,
            tuple(front.credits),
        )
    )
    return hashlib.sha256(markdown.encode()).hexdigest()


def _own_record(session: Session, team: str, slug: str) -> PlayRecord | None:
    return session.scalar(select(PlayRecord).where(PlayRecord.team_id == team, PlayRecord.slug == slug))


def _store(session: Session, team: str, play: PlayFile, tips_of: dict[str, list[int]]) -> PlayRecord:
    """Write a play into the workspace's playbook (a new one, or over the one with its slug), with its credits. An
    author `tips_of` does not name keeps the tips they were credited for."""
    record = _own_record(session, team, play.front.slug)
    kept: dict[str, list[int]] = {}
    if record is None:
        ensure_workspace(session, team)
        record = PlayRecord(team_id=team, slug=play.front.slug)
        session.add(record)
    else:
        # .all(): a Result has keys() (its columns), so dict() would read it as a mapping of them
        kept = dict(
            session.execute(select(PlayCredit.author, PlayCredit.tip_ids).where(PlayCredit.play_id == record.id)).all()
        )
    fill(record, PlayFile(play.front, play.body, _markdown_hash(play)))
    session.flush()
    session.execute(delete(PlayCredit).where(PlayCredit.play_id == record.id))
    session.add_all(
        PlayCredit(
            play_id=record.id,
            team_id=team,
            author=author,
            position=n,
            tip_ids=tips_of.get(author) or kept.get(author, []),
        )
        for n, author in enumerate(dict.fromkeys(play.front.credits))
    )
    session.flush()
    return record


# -- what moderators and authors see ------------------------------------------------------------------------------


def plays_crediting(session: Session, team: str, author: str) -> list[Play]:
    """`/play mine`: the workspace's plays made from this person's tips."""
    records = list(
        session.scalars(
            select(PlayRecord)
            .join(PlayCredit, PlayCredit.play_id == PlayRecord.id)
            .where(PlayCredit.team_id == team, PlayCredit.author == author)
            .order_by(PlayRecord.title)
        )
    )
    return plays.with_credits(session, records)


def ready_tips(session: Session, team: str, limit: int = 3, votes: int = READY_VOTES) -> list[Tip]:
    """Tips with many Helpful votes that no play or draft of the workspace was made from yet."""
    used: set[int] = set()
    for tip_ids in session.scalars(select(PlayDraft.tip_ids).where(PlayDraft.team_id == team)):
        used.update(tip_ids)
    for tip_ids in session.scalars(select(PlayCredit.tip_ids).where(PlayCredit.team_id == team)):
        used.update(tip_ids)
    helpful = store.most_helpful(session, team, limit + len(used), minimum_votes=votes)
    return [tip for tip in helpful if tip.id not in used][:limit]


# -- files ---------------------------------------------------------------------------------------------------------


def export_plays(session: Session, team: str, directory: Path) -> list[Path]:
    """Every play of the workspace as a file `slug.md` in `directory` (made if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    records = list(session.scalars(select(PlayRecord).where(PlayRecord.team_id == team).order_by(PlayRecord.slug)))
    written = []
    for play in plays.with_credits(session, records):
        path = directory / f"{play.slug}.md"
        path.write_text(play_markdown(play), encoding="utf-8")
        written.append(path)
    return written


def import_plays(session: Session, team: str, paths: Iterable[Path]) -> ImportReport:
    """Files in the `plays/` format into the workspace's playbook: each checked as `plchat plays check` does (and
    not naming a shared play's slug); good files are kept, refused ones named with why."""
    report = ImportReport()
    shared = set(session.scalars(select(PlayRecord.slug).where(PlayRecord.team_id.is_(None))))
    for path in paths:
        parsed = parse_play_file(path)
        if not isinstance(parsed, PlayFile):
            report.refused.extend(parsed)
            continue
        if parsed.front.slug in shared:
            report.refused.append(
                PlayFileError(
                    path,
                    "slug",
                    f"'{parsed.front.slug}' is a play of the shared "
                    "playbook; give the workspace's play a slug of its own",
                )
            )
            continue
        existing = _own_record(session, team, parsed.front.slug)
        if existing is not None and existing.content_hash == _markdown_hash(parsed):
            report.unchanged.append(parsed.front.slug)
            continue
        _store(session, team, parsed, {})
        (report.added if existing is None else report.updated).append(parsed.front.slug)
    return report
