"""`plchat run` over Socket Mode, end to end: the real command in its own process, against the Socket Mode
stand-in (apps.connections.open, hello, envelopes, acks, Slack's routine refresh and a dropped socket) and the
Web API stand-in. Every envelope is acked within Slack's 3 seconds, those sent right after a refresh too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.sandbox import payloads
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.socket_mode import SocketModeStandIn

pytestmark = pytest.mark.slow  # the bot in its own process over Socket Mode

WS = payloads.Workspace()
PLCHAT = Path(sys.executable).with_name("plchat")


def socket_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """What Socket Mode carries for a request the HTTP Events API would POST."""
    if content_type == "application/json":
        return json.loads(body)
    form = dict(parse_qsl(body.decode()))
    return json.loads(form["payload"]) if "payload" in form else form


class Running:
    def __init__(self, web: SlackStandIn, sockets: SocketModeStandIn):
        self.web, self.sockets = web, sockets

    def command(self, text: str) -> str:
        body, kind = payloads.slash_command(WS, "/play", text, self.web.new_response_url())
        return self.sockets.send("slash_commands", socket_payload(body, kind), accepts_response_payload=True)

    def event(self, event: dict[str, Any]) -> str:
        return self.sockets.send("events_api", socket_payload(*payloads.event_callback(WS, event)))

    def shortcut(self, message: dict[str, Any]) -> str:
        body, kind = payloads.message_action(WS, "save_tip", message, self.web.new_response_url())
        return self.sockets.send("interactive", socket_payload(body, kind))

    def replies(self, method: str, count: int) -> list[Any]:
        return self.web.wait_for(lambda calls: len([c for c in calls if c.method == method]) >= count, timeout=15) and [
            c for c in self.web.calls if c.method == method
        ]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    with SlackStandIn() as web, SocketModeStandIn() as sockets:
        web.socket_mode_url = sockets.url
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
            "SLACK_APP_TOKEN": "xapp-1-A0PLCHAT-sandbox",
            "SLACK_API_URL": web.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'plchat.db'}",
        }
        process = subprocess.Popen(
            [str(PLCHAT), "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            sockets.wait_for_connections(1, timeout=60)
            yield Running(web, sockets)
        finally:
            process.terminate()
            output = process.communicate(timeout=30)[0]
            assert "Traceback" not in output, output[-3000:]
            assert "will be unused" not in output, "Bolt took SLACK_BOT_TOKEN from the environment beside our client"


def test_commands_a_shortcut_a_reaction_and_app_home_are_acked_and_answered(running: Running) -> None:
    message = running.web.seed_message(WS.channel_id, "U0COLLEAGUE", "Exit tickets on sticky notes zqsocket")

    sent = [
        running.command("station rotation"),
        running.shortcut(message),
        running.event(payloads.reaction_added(WS, "bulb", message)),
        running.event(payloads.app_home_opened(WS)),
    ]

    assert [running.sockets.acked(envelope) for envelope in sent] == [True] * 4
    assert running.web.wait_for(lambda calls: sum(c.kind == "hook" for c in calls) >= 2, timeout=15)
    texts = [call.args.get("text", "") for call in running.web.calls if call.kind == "hook"]
    assert any("Start a three-station rotation" in text for text in texts), texts
    assert any("Saved your tip" in text or "already" in text for text in texts), texts
    [reacted] = running.replies("chat.postEphemeral", 1)
    assert reacted.args["user"] == WS.user_id
    assert running.replies("views.publish", 1)


def test_envelopes_right_after_a_refresh_or_a_dropped_socket_are_acked_in_time(running: Running) -> None:
    assert running.sockets.acked(running.command("feedback"))

    running.sockets.refresh()  # Slack's routine disconnect; it closes the old socket 10 s later
    after_refresh = [running.command(words) for words in ("station rotation", "flipped", "projects")]
    assert [running.sockets.acked(envelope) for envelope in after_refresh] == [True] * 3

    before = running.sockets.connections
    running.sockets.drop()
    running.sockets.wait_for_connections(before + 1, timeout=30)
    assert running.sockets.acked(running.command("competency"))
    assert running.web.wait_for(lambda calls: sum(c.kind == "hook" for c in calls) >= 5, timeout=20)


def test_the_workspace_is_known_from_the_moment_run_connects(running: Running, tmp_path: Path) -> None:
    """`plchat run` records the workspace its token's auth.test names before it connects: operator commands need
    no --team, and refuse one the bot doesn't know, before anyone in the workspace has used the bot."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'plchat.db'}"}

    exported = subprocess.run(
        [str(PLCHAT), "tips", "export"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    typo = subprocess.run(
        [str(PLCHAT), "tips", "export", "--team", "T0TYPO"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert exported.returncode == 0, exported.stderr
    assert typo.returncode == 2 and f"it knows {running.web.team_id}" in typo.stderr
