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

from bot.cli.errors import DEBUG_HINT, explain
from bot.sandbox.slack_api import SlackStandIn

PLCHAT = Path(sys.executable).with_name("plchat")
SECRET = "s3cret-pw"


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SLACK_", "X_", "BLUESKY_", "MASTODON_", "PLCHAT_"))
           and name not in ("DATABASE_URL", "PORT", "WEB_CONCURRENCY")}
    return {**env, **settings}


def plchat(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLCHAT), *args], env=environment(**settings), cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)  # the tests read the exit code


def assert_plain(result: subprocess.CompletedProcess[str], code: int, *says: str) -> None:
    """Exit `code`, one or two lines on stderr saying each of `says`, no traceback, no secret."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert 1 <= len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert "Traceback" not in output and SECRET not in output, output
    for words in says:
        assert words in result.stderr, result.stderr


@pytest.mark.parametrize("command", [("db", "upgrade"), ("chats", "list")])
@pytest.mark.parametrize(("url", "says"), [
    (f"mysql://plchat:{SECRET}@db.example/plchat", ("DATABASE_URL", "mysql", "sqlite:///", "postgresql://")),
    (f"not a url {SECRET}", ("DATABASE_URL", "isn't a database URL", "sqlite:///")),
    ("sqlite:///{tmp}/no-such-folder/plchat.db", ("DATABASE_URL", "folder {tmp}/no-such-folder", "does not exist")),
])
def test_a_database_url_that_cannot_work_exits_2_naming_the_setting_and_the_fix(
        tmp_path: Path, command: tuple[str, ...], url: str, says: tuple[str, ...]) -> None:
    result = plchat(*command, cwd=tmp_path, DATABASE_URL=url.format(tmp=tmp_path))

    assert_plain(result, 2, *(words.format(tmp=tmp_path) for words in says))


@pytest.mark.parametrize("command", [("db", "upgrade"), ("chats", "list")])
def test_a_database_that_does_not_answer_exits_1_without_sending_you_in_circles(tmp_path: Path,
                                                                               command: tuple[str, ...]) -> None:
    url = f"postgresql://plchat:{SECRET}@127.0.0.1:{closed_port()}/plchat"

    result = plchat(*command, cwd=tmp_path, DATABASE_URL=url)

    assert_plain(result, 1, "DATABASE_URL", "Connection refused")
    assert "db upgrade" not in result.stderr, "running `plchat db upgrade` again would not help"


def test_a_setting_out_of_bounds_is_named_in_words(tmp_path: Path) -> None:
    result = plchat("chats", "list", cwd=tmp_path, PLCHAT_RETENTION_DAYS="5",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}")

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


@pytest.mark.parametrize("command", ["run", "web"])
def test_a_token_slack_refuses_stops_run_and_web_once_with_one_message(tmp_path: Path, command: str) -> None:
    with SlackStandIn() as slack:
        result = plchat(command, cwd=tmp_path, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=f"wrong-{SECRET}",
                        SLACK_APP_TOKEN="xapp-1-A0-1", SLACK_SIGNING_SECRET="signing", PORT=str(closed_port()),
                        DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}")
        checks = slack.calls_to("auth.test")

    assert_plain(result, 2, "SLACK_BOT_TOKEN", "invalid_auth", "OAuth & Permissions")
    assert len(checks) == 1, "asked once, before starting"
    assert "Booting worker" not in result.stderr and "gunicorn" not in result.stderr, "no worker ever started"


def test_no_network_stops_run_with_a_plain_message_and_exit_1(tmp_path: Path) -> None:
    result = plchat("run", cwd=tmp_path, SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/",
                    SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1-A0-1",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}")

    assert_plain(result, 1, "Can't reach Slack", "SLACK_API_URL", "network")


def test_web_with_a_good_token_serves_and_bolt_warns_of_no_unused_token(tmp_path: Path) -> None:
    port = closed_port()
    with SlackStandIn() as slack:
        env = environment(SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN="xoxb-good", SLACK_SIGNING_SECRET="signing",
                          PORT=str(port), WEB_CONCURRENCY="1", DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}")
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
    output = "".join(seen) + rest
    assert "will be unused" not in output and "`token`" not in output, output
    assert "Traceback" not in output


def test_a_worker_with_nothing_to_post_to_says_what_it_will_and_wont_do(tmp_path: Path) -> None:
    worker = subprocess.Popen([str(PLCHAT), "worker"], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                              env=environment(DATABASE_URL=f"sqlite:///{tmp_path / 'plchat.db'}"))
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
