"""`plchat digest send [--dry-run] [--team T]` and `plchat digest status`, against the Slack stand-in."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot import db
from bot.bootstrap import open_database, sync_playbook
from bot.cli import digest as digest_cli_module
from bot.config import Settings
from bot.db import transaction
from bot.delivery.drain import Progress
from bot.delivery.lease import Lease
from bot.digests import planner, subscriptions
from bot.models import DeliveryRecord, DigestSubscriptionRecord
from bot.sandbox.crash_run import POST, SkippedTime, posted, subscribe
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn
from bot.tips import store
from bot.tips.records import NewTip

runner = CliRunner()
TEAMS = ("T0ALPHA", "T0BETA")


def invoke(*args: str) -> Result:
    from bot.cli import cli

    return runner.invoke(cli, list(args))


@pytest.fixture
def time_skipped(monkeypatch: pytest.MonkeyPatch) -> SkippedTime:
    """`plchat digest send` on a clock whose waits pass at once, as they do for the Slack stand-in."""
    skipped = SkippedTime()
    monkeypatch.setattr("bot.cli.digest._now", skipped.now)
    monkeypatch.setattr("bot.cli.digest._sleep", skipped.sleep)
    return skipped


@pytest.fixture
def slack(time_skipped: SkippedTime) -> Iterator[SlackStandIn]:
    with SlackStandIn(clock=time_skipped.monotonic) as standin:
        yield standin


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn):
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    for name, value in (("DATABASE_URL", url), ("SLACK_BOT_TOKEN", SANDBOX_TOKEN), ("SLACK_API_URL", slack.api_url)):
        monkeypatch.setenv(name, value)
    db.upgrade(url)
    database = open_database(Settings(_env_file=None, database_url=url))
    sync_playbook(database)
    now = datetime.now(UTC)
    with transaction(database.sessions) as session:
        for team in TEAMS:
            store.save_tip(session, NewTip(team, "U0ANA", "U0ANA", f"Exit tickets in {team}", "command"), now)
            for user in ("U0ANA", "U0BEN"):
                subscriptions.subscribe(session, team, user, user, now, zone="America/Los_Angeles")
        session.execute(DigestSubscriptionRecord.__table__.update().values(next_send=now - timedelta(minutes=1)))
    return database


def digests_posted(slack: SlackStandIn) -> list[str]:
    return [call.args["channel"] for call in slack.calls_to("chat.postMessage") if call.status == 200]


def test_dry_run_shows_what_is_due_and_sends_nothing(database, slack):
    result = invoke("digest", "send", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "4 digest(s) due; nothing was sent" in result.stdout
    assert result.stdout.count("T0ALPHA") == 2 and "1 tips, 1 new" in result.stdout
    assert digests_posted(slack) == []
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryRecord)) == 0


def test_send_delivers_each_due_digest_once_and_status_counts_them(database, slack):
    first = invoke("digest", "send", "--team", "T0ALPHA")
    assert first.exit_code == 0, first.output
    assert "2 digest(s) were due: 2 sent" in first.stdout
    assert sorted(digests_posted(slack)) == ["U0ANA", "U0BEN"]

    again = invoke("digest", "send")
    assert again.exit_code == 0, again.output
    assert "2 digest(s) were due: 2 sent" in again.stdout, "only T0BETA's were still due"
    assert len(digests_posted(slack)) == 4

    status = invoke("digest", "status")
    assert status.exit_code == 0, status.output
    lines = {line.split()[0]: line.split()[1:] for line in status.stdout.splitlines()[1:]}
    # columns: active paused stopped sent pending sending stuck failed skipped
    assert lines["T0ALPHA"][:4] == ["2", "0", "0", "2"] and lines["T0BETA"][:4] == ["2", "0", "0", "2"]


def test_a_subscriber_who_left_is_stopped_with_the_reason(database, slack):
    slack.set_user("U0BEN", deleted=True)

    result = invoke("digest", "send", "--team", "T0ALPHA")

    assert result.exit_code == 0, "a stopped subscription is no failure: " + result.output
    assert "2 digest(s) were due: 1 sent, 1 stopped." in result.stdout
    assert "subscription ended): 1 account_inactive" in result.stdout
    status = invoke("digest", "status").stdout
    assert "T0ALPHA: 1 stopped: account_inactive" in status


def test_a_bad_team_is_refused(database):
    result = invoke("digest", "send", "--team", "not a team")

    assert result.exit_code == 2
    assert "isn't a Slack team id" in result.stderr


def test_status_shows_rows_a_live_sender_holds_apart_from_a_stopped_senders(database, slack):
    with transaction(database.sessions) as session:
        planner.plan(session, datetime.now(UTC), ahead=timedelta(0))
    live = Lease(database.engine, database.sessions, lambda: datetime.now(UTC))
    holder = live.hold()
    with transaction(database.sessions) as session:
        rows = list(
            session.scalars(
                select(DeliveryRecord).where(DeliveryRecord.team_id == "T0ALPHA").order_by(DeliveryRecord.id)
            )
        )
        rows[0].state, rows[0].claimed_by = "sending", holder  # being sent right now
        rows[1].state, rows[1].claimed_by = "sending", holder + 1000  # its sender was killed
    try:
        status = invoke("digest", "status")
    finally:
        live.release()

    assert status.exit_code == 0, status.output
    header, *lines = status.stdout.splitlines()
    columns = header.split()[1:]
    alpha = dict(zip(columns, next(line for line in lines if line.startswith("T0ALPHA")).split()[1:], strict=True))
    assert (alpha["pending"], alpha["sending"], alpha["stuck"]) == ("0", "1", "1")
    assert "the next `plchat digest send` or the worker takes them over at once" in status.stdout


def many_due(database, count: int) -> list[str]:
    """`count` more subscribers in T0ALPHA with a digest due now."""
    return subscribe(database.sessions, ("T0ALPHA",), count, datetime.now(UTC))


def test_send_waits_out_a_rate_limit_of_8_a_second_until_all_40_due_are_sent(database, slack, time_skipped):
    users = many_due(database, 36)  # and the fixture's 4
    slack.rate_limit(POST, 8, window=1)

    result = invoke("digest", "send")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "40 digest(s) were due: 40 sent."
    assert set(posted(slack, users).values()) == {1}, "each digest once"
    assert len(digests_posted(slack)) == 40
    assert any(call.status == 429 for call in slack.calls_to(POST)), "the limit was met"
    assert time_skipped.waits and max(time_skipped.waits) <= 1, "it waited out the 1 s limits, on the clock given"


def test_send_stops_waiting_at_max_wait_and_exits_1_saying_what_is_left_and_why(database, slack, time_skipped):
    many_due(database, 36)
    slack.rate_limit(POST, 8)  # 8 a minute: the rest waits up to a minute

    result = invoke("digest", "send", "--max-wait", "30")

    assert result.exit_code == 1, result.output
    assert "40 digest(s) were due: 8 sent, 32 still waiting." in result.stdout
    assert "Still waiting: 32 Slack rate limit; the soonest may go in" in result.stdout
    assert "or run this again (`--max-wait` to wait longer)" in result.stdout
    assert sum(time_skipped.waits) <= 30
    assert len(digests_posted(slack)) == 8

    rest = invoke("digest", "send")  # the default waits out a minute's limit

    assert rest.exit_code == 0, rest.output
    assert "32 digest(s) were due: 32 sent." in rest.stdout
    assert len(digests_posted(slack)) == 40


def test_a_digest_that_failed_is_named_and_exits_1(database, slack):
    slack.fail_channel("U0BEN", "msg_too_long")

    result = invoke("digest", "send", "--team", "T0BETA")

    assert result.exit_code == 1, result.output
    assert "2 digest(s) were due: 1 sent, 1 failed." in result.stdout
    assert "Failed: T0BETA U0BEN: msg_too_long" in result.stdout


def test_nothing_due_says_so_and_exits_0(database, slack):
    assert invoke("digest", "send").exit_code == 0

    again = invoke("digest", "send")

    assert again.exit_code == 0, again.output
    assert "No digest was due." in again.stdout


def test_the_progress_bar_shows_on_a_terminal_only():
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    with digest_cli_module._progress_bar(terminal) as show:
        show(Progress(8, 40))
        show(Progress(8, 40, "Slack rate limit: 1 s"))
    shown = terminal.file.getvalue()
    assert "Sending digests" in shown and "8/40" in shown and "waiting: Slack rate limit: 1 s" in shown

    piped = Console(file=io.StringIO(), force_terminal=False)
    with digest_cli_module._progress_bar(piped) as show:
        show(Progress(8, 40))
    assert piped.file.getvalue() == ""
