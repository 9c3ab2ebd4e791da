"""`plchat tips import|export|search` through typer's CliRunner, on SQLite and PostgreSQL.

Each test gets an empty, migrated database: a fresh SQLite file, or the session's PostgreSQL database reset.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, empty_database_url
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from bot import db
from bot.bootstrap import open_database
from bot.cli import cli
from bot.config import Settings
from bot.slack.installs import remember_workspace
from bot.tips import transfer
from bot.tips.store import known_teams

runner = CliRunner()
TEAM_A, TEAM_B = "TALPHA1", "TBRAVO2"
HEADER = "text,author,tags,grade,created_at,source_url\n"
HOSTILE = ["<!channel> hi all", "*bold* and _italic_ `code`", "<https://evil.example|click> me", "a & b < c > d"]


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = empty_database_url(request.param, request, tmp_path)
    if request.param == "postgresql":
        engine = create_engine(db.normalize_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    db.upgrade(url)
    install(url, TEAM_A)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def install(url: str, team: str) -> None:
    """The app is installed in `team` (as `plchat run` records it): the bot knows the workspace."""
    database = open_database(Settings(_env_file=None, database_url=url))
    try:
        remember_workspace(database.sessions, team)
    finally:
        database.engine.dispose()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def jsonl(tmp_path: Path, name: str, *rows: Any) -> Path:
    return write(tmp_path, name, "".join(json.dumps(row) + "\n" for row in rows))


def stored(url: str, team: str) -> list[dict[str, Any]]:
    """The team's tips as export rows, oldest first, read straight from the database."""
    database = open_database(Settings(_env_file=None, database_url=url))
    try:
        with database.sessions() as session:
            return list(transfer.export_rows(session, team))
    finally:
        database.engine.dispose()


def teams(url: str) -> list[str]:
    database = open_database(Settings(_env_file=None, database_url=url))
    try:
        with database.sessions() as session:
            return known_teams(session)
    finally:
        database.engine.dispose()


def import_ok(path: Path, team: str = TEAM_A) -> Result:
    """Import into a workspace the bot knows."""
    result = invoke("tips", "import", str(path), "--team", team)
    assert result.exit_code == 0, result.output
    return result


# -- import --------------------------------------------------------------------------------------


