"""What an operator meets, through the real `plchat` in its own process: every failure is a line or two and an
exit code (2: a setting or input to fix, named with the fix; 1: work failed), with no traceback unless
`--debug` or PLCHAT_DEBUG=1; and the commands say only what they did (no Alembic or logging lines twice).
Slack is the local stand-in over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli.errors import DEBUG_HINT, explain
from bot.config import POSTGRES_DRIVER_MISSING
from bot.sandbox.slack_api import SlackStandIn

PLCHAT = Path(sys.executable).with_name("plchat")
SECRET = "s3cret-pw"


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**settings: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "X_", "BLUESKY_", "MASTODON_", "PLCHAT_"))
        and name not in ("DATABASE_URL", "PORT", "WEB_CONCURRENCY")
    }
    return {**env, **settings}


def plchat(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLCHAT), *args],
        env=environment(**settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # the tests read the exit code


def assert_plain(result: subprocess.CompletedProcess[str], code: int, *says: str) -> None:
    """Exit `code`, one or two lines on stderr saying each of `says`, no traceback, no secret."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert 1 <= len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert "Traceback" not in output and SECRET not in output, output
    for words in says:
        assert words in result.stderr, result.stderr


@pytest.mark.parametrize("command", [("db", "upgrade"), ("chats", "list")])
@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"mysql://plchat:{SECRET}@db.example/plchat", ("DATABASE_URL", "mysql", "sqlite:///", "postgresql://")),
        (f"not a url {SECRET}", ("DATABASE_URL", "isn't a database URL", "sqlite:///")),
        ("sqlite:///{tmp}/no-such-folder/plchat.db", ("DATABASE_URL", "folder {tmp}/no-such-folder", "does not exist")),
    ],
)
def test_a_database_url_that_cannot_work_exits_2_naming_the_setting_and_the_fix(
    tmp_path: Path, command: tuple[str, ...], url: str, says: tuple[str, ...]
) -> None:
    result = plchat(*command, cwd=tmp_path, DATABASE_URL=url.format(tmp=tmp_path))

    assert_plain(result, 2, *(words.format(tmp=tmp_path) for words in says))


@pytest.mark.parametrize("command", [("db", "upgrade"), ("chats", "list")])
def test_a_database_that_does_not_answer_exits_1_without_sending_you_in_circles(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    url = f"postgresql://plchat:{SECRET}@127.0.0.1:{closed_port()}/plchat"

    result = plchat(*command, cwd=tmp_path, DATABASE_URL=url)

    assert_plain(result, 1, "DATABASE_URL", "Connection refused")
    assert "db upgrade" not in result.stderr, "running `plchat db upgrade` again would not help"


def test_a_setting_out_of_bounds_is_named_in_words(tmp_path: Path) -> None:
    result = plchat(
        "chats", "list", cwd=tmp_path, PLCHAT_RETENTION_DAYS="5", DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}"
    )

    assert_plain(result, 2, "Bad setting PLCHAT_RETENTION_DAYS: it must be at least 30.")


