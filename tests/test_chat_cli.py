"""`plchat chats` through typer's CliRunner, on SQLite and PostgreSQL: exit codes, and messages naming what to fix.

The commands read the time from `bot.cli.chats._now`; tests pin it to FIXED_NOW (Tue 2026-11-24, 9 AM in Los
Angeles), so the example chat (Tuesdays at 17:00 from 2026-12-01) is always a week ahead.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from conftest import FIXED_NOW, new_team
from typer.testing import CliRunner, Result

from bot.bootstrap import Database
from bot.chats import answers, store
from bot.chats.answers import QuestionRef
from bot.chats.definition import parse_chat_file
from bot.cli import cli
from bot.db import transaction
from bot.tips.records import NewTip
from bot.tips.store import ensure_workspace, known_teams

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plchat-chat.yml"
NEXT_START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Tue 2026-12-01 17:00 in Los Angeles
runner = CliRunner()

BEFORE_PAST_CHAT = datetime(2026, 11, 1, tzinfo=UTC)  # PAST_CHAT scheduled before its first date
PAST_CHAT = """\
title: "Exit tickets that work"
hashtag: PLChat
starts: 2026-11-10 17:00
timezone: America/Los_Angeles
duration: 60
repeat: weekly
slack_channels: [C0PLCHAT]
questions:
  - at: 5
    text: "What goes on your exit ticket?"
  - at: 20
    text: "What do you do with them the next day?"
"""


@pytest.fixture(autouse=True)
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The CLI works on the module's database, at FIXED_NOW."""
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("bot.cli.chats._now", lambda: FIXED_NOW)
    return database


def known_team(database: Database) -> str:
    """A new workspace the bot knows (as if installed there)."""
    team = new_team()
    with transaction(database.sessions) as session:
        ensure_workspace(session, team)
    return team


@pytest.fixture
def team(cli_database: Database) -> str:
    """A workspace the bot has seen: a chat for any other is refused."""
    return known_team(cli_database)


def invoke(*args: str | Path) -> Result:
    return runner.invoke(cli, ["chats", *map(str, args)])


def schedule(file: Path, team: str) -> int:
    result = invoke("schedule", file, "--team", team)
    assert result.exit_code == 0, result.output
    found = re.search(r"Chat (\d+):", result.stdout)
    assert found, result.stdout
    return int(found.group(1))


def schedule_at(when: datetime, file: Path, team: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Schedule the chat as if at `when`; the commands after it run at FIXED_NOW again."""
    monkeypatch.setattr("bot.cli.chats._now", lambda: when)
    try:
        return schedule(file, team)
    finally:
        monkeypatch.setattr("bot.cli.chats._now", lambda: FIXED_NOW)


def listed(*args: str) -> list[dict]:
    result = invoke("list", "--json", *args)
    assert result.exit_code == 0, result.output
    chats = json.loads(result.stdout)
    assert isinstance(chats, list)
    return chats


def write(tmp_path: Path, text: str, name: str = "chat.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def example_with(**changes: str) -> str:
    """The example file with whole lines replaced: {"field": "field: new value"}."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for name, line in changes.items():
        [index] = [i for i, old in enumerate(lines) if old.startswith(f"{name}:")]
        lines[index] = line
    return "\n".join(lines) + "\n"


def line_of(text: str, prefix: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(prefix))


# -- the example file and scheduling -------------------------------------------------------------------------


def test_chats_example_prints_the_example_file_and_it_schedules(tmp_path: Path, team: str) -> None:
    result = invoke("example")

    assert result.exit_code == 0 and result.stdout == EXAMPLE.read_text(encoding="utf-8")
    assert schedule(write(tmp_path, result.stdout), team) > 0
    helped = " ".join(invoke("schedule", "--help").stdout.replace("│", " ").split())  # rich boxes and wraps help
    assert "plchat chats example" in helped and "examples/" not in helped


def test_the_example_file_says_how_to_save_and_schedule_it_from_any_folder() -> None:
    """A wheel install has no examples/ folder: the file says to save it with `plchat chats example` first."""
    header = EXAMPLE.read_text(encoding="utf-8").split("\n\n")[0]

    assert "plchat chats example > plchat-chat.yml" in header
    assert "plchat chats schedule plchat-chat.yml" in header and "examples/" not in header


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    """The README's chat file is the example, its settings unchanged and its questions the first ones."""
    readme = (EXAMPLE.parent.parent / "README.md").read_text(encoding="utf-8")
    found = re.search(r"is a complete example.*?```yaml\n(.*?)```", readme, re.DOTALL)
    assert found, "the README shows the example"
    shown, example = yaml.safe_load(found.group(1)), yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))

    assert {name: value for name, value in shown.items() if name != "questions"} == {
        name: value for name, value in example.items() if name != "questions"
    }
    assert shown["questions"] == example["questions"][: len(shown["questions"])]


