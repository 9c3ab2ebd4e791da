"""The playbook files: the shipped plays are valid, bad files are named precisely, and syncing is idempotent."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import BACKENDS, _reset_postgres, empty_database_url
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot import db
from bot.bootstrap import Database, PlaybookError, open_database, sync_playbook
from bot.config import Settings
from bot.models import PlayRecord
from bot.play_files import MAX_FILE_BYTES, PLAYS_DIR, PlayFile, PlayFileError, load_play_dir, parse_play_file
from bot.plays import CATEGORIES, get_play, search_plays

STARTER = PLAYS_DIR / "station-rotation-starter.md"
STARTER_TEXT = STARTER.read_text(encoding="utf-8")
STARTER_TITLE = "title: Start a three-station rotation"


def write_play(directory: Path, text: str | bytes, name: str = "station-rotation-starter") -> Path:
    path = directory / f"{name}.md"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def errors_for(directory: Path, text: str | bytes, name: str = "station-rotation-starter") -> list[PlayFileError]:
    result = parse_play_file(write_play(directory, text, name))
    assert isinstance(result, list), result
    return result


def error_for(directory: Path, text: str | bytes, name: str = "station-rotation-starter") -> PlayFileError:
    """The file's one problem."""
    [error] = errors_for(directory, text, name)
    return error


def without_line(text: str, prefix: str) -> str:
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith(prefix)]
    assert len(kept) == len(text.splitlines()) - 1, f"expected exactly one line starting {prefix!r}"
    return "".join(kept)


# -- the shipped playbook ------------------------------------------------------------------


def test_shipped_playbook_loads_without_errors() -> None:
    plays, errors = load_play_dir()

    assert errors == []
    assert len(plays) >= 24


def test_every_category_has_a_play() -> None:
    plays, _ = load_play_dir()

    assert set(CATEGORIES) - {p.front.category for p in plays} == set()


def test_shipped_slugs_are_unique() -> None:
    plays, _ = load_play_dir()
    slugs = [p.front.slug for p in plays]

    assert len(slugs) == len(set(slugs))


def test_a_copy_of_a_real_play_parses(tmp_path: Path) -> None:
    result = parse_play_file(write_play(tmp_path, STARTER_TEXT))

    assert isinstance(result, PlayFile)
    assert result.front.slug == "station-rotation-starter"


def test_a_play_saved_with_windows_line_endings_parses_with_its_grade_notes(tmp_path: Path) -> None:
    result = parse_play_file(write_play(tmp_path, STARTER_TEXT.replace("\n", "\r\n")))

    assert isinstance(result, PlayFile), result
    assert "Grade-band notes" in result.body


# -- one bad file, named precisely ---------------------------------------------------------


def test_missing_field_names_the_field_and_the_file(tmp_path: Path) -> None:
    error = error_for(tmp_path, without_line(STARTER_TEXT, "summary:"))

    assert error.field == "summary"
    assert "station-rotation-starter.md" in str(error)


def test_unknown_category_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, STARTER_TEXT.replace("category: blended-learning", "category: underwater-weaving"))

    assert error.field == "category"
    assert "blended-learning" in error.message  # lists the allowed categories


def test_slug_must_match_file_name(tmp_path: Path) -> None:
    error = error_for(tmp_path, STARTER_TEXT, name="some-other-name")

    assert error.field == "slug"
    assert "some-other-name" in error.message


def test_missing_watch_out_for_section_is_refused(tmp_path: Path) -> None:
    body_cut = STARTER_TEXT[: STARTER_TEXT.index("## Watch out for")]

    error = error_for(tmp_path, body_cut)

    assert error.field == "body"
    assert "## Watch out for" in error.message


def test_front_matter_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, STARTER_TEXT.replace("blended learning]", "blended learning"))

    assert error.field == "front matter"
    assert "YAML" in error.message


def test_file_without_front_matter_is_refused(tmp_path: Path) -> None:
    body_only = STARTER_TEXT[STARTER_TEXT.index("## Try this") :]

    assert error_for(tmp_path, body_only).field == "front matter"


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    latin1 = STARTER_TEXT.replace("Start a three", "Démarrer a three").encode("latin-1", errors="replace")

    error = error_for(tmp_path, latin1)

    assert error.field == "file"
    assert "UTF-8" in error.message


