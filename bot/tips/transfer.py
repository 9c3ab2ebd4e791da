"""Tips in and out of files: CSV or JSON Lines with the fields `text` (required), `author`, `tags`, `grade`,
`created_at` (ISO 8601) and `source_url`.

Importing is idempotent: each row's source reference is a hash of its author and normalised text, so the
same file (or the same tip in two files) is one tip however often it is imported. Rows are checked with
the same rules as tips shared in Slack; a bad row is skipped and named by its line, and the good rows are
kept. CSV is read strictly: a quote left open is named on the line where it opens, and the lines it ran on
over are read again as rows of their own; a JSON field that must be text is refused when it is a number or a
list. Rows go in a batch at a time (one multi-row INSERT ... ON CONFLICT DO NOTHING each), which is what
makes an import of a million tips take a minute rather than an hour.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from sqlalchemy import Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.models import TipRecord
from bot.tips.records import MAX_TEXT, NewTip, TipRejected, parse_tag_list
from bot.tips.store import ensure_workspace, record_values, remember_words, validated

FIELDS = ("text", "author", "tags", "grade", "created_at", "source_url")
EXPORT_FIELDS = (*FIELDS, "id", "source", "helpful", "hidden")
FORMATS: dict[str, Literal["csv", "jsonl"]] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BATCH = 5000
MAX_LINE = 64 * 1024  # a row longer than this can't be a tip of at most 3,000 characters
IMPORT_AUTHOR = "imported"
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection list): exported
# cells that do get a leading apostrophe, which spreadsheets hide and imports take off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = ("yes", "true", "1")


class FileRejected(ValueError):
    """The file as a whole can't be imported (unreadable, unknown format, no `text` column): nothing was added."""


@dataclass(frozen=True)
class SkippedRow:
    line: int
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    existing: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.existing + len(self.skipped)


def file_format(path: Path) -> Literal["csv", "jsonl"]:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise FileRejected(
            f"{path.name}: unknown format {path.suffix or '(no extension)'!r}; "
            "use a .csv file with a header row or a .jsonl file (one JSON object a line)."
        ) from None


def read_rows(stream: TextIO, kind: Literal["csv", "jsonl"]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) for each row; the row is a reason string when the line itself is unreadable."""
    try:
        yield from _csv_rows(stream) if kind == "csv" else _jsonl_rows(stream)
    except UnicodeDecodeError:
        raise FileRejected("The file isn't UTF-8 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet).") from None


def _csv_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected("The file is empty; it needs a header row with a `text` column.") from None
    except (csv.Error, _RunsOn) as exc:
        raise FileRejected(f"The header row can't be read: {_unreadable(exc, lines)}.") from None
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    if "text" not in names:
        raise FileRejected(
            f"The header row has no `text` column (it has: {', '.join(names)[:200] or 'nothing'}); "
            f"the columns I read are {', '.join(FIELDS)}."
        )
    while True:
        lines.new_record()
        try:
            values = next(reader)
        except StopIteration:
            return
        except (csv.Error, _RunsOn) as exc:
            yield lines.first, _unreadable(exc, lines)
            reader = _read_again(lines)  # the lines the broken row ran on to are rows of their own
            continue
        if not any(value.strip() for value in values):
            continue  # blank lines between rows are fine
        if lines.spanned and len(values) != len(names):
            # A value over several lines is fine, but one that ran on past whole rows to close at a later quote
            # leaves the row's values out of step with the header.
            yield lines.first, NEVER_CLOSED
            reader = _read_again(lines)
            continue
        if len(values) > len(names):
            yield (
                lines.first,
                (
                    f"has {len(values)} values but the header names {len(names)} columns; put quotes "
                    "around a value that holds a comma"
                ),
            )
            continue
        yield lines.first, {name: _from_cell(value) for name, value in zip(names, values, strict=False)}


NEVER_CLOSED = 'a quote opened here is never closed; end the value with a quote (and double each quote inside it: "")'


class _RunsOn(Exception):
    """A row has run on past MAX_LINE characters: no tip is that long, so a quote was left open."""


class _Lines:
    """The file's lines, numbered, as a CSV reader pulls them one at a time. The lines of the row being read are
    kept, so when a row is broken (a quote left open swallows the lines after it) those later lines can be read
    again as rows of their own: nothing is lost to one stray quote."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._again: deque[tuple[int, str]] = deque()
        self._read = 0
        self.taken: list[tuple[int, str]] = []
        self._size = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            number, line = self._again.popleft()
        else:
            line = next(self._stream)
            self._read += 1
            number = self._read
        self.taken.append((number, line))
        self._size += len(line)
        if self._size > MAX_LINE:
            raise _RunsOn
        return line

    def new_record(self) -> None:
        self.taken, self._size = [], 0

    @property
    def first(self) -> int:
        return self.taken[0][0] if self.taken else self._read

    @property
    def spanned(self) -> bool:
        return len(self.taken) > 1

    def read_again_after_first(self) -> None:
        self._again.extendleft(reversed(self.taken[1:]))