def test_the_example_file_parses_as_the_contract_describes() -> None:
    spec = parse_chat_file(EXAMPLE.read_text(encoding="utf-8"), default_timezone="UTC")

    assert (spec.title, spec.hashtag, spec.timezone, spec.duration) == (
        "Feedback that moves learning",
        "PLChat",
        "America/Los_Angeles",
        60,
    )
    assert spec.repeat == "weekly" and spec.starts == datetime(2026, 12, 1, 17, 0) and spec.starts.weekday() == 1
    assert spec.until == date(2027, 6, 1) and spec.skip == (date(2026, 12, 22), date(2026, 12, 29))
    assert spec.slack_channels == ("C0PLCHAT",) and spec.post_to_x is True
    assert [r.total_seconds() for r in spec.reminders] == [24 * 3600, 3600]
    assert 5 <= len(spec.questions) <= 8 and all(q.at < 60 for q in spec.questions)
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("#") for line in lines) >= 5, "the example explains itself to moderators"
    assert any("plchat chats schedule" in line for line in lines if line.startswith("#"))
    assert max(len(line) for line in lines) <= 120


def test_schedule_the_example_prints_its_id_and_list_json_shows_it(cli_database: Database, team: str) -> None:
    result = invoke("schedule", EXAMPLE, "--team", team)

    assert result.exit_code == 0, result.output
    chat_id = int(re.search(r"Chat (\d+): #PLChat", result.stdout).group(1))
    assert "Tue 2026-12-01 17:00 America/Los_Angeles (weekly)" in result.stdout
    [chat] = [c for c in listed() if c["id"] == chat_id]
    assert chat["title"] == "Feedback that moves learning" and chat["team_id"] == team
    assert datetime.fromisoformat(chat["next_start"]) == NEXT_START
    assert listed("--team", team) == [chat]
    assert listed("--team", known_team(cli_database)) == []


def test_show_prints_a_chat_file_that_schedules_the_same_chat(tmp_path: Path, team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    shown = invoke("show", str(chat_id))

    assert shown.exit_code == 0, shown.output
    expected = parse_chat_file(EXAMPLE.read_text(encoding="utf-8"), default_timezone="UTC")
    assert parse_chat_file(shown.stdout, default_timezone="UTC") == expected


def test_list_without_chats_for_a_team_says_how_to_schedule_one(cli_database: Database) -> None:
    result = invoke("list", "--team", known_team(cli_database))

    assert result.exit_code == 0
    assert "plchat chats schedule FILE" in result.stdout


# -- bad files ---------------------------------------------------------------------------------------------


def test_an_unknown_timezone_is_named_with_its_line(tmp_path: Path, team: str) -> None:
    text = example_with(timezone="timezone: America/Los_Angles")
    before = listed("--team", team)

    result = invoke("schedule", write(tmp_path, text), "--team", team)

    assert result.exit_code == 2
    assert (
        f"line {line_of(text, 'timezone:')}: timezone: 'America/Los_Angles' is not a known time zone" in result.stderr
    )
    assert "did you mean America/Los_Angeles?" in result.stderr
    assert "Traceback" not in result.output and listed("--team", team) == before


def test_a_question_too_long_for_x_is_named_with_its_line(tmp_path: Path, team: str) -> None:
    long = "Why " + "really " * 40 + "?"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '"What makes feedback actually move learning forward, rather than just grade it?"', f'"{long}"'
    )
    assert long in text

    result = invoke("schedule", write(tmp_path, text), "--team", team)

    assert result.exit_code == 2
    line = line_of(text, f'text: "{long}"')
    assert re.search(rf"line {line}: questions\[2\]\.text: is \d+ characters over", result.stderr), result.stderr
    assert "the limit is 280" in result.stderr