def test_file_over_64_kib_is_refused(tmp_path: Path) -> None:
    padded = STARTER_TEXT + "\n" + "x" * MAX_FILE_BYTES

    error = error_for(tmp_path, padded)

    assert error.field == "file"
    assert str(MAX_FILE_BYTES) in error.message


def test_title_with_html_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, STARTER_TEXT.replace(STARTER_TITLE, "title: Start <script>alert(1)</script>"))

    assert error.field == "title"


def test_empty_file_is_refused(tmp_path: Path) -> None:
    assert error_for(tmp_path, "").field == "front matter"


# -- every problem of a file, by field and line, in plain words ----------------------------

PYDANTIC_WORDING = ("should", "Value error", "Field required", "Extra inputs", "pattern")


def test_every_problem_of_a_file_is_listed_by_line_and_field_in_plain_words(tmp_path: Path) -> None:
    text = (
        STARTER_TEXT.replace(STARTER_TITLE, "title: Start <b>three</b> stations")
        .replace("summary:", "summry:")
        .replace("tags: [station rotation,", "tags: [station rotation, Bad!,")
        .replace("grades: [K-5, 6-8]", "grades: [K-5, 13]")
        .replace("## What it looks like", "## What you see")
    )

    errors = errors_for(tmp_path, text)

    said = [(error.line, error.field, error.message) for error in errors]
    assert said[:4] == [
        (3, "title", "must not contain <, > or & or a line break"),
        (5, "summry", "is not a field of a play; did you mean `summary`?"),
        (
            6,
            "tags[2]",
            "must be 2 to 30 lower-case letters, digits, spaces or hyphens, starting with a letter or digit",
        ),
        (7, "grades[2]", "13 isn't a grade band; use K-2, 3-5, K-5, 6-8, 9-12 or all"),
    ]
    body_line = STARTER_TEXT.splitlines().index("## What it looks like") + 1
    assert (body_line, "body") == (errors[4].line, errors[4].field) and "## What it looks like" in errors[4].message
    assert (errors[5].line, errors[5].field, errors[5].message) == (None, "summary", "is missing")
    assert len(errors) == 6
    assert str(errors[0]).endswith(
        "station-rotation-starter.md: line 3: title: must not contain <, > or & or a line break"
    )


def test_a_key_given_twice_is_named_with_both_lines(tmp_path: Path) -> None:
    text = STARTER_TEXT.replace("category: blended-learning\n", "category: blended-learning\ncategory: mindset\n")

    error = error_for(tmp_path, text)

    assert (error.line, error.field, error.message) == (5, "category", "appears twice (also on line 4); keep one")


def test_plays_check_lists_every_problem_in_every_file_in_plain_words(playbook: Path) -> None:
    from bot.cli import cli

    first, second = playbook / "reassessment-pass.md", playbook / "station-rotation-starter.md"
    first.write_text(
        re.sub(r"(?m)^title: .*$", "title: Pass <script>", first.read_text(encoding="utf-8")).replace(
            "## Watch out for", "## Beware"
        ),
        encoding="utf-8",
    )
    second.write_text(
        re.sub(r"(?m)^time: .*$", "time: 5", STARTER_TEXT).replace("category: blended-learning", "category: blended"),
        encoding="utf-8",
    )

    result = CliRunner().invoke(cli, ["plays", "check", "--dir", str(playbook)])

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{first}: line 3: title: must not contain <, > or & or a line break" in lines
    assert any(line.startswith(f"{first}: line ") and ": body: needs exactly these sections" in line for line in lines)
    assert f"{second}: line 8: time: must be text" in lines
    assert any(line.startswith(f"{second}: line 4: category: must be one of: ") for line in lines)
    assert lines[-1].startswith("2 play file(s) need fixing (4 problem(s)); ")
    assert not any(words in result.stderr for words in PYDANTIC_WORDING)