def test_csv_import_adds_every_row(database_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tips.csv",
        HEADER
        + 'Exit tickets every Friday,Ana,"assessment, routines",6-8,2026-09-01T15:30:00Z,'
        + "https://example.org/a\n"
        + '"Station rotation:\nthree groups, ten minutes each",,stations,,,\n',
    )

    result = import_ok(path)

    assert result.stdout.strip() == "2 tips added, 0 already there, 0 rows skipped."
    first, second = stored(database_url, TEAM_A)
    assert (first["text"], first["author"], first["tags"], first["grade"], first["source_url"]) == (
        "Exit tickets every Friday",
        "Ana",
        ["assessment", "routines"],
        "6-8",
        "https://example.org/a",
    )
    assert first["created_at"] == "2026-09-01T15:30:00+00:00"
    assert (second["text"], second["author"], second["tags"]) == (
        "Station rotation:\nthree groups, ten minutes each",
        transfer.IMPORT_AUTHOR,
        ["stations"],
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_import_adds_every_row(database_url: str, tmp_path: Path, suffix: str) -> None:
    path = jsonl(
        tmp_path,
        f"tips{suffix}",
        {
            "text": "Exit tickets every Friday",
            "author": "Ana",
            "tags": ["assessment", "#Routines"],
            "grade": "9-12",
            "created_at": "2026-09-01",
        },
        {"text": "Gallery walk for peer feedback", "tags": "feedback;peer_review"},
    )

    result = import_ok(path)

    assert "2 tips added" in result.stdout
    assert [(t["text"], t["tags"], t["grade"]) for t in stored(database_url, TEAM_A)] == [
        ("Exit tickets every Friday", ["assessment", "routines"], "9-12"),
        ("Gallery walk for peer feedback", ["feedback", "peer-review"], ""),
    ]


def test_import_migrates_a_fresh_embedded_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    path = jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every Friday"})
    assert invoke("tips", "import", str(path)).exit_code == 2, "no workspace yet"
    install(url, TEAM_A)  # the tables are there: the import migrated the file

    import_ok(path)

    assert [t["text"] for t in stored(url, TEAM_A)] == ["Exit tickets every Friday"]


def test_importing_the_same_file_again_adds_nothing(database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "tips.csv", HEADER + "Exit tickets every Friday,Ana,,,,\nGallery walk on Fridays,Bo,,,,\n")
    import_ok(path)

    again = import_ok(path)

    assert again.stdout.strip() == "0 tips added, 2 already there, 0 rows skipped."
    assert len(stored(database_url, TEAM_A)) == 2


def test_bad_json_lines_are_named_and_the_good_ones_kept(database_url: str, tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "Exit tickets every Friday"}),  # 1, good
        json.dumps({"text": "   "}),  # 2
        json.dumps({"text": "x" * 3001}),  # 3
        json.dumps({"text": "Dated tip with a bad date", "created_at": "last Tuesday"}),  # 4
        json.dumps({"text": "Graded tip for college", "grade": "college"}),  # 5
        json.dumps(["not", "an", "object"]),  # 6
        '{"text": "unterminated',  # 7
        json.dumps({"text": "\x01\x02\x03\x04junk\x05\x06"}),  # 8
        json.dumps({"text": "Linked tip with a script", "source_url": "javascript:alert(1)"}),  # 9
        "",  # 10, blank lines are fine
        json.dumps({"text": "Null in the author name", "author": "a\u0000b"}),  # 11
        '{"text": "half a surrogate \\ud800 pair in an otherwise long enough text"}',  # 12
        json.dumps({"text": "Before year one in UTC", "created_at": "0001-01-01T00:00:00+05:00"}),  # 13
        json.dumps({"text": "Gallery walk for peer feedback", "author": "Bo"}),
    ]  # 14, good
    path = write(tmp_path, "tips.jsonl", "\n".join(lines) + "\n")

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 1, result.output
    named = [int(line.split(":")[0].removeprefix("line ")) for line in result.stderr.splitlines()]
    assert named == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
    assert "line 4: created_at 'last Tuesday'" in result.stderr
    assert "line 7: is not valid JSON" in result.stderr
    assert result.stdout.strip() == "2 tips added, 0 already there, 11 rows skipped."
    assert [t["text"] for t in stored(database_url, TEAM_A)] == [
        "Exit tickets every Friday",
        "Gallery walk for peer feedback",
    ]


def test_bad_csv_rows_are_named_by_their_line(database_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tips.csv",
        HEADER
        + '"Two-line\ntip for class",,,,,\n'  # lines 2-3
        + ",Ana,,,,\n"  # 4
        + "Graded for college only,,,college,,\n"  # 5
        + "Too,many,values,here,for,the,header\n"  # 6
        + "Kept for K-2 classes,,,K-2,,\n",
    )  # 7

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 1, result.output
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["line 4", "line 5", "line 6"]
    assert [t["text"] for t in stored(database_url, TEAM_A)] == ["Two-line\ntip for class", "Kept for K-2 classes"]


GOOD_ROWS = (
    "Exit tickets every Friday,Ana,assessment,6-8,2026-09-01,\nPeer review with a rubric,Cy,feedback,6-8,2026-09-03,\n"
)
LATER_ROWS = (
    '"Gallery walks, with sticky notes",Dee,feedback,K-2,2026-09-04,\nReading journals,Eve,writing,3-5,2026-09-05,\n'
)