def _read_again(lines: _Lines) -> Any:
    lines.read_again_after_first()
    return csv.reader(lines, strict=True)  # a fresh reader: the broken row's state is left behind


def _unreadable(exc: Exception, lines: _Lines) -> str:
    """What a row the csv module refused (strict) has wrong, in plain words."""
    if isinstance(exc, _RunsOn) and not lines.spanned:
        return f"the line is over {MAX_LINE:,} characters long; a tip is at most {MAX_TEXT:,}"
    if isinstance(exc, _RunsOn) or lines.spanned or "unexpected end of data" in str(exc):
        return NEVER_CLOSED
    if "expected after" in str(exc):
        return 'a quote is inside a value; put the whole value in quotes and double each quote inside it ("")'
    if "NUL" in str(exc):
        return "the line holds a NUL character; save the file as plain text"
    return f"can't be read as CSV ({exc})"


def _jsonl_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    saw_text = saw_row = False
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        saw_row = True
        if len(raw) > MAX_LINE:
            yield line, f"is {len(raw):,} characters long; a tip is at most {MAX_TEXT:,}"
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            yield line, "is not valid JSON"
            continue
        if not isinstance(row, dict):
            yield line, "is not a JSON object with a `text` key"
            continue
        saw_text = saw_text or "text" in row
        yield line, row
    if saw_row and not saw_text:
        raise FileRejected(
            "No line has a `text` key; each line should be like "
            '{"text": "Exit tickets every Friday", "tags": ["assessment"]}.'
        )
    if not saw_row:
        raise FileRejected("The file is empty; each line should be a JSON object with a `text` key.")


