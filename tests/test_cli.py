"""`plchat` through typer's CliRunner: exit codes and the messages that say what to fix.

typer 0.29 vendors click and its CliRunner keeps stdout and stderr apart: `result.stdout`,
`result.stderr`, and `result.output` for both interleaved.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect
from typer.testing import CliRunner, Result

from bot import db
from bot.cli import cli
from bot.play_files import PLAYS_DIR, load_play_dir
from bot.sandbox.payloads import SANDBOX_PEOPLE, escaped_text

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args))


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(autouse=True)
def user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user data folder (platformdirs reads XDG_DATA_HOME on Linux), where the sandbox keeps its database."""
    folder = tmp_path / "user-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture
def root_log_level() -> Iterator[None]:
    """`plchat sandbox` lowers logging to ERROR for the whole process; put it back for later tests."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


def test_plays_check_accepts_the_shipped_playbook() -> None:
    result = invoke("plays", "check")

    assert result.exit_code == 0, result.output
    assert "plays are valid" in result.stdout


def test_plays_check_names_the_bad_file_and_field(tmp_path: Path) -> None:
    plays = Path(shutil.copytree(PLAYS_DIR, tmp_path / "plays"))
    bad = plays / "reassessment-pass.md"
    bad.write_text(
        "".join(
            line
            for line in bad.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.startswith("summary:")
        ),
        encoding="utf-8",
    )

    result = invoke("plays", "check", "--dir", str(plays))

    assert result.exit_code == 2
    assert "reassessment-pass.md: summary:" in result.stderr
    assert "1 play file(s) need fixing" in result.stderr


def test_run_without_tokens_explains_how_to_get_them() -> None:
    result = invoke("run")

    assert result.exit_code == 2
    assert "plchat manifest" in result.stderr
    assert "plchat sandbox" in result.stderr


def test_web_without_signing_secret_is_refused() -> None:
    result = invoke("web")

    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr


def test_bad_timezone_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLCHAT_TIMEZONE", "Mars/Olympus_Mons")

    result = invoke("run")

    assert result.exit_code == 2
    assert "PLCHAT_TIMEZONE" in result.stderr
    assert "Mars/Olympus_Mons" in result.stderr


def test_db_upgrade_creates_the_tables(database_url: str) -> None:
    result = invoke("db", "upgrade")

    assert result.exit_code == 0, result.output
    engine = db.create_db_engine(database_url)
    try:
        assert "plays" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sync_then_search_finds_the_play(database_url: str) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    synced = invoke("plays", "sync")

    result = invoke("plays", "search", "station", "rotation")

    assert synced.exit_code == 0, synced.output
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("station-rotation-starter ")


@pytest.mark.parametrize("command", [("plays", "sync"), ("plays", "search", "rotation")])
def test_unmigrated_database_gets_a_message_not_a_traceback(database_url: str, command: tuple[str, ...]) -> None:
    result = invoke(*command)

    assert result.exit_code == 2, "a step of the setup is missing, and the message names it"
    assert "plchat db upgrade" in result.stderr
    assert "Traceback" not in result.output


def test_a_sandbox_moderator_makes_a_play_from_a_tip_with_the_forms(
    database_url: str, tmp_path: Path, root_log_level: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLCHAT_MODERATORS", "U0TEACHER")
    script = tmp_path / "script.txt"
    script.write_text(
        "\n".join(
            [
                "/tip Hang a sand timer at every station. Groups rotate when it runs out. #station-rotation",
                "/tips sand timer",
                "5",  # Make a play (after Share, Edit, Delete and Hide: no Helpful on one's own tip)
                "submit a sixth-grade class",  # not named: the console says how
                "submit looks=A sixth-grade class",  # no such field
                (
                    "submit looks_like=A sixth-grade class keeps moving while the teacher works with one group. "
                    "| watch_out=Timers that are too loud\\nSkipping the clean-up minute "
                    "| title=Sand timers run the rotation"
                ),
                "1",  # Publish
                "/play sand timers",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    result = invoke("sandbox", "--script", str(script))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Try this: Hang a sand timer at every station.\n    Groups rotate when it runs out." in out
    assert "Name each field" in out and "Fields: title, category, summary, steps, looks_like" in out
    assert "The form has no field looks." in out
    assert "Saved the draft" in out and "Published" in out
    card = out.split("> /play sand timers", 1)[1]
    assert "Sand timers run the rotation" in card and "from your community" in card
    assert "- Timers that are too loud\n- Skipping the clean-up minute" in card


def test_search_with_no_match_exits_1(database_url: str) -> None:
    invoke("db", "upgrade")
    invoke("plays", "sync")

    result = invoke("plays", "search", "zzyzxqv")

    assert result.exit_code == 1
    assert "No play matches" in result.stderr


def test_sandbox_script_runs_the_bot_end_to_end(database_url: str, tmp_path: Path, root_log_level: None) -> None:
    script = tmp_path / "script.txt"
    script.write_text("/play station rotation\n2\n/play list\n/plchat nonsense\nhome\n9\n", encoding="utf-8")

    result = invoke("sandbox", "--script", str(script))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Start a three-station rotation" in out
    assert "Shared by @teacher" in out
    assert re.search(r"The playbook: (\d+) plays", out).group(1) == str(len(load_play_dir()[0]))
    assert "I don't know" in out
    assert "App Home" in out
    assert "no button [9]" in out


def sandbox_script(tmp_path: Path, *lines: str) -> Result:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return invoke("sandbox", "--script", str(script))


@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs reads XDG_DATA_HOME only on Linux")
def test_the_sandbox_keeps_its_own_database_and_leaves_database_url_alone(
    database_url: str, tmp_path: Path, user_data: Path, root_log_level: None
) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    installed = Path(database_url.removeprefix("sqlite:///"))
    before = installed.read_bytes()

    result = sandbox_script(tmp_path, "/tip Exit tickets every Friday #assessment")

    assert result.exit_code == 0, result.output
    sandbox_db = user_data / "plchat-bot" / "sandbox.db"
    assert f"Sandbox data: {sandbox_db}" in result.stdout.splitlines()[0]
    assert "Saved your tip" in result.stdout
    assert installed.read_bytes() == before
    assert not list(installed.parent.glob("x.db-*")), "no journal either: nothing wrote to it"
    engine = db.create_db_engine(f"sqlite:///{sandbox_db}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT text FROM tips").scalars().all() == ["Exit tickets every Friday"]
    finally:
        engine.dispose()


def test_the_sandbox_uses_the_database_given_with_the_option(
    database_url: str, tmp_path: Path, root_log_level: None
) -> None:
    chosen = tmp_path / "mine.db"

    script = tmp_path / "script.txt"
    script.write_text("/tip Exit tickets every Friday #assessment\n", encoding="utf-8")
    result = invoke("sandbox", "--database", f"sqlite:///{chosen}", "--script", str(script))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Sandbox data: {chosen}\n")
    assert chosen.exists() and not Path(database_url.removeprefix("sqlite:///")).exists()


def test_sandbox_forms_list_their_options_and_refuse_one_they_do_not_offer(
    tmp_path: Path, root_log_level: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLCHAT_MODERATORS", "U0TEACHER")

    result = sandbox_script(
        tmp_path,
        "/plchat schedule",
        "submit post_to_x=threads | title=Rotation chat | hashtag=PLChat | starts=2031-01-14 17:00 | questions=5: Hi?",
        "submit post_to_x=bluesky, post_to_mastodon | repeat=Just once | title=Rotation chat | hashtag=PLChat | "
        "starts=2031-01-14 17:00 | questions=5: Hi?",
        "/tip",
        "submit Timers at every station | routines | grade 20",
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Repeat: Every week\n    one of: weekly (Every week), none (Just once)" in out
    assert (
        "Also post on: (none chosen)\n    any of, comma separated: post_to_x (X), post_to_bluesky (Bluesky), "
        "post_to_mastodon (Mastodon)"
    ) in out
    assert (
        "post_to_x has no option 'threads'. Choose any of, comma separated: post_to_x (X), post_to_bluesky "
        "(Bluesky), post_to_mastodon (Mastodon)."
    ) in out
    scheduled = out.split("post_to_mastodon | repeat=Just once", 1)[1]
    assert "Rotation chat" in scheduled and "Once · in #general · 1 question · on Bluesky, Mastodon" in scheduled
    assert "Grade band: (none chosen)\n    one of: " in out
    assert "grade has no option 'grade 20'. Choose one of: " in out


def test_sandbox_knows_its_people_by_name(tmp_path: Path, root_log_level: None) -> None:
    result = sandbox_script(
        tmp_path,
        "save Exit slips on sticky notes #assessment",
        "/tip Timers at every station",
        "/tips from:@Ana",
        "/tips #assessment from:@ana since:2026-09-01",
        "/tips from:@Bob",
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "(@Ana posted in #general: Exit slips on sticky notes #assessment)" in out
    for search in ("> /tips from:@Ana", "> /tips #assessment from:@ana since:2026-09-01"):
        found = out.split(search, 1)[1].split("\n> ", 1)[0]
        assert "Exit slips on sticky notes\n  by @Ana" in found and "Timers" not in found
    unknown = out.split("> /tips from:@Bob", 1)[1]
    assert "The sandbox knows @teacher and @Ana, not @Bob" in unknown
    assert "by @U0" not in out and "by @Ana" in out  # people by name, never by id


def test_mentions_are_sent_as_slack_sends_a_person_picked_from_the_menu() -> None:
    text, unknown = escaped_text(
        "from:@Ana @teacher, @here #general #assessment ana@school.org @Bob.", SANDBOX_PEOPLE, {"C0GENERAL": "general"}
    )

    assert text == (
        "from:<@U0ANA|ana> <@U0TEACHER|teacher>, <!here> <#C0GENERAL|general> #assessment ana@school.org @Bob."
    )
    assert unknown == ["Bob"]


@given(st.text(alphabet=st.characters(blacklist_characters="@#<>&")))
def test_text_without_a_mention_is_sent_as_typed(text: str) -> None:
    assert escaped_text(text, SANDBOX_PEOPLE, {"C0GENERAL": "general"}) == (text, [])


def test_the_sandbox_runs_the_readme_example_chat_from_any_folder(tmp_path: Path, root_log_level: None) -> None:
    """The README's `chat examples/plchat-chat.yml`, typed where there is no examples/ folder (a wheel install,
    or any folder but the clone's): the example shipped with the package runs."""
    assert not (Path.cwd() / "examples").exists()

    result = sandbox_script(tmp_path, "chat examples/plchat-chat.yml")

    assert result.exit_code == 0, result.output
    assert "Can't read" not in result.stdout
    assert "(running #PLChat “Feedback that moves learning”" in result.stdout
