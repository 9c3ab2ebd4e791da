"""The embedded default under real load (issue 20): `plchat web`, `plchat worker` and CLI commands, each its own
OS process, on one SQLite file through a chat on Slack, X, Bluesky and Mastodon (their stand-ins), answers
arriving on all four while tips are imported and chats listed. Not one "database is locked", not one traceback
in any process's output, and every answer saved.

Marked `processes`: it starts real processes and takes about a minute (`pytest -m "not processes"` leaves it
out). The chat runs on the real clock like the crash tests' (bot/sandbox/crash_run.py), compressed: it began at
the last whole minute (its welcome goes out when the worker starts), its questions come seconds apart, and it
ends at the next whole minute (starts are whole minutes, so the test lasts until then). Its one change to
`plchat worker` is the jobs' pace (plan every second, read answers every two, instead of every 30 and 60), so the
chat's minute sees many passes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import open_database
from bot.chats import planner, store
from bot.chats.spec import ChatSpec, Question
from bot.config import Settings
from bot.db import transaction
from bot.models import ChatAnswer, DeliveryRecord, TipRecord
from bot.sandbox import payloads
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.chat_run import SandboxX
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.x_api import XStandIn

pytestmark = [pytest.mark.processes, pytest.mark.slow]

PLCHAT = Path(sys.executable).with_name("plchat")
WS = payloads.Workspace()
CHANNEL = "C0PLCHAT"
SIGNING_SECRET = "processes-signing-secret"
AFTER_THE_END = 20.0  # seconds for the last answers and the wrap-up after the chat's end
WORKER = """
import sys
from datetime import timedelta

import bot.scheduler

bot.scheduler.PLAN_EVERY, bot.scheduler.COLLECT_EVERY = timedelta(seconds=1), timedelta(seconds=2)
from bot.cli import main

sys.argv = ["plchat", "worker"]
main()
"""
POSTS = ("welcome", "q1", "q2", "wrapup")
TIPS = (
    "Cold-call only after a full minute of think time",
    "Mini whiteboards make every answer visible",
    "Students write the exit ticket questions on Fridays",
)
NETWORKS = ("slack", "x", "bluesky", "mastodon")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition: Callable[[], bool], what: str, deadline: float) -> None:
    """Poll `condition` until it holds; fail naming `what` once `deadline` (time.monotonic()) has passed."""
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the deadline: {what}")
        time.sleep(0.2)


class Processes:
    """The bot's commands as OS processes, each writing its output to its own log file."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder, self.running = env, folder, []
        self.logs: list[Path] = []

    def start(self, name: str, *command: str) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with log.open("w") as out:
            process = subprocess.Popen(command, env=self.env, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT)
        self.running.append(process)
        return process

    def run(self, name: str, *arguments: str) -> int:
        """A CLI command to its end (it exits on its own)."""
        process = self.start(f"{name}-{len(self.logs)}", str(PLCHAT), *arguments)
        return process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> dict[str, str]:
        return {log.name: log.read_text(errors="replace") for log in self.logs}


@pytest.fixture
def standins() -> Iterator[tuple[SlackStandIn, XStandIn, BlueskyStandIn, MastodonStandIn]]:
    with (
        SlackStandIn(team_id=WS.team_id) as slack,
        XStandIn() as x,
        BlueskyStandIn() as bluesky,
        MastodonStandIn() as mastodon,
    ):
        yield slack, x, bluesky, mastodon


def schedule_chat(url: str) -> tuple[int, datetime]:
    """A chat that began at the last whole minute (starts are whole minutes), its questions a few seconds from now
    and its end at the next whole minute (the one after, when that is too close), planned at once, so its posts
    are rows before the worker starts. Returns its id and end."""
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0)
    first = now + timedelta(seconds=3) - start  # a question due before the worker is up goes out when it is
    duration = 1 if first + timedelta(seconds=6) < timedelta(minutes=1) else 2
    minute = timedelta(minutes=1)
    questions = (
        Question(first / minute, "How do your students give feedback?"),
        Question((first + timedelta(seconds=2)) / minute, "Which tool made it faster?"),
    )
    spec = ChatSpec(
        title="Feedback under load",
        hashtag="PLChat",
        starts=start.replace(tzinfo=None),
        timezone="UTC",
        duration=duration,
        repeat="none",
        until=None,
        skip=(),
        slack_channels=(CHANNEL,),
        post_to_x=True,
        reminders=(),
        questions=questions,
        post_to_bluesky=True,
        post_to_mastodon=True,
    )
    database = open_database(Settings(_env_file=None, database_url=url))
    try:
        with transaction(database.sessions) as session:
            chat = store.create_chat(session, WS.team_id, spec, "cli", now)
        with transaction(database.sessions) as session:
            planner.plan(session, now)
    finally:
        database.engine.dispose()
    return chat.id, start + timedelta(minutes=duration)