def test_every_problem_of_a_file_is_listed_at_once(tmp_path: Path, team: str) -> None:
    text = example_with(duration="duration: 600", skip="skip: [2026-12-23]")

    result = invoke("schedule", write(tmp_path, text), "--team", team)

    assert result.exit_code == 2
    assert f"line {line_of(text, 'duration:')}: duration: is 600 minutes" in result.stderr
    assert f"line {line_of(text, 'skip:')}: skip[1]: 2026-12-23 is a Wednesday" in result.stderr


def test_a_missing_file_exits_2_with_a_message(tmp_path: Path, team: str) -> None:
    result = invoke("schedule", tmp_path / "nope.yml", "--team", team)

    assert result.exit_code == 2
    assert "nope.yml: can't read it" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text file"),
        (b"title: x\x00\x01\x02\n", "line 1: file: holds U+0000, which is not text"),
    ],
)
def test_a_binary_file_exits_2_with_a_message(tmp_path: Path, team: str, content: bytes, says: str) -> None:
    path = tmp_path / "picture.yml"
    path.write_bytes(content)

    result = invoke("schedule", path, "--team", team)

    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.output


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path, team: str) -> None:
    path = write(tmp_path, "# padding\n" * 7000)

    result = invoke("schedule", path, "--team", team)

    assert result.exit_code == 2 and "at most 64 KB" in result.stderr


# -- which workspace ---------------------------------------------------------------------------------------


def test_team_is_needed_when_the_database_has_two_workspaces(cli_database: Database) -> None:
    with transaction(cli_database.sessions) as session:
        ensure_workspace(session, new_team())
        ensure_workspace(session, new_team())
    with cli_database.sessions() as session:
        teams = known_teams(session)

    result = invoke("schedule", EXAMPLE)

    assert result.exit_code == 2
    assert f"The database has {len(teams)} workspaces" in result.stderr and "--team" in result.stderr


def test_a_malformed_team_is_refused(team: str) -> None:
    result = invoke("schedule", EXAMPLE, "--team", "general")

    assert result.exit_code == 2 and "isn't a Slack team id" in result.stderr


# -- skip, cancel, edit, unknown ids -----------------------------------------------------------------------