@pytest.mark.parametrize(
    "later",
    [LATER_ROWS, LATER_ROWS.replace('"Gallery walks, with sticky notes"', "Gallery walks with notes")],
    ids=["a later quote", "no later quote"],
)
def test_an_unclosed_quote_is_named_on_its_line_and_the_rows_after_it_are_kept(
    database_url: str, tmp_path: Path, later: str
) -> None:
    path = write(
        tmp_path,
        "tips.csv",
        HEADER
        + GOOD_ROWS
        + '"Think-pair-share before every discussion,Ben,discussion,3-5,2026-09-02,\n'  # line 4
        + later,
    )

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        'line 4: a quote opened here is never closed; end the value with a quote (and double each quote inside it: "")'
    ]
    assert result.stdout.strip() == "4 tips added, 0 already there, 1 row skipped."
    assert [tip["text"] for tip in stored(database_url, TEAM_A)] == [
        "Exit tickets every Friday",
        "Peer review with a rubric",
        "Gallery walks, with sticky notes" if '"Gallery' in later else "Gallery walks with notes",
        "Reading journals",
    ]


def test_a_stray_quote_inside_a_value_is_named(database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "tips.csv", HEADER + '"Exit" tickets every Friday,Ana,,,,\n' + GOOD_ROWS)

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("line 2: a quote is inside a value; put the whole value in quotes")
    assert len(stored(database_url, TEAM_A)) == 2


def test_a_header_with_a_stray_quote_is_refused_saying_so(database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, "tips.csv", '"te"xt,author\n' + GOOD_ROWS)

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 2, result.output
    assert "The header row can't be read: a quote is inside a value" in result.stderr


VALUE = (
    st.lists(st.sampled_from([*'abc XYZ.;:!?-,"\né', "👩‍🏫"]), min_size=3, max_size=40)
    .map("".join)
    .filter(lambda value: value.strip() and not value.startswith((",", '"')))
)


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(VALUE, min_size=1, max_size=12),
    authors=st.lists(VALUE, min_size=12, max_size=12),
    broken_at=st.integers(min_value=0, max_value=12),
)
def test_one_unclosed_quote_loses_no_other_row(texts: list[str], authors: list[str], broken_at: int) -> None:
    """Whatever the good rows hold (commas, quotes, line breaks, written as a spreadsheet would), one row with a
    quote left open is named on its own line and every other row is read as written. (Values starting with a
    comma or a quote are left out: after the first column, the open quote can close there, at the comma or at the
    quotes a spreadsheet writes, and make a row that looks whole, which no CSV reader can tell from one that is.)"""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "author"])
    lines_before = []
    broken_at = min(broken_at, len(texts))
    for number, (text_, author) in enumerate(zip(texts, authors, strict=False)):
        if number == broken_at:
            lines_before.append(out.getvalue().count("\n") + 1)
            out.write('"Think-pair-share before every discussion,Ben\n')
        writer.writerow([text_, author])
    if broken_at == len(texts):
        lines_before.append(out.getvalue().count("\n") + 1)
        out.write('"Think-pair-share before every discussion,Ben\n')

    rows = list(transfer.read_rows(io.StringIO(out.getvalue(), newline=""), "csv"))

    assert [line for line, row in rows if isinstance(row, str)] == lines_before
    assert [row for _, row in rows if isinstance(row, str)] == [transfer.NEVER_CLOSED]
    assert [(row["text"], row["author"]) for _, row in rows if not isinstance(row, str)] == list(
        zip(texts, authors, strict=False)
    )


def test_json_fields_that_are_not_text_are_refused_by_line_and_field(database_url: str, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        "tips.jsonl",
        {"text": 5},  # 1
        {"text": "Exit tickets every Friday", "author": 7},  # 2
        {"text": "Peer review with a rubric", "tags": ["feedback", 3]},  # 3
        {"text": "Gallery walks", "grade": 8},  # 4
        {"text": "Reading journals", "created_at": 20260901},  # 5
        {"text": ["a", "list"]},  # 6
        {"text": "Station rotation", "hidden": 1},  # 7
        {"text": "Think-pair-share", "tags": ["discussion"], "hidden": False},
    )  # 8, good

    result = invoke("tips", "import", str(path), "--team", TEAM_A)

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        'line 1: text: must be text in quotes, like "text": "...", not the number 5',
        'line 2: author: must be text in quotes, like "author": "...", not the number 7',
        'line 3: tags: must be text, or a list of text like ["assessment"], not a list',
        'line 4: grade: must be text in quotes, like "grade": "...", not the number 8',
        'line 5: created_at: must be text in quotes, like "created_at": "...", not the number 20260901',
        'line 6: text: must be text in quotes, like "text": "...", not a list',
        "line 7: hidden: must be true or false, not the number 1",
    ]
    assert [tip["text"] for tip in stored(database_url, TEAM_A)] == ["Think-pair-share"]


