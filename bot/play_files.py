"""Reading, validating and syncing the playbook files in `plays/`, and writing plays back out in that format.

The same format carries a workspace's own plays out of the bot and into another workspace (`plchat plays
export` / `import`), so every play the bot holds, shared or a workspace's, passes the checks here."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError, field_validator
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import grades
from bot.models import PlayRecord
from bot.plays import CATEGORIES, GRADE_NOTES_HEADING, Play, split_grade_notes
from bot.resources import data_dir
from bot.unicode_safe import junk_share
from bot.yaml_lines import Document, NotReadable, read_mapping, unknown_field

PLAYS_DIR = data_dir("plays")
MAX_FILE_BYTES = 64 * 1024
REQUIRED_SECTIONS = ["## Try this", "## What it looks like", "## Watch out for"]
BAND_HEADINGS = [f"### {band}" for band in grades.NOTE_BANDS]
BODY_LIMITS = (200, 2500)  # the card's three sections, so it fits in Slack
NOTE_LIMIT = 600  # each grade band's note
FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n(.*)\Z", re.DOTALL)

PLAIN_LINE = r"^[^<>&\n]*$"
TAG = r"^[a-z0-9][a-z0-9 -]{1,29}$"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,59}$")
_PATTERN_RULES = {
    PLAIN_LINE: "must not contain <, > or & or a line break",
    TAG: "must be 2 to 30 lower-case letters, digits, spaces or hyphens, starting with a letter or digit",
    SLUG.pattern: "must be 3 to 60 lower-case letters, digits and hyphens, starting with a letter or digit (the "
    "file's name without .md)",
}
_HEADING = re.compile(r"^#+ .*$", re.MULTILINE)

PlainLine = Annotated[str, StringConstraints(strip_whitespace=True, pattern=PLAIN_LINE)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=TAG)]


def _known_band(value: object) -> str:
    if value not in grades.BANDS:
        *first, last = grades.BANDS
        raise ValueError(f"{_shown(value)} isn't a grade band; use {', '.join(first)} or {last}")
    return str(value)


Grade = Annotated[str, BeforeValidator(_known_band)]


class PlayFrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Annotated[str, StringConstraints(pattern=SLUG.pattern)]
    title: Annotated[PlainLine, StringConstraints(min_length=5, max_length=80)]
    category: str
    summary: Annotated[PlainLine, StringConstraints(min_length=20, max_length=200)]
    tags: list[Tag]
    grades: list[Grade] = []
    time: Annotated[PlainLine, StringConstraints(min_length=3, max_length=60)]
    source: Annotated[PlainLine, StringConstraints(min_length=5, max_length=120)]
    credits: list[Annotated[PlainLine, StringConstraints(min_length=1, max_length=120)]] = []

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"must be one of: {', '.join(CATEGORIES)}")
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
    """One problem with a play file: its field, in plain words, and its line when it has one."""

    path: Path
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.path}: {where}{self.field}: {self.message}"


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def parse_play_file(path: Path) -> PlayFile | list[PlayFileError]:
    """Parse one play; on problems, every one of them (as far as the file can be read), each by field and, where
    it has one, line, in file order."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [PlayFileError(path, "file", f"cannot read it ({exc.strerror})")]
    if len(raw) > MAX_FILE_BYTES:
        return [PlayFileError(path, "file", f"is {len(raw)} bytes; a play must be under {MAX_FILE_BYTES}")]
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return [PlayFileError(path, "file", "is not UTF-8 text")]
    match = FRONT_MATTER.match(text)
    if not match:
        return [PlayFileError(path, "front matter", "the file must start with a '---' block of YAML ended by '---'", 1)]
    try:
        document = read_mapping(match.group(1), what="a play's front matter", first_line=2)
    except NotReadable as exc:
        return [PlayFileError(path, "front matter", exc.message, exc.line)]
    problems = [
        PlayFileError(path, duplicate.field, duplicate.message, duplicate.line) for duplicate in document.duplicates
    ]
    front = _front_matter(path, document, problems)
    body = match.group(2).strip()
    body_line = _line(text, text.index(body, match.start(2))) if body else None
    problems += [
        PlayFileError(path, "body", message, body_line + line - 1 if body_line and line else None)
        for message, line in body_problems(body)
    ]
    if problems or front is None:
        return sorted(problems, key=lambda problem: (problem.line is None, problem.line or 0))
    return PlayFile(front, body, hashlib.sha256(raw).hexdigest())


def _front_matter(path: Path, document: Document, problems: list[PlayFileError]) -> PlayFrontMatter | None:
    """The front matter, or None with each field's problem added to `problems`."""
    slug = document.data.get("slug")
    if isinstance(slug, str) and SLUG.fullmatch(slug) and slug != path.stem:
        problems.append(
            PlayFileError(path, "slug", f"'{slug}' must match the file name '{path.stem}'", document.line_of("slug"))
        )
    try:
        return PlayFrontMatter.model_validate(document.data)
    except ValidationError as exc:
        for error in exc.errors():
            name = _field_name(error["loc"])
            problems.append(PlayFileError(path, name, plain_problem(error), document.line_of(name)))
        return None