def row_values(team_id: str, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A file row as a tips row, checked with the same rules as a tip shared in Slack (raises TipRejected)."""
    text, author, url = (_string(row, name) for name in ("text", "author", "source_url"))
    raw_tags = row.get("tags") or ""
    if not (
        isinstance(raw_tags, str) or (isinstance(raw_tags, list) and all(isinstance(tag, str) for tag in raw_tags))
    ):
        raise TipRejected(f'tags: must be text, or a list of text like ["assessment"], not {_kind(raw_tags)}')
    tags = parse_tag_list(" ".join(raw_tags) if isinstance(raw_tags, list) else raw_tags)
    if url and not (url.startswith(("https://", "http://")) and len(url) <= 500 and not set(url) & set(" |<>")):
        raise TipRejected("source_url must be an http(s) link of at most 500 characters")
    tip = validated(
        NewTip(
            team_id,
            author.strip()[:120] or IMPORT_AUTHOR,
            "import",
            text,
            "import",
            tags,
            _string(row, "grade"),
            permalink=url or None,
            created_at=_timestamp(_string(row, "created_at")),
        )
    )
    values = record_values(tip, now)
    digest = hashlib.sha256(f"{tip.author}\n{values['text_hash']}".encode()).hexdigest()
    return values | {"source_ref": f"import:{digest}", "hidden": _flag(row.get("hidden"))}


def _flag(value: Any) -> bool:
    """`hidden` as exported (CSV "yes", JSON true), so a hidden tip stays hidden through a round trip."""
    if not isinstance(value, (bool, str, type(None))):
        raise TipRejected(f"hidden: must be true or false, not {_kind(value)}")
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS)


def _string(row: dict[str, Any], name: str) -> str:
    """A field that holds text; a number, list or object there is refused, not saved as its digits."""
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TipRejected(f'{name}: must be text in quotes, like "{name}": "...", not {_kind(value)}')
    text = value
    try:
        text.encode("utf-8")  # a lone surrogate (from a JSON \ud800 escape) can't be stored
    except UnicodeEncodeError:
        raise TipRejected(f"{name} has a broken \\u escape (half of a surrogate pair)") from None
    if "\x00" in text:  # PostgreSQL refuses NUL in text, failing the whole batch
        raise TipRejected(f"{name} has a NUL character; save the file as plain text")
    return text


def _kind(value: Any) -> str:
    """A JSON value as a person would call it."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true or false)"
    if isinstance(value, (int, float)):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "null"


def _timestamp(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        # Converted here, so a time with no UTC equivalent is this row's problem, not the whole batch's
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise TipRejected(
            f"created_at {value[:30]!r} is not an ISO 8601 date or time, e.g. 2026-09-01T15:30:00Z"
        ) from None


def import_tips(
    sessions: sessionmaker[Session],
    team_id: str,
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    now: datetime,
    *,
    batch: int = BATCH,
) -> ImportReport:
    """Add the rows' tips to a workspace, a batch per transaction; rows already there are counted, not added."""
    report = ImportReport()
    pending: list[dict[str, Any]] = []
    for line, row in rows:
        if isinstance(row, str):
            report.skipped.append(SkippedRow(line, row))
            continue
        try:
            pending.append(row_values(team_id, row, now))
        except TipRejected as refused:
            report.skipped.append(SkippedRow(line, str(refused)))
            continue
        if len(pending) >= batch:
            _insert_batch(sessions, team_id, pending, report)
            pending = []
    if pending:
        _insert_batch(sessions, team_id, pending, report)
    return report


def _insert_batch(
    sessions: sessionmaker[Session], team_id: str, rows: list[dict[str, Any]], report: ImportReport
) -> None:
    unique = list({row["source_ref"]: row for row in rows}.values())  # the same tip twice in a batch is one row
    report.existing += len(rows) - len(unique)
    with transaction(sessions) as session:
        ensure_workspace(session, team_id)  # only now: a file refused as a whole leaves no workspace behind
        if session.get_bind().dialect.name == "postgresql":
            added = _copy_new_rows(session, unique)
        else:
            table = TipRecord.__table__  # a Core insert: multi-row VALUES pages without ORM bookkeeping per row
            assert isinstance(table, Table)
            statement = (
                sqlite.insert(table)
                .on_conflict_do_nothing(index_elements=[table.c.team_id, table.c.source_ref])
                .returning(table.c.id)
            )
            added = len(session.execute(statement, unique).all())
        if added:
            remember_words(session, team_id, [f"{row['text']} {row['tags']}" for row in unique])
    report.added += added
    report.existing += len(unique) - added


def _copy_new_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """PostgreSQL: COPY the batch into a temporary table, then insert the rows not there yet. Twice as fast as
    a multi-row INSERT, whose statement psycopg parses anew for every page of a thousand rows."""
    columns = list(rows[0])
    names = ", ".join(columns)
    psycopg_connection = session.connection().connection.driver_connection
    assert psycopg_connection is not None  # checked out for this session
    with psycopg_connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS tips_import (LIKE tips INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY tips_import ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
        cursor.execute(
            f"INSERT INTO tips ({names}) SELECT {names} FROM tips_import "  # noqa: S608 - our columns
            "ON CONFLICT (team_id, source_ref) DO NOTHING"
        )
        added: int = cursor.rowcount
        return added


def export_rows(session: Session, team_id: str, *, author: str | None = None) -> Iterator[dict[str, Any]]:
    """Every saved tip of a workspace (or of one author), oldest first, as export rows."""
    query = select(TipRecord).where(TipRecord.team_id == team_id, TipRecord.pending.is_(False))
    if author is not None:
        query = query.where(TipRecord.author == author)
    for record in session.scalars(query.order_by(TipRecord.id).execution_options(yield_per=1000)):
        created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
        yield {
            "text": record.text,
            "author": record.author,
            "tags": record.tags.split(),
            "grade": record.grade,
            "created_at": created.isoformat(),
            "source_url": record.permalink or "",
            "id": record.id,
            "source": record.source,
            "helpful": record.helpful_count,
            "hidden": record.hidden,
        }


def write_rows(
    rows: Iterable[dict[str, Any]], out: TextIO, kind: Literal["csv", "jsonl"], on_row: Callable[[], None] | None = None
) -> int:
    """Write export rows as CSV (tags comma-separated) or JSON Lines; returns how many."""
    count = 0
    # RFC 4180's CRLF rows: the writer then quotes a cell holding a lone \r too, which "\n" rows left bare
    writer = csv.DictWriter(out, EXPORT_FIELDS, lineterminator="\r\n") if kind == "csv" else None
    if writer:
        writer.writeheader()
    for row in rows:
        if writer:
            cells = {**row, "tags": ",".join(row["tags"]), "hidden": "yes" if row["hidden"] else ""}
            writer.writerow({name: _to_cell(value) for name, value in cells.items()})
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
        if on_row:
            on_row()
    return count


def _to_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula (an apostrophe already there is doubled, to come back)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def _from_cell(value: str) -> str:
    """A CSV cell as `_to_cell` was given it."""
    return value[1:] if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START) else value


def export_author(session: Session, team_id: str, author: str) -> tuple[str, int]:
    """One person's tips as CSV text (for `/tips export-mine`), and how many there are."""
    out = io.StringIO()
    count = write_rows(export_rows(session, team_id, author=author), out, "csv")
    return out.getvalue(), count