def test_debug_and_plchat_debug_show_the_traceback_and_nothing_else_does(tmp_path: Path) -> None:
    unmigrated = {"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}

    plain = plchat("plays", "search", "feedback", cwd=tmp_path, **unmigrated)
    flag = plchat("--debug", "plays", "search", "feedback", cwd=tmp_path, **unmigrated)
    setting = plchat("plays", "search", "feedback", cwd=tmp_path, PLCHAT_DEBUG="1", **unmigrated)

    assert_plain(plain, 2, "plchat db upgrade")
    for debugged in (flag, setting):
        assert debugged.returncode != 0 and "Traceback" in debugged.stderr and "no such table" in debugged.stderr


def test_an_unexpected_error_is_one_line_pointing_at_debug() -> None:
    message, code = explain(RuntimeError("boom\nsecond line"), "worker")

    assert code == 1 and DEBUG_HINT in message and "RuntimeError" in message and "\n" not in message


@pytest.mark.parametrize("command", ["run", "web", "worker"])
def test_a_token_slack_refuses_stops_run_web_and_worker_once_with_one_message(tmp_path: Path, command: str) -> None:
    token = f"xoxb-{SECRET}"
    with SlackStandIn() as slack:
        slack.revoke(token)
        result = plchat(
            command,
            cwd=tmp_path,
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN=token,
            SLACK_APP_TOKEN="xapp-1-A0-1",
            SLACK_SIGNING_SECRET="signing",
            PORT=str(closed_port()),
            DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
        )
        checks = slack.calls_to("auth.test")

    assert_plain(result, 2, "SLACK_BOT_TOKEN", "token_revoked", "OAuth & Permissions")
    assert len(checks) == 1, "asked once, before starting"
    assert "Booting worker" not in result.stderr and "gunicorn" not in result.stderr, "no worker ever started"
    assert "scheduling" not in result.stderr, "the worker stopped before its scheduler started"


def test_an_app_token_slack_refuses_stops_run_naming_slack_app_token_and_the_fix(tmp_path: Path) -> None:
    app_token = f"xapp-1-A0-{SECRET}"
    with SlackStandIn() as slack:
        slack.revoke(app_token)
        result = plchat(
            "run",
            cwd=tmp_path,
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN="xoxb-good",
            SLACK_APP_TOKEN=app_token,
            DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
        )
        asked = slack.calls_to("apps.connections.open")

    assert_plain(result, 2, "SLACK_APP_TOKEN", "invalid_auth", "xapp-", "connections:write", "Basic Information")
    assert "SlackApiError" not in result.stderr and "ERROR" not in result.stderr
    assert len(asked) == 1


@pytest.mark.parametrize(
    ("bot_token", "app_token", "says"),
    [
        ("xapp-1-A0-1", "xoxb-1", ("SLACK_BOT_TOKEN and SLACK_APP_TOKEN are swapped",)),
        ("xapp-1-A0-1", "xapp-1-A0-2", ("SLACK_BOT_TOKEN holds an app-level token", "OAuth & Permissions")),
        ("xoxb-1", "xoxb-2", ("SLACK_APP_TOKEN holds a bot token", "connections:write", "Basic Information")),
        (f"xoxp-{SECRET}", "xapp-1-A0-1", ("SLACK_BOT_TOKEN isn't a bot token", "xoxb-")),
        ("xoxb-1", f"{SECRET}", ("SLACK_APP_TOKEN isn't an app-level token", "xapp-")),
    ],
)
def test_tokens_of_the_wrong_kind_are_named_before_asking_slack(
    tmp_path: Path, bot_token: str, app_token: str, says: tuple[str, ...]
) -> None:
    with SlackStandIn() as slack:
        result = plchat(
            "run",
            cwd=tmp_path,
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN=bot_token,
            SLACK_APP_TOKEN=app_token,
            DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
        )
        calls = list(slack.calls)

    assert_plain(result, 2, *says)
    assert calls == [], "nothing sent to Slack"


def test_no_network_stops_run_with_a_plain_message_and_exit_1(tmp_path: Path) -> None:
    result = plchat(
        "run",
        cwd=tmp_path,
        SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_APP_TOKEN="xapp-1-A0-1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
    )

    assert_plain(result, 1, "Can't reach Slack", "SLACK_API_URL", "network")


def test_web_with_a_good_token_serves_and_bolt_warns_of_no_unused_token(tmp_path: Path) -> None:
    port = closed_port()
    with SlackStandIn() as slack:
        env = environment(
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN="xoxb-good",
            SLACK_SIGNING_SECRET="signing",
            PORT=str(port),
            WEB_CONCURRENCY="1",
            DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
        )
        upgrade = subprocess.run([str(PLCHAT), "db", "upgrade"], env=env, cwd=tmp_path, timeout=120, check=False)
        assert upgrade.returncode == 0
        web = subprocess.Popen([str(PLCHAT), "web"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        try:
            seen = []
            for line in web.stderr:  # gunicorn listens before its worker boots; a request waits for the worker
                seen.append(line)
                if "Booting worker" in line:
                    break
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as health:
                assert health.status == 200
        finally:
            web.terminate()
            rest = web.communicate(timeout=30)[1]
        exported = subprocess.run(
            [str(PLCHAT), "tips", "export"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = "".join(seen) + rest
    assert "will be unused" not in output and "`token`" not in output, output
    assert "Traceback" not in output
    assert exported.returncode == 0, "the token's workspace was recorded at start: no --team needed"
    assert "0 tips exported" in exported.stderr, exported.stderr


def test_a_worker_with_nothing_to_post_to_says_what_it_will_and_wont_do(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [str(PLCHAT), "worker"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}"),
    )
    try:
        said = []
        for line in worker.stderr:
            if "This worker is scheduling" in line:
                break
            said.append(line)
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
    notice = "".join(said)
    assert "nowhere to post" in notice and "post nothing" in notice and "plan chats and digests" in notice
    for setting in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "X_API_KEY", "BLUESKY_HANDLE", "MASTODON_BASE_URL"):
        assert setting in notice


def test_one_shot_commands_print_their_result_once_and_no_log_lines(tmp_path: Path) -> None:
    url = {"DATABASE_URL": f"sqlite:///{tmp_path / 'plchat.db'}"}

    upgraded = plchat("db", "upgrade", cwd=tmp_path, **url)
    synced = plchat("plays", "sync", cwd=tmp_path, **url)
    listed = plchat("chats", "list", cwd=tmp_path, **url)

    for result in (upgraded, synced, listed):
        assert result.returncode == 0 and result.stderr == "", result.stderr  # no alembic INFO, no sync log line
    assert synced.stdout.count("added") == 1 and synced.stdout.endswith("removed.\n")


def test_a_single_token_workspace_is_known_once_the_worker_has_checked_the_token(tmp_path: Path) -> None:
    """The worker's token check (auth.test) names the token's workspace: it is recorded before the scheduler
    starts, so `--team` may name it and commands without --team use it."""
    url = {"DATABASE_URL": f"sqlite:///{tmp_path / 'plchat.db'}"}
    assert plchat("db", "upgrade", cwd=tmp_path, **url).returncode == 0
    with SlackStandIn() as slack:
        worker = subprocess.Popen(
            [str(PLCHAT), "worker"],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN="xoxb-good", **url),
        )
        try:
            for line in worker.stderr:
                if "This worker is scheduling" in line:
                    break
        finally:
            worker.kill()  # only its start matters here
            worker.communicate(timeout=30)

    listed = plchat("chats", "list", "--team", slack.team_id, cwd=tmp_path, **url)
    typo = plchat("chats", "list", "--team", "T0TYPO", cwd=tmp_path, **url)

    assert listed.returncode == 0, listed.stderr
    assert_plain(typo, 2, "doesn't know workspace T0TYPO", f"it knows {slack.team_id}")


@pytest.mark.parametrize("command", [("chats", "example"), ("plays", "search", "feedback")])
def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path, command: tuple[str, ...]) -> None:
    """`plchat … | head -1`: stdout's reader is gone before the command writes. The command ends as Unix tools
    do (the code a shell shows for SIGPIPE), with nothing on stderr."""
    url = {"DATABASE_URL": f"sqlite:///{tmp_path / 'plchat.db'}"}
    assert plchat("db", "upgrade", cwd=tmp_path, **url).returncode == 0
    assert plchat("plays", "sync", cwd=tmp_path, **url).returncode == 0
    reader, writer = os.pipe()
    os.close(reader)  # as `head -1` is once it has its line
    try:
        result = subprocess.run(
            [str(PLCHAT), *command],
            env=environment(**url),
            cwd=tmp_path,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)

    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


def test_db_upgrade_says_which_database_it_upgraded(tmp_path: Path, postgres_server_url: str) -> None:
    with_password = make_url(postgres_server_url).set(password=SECRET).render_as_string(hide_password=False)

    sqlite = plchat("db", "upgrade", cwd=tmp_path, DATABASE_URL="sqlite:///plchat.db")
    postgres = plchat("db", "upgrade", cwd=tmp_path, DATABASE_URL=with_password)

    assert sqlite.returncode == 0, sqlite.stderr
    assert sqlite.stdout == f"The database {(tmp_path / 'plchat.db').resolve()} is at the newest schema.\n"
    assert postgres.returncode == 0, postgres.stderr
    hidden = make_url(with_password).render_as_string(hide_password=True)
    assert postgres.stdout == f"The database {hidden} is at the newest schema.\n" and ":***@" in hidden
    assert SECRET not in postgres.stdout


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_db_upgrade_refuses_an_in_memory_database(tmp_path: Path, url: str) -> None:
    result = plchat("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)

    assert_plain(result, 2, "DATABASE_URL", "in-memory", "sqlite:///plchat.db")


@pytest.mark.parametrize(
    ("name", "value"), [("PORT", "abc"), ("PLCHAT_RETENTION_DAYS", "abc"), ("SLACK_HISTORY_PER_MINUTE", "1.5")]
)
def test_a_setting_that_is_not_a_number_is_named_in_words(tmp_path: Path, name: str, value: str) -> None:
    result = plchat("chats", "list", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}", **{name: value})

    assert_plain(result, 2, f"Bad setting {name}: it must be a whole number.")
    assert "Input should be" not in result.stderr and "parse" not in result.stderr


def test_a_variable_that_looks_like_a_setting_but_is_not_is_named_once_with_the_closest(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKNE=xoxb-1\n", encoding="utf-8")

    result = plchat(
        "chats",
        "list",
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}",
        PLCHAT_MODERATOR="U0ANA",
        PLCHAT_DEBUG="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "Warning: PLCHAT_MODERATOR isn't a setting, so it is ignored; did you mean PLCHAT_MODERATORS?",
        "Warning: SLACK_BOT_TOKNE isn't a setting, so it is ignored; did you mean SLACK_BOT_TOKEN?",
    ]


def test_the_postgres_driver_hint_gives_the_package_and_the_clone_forms() -> None:
    message, code = explain(ImportError("no pq wrapper available", name="psycopg"), "run")

    assert code == 2 and "pip install 'plchat-bot[postgres]'" in message and "pip install -e '.[postgres]'" in message
    assert "pip install -e '.[postgres]'" in POSTGRES_DRIVER_MISSING