def test_skip_on_a_day_the_chat_does_not_run_exits_2_with_the_reason(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    result = invoke("skip", str(chat_id), "2026-12-09")

    assert result.exit_code == 2
    assert f"Chat {chat_id} does not run on Wed 2026-12-09 (it runs on Tuesdays)." in result.stderr
    assert "2026-12-09" not in invoke("show", str(chat_id)).stdout


def test_skip_on_a_wrong_day_of_a_chat_without_until_exits_2_with_the_reason(tmp_path: Path, team: str) -> None:
    chat_id = schedule(write(tmp_path, example_with(until="# runs on")), team)

    result = invoke("skip", str(chat_id), "2026-12-09")

    assert result.exit_code == 2
    assert f"Chat {chat_id} does not run on Wed 2026-12-09 (it runs on Tuesdays)." in result.stderr


def test_skip_a_date_it_runs_on_then_show_lists_it(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    result = invoke("skip", str(chat_id), "2026-12-01")

    assert result.exit_code == 0, result.output
    assert "Skipped Tue 2026-12-01." in result.stdout and "next Tue 2026-12-08 17:00" in result.stdout
    shown = invoke("show", str(chat_id))
    assert "skip: [2026-12-01, 2026-12-22, 2026-12-29]" in shown.stdout
    [chat] = listed("--team", team)
    assert datetime.fromisoformat(chat["next_start"]) == datetime(2026, 12, 9, 1, 0, tzinfo=UTC)


def test_skip_a_bad_date_exits_2(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    result = invoke("skip", str(chat_id), "2026-13-01")

    assert result.exit_code == 2 and "isn't a date" in result.stderr


@pytest.mark.parametrize("day", ["2026-12-22", "2026-12-15"])  # skipped in the file, or by the first skip
def test_skipping_a_date_again_says_it_is_already_skipped_and_exits_0(
    cli_database: Database, team: str, day: str
) -> None:
    chat_id = schedule(EXAMPLE, team)
    assert invoke("skip", str(chat_id), "2026-12-15").exit_code == 0

    result = invoke("skip", str(chat_id), day)

    assert result.exit_code == 0, result.output
    assert f"Chat {chat_id} already skips Tue {day}; nothing to do." in result.stdout
    with cli_database.sessions() as session:
        assert store.get_chat(session, chat_id, FIXED_NOW).spec.skip.count(date.fromisoformat(day)) == 1


def test_cancel_removes_the_chat_from_the_list(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)
    assert [c["id"] for c in listed("--team", team)] == [chat_id]

    result = invoke("cancel", str(chat_id))

    assert result.exit_code == 0, result.output
    assert "is cancelled" in result.stdout
    assert chat_id not in [c["id"] for c in listed()]
    assert invoke("skip", str(chat_id), "2026-12-08").exit_code == 2


@pytest.mark.parametrize("command", [("show",), ("cancel",), ("skip", "2026-12-08"), ("recap",)])
def test_an_unknown_id_is_bad_input_and_exits_2(command: tuple[str, ...]) -> None:
    result = invoke(command[0], "987654321", *command[1:])

    assert result.exit_code == 2
    assert "There is no chat 987654321." in result.stderr and "Traceback" not in result.output


def test_edit_changes_the_title(tmp_path: Path, team: str) -> None:
    chat_id = schedule(EXAMPLE, team)
    changed = write(tmp_path, example_with(title='title: "Feedback, round two"'))

    result = invoke("edit", str(chat_id), changed)

    assert result.exit_code == 0, result.output
    assert "Changed. Chat" in result.stdout and "Feedback, round two" in result.stdout
    assert 'title: "Feedback, round two"' in invoke("show", str(chat_id)).stdout
    assert [c["title"] for c in listed("--team", team)] == ["Feedback, round two"]


def test_edit_with_a_bad_file_changes_nothing(tmp_path: Path, team: str) -> None:
    chat_id = schedule(EXAMPLE, team)
    bad = write(tmp_path, example_with(title='title: "New"', duration="duration: ninety"))

    result = invoke("edit", str(chat_id), bad)

    assert result.exit_code == 2 and "duration: must be a whole number of minutes" in result.stderr
    assert [c["title"] for c in listed("--team", team)] == ["Feedback that moves learning"]


def test_edit_an_unknown_id_exits_2() -> None:
    result = invoke("edit", "987654321", EXAMPLE)

    assert result.exit_code == 2 and "There is no chat 987654321." in result.stderr


# -- recaps ------------------------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> & [click](https://evil.example) *loud*"


def seed_answers(database: Database, team: str, chat_id: int, day: date) -> None:
    """Two answers to Q1 and one to Q2 of the chat on `day`, as if left in the questions' threads."""
    with transaction(database.sessions) as session:
        for number, (user, text) in enumerate(
            [
                ("U0ANA", HOSTILE),
                ("U0BEN", "Sticky notes on the door"),
                ("U0ANA", "We read them together the next morning"),
            ]
        ):
            question = 1 if number < 2 else 2
            tip = NewTip(team, user, user, text, "chat", source_ref=f"C0PLCHAT:1700000000.00{number}")
            ref = QuestionRef(chat_id, team, day, question)
            assert answers.save_answer(session, ref, tip, user, FIXED_NOW).status == "created"


def test_recap_html_and_markdown_hold_the_answers_escaped(
    tmp_path: Path, cli_database: Database, team, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_id = schedule_at(BEFORE_PAST_CHAT, write(tmp_path, PAST_CHAT), team, monkeypatch)
    seed_answers(cli_database, team, chat_id, date(2026, 11, 17))  # the latest start before FIXED_NOW

    page = invoke("recap", str(chat_id), "--format", "html")
    markdown = invoke("recap", str(chat_id), "--format", "md")

    assert page.exit_code == 0 and markdown.exit_code == 0, page.output + markdown.output
    html = page.stdout
    assert html.startswith("<!doctype html>") and "Exit tickets that work" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; [click](https://evil.example) *loud*" in html
    assert "<script>" not in html and 'href="https://evil.example' not in html
    assert "Sticky notes on the door" in html and "2 participants" in html
    assert "Tuesday, November 17, 2026, 5:00 PM PST" in html
    md = markdown.stdout
    assert md.startswith("# Exit tickets that work")
    assert r"\<script>alert(1)\</script> & \[click\](https://evil.example) \*loud\*" in md
    assert not re.search(r"(?<!\\)<script>|(?<!\\)\]\(https://evil", md)
    assert "## Q2: What do you do with them the next day?" in md and "We read them together" in md


def test_recap_of_an_earlier_date_and_to_a_file(
    tmp_path: Path, cli_database: Database, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_id = schedule_at(BEFORE_PAST_CHAT, write(tmp_path, PAST_CHAT), team, monkeypatch)
    seed_answers(cli_database, team, chat_id, date(2026, 11, 10))
    output = tmp_path / "recap.md"

    latest = invoke("recap", str(chat_id))
    result = invoke("recap", str(chat_id), "--date", "2026-11-10", "--output", output)

    assert latest.exit_code == 0 and "Sticky notes" not in latest.stdout and "No answers yet" in latest.stdout
    assert result.exit_code == 0, result.output
    assert "Wrote the recap of Tue 2026-11-10" in result.stdout
    assert "Sticky notes on the door" in output.read_text(encoding="utf-8")


def test_recap_of_a_chat_that_has_not_run_yet_exits_2(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    result = invoke("recap", str(chat_id), "--format", "html")

    assert result.exit_code == 2 and not result.stdout
    assert f"Chat {chat_id} hasn't run yet; its first date is 2026-12-01." in result.stderr


@pytest.mark.parametrize(
    ("day", "says"),
    [
        (
            "2026-11-18",
            "didn't run on Wed 2026-11-18 (it runs on Tuesdays from 2026-11-10); it last ran on Tue 2026-11-17",
        ),
        ("2026-11-03", "didn't run on Tue 2026-11-03 (it runs on Tuesdays from 2026-11-10)"),
        ("2026-11-24", "2026-11-24 date hasn't started yet; it last ran on Tue 2026-11-17"),
        ("2026-12-01", "2026-12-01 date hasn't started yet"),
    ],
)
def test_recap_of_a_date_the_chat_never_ran_on_exits_2_saying_why(
    tmp_path: Path, team: str, day: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_id = schedule_at(BEFORE_PAST_CHAT, write(tmp_path, PAST_CHAT), team, monkeypatch)

    result = invoke("recap", str(chat_id), "--date", day)

    assert result.exit_code == 2 and not result.stdout, result.output
    assert f"Chat {chat_id}" in result.stderr and says in result.stderr
    assert "Traceback" not in result.output


def test_recap_of_a_skipped_date_says_it_was_skipped(
    tmp_path: Path, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_id = schedule_at(
        BEFORE_PAST_CHAT,
        write(tmp_path, PAST_CHAT.replace("repeat: weekly", "repeat: weekly\nskip: [2026-11-17]")),
        team,
        monkeypatch,
    )

    result = invoke("recap", str(chat_id), "--date", "2026-11-17")

    assert result.exit_code == 2
    assert "didn't run on Tue 2026-11-17 (that date was skipped); it last ran on Tue 2026-11-10" in result.stderr


def test_a_chat_scheduled_after_its_first_dates_has_not_run_on_them(tmp_path: Path, team: str) -> None:
    """PAST_CHAT's file starts on 2026-11-10, but it is scheduled now (Tue 2026-11-24, 9 AM in Los Angeles): its
    first date is today at 17:00, not yet begun, and the dates before were never run."""
    chat_id = schedule(write(tmp_path, PAST_CHAT), team)

    latest = invoke("recap", str(chat_id))
    earlier = invoke("recap", str(chat_id), "--date", "2026-11-17")

    for result in (latest, earlier):
        assert result.exit_code == 2 and not result.stdout, result.output
        assert f"Chat {chat_id} hasn't run yet; its first date is 2026-11-24." in result.stderr


def test_a_date_before_a_chat_was_scheduled_did_not_run_though_a_later_one_did(
    tmp_path: Path, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduled = datetime(2026, 11, 15, tzinfo=UTC)  # between the file's first date (11-10) and its second (11-17)
    chat_id = schedule_at(scheduled, write(tmp_path, PAST_CHAT), team, monkeypatch)

    result = invoke("recap", str(chat_id), "--date", "2026-11-10")

    assert result.exit_code == 2 and not result.stdout, result.output
    assert (
        f"Chat {chat_id} didn't run on Tue 2026-11-10: it was scheduled later, on Sat 2026-11-14; it last ran "
        "on Tue 2026-11-17"
    ) in result.stderr
    assert invoke("recap", str(chat_id), "--date", "2026-11-17").exit_code == 0


@pytest.mark.parametrize("command", [("schedule", EXAMPLE), ("list",)])
def test_a_workspace_the_bot_has_never_seen_exits_2_naming_those_it_knows(
    cli_database: Database, team: str, command: tuple
) -> None:
    result = invoke(*command, "--team", "T0NEVERSEEN")

    assert result.exit_code == 2 and not result.stdout
    assert "doesn't know workspace T0NEVERSEEN" in result.stderr and team in result.stderr
    with cli_database.sessions() as session:
        assert "T0NEVERSEEN" not in known_teams(session)


@pytest.mark.parametrize("team_option", [(), ("--team", "T0NEVERSEEN")])
def test_schedule_in_a_database_that_knows_no_workspace_says_to_install_the_app_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, team_option: tuple[str, ...]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")

    result = invoke("schedule", EXAMPLE, *team_option)

    assert result.exit_code == 2
    assert "Install the app in your workspace first (plchat run or plchat web" in result.stderr
    assert "say which with --team" not in result.stderr, "a --team it would refuse sends people in a circle"


def test_recap_with_a_bad_format_or_date_exits_2(team: str) -> None:
    chat_id = schedule(EXAMPLE, team)

    assert invoke("recap", str(chat_id), "--format", "pdf").exit_code == 2
    bad_date = invoke("recap", str(chat_id), "--date", "yesterday")
    assert bad_date.exit_code == 2 and "isn't a date" in bad_date.stderr


def test_store_agrees_with_what_the_cli_printed(cli_database: Database, team: str) -> None:
    chat_id = schedule(EXAMPLE, team)
    assert invoke("skip", str(chat_id), "2026-12-08").exit_code == 0

    with cli_database.sessions() as session:
        chat = store.get_chat(session, chat_id, FIXED_NOW, team)

    assert chat.team_id == team and not chat.cancelled and chat.next_start == NEXT_START
    assert date(2026, 12, 8) in chat.spec.skip
