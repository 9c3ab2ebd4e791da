"""What the HTTP stand-ins (Slack, X, Bluesky, Mastodon) share: a threading HTTP server on a loopback port, served
from a daemon thread, whose handler passes every request to the stand-in's `_serve`; and the queue of faults
tests inject, which each stand-in answers in its own service's way."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import urlsplit

Call = TypeVar("Call")


class StandInHandler(BaseHTTPRequestHandler):
    """Passes POST and GET to the stand-in (a subclass may add methods: `do_DELETE = do_PUT = do_POST`)."""

    server: StandInServer

    def do_POST(self) -> None:
        self.server.standin._serve(self)

    do_GET = do_POST

    def send_answer(self, status: int, headers: dict[str, str], payload: bytes, content_type: str | None) -> None:
        """Send one whole answer (Content-Type only if given); a client that went away is logged, not raised."""
        standin = self.server.standin
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            standin._logger.debug("%s: client went away before the answer", standin._label)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        standin = self.server.standin
        standin._logger.debug("%s: %s %s -> %s", standin._label, self.command, urlsplit(self.path).path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # The arguments can echo the raw request line, which may carry a token in its query.
        standin = self.server.standin
        standin._logger.warning("%s: could not serve a request: %s", standin._label, format)


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the sender opens dozens of connections at once; the default backlog is 5
    block_on_close = False

    def __init__(self, address: tuple[str, int], standin: LocalStandIn, handler: type[StandInHandler]) -> None:
        super().__init__(address, handler)
        self.standin = standin


@dataclass
class Fault:
    """How the next `remaining` requests under a key misbehave: answer `status` (a 429 resetting in `reset_in`
    seconds), or the service's `error`, or answer only after `delay` seconds (`after`: the request is carried
    out first, as when a post went out but its answer never reached the sender)."""

    status: int | None
    delay: float
    remaining: int
    reset_in: float | None = None
    error: str | None = None
    after: bool = False


class LocalStandIn(Generic[Call]):
    """Start/stop, context manager, base_url and the calls it recorded, for a stand-in; subclasses implement
    `_serve(http)` (recording each call in `_calls` under `_changed`) and `_describe_call(call)`.

    `name` ("Slack", "X") names the log lines ("Slack stand-in: ...") and the serving thread ("slack-standin");
    `logger` is the stand-in module's, so its log lines keep their logger.
    """

    handler: type[StandInHandler] = StandInHandler

    def __init__(self, name: str, host: str, port: int, logger: logging.Logger) -> None:
        self._label = f"{name} stand-in"
        self._thread_name = f"{name.lower()}-standin"
        self._logger = logger
        self._address = (host, port)
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._changed = threading.Condition()  # guards the stand-in's state; notified when it changes
        self._calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._stopping.clear()
        self._server = StandInServer(self._address, self, self.handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how quickly stop() is noticed
            name=self._thread_name,
            daemon=True,
        )
        self._thread.start()
        self._logger.info("%s serving %s", self._label, self._announced_url())

    def stop(self) -> None:
        """Release held and delayed requests, then shut the server down."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        self._release()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:<port>" of the running server (for XStandIn, the X_API_URL to use)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address
        return f"http://{host}:{port}"

    # -- recorded calls --------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Snapshot of every recorded call, oldest first."""
        with self._changed:
            return list(self._calls)

    def clear(self) -> None:
        """Forget recorded calls (what the stand-in holds, and its faults, stay)."""
        with self._changed:
            self._calls.clear()

    # -- faults ----------------------------------------------------------------------------

    def _queue_fault(self, key: str, fault: Fault) -> None:
        """Queue `fault` for requests under `key` (each stand-in's `inject` says what its keys are)."""
        if fault.status is None and fault.error is None and fault.delay <= 0:
            raise ValueError("inject() needs a status, an error or a delay")
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        with self._changed:
            self._faults.setdefault(key, deque()).append(fault)

    def clear_faults(self) -> None:
        """Forget every fault still queued."""
        with self._changed:
            self._faults.clear()

    def _next_fault(self, *keys: str) -> Fault | None:
        """The next fault queued under the first of `keys` that has one, used once. Its delay is waited out here,
        unless it comes `after` the request (then the stand-in waits before answering)."""
        with self._changed:
            queue = next((self._faults[key] for key in keys if key and self._faults.get(key)), None)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            self._changed.notify_all()
        if fault.delay > 0 and not fault.after:
            self._stopping.wait(fault.delay)
        return fault

    def wait_faults_taken(self, key: str, timeout: float = 5.0) -> None:
        """Block until every fault queued under `key` has met its request (a delayed one is then waiting inside
        the server); TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: not self._faults.get(key), timeout):
                raise TimeoutError(f"{self._label}: faults under {key!r} still waiting after {timeout}s")

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        """Block until `predicate(calls)` holds and return the calls; TimeoutError otherwise."""
        with self._changed:
            if self._changed.wait_for(lambda: predicate(list(self._calls)), timeout):
                return list(self._calls)
            recorded = "\n".join(f"  {self._describe_call(c)}" for c in self._calls) or "  (none)"
        raise TimeoutError(f"{self._label}: condition not met within {timeout}s. Recorded calls:\n{recorded}")

    # -- for subclasses --------------------------------------------------------------------

    def _describe_call(self, call: Call) -> str:
        """One recorded call as a line of a timeout's report."""
        return repr(call)

    def _announced_url(self) -> str:
        """The URL start() logs."""
        return self.base_url

    def _release(self) -> None:
        """Let requests held inside the server go; stop() calls it once delays are cut short."""

    def _serve(self, http: StandInHandler) -> None:
        raise NotImplementedError