def post_to_web(port: int, body: bytes, content_type: str) -> int:
    signed = payloads.sign(body, SIGNING_SECRET, content_type)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events", data=signed.body, headers=signed.headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def test_web_worker_and_cli_share_one_sqlite_file_through_a_chat_on_four_networks(standins, tmp_path):
    slack, x, bluesky, mastodon = standins
    url = f"sqlite:///{tmp_path / 'plchat.db'}"
    port, keys = free_port(), SandboxX()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "X_API_KEY": keys.api_key,
        "X_API_SECRET": keys.api_secret,
        "X_ACCESS_TOKEN": keys.access_token,
        "X_ACCESS_TOKEN_SECRET": keys.access_token_secret,
        "X_API_URL": x.base_url,
        "BLUESKY_HANDLE": bluesky.handle,
        "BLUESKY_APP_PASSWORD": bluesky.password,
        "BLUESKY_SERVICE_URL": bluesky.base_url,
        "MASTODON_BASE_URL": mastodon.base_url,
        "MASTODON_ACCESS_TOKEN": mastodon.token,
        "PLCHAT_MODERATORS": "U0MOD",
    }
    tips_file = tmp_path / "tips.csv"
    tips_file.write_text("text,author\n" + "".join(f"Imported idea {n} for group work,U0IMPORT\n" for n in range(40)))
    processes = Processes(env, tmp_path)
    database, late, commands = None, None, []
    try:
        assert processes.run("upgrade", "db", "upgrade") == 0
        chat_id, end = schedule_chat(url)
        database = open_database(Settings(_env_file=None, database_url=url))
        processes.start("web", str(PLCHAT), "web")
        processes.start("worker", sys.executable, "-c", WORKER)
        deadline = time.monotonic() + (end - datetime.now(UTC)).total_seconds() + AFTER_THE_END

        def sent(post: str) -> dict[str, str]:
            with database.sessions() as session:
                return dict(
                    session.execute(
                        select(DeliveryRecord.target, DeliveryRecord.sent_ref).where(
                            DeliveryRecord.subject == store.subject(chat_id),
                            DeliveryRecord.state == "sent",
                            DeliveryRecord.key.contains(f":{post}:"),
                        )
                    ).all()
                )

        until(lambda: set(sent("q1")) == set(NETWORKS), "Q1 out on all four networks", deadline)
        q1 = sent("q1")
        # Answers arrive: a Slack thread reply (to `plchat web`), and on each network an A1 with the hashtag and,
        # on Bluesky and Mastodon, a reply to the Q1 post.
        reply = slack.seed_message(
            CHANNEL, "U0COLLEAGUE", "A1 Peer review with a two-star rubric", thread_ts=q1["slack"]
        )
        assert (
            post_to_web(
                port,
                *payloads.event_callback(
                    WS,
                    {
                        "type": "message",
                        "channel": CHANNEL,
                        "user": "U0COLLEAGUE",
                        "text": reply["text"],
                        "ts": reply["ts"],
                        "thread_ts": q1["slack"],
                        "channel_type": "channel",
                    },
                ),
            )
            == 200
        )
        x.add_post("msfrizzle", "A1 Exit tickets: one glow, one grow #PLChat")
        bluesky.add_post("ana.bsky.social", "A1 Two stars and a wish #PLChat")
        bluesky.add_post(
            "ben.bsky.social",
            "@plchat.bsky.social Gallery walks",
            reply_to=f"at://{bluesky.did}/app.bsky.feed.post/{q1['bluesky']}",
        )
        mastodon.add_status("cam@edutooters.net", "A1 Peer conferences on Fridays #PLChat")
        mastodon.add_status("dee@mastodon.social", "@plchat Rubrics the class wrote", in_reply_to_id=q1["mastodon"])
        # Meanwhile an operator imports tips and lists chats, and teachers save tips through the web process.
        commands = [
            processes.run("import", "tips", "import", str(tips_file), "--team", WS.team_id),
            processes.run("list", "chats", "list"),
        ]
        for text in TIPS:
            assert (
                post_to_web(
                    port,
                    *payloads.slash_command(
                        WS, "/tip", text, slack.new_response_url(), trigger_id=slack.new_trigger_id()
                    ),
                )
                == 200
            )
        commands.append(processes.run("import", "tips", "import", str(tips_file), "--team", WS.team_id))

        def answers() -> int:
            with database.sessions() as session:
                return (
                    session.scalar(select(func.count()).select_from(ChatAnswer).where(ChatAnswer.chat_id == chat_id))
                    or 0
                )

        until(lambda: answers() >= 6, "the six answers saved", deadline)
        until(lambda: set(sent("wrapup")) == set(NETWORKS), "the wrap-up out on all four networks", deadline)
        until(lambda: sum(call.kind == "hook" for call in slack.calls) >= len(TIPS), "the /tip replies", deadline)
    except AssertionError as exc:  # a deadline missed: the logs below say why first
        late = exc
    finally:
        processes.stop()
        if database is not None:
            database.engine.dispose()

    outputs = processes.output()
    for name, output in outputs.items():
        assert "database is locked" not in output, f"{name}:\n{output[-3000:]}"
        assert "Traceback" not in output, f"{name}:\n{output[-3000:]}"
    if late is not None:
        raise late
    assert commands == [0, 0, 0], outputs
    database = open_database(Settings(_env_file=None, database_url=url))
    try:
        with database.sessions() as session:
            via = sorted(
                session.scalars(
                    select(TipRecord.source)
                    .join(ChatAnswer, ChatAnswer.tip_id == TipRecord.id)
                    .where(ChatAnswer.chat_id == chat_id)
                )
            )
            imported = session.scalar(
                select(func.count()).select_from(TipRecord).where(TipRecord.text.like("Imported idea %"))
            )
            from_slack = session.scalar(select(func.count()).select_from(TipRecord).where(TipRecord.text.in_(TIPS)))
            posts = {
                (row.target, row.key.split(":")[3])
                for row in session.scalars(
                    select(DeliveryRecord).where(
                        DeliveryRecord.subject == store.subject(chat_id), DeliveryRecord.state == "sent"
                    )
                )
            }
    finally:
        database.engine.dispose()
    assert via == sorted(["chat", "x", "bluesky", "bluesky", "mastodon", "mastodon"]), "each answer once"
    assert imported == 40 and from_slack == len(TIPS)
    assert {(target, post) for target in NETWORKS for post in POSTS} <= posts
