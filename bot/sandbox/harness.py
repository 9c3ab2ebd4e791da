"""The bot wired to the Slack stand-in and driven with signed HTTP requests: for the console, tests and benches."""

from __future__ import annotations

import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.bootstrap import Database, build_app
from bot.config import Settings
from bot.sandbox import payloads
from bot.sandbox.render import Button
from bot.sandbox.slack_api import RecordedCall, SlackStandIn
from bot.slack.deferred import BoundedExecutor
from bot.slack.services import Services
from bot.web import WsgiApp, create_wsgi_app

SANDBOX_TOKEN = "xoxb-sandbox-token"


class TrackingExecutor(BoundedExecutor):
    """Runs Bolt's listeners, bounded as in production, and knows when all of them have finished, so callers
    never need to sleep."""

    def __init__(self, max_workers: int = 8, max_pending: int = 2000):
        super().__init__(max_workers=max_workers, max_pending=max_pending, thread_name_prefix="listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        with self._idle:
            self._pending += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future | None) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 15.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise TimeoutError(f"{self._pending} listener(s) still running after {timeout}s")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer:
    """A WSGI app on a loopback port, in a background thread."""

    def __init__(self, wsgi_app: WsgiApp, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-http", daemon=True)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class HttpResult:
    status: int
    body: bytes


@dataclass
class Exchange:
    """One thing a person did, what the bot answered over HTTP, and every call it then made to Slack."""

    status: int
    ack_body: bytes
    calls: list[RecordedCall]

    def hooks(self) -> list[RecordedCall]:
        return [c for c in self.calls if c.kind == "hook"]

    def api(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.kind == "api" and c.method == method]


class BotHarness:
    """The production Bolt app behind a local HTTP server, talking to a Slack stand-in."""

    def __init__(
        self,
        database: Database,
        *,
        services: Services | None = None,
        workspace: payloads.Workspace = payloads.Workspace(),
        standin: SlackStandIn | None = None,
        max_pending_replies: int = 2000,
        clock: Callable[[], datetime] | None = None,
    ):
        self.workspace = workspace
        self.standin = standin or SlackStandIn(team_id=workspace.team_id, wall_clock=clock)
        self.signing_secret = secrets.token_hex(16)
        self.database = database
        self._services = services
        self.executor = TrackingExecutor(max_pending=max_pending_replies)

    def start(self) -> BotHarness:
        self.standin.start()
        self.settings = Settings(
            _env_file=None,
            database_url=str(self.database.engine.url),
            slack_bot_token=SANDBOX_TOKEN,
            slack_signing_secret=self.signing_secret,
            slack_api_url=self.standin.api_url,
        )
        self.app = build_app(self.settings, self.database, self._services, listener_executor=self.executor)
        self.server = LocalServer(create_wsgi_app(self.app, self.database.engine)).start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.executor.shutdown(wait=True)
        self.standin.stop()

    def __enter__(self) -> BotHarness:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # Raw HTTP, for tests of signatures and routing.
    def http(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpResult:
        request = urllib.request.Request(self.server.url + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return HttpResult(response.status, response.read())
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, error.read())

    def send(
        self, body: bytes, content_type: str, *, secret: str | None = None, now: Callable[[], float] | None = None
    ) -> Exchange:
        """POST a signed request to /slack/events, wait for the listeners, and return what happened."""
        mark = len(self.standin.calls)
        signed = payloads.sign(body, secret or self.signing_secret, content_type, **({"now": now} if now else {}))
        result = self.http("POST", "/slack/events", signed.body, signed.headers)
        self.executor.wait_idle()
        return Exchange(result.status, result.body, self.standin.calls[mark:])

    # What a person does in Slack.
    def slash(self, command: str, text: str = "") -> Exchange:
        response_url = self.standin.new_response_url()
        return self.send(
            *payloads.slash_command(
                self.workspace, command, text, response_url, trigger_id=self.standin.new_trigger_id()
            )
        )

    def press(self, button: Button, *, view_id: str | None = None) -> Exchange:
        action = {
            "action_id": button.action_id,
            "block_id": button.block_id or "",
            "text": {"type": "plain_text", "text": button.label},
            "value": button.value,
        }
        response_url = None if view_id else self.standin.new_response_url()
        return self.send(
            *payloads.block_action(
                self.workspace,
                action,
                response_url=response_url,
                view_id=view_id,
                trigger_id=self.standin.new_trigger_id(),
            )
        )

    def open_home(self) -> Exchange:
        return self.event(payloads.app_home_opened(self.workspace))

    def event(self, event: dict[str, Any]) -> Exchange:
        return self.send(*payloads.event_callback(self.workspace, event))

    def message_shortcut(self, callback_id: str, message: dict[str, Any]) -> Exchange:
        response_url = self.standin.new_response_url()
        return self.send(
            *payloads.message_action(
                self.workspace, callback_id, message, response_url, trigger_id=self.standin.new_trigger_id()
            )
        )

    def global_shortcut(self, callback_id: str) -> Exchange:
        return self.send(
            *payloads.global_shortcut(self.workspace, callback_id, trigger_id=self.standin.new_trigger_id())
        )

    def react(self, reaction: str, message: dict[str, Any]) -> Exchange:
        return self.event(payloads.reaction_added(self.workspace, reaction, message))

    def act_in_view(self, view: dict[str, Any], values: dict[str, Any], action: dict[str, Any]) -> Exchange:
        return self.send(*payloads.view_action(self.workspace, view, values, action))

    def submit_view(self, view: dict[str, Any], values: dict[str, Any]) -> Exchange:
        return self.send(*payloads.view_submission(self.workspace, view, values))