FIELD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=90),
    st.lists(st.one_of(st.text(max_size=35), st.integers()), max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(
        ["slug", "title", "category", "summary", "tags", "grades", "time", "source", "credits", "colour", 7]
    ),
    value=FIELD_VALUES,
)
def test_whatever_a_field_holds_its_problem_is_said_in_plain_words(tmp_path_factory, field: str | int, value) -> None:
    front, _, body = STARTER_TEXT.removeprefix("---\n").partition("\n---\n")
    data = yaml.safe_load(front) | {field: value}
    path = write_play(
        tmp_path_factory.mktemp("play"), "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\n" + body
    )

    result = parse_play_file(path)

    if isinstance(result, PlayFile):
        return
    assert result, "a file that is no play says why"
    for error in result:
        assert not any(words in error.message for words in PYDANTIC_WORDING), error
        assert error.field.split("[")[0] in (str(field), "front matter", "file"), error


# -- syncing into the database, both backends ----------------------------------------------


@pytest.fixture(params=BACKENDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database at head, just for this test."""
    url = empty_database_url(request.param, request, tmp_path)
    if request.param == "postgresql":
        _reset_postgres(url)
    db.upgrade(url)
    database = open_database(Settings(_env_file=None, database_url=url))
    yield database
    database.engine.dispose()


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    """A private copy of the real playbook that a test may edit."""
    return Path(shutil.copytree(PLAYS_DIR, tmp_path / "plays"))


def all_slugs(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.md"))


def snapshot(database: Database) -> list[tuple]:
    with database.sessions() as session:
        rows = session.execute(
            select(PlayRecord.slug, PlayRecord.title, PlayRecord.content_hash, PlayRecord.updated_at).order_by(
                PlayRecord.slug
            )
        )
        return [tuple(row) for row in rows]


def updated_at(database: Database, slug: str):
    with database.sessions() as session:
        return session.scalar(select(PlayRecord.updated_at).where(PlayRecord.slug == slug))


def test_first_sync_adds_every_play(fresh_database: Database, playbook: Path) -> None:
    report = sync_playbook(fresh_database, playbook)

    assert sorted(report.added) == all_slugs(playbook)
    assert report.updated == report.unchanged == report.removed == []


def test_second_sync_changes_nothing(fresh_database: Database, playbook: Path) -> None:
    sync_playbook(fresh_database, playbook)
    before = updated_at(fresh_database, "station-rotation-starter")

    report = sync_playbook(fresh_database, playbook)

    assert sorted(report.unchanged) == all_slugs(playbook)
    assert report.added == report.updated == report.removed == []
    assert updated_at(fresh_database, "station-rotation-starter") == before


def test_editing_a_title_updates_only_that_play(fresh_database: Database, playbook: Path) -> None:
    sync_playbook(fresh_database, playbook)
    path = playbook / "station-rotation-starter.md"
    path.write_text(STARTER_TEXT.replace(STARTER_TITLE, "title: Start a three-station carousel"), encoding="utf-8")

    report = sync_playbook(fresh_database, playbook)

    assert report.updated == ["station-rotation-starter"]
    assert report.added == report.removed == []
    with fresh_database.sessions() as session:
        assert [p.slug for p in search_plays(session, "carousel").plays] == ["station-rotation-starter"]


def test_deleting_a_file_removes_its_play(fresh_database: Database, playbook: Path) -> None:
    sync_playbook(fresh_database, playbook)
    (playbook / "station-rotation-starter.md").unlink()

    report = sync_playbook(fresh_database, playbook)

    assert report.removed == ["station-rotation-starter"]
    with fresh_database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlayRecord)) == len(all_slugs(playbook))
        assert get_play(session, "station-rotation-starter") is None
        assert "station-rotation-starter" not in [p.slug for p in search_plays(session, "station rotation").plays]


def test_one_bad_file_blocks_the_whole_sync(fresh_database: Database, playbook: Path) -> None:
    sync_playbook(fresh_database, playbook)
    before = snapshot(fresh_database)
    # Changes a sync would apply if it went ahead: one deletion, one edit, plus one invalid file.
    (playbook / "weekly-team-huddle.md").unlink()
    (playbook / "station-rotation-starter.md").write_text(
        STARTER_TEXT.replace(STARTER_TITLE, "title: Start a three-station carousel"), encoding="utf-8"
    )
    bad = playbook / "reassessment-pass.md"
    bad.write_text(without_line(bad.read_text(encoding="utf-8"), "summary:"), encoding="utf-8")

    with pytest.raises(PlaybookError) as raised:
        sync_playbook(fresh_database, playbook)

    assert [(e.path.name, e.field) for e in raised.value.errors] == [("reassessment-pass.md", "summary")]
    assert snapshot(fresh_database) == before