def _field_name(loc: tuple[int | str, ...]) -> str:
    """pydantic's ("tags", 1) as the file's field: "tags[2]", counting list items from 1 as people do."""
    return str(loc[0]) + "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in loc[1:])


_LIST_EXAMPLES = {"tags": "[assessment, feedback]", "grades": "[K-5, 6-8]", "credits": "[U0123ABCD]"}


def plain_problem(error: ErrorDetails) -> str:
    """A pydantic error about a play's front matter, said as a person fixing the file needs it."""
    kind, ctx, name, given = error["type"], error.get("ctx") or {}, str(error["loc"][0]), error["input"]
    if kind == "missing":
        return "is missing"
    if kind in ("extra_forbidden", "invalid_key"):
        return unknown_field(name, tuple(PlayFrontMatter.model_fields), "a play")
    if kind in ("string_type", "string_unicode"):
        return "must be text"
    if kind == "list_type":
        return f"must be a list, like {_LIST_EXAMPLES.get(name, '[first, second]')}"
    if kind == "string_too_short":
        return f"must be at least {ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"is {len(str(given).strip())} characters; keep it to {ctx['max_length']}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RULES.get(ctx.get("pattern", ""), "holds characters a play can't have here")
    if kind == "value_error":
        return str(ctx["error"])
    return str(error["msg"])


def _shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…") if isinstance(value, str) else text


def body_problem(body: str) -> str | None:
    """The first thing wrong with a play's Markdown (for the play form, which shows one), or None."""
    problems = body_problems(body)
    return problems[0][0] if problems else None


def body_problems(body: str) -> list[tuple[str, int | None]]:
    """Everything wrong with a play's Markdown (its sections, its length, its grade-band notes, stray
    characters), each with its line in `body` (from 1) when it has one."""
    problems: list[tuple[str, int | None]] = []
    if junk_share(body):
        junk = next(
            index
            for index, char in enumerate(body)
            if char not in "\n\r\t" and unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs")
        )
        problems.append(("has control characters; save it as plain UTF-8 text", _line(body, junk)))
    main, notes = split_grade_notes(body)
    headings = list(_HEADING.finditer(main))
    if [heading.group().strip() for heading in headings] != REQUIRED_SECTIONS:
        misplaced = next(
            (
                heading
                for heading, wanted in zip(headings, REQUIRED_SECTIONS, strict=False)
                if heading.group().strip() != wanted
            ),
            None,
        )
        problems.append(
            (
                f"needs exactly these sections in order: {', '.join(REQUIRED_SECTIONS)}",
                _line(body, misplaced.start()) if misplaced else None,
            )
        )
    low, high = BODY_LIMITS
    if not low <= len(main) <= high:
        problems.append(
            (f"is {len(main)} characters; keep it between {low} and {high} so the card fits in Slack", None)
        )
    if GRADE_NOTES_HEADING in body:
        start = body.index(GRADE_NOTES_HEADING)
        named = [heading.strip() for heading in _HEADING.findall(body[len(main) :])][1:]
        if not named or [h for h in BAND_HEADINGS if h in named] != named:
            problems.append(
                (
                    (
                        f"'{GRADE_NOTES_HEADING}' holds one or more of {', '.join(BAND_HEADINGS)}, in that "
                        "order, each once"
                    ),
                    _line(body, start),
                )
            )
        for band, note in notes.items():
            if not 20 <= len(note) <= NOTE_LIMIT:
                heading = body.find(f"### {band}", start)
                problems.append(
                    (
                        f"the {band} note is {len(note)} characters; keep it between 20 and {NOTE_LIMIT}",
                        _line(body, heading) if heading >= 0 else None,
                    )
                )
    return problems


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def load_play_dir(directory: Path = PLAYS_DIR) -> tuple[list[PlayFile], list[PlayFileError]]:
    """The folder's plays, and every problem of every file that is not one."""
    plays: list[PlayFile] = []
    errors: list[PlayFileError] = []
    if not directory.is_dir():
        return plays, [PlayFileError(directory, "directory", "does not exist")]
    for path in sorted(directory.glob("*.md")):
        result = parse_play_file(path)
        if isinstance(result, PlayFile):
            plays.append(result)
        else:
            errors.extend(result)
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
    front: dict[str, object] = {
        "slug": play.slug,
        "title": play.title,
        "category": play.category,
        "summary": play.summary,
        "tags": list(play.tags),
        "grades": list(play.grades),
        "time": play.time_needed,
        "source": play.source,
    }
    if play.credits:
        front["credits"] = list(play.credits)
    yaml_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{yaml_text}---\n{play.body.strip()}\n"