def test_times_with_an_offset_are_kept_as_the_same_moment(database_url: str, tmp_path: Path) -> None:
    import_ok(
        jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every day", "created_at": "2026-09-01T10:00:00+02:00"})
    )

    assert stored(database_url, TEAM_A)[0]["created_at"] == "2026-09-01T08:00:00+00:00"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tips.csv", "body,author\nExit tickets,Ana\n"),
        ("tips.jsonl", '{"body": "Exit tickets"}\n{"note": 1}\n'),
    ],
)
def test_a_file_without_text_adds_nothing(database_url: str, tmp_path: Path, name: str, content: str) -> None:
    result = invoke("tips", "import", str(write(tmp_path, name, content)), "--team", TEAM_A)

    assert result.exit_code == 2, result.output
    assert "`text`" in result.stderr
    assert stored(database_url, TEAM_A) == []
    assert teams(database_url) == [TEAM_A], "a refused file adds no workspace"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tips.csv", b"", "empty"),
        ("tips.jsonl", b"\n  \n", "empty"),
        ("tips.csv", "text\nCaf\u00e9 au lait\n".encode("latin-1"), "isn't UTF-8"),
        ("tips.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\xf4", "isn't UTF-8"),
        ("tips.txt", b"text\nExit tickets\n", "unknown format '.txt'"),
        ("tips", b"text\nExit tickets\n", "no extension"),
    ],
)
def test_a_file_that_cant_be_read_is_refused(
    database_url: str, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    result = invoke("tips", "import", str(write(tmp_path, name, content)), "--team", TEAM_A)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert stored(database_url, TEAM_A) == []


@pytest.mark.parametrize(
    ("name", "says"),
    [("missing.csv", "{path}: not found."), ("t1", "{path}: not found."), ("folder.csv", "{path} is a folder")],
)
def test_a_missing_file_or_a_folder_is_named(database_url: str, tmp_path: Path, name: str, says: str) -> None:
    (tmp_path / "folder.csv").mkdir()

    result = invoke("tips", "import", str(tmp_path / name), "--team", TEAM_A)

    assert result.exit_code == 2, result.output
    assert says.format(path=tmp_path / name) in result.stderr and "format" not in result.stderr
    assert "Traceback" not in result.output


def test_hostile_text_is_stored_as_given(database_url: str, tmp_path: Path) -> None:
    path = jsonl(tmp_path, "tips.jsonl", *({"text": hostile, "author": "<@U0BOSS>"} for hostile in HOSTILE))

    import_ok(path)

    tips = stored(database_url, TEAM_A)
    assert [t["text"] for t in tips] == HOSTILE
    assert {t["author"] for t in tips} == {"<@U0BOSS>"}


# -- which workspace -----------------------------------------------------------------------------


def test_the_only_workspace_needs_no_team(database_url: str, tmp_path: Path) -> None:
    import_ok(jsonl(tmp_path, "first.jsonl", {"text": "Exit tickets every Friday"}))

    result = invoke("tips", "import", str(jsonl(tmp_path, "second.jsonl", {"text": "Gallery walk on Fridays"})))

    assert result.exit_code == 0, result.output
    assert [t["text"] for t in stored(database_url, TEAM_A)] == ["Exit tickets every Friday", "Gallery walk on Fridays"]
    assert invoke("tips", "export").stdout.count("\n") == 3  # header and two tips


@pytest.mark.parametrize("command", [("import", "tips.jsonl"), ("export",), ("search", "exit")])
def test_two_workspaces_need_a_team(database_url: str, tmp_path: Path, command: tuple[str, ...]) -> None:
    path = jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every Friday"})
    install(database_url, TEAM_B)
    import_ok(path, TEAM_A)
    import_ok(path, TEAM_B)

    result = invoke("tips", *command)

    assert result.exit_code == 2, result.output
    assert f"2 workspaces ({TEAM_A}, {TEAM_B})" in result.stderr
    assert "--team" in result.stderr


@pytest.mark.parametrize("team", [(), ("--team", TEAM_A)])
def test_importing_before_the_app_is_installed_says_to_install_it_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, team: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    result = invoke("tips", "import", str(jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every day"})), *team)

    assert result.exit_code == 2, result.output
    assert "Install the app in your workspace first" in result.stderr and "say which" not in result.stderr
    assert teams(url) == []


@pytest.mark.parametrize("command", [("import", "{tips}"), ("export",), ("search", "exit")])
def test_a_team_the_bot_does_not_know_is_refused_naming_those_it_knows(
    database_url: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    tips = jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every Friday"})
    import_ok(tips)

    result = invoke("tips", *(part.format(tips=tips) for part in command), "--team", "T0TYPO")

    assert result.exit_code == 2, result.output
    assert f"doesn't know workspace T0TYPO; it knows {TEAM_A}" in result.stderr
    assert teams(database_url) == [TEAM_A], "a typo starts no workspace"
    assert invoke("tips", "export").exit_code == 0, "so commands without --team still work"


@pytest.mark.parametrize("team", ["acme", "t0abc", "U0123ABCD", "T0", "T" + "A" * 32, "T0ABC\n"])
def test_a_team_that_isnt_a_slack_id_is_refused(database_url: str, tmp_path: Path, team: str) -> None:
    path = jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every day"})
    result = invoke("tips", "import", str(path), "--team", team)

    assert result.exit_code == 2, result.output
    assert "isn't a Slack team id" in result.stderr
    assert teams(database_url) == [TEAM_A]


# -- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_export_then_import_elsewhere_gives_the_same_tips(database_url: str, tmp_path: Path, kind: str) -> None:
    import_ok(
        jsonl(
            tmp_path,
            "tips.jsonl",
            {
                "text": 'Exit tickets,\n"every" Friday',
                "author": "Ana",
                "tags": ["assessment", "routines"],
                "grade": "3-5",
                "created_at": "2025-01-02T03:04:05Z",
                "source_url": "https://example.org/x",
            },
            *({"text": hostile, "author": "Bo"} for hostile in HOSTILE),
        )
    )

    exported = invoke("tips", "export", "--team", TEAM_A, "--format", kind)
    install(database_url, TEAM_B)
    result = import_ok(write(tmp_path, f"exported.{kind}", exported.stdout), TEAM_B)

    assert exported.exit_code == 0, exported.output
    assert "5 tips added" in result.stdout
    fields = ("text", "author", "tags", "grade", "created_at", "source_url")
    copied = [{name: tip[name] for name in fields} for tip in stored(database_url, TEAM_B)]
    assert copied == [{name: tip[name] for name in fields} for tip in stored(database_url, TEAM_A)]
    assert [tip["text"] for tip in copied][1:] == HOSTILE


FORMULAS = [
    '=HYPERLINK("https://evil.example","x")',
    "+1+1 more apples",
    "-2 apples a day",
    "@SUM(A1) of marks",
    "'=already quoted",
]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_round_trip_keeps_formula_looking_text_and_a_hidden_tip_hidden(
    database_url: str, tmp_path: Path, kind: str
) -> None:
    import_ok(
        jsonl(
            tmp_path,
            "tips.jsonl",
            *({"text": text, "author": text} for text in FORMULAS),
            {"text": "Kept from view", "hidden": True},
        )
    )
    exported = invoke("tips", "export", "--team", TEAM_A, "--format", kind)
    assert exported.exit_code == 0, exported.output
    if kind == "csv":
        cells = [cell for row in csv.reader(io.StringIO(exported.stdout)) for cell in row]
        assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], (
            "no cell a spreadsheet would run"
        )

    install(database_url, TEAM_B)
    import_ok(write(tmp_path, f"exported.{kind}", exported.stdout), TEAM_B)

    copied = stored(database_url, TEAM_B)
    assert [tip["text"] for tip in copied] == [*FORMULAS, "Kept from view"]
    assert [tip["author"] for tip in copied][: len(FORMULAS)] == FORMULAS
    assert [tip["hidden"] for tip in copied] == [False] * len(FORMULAS) + [True]


def test_export_to_a_file_reports_the_count(database_url: str, tmp_path: Path) -> None:
    import_ok(jsonl(tmp_path, "tips.jsonl", {"text": "Exit tickets every Friday"}, {"text": "Gallery walk on Fridays"}))
    output = tmp_path / "out.jsonl"

    result = invoke("tips", "export", "--team", TEAM_A, "--format", "jsonl", "--output", str(output))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"2 tips exported to {output}." in result.stderr
    assert [json.loads(line)["text"] for line in output.read_text(encoding="utf-8").splitlines()] == [
        "Exit tickets every Friday",
        "Gallery walk on Fridays",
    ]


def test_export_into_a_missing_folder_is_refused(database_url: str, tmp_path: Path) -> None:
    result = invoke("tips", "export", "--team", TEAM_A, "--output", str(tmp_path / "nowhere" / "out.csv"))

    assert result.exit_code == 2, result.output
    assert "Can't write" in result.stderr


def test_an_unknown_export_format_is_refused() -> None:
    result = invoke("tips", "export", "--team", TEAM_A, "--format", "xml")

    assert result.exit_code == 2
    assert "--format" in result.stderr


# -- search --------------------------------------------------------------------------------------


def test_search_finds_a_tip_of_its_own_workspace_only(database_url: str, tmp_path: Path) -> None:
    import_ok(
        jsonl(tmp_path, "a.jsonl", {"text": "Exit tickets every Friday", "author": "Ana", "tags": ["assessment"]}),
        TEAM_A,
    )
    install(database_url, TEAM_B)
    import_ok(jsonl(tmp_path, "b.jsonl", {"text": "Gallery walk for peer feedback", "author": "Bo"}), TEAM_B)

    found = invoke("tips", "search", "exit", "tickets", "--team", TEAM_A)
    elsewhere = invoke("tips", "search", "exit", "tickets", "--team", TEAM_B)

    assert found.exit_code == 0, found.output
    (line,) = found.stdout.splitlines()
    tip_id = stored(database_url, TEAM_A)[0]["id"]
    assert line.split()[0] == str(tip_id)
    for part in ("Exit tickets every Friday", "Ana", "#assessment", "0 helpful votes"):
        assert part in line
    assert elsewhere.exit_code == 1
    assert "No tip matches" in elsewhere.stderr
    assert "Exit tickets" not in elsewhere.stdout


def test_search_shows_one_line_with_no_control_characters(database_url: str, tmp_path: Path) -> None:
    long_text = "Exit tickets \x1b[2J every Friday,\nthen sort them into three piles " + "and so on " * 20
    import_ok(jsonl(tmp_path, "tips.jsonl", {"text": long_text}))

    result = invoke("tips", "search", "exit", "tickets")

    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert "\x1b" not in line
    assert "Exit tickets [2J every Friday, then sort" in line
    assert "…" in line


def test_search_with_a_bad_filter_says_what_to_fix() -> None:
    result = invoke("tips", "search", "exit", "since:yesterday", "--team", TEAM_A)

    assert result.exit_code == 2
    assert "since:" in result.stderr
    assert "2026-09-01" in result.stderr
