"""Reading, validating and syncing the playbook files in `plays/`, and writing plays back out in that format.

The same format carries a workspace's own plays out of the bot and into another workspace (`plchat plays
export` / `import`), so every play the bot holds, shared or a workspace's, passes the checks here."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import PlayRecord
from bot import grades
from bot.plays import CATEGORIES, GRADE_NOTES_HEADING, Play, split_grade_notes
from bot.resources import data_dir
from bot.unicode_safe import junk_share

PLAYS_DIR = data_dir("plays")
MAX_FILE_BYTES = 64 * 1024
REQUIRED_SECTIONS = ["## Try this", "## What it looks like", "## Watch out for"]
BAND_HEADINGS = [f"### {band}" for band in grades.NOTE_BANDS]
BODY_LIMITS = (200, 2500)  # the card's three sections, so it fits in Slack
NOTE_LIMIT = 600  # each grade band's note
FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n(.*)\Z", re.S)

PlainLine = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^<>&\n]*$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9 -]{1,29}$")]


class PlayFrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,59}$")]
    title: Annotated[PlainLine, StringConstraints(min_length=5, max_length=80)]
    category: str
    summary: Annotated[PlainLine, StringConstraints(min_length=20, max_length=200)]
    tags: list[Tag]
    grades: list[str] = []
    time: Annotated[PlainLine, StringConstraints(min_length=3, max_length=60)]
    source: Annotated[PlainLine, StringConstraints(min_length=5, max_length=120)]
    credits: list[Annotated[PlainLine, StringConstraints(min_length=1, max_length=120)]] = []

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"must be one of: {', '.join(CATEGORIES)}")
        return value

    @field_validator("grades")
    @classmethod
    def _known_grades(cls, value: list[str]) -> list[str]:
        unknown = [grade for grade in value if grade not in grades.BANDS]
        if unknown:
            raise ValueError(f"{unknown[0]!r} isn't a grade band; use {', '.join(grades.BANDS)}")
        return value

    @field_validator("tags")
    @classmethod
    def _tag_count(cls, value: list[str]) -> list[str]:
        if not 1 <= len(value) <= 6:
            raise ValueError("give between 1 and 6 tags")
        return value

    @field_validator("credits")
    @classmethod
    def _credit_count(cls, value: list[str]) -> list[str]:
        if len(value) > 10:
            raise ValueError("credit at most 10 people")
        return value


@dataclass(frozen=True)
class PlayFile:
    front: PlayFrontMatter
    body: str
    content_hash: str


@dataclass(frozen=True)
class PlayFileError:
    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def parse_play_file(path: Path) -> PlayFile | PlayFileError:
    """Parse one play; on any problem, say which field is at fault."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return PlayFileError(path, "file", f"cannot read it ({exc.strerror})")
    if len(raw) > MAX_FILE_BYTES:
        return PlayFileError(path, "file", f"is {len(raw)} bytes; a play must be under {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return PlayFileError(path, "file", "is not UTF-8 text")
    match = FRONT_MATTER.match(text)
    if not match:
        return PlayFileError(path, "front matter", "the file must start with a '---' block of YAML ended by '---'")
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        return PlayFileError(path, "front matter", f"is not valid YAML ({str(exc).splitlines()[0]})")
    if not isinstance(data, dict):
        return PlayFileError(path, "front matter", "must be a mapping of fields such as 'slug: ...'")
    try:
        front = PlayFrontMatter.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "front matter"
        return PlayFileError(path, where, first["msg"])
    if front.slug != path.stem:
        return PlayFileError(path, "slug", f"'{front.slug}' must match the file name '{path.stem}'")
    body = match.group(2).strip()
    if error := body_problem(body):
        return PlayFileError(path, "body", error)
    return PlayFile(front, body, hashlib.sha256(raw).hexdigest())


def body_problem(body: str) -> str | None:
    """What is wrong with a play's Markdown: its sections, its length, its grade-band notes, stray characters."""
    if junk_share(body):
        return "has control characters; save it as plain UTF-8 text"
    main, notes = split_grade_notes(body)
    headings = [h.strip() for h in re.findall(r"^#+ .*$", main, re.M)]
    if headings != REQUIRED_SECTIONS:
        return f"needs exactly these sections in order: {', '.join(REQUIRED_SECTIONS)}"
    low, high = BODY_LIMITS
    if not low <= len(main) <= high:
        return f"is {len(main)} characters; keep it between {low} and {high} so the card fits in Slack"
    if GRADE_NOTES_HEADING in body:
        note_headings = [h.strip() for h in re.findall(r"^#+ .*$", body[len(main):], re.M)][1:]
        if not note_headings or [h for h in BAND_HEADINGS if h in note_headings] != note_headings:
            return (f"'{GRADE_NOTES_HEADING}' holds one or more of {', '.join(BAND_HEADINGS)}, in that order, "
                    "each once")
        for band, note in notes.items():
            if not 20 <= len(note) <= NOTE_LIMIT:
                return f"the {band} note is {len(note)} characters; keep it between 20 and {NOTE_LIMIT}"
    return None


def load_play_dir(directory: Path = PLAYS_DIR) -> tuple[list[PlayFile], list[PlayFileError]]:
    plays: list[PlayFile] = []
    errors: list[PlayFileError] = []
    if not directory.is_dir():
        return plays, [PlayFileError(directory, "directory", "does not exist")]
    for path in sorted(directory.glob("*.md")):
        result = parse_play_file(path)
        (errors if isinstance(result, PlayFileError) else plays).append(result)
    if not plays and not errors:
        errors.append(PlayFileError(directory, "directory", "holds no *.md plays"))
    return plays, errors


def sync_plays(session: Session, plays: list[PlayFile]) -> SyncReport:
    """Make the shared playbook match the files: add, update changed, remove deleted. Idempotent. Workspaces' own
    plays are left alone."""
    report = SyncReport()
    existing = {r.slug: r for r in session.scalars(select(PlayRecord).where(PlayRecord.team_id.is_(None)))}
    for play in plays:
        record = existing.pop(play.front.slug, None)
        if record is not None and record.content_hash == play.content_hash:
            report.unchanged.append(play.front.slug)
            continue
        if record is None:
            record = PlayRecord(slug=play.front.slug)
            session.add(record)
            report.added.append(play.front.slug)
        else:
            report.updated.append(play.front.slug)
        fill(record, play)
    for slug, record in existing.items():
        session.delete(record)
        report.removed.append(slug)
    session.flush()
    return report


def fill(record: PlayRecord, play: PlayFile) -> None:
    front = play.front
    record.title = front.title
    record.category = front.category
    record.summary = front.summary
    record.tags = ", ".join(front.tags)
    record.grades = ", ".join(front.grades)
    record.time_needed = front.time
    record.source = front.source
    record.body = play.body
    record.content_hash = play.content_hash


def play_markdown(play: Play) -> str:
    """A play as a file in the `plays/` format, which `parse_play_file` reads back as the same play."""
    front: dict[str, object] = {"slug": play.slug, "title": play.title, "category": play.category,
                                "summary": play.summary, "tags": list(play.tags), "grades": list(play.grades),
                                "time": play.time_needed, "source": play.source}
    if play.credits:
        front["credits"] = list(play.credits)
    yaml_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{yaml_text}---\n{play.body.strip()}\n"
