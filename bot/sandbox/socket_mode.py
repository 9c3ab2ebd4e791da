"""Slack's Socket Mode, locally, beside the Web API stand-in: `apps.connections.open` (with an app-level
`xapp-` token) answers a ws:// URL here; each connection is greeted with `hello`; `send` delivers an envelope
(slash command, event, interactivity) on the newest connection and records its ack; `refresh` sends Slack's
routine `disconnect` (refresh_requested) and closes the old socket once a new one is open, as Slack does;
`drop` closes every socket without a word, as a lost network would.

Slack waits 3 seconds for an ack: `acked` says whether an envelope's came within ACK_DEADLINE of its sending.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

ACK_DEADLINE = 3.0  # seconds Slack waits for an envelope's ack
OLD_SOCKET_LASTS = 10.0  # seconds Slack keeps a connection open after asking the client to refresh it


@dataclass
class Envelope:
    envelope_id: str
    kind: str
    sent_at: float
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None
    connection: int = 0  # which connection (1, 2, ...) it was sent on


@dataclass
class _Connection:
    number: int
    socket: ServerConnection
    open: bool = True
    envelopes: list[str] = field(default_factory=list)


class SocketModeStandIn:
    def __init__(self, host: str = "127.0.0.1"):
        self._lock = threading.Condition()
        self._connections: list[_Connection] = []
        self._envelopes: dict[str, Envelope] = {}
        self._ids = itertools.count(1)
        self._server = serve(self._serve, host, 0)
        self.url = f"ws://{host}:{self._server.socket.getsockname()[1]}/link/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="socket-mode", daemon=True)

    def __enter__(self) -> SocketModeStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.drop()
        self._server.shutdown()
        self._thread.join(5)

    # -- what Slack does ---------------------------------------------------------------------------

    def send(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False) -> str:
        """Deliver an envelope (`slash_commands`, `events_api`, `interactive`) on the newest open connection."""
        connection = self.wait_for_connections(1)
        envelope_id = f"env-{next(self._ids)}"
        message: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._lock:
            self._envelopes[envelope_id] = Envelope(envelope_id, kind, time.monotonic(), connection=connection.number)
            connection.envelopes.append(envelope_id)
        connection.socket.send(json.dumps(message))
        return envelope_id

    def refresh(self, old_lasts: float = OLD_SOCKET_LASTS) -> None:
        """Slack's routine `disconnect` (refresh_requested): Slack closes the old connection `old_lasts` seconds
        later, whatever the client does meanwhile; returns once the client has a new one open."""
        with self._lock:
            old = [c for c in self._connections if c.open]
            count = len(self._connections)
        for connection in old:
            connection.socket.send(
                json.dumps(
                    {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-sandbox"}}
                )
            )
            closer = threading.Timer(old_lasts, connection.socket.close)
            closer.daemon = True
            closer.start()
        self.wait_for_connections(count + 1, timeout=old_lasts + 10)

    def drop(self) -> None:
        """Every socket closed at once, without a `disconnect` first."""
        with self._lock:
            open_ones = [c for c in self._connections if c.open]
        for connection in open_ones:
            connection.socket.close()

    # -- what tests read ---------------------------------------------------------------------------

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> _Connection:
        """Until `count` connections were made in all (the newest one open); returns the newest."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._connections) >= count and self._connections[-1].open, timeout):
                raise TimeoutError(f"Socket Mode: {len(self._connections)} connection(s), waited for {count}")
            return self._connections[-1]

    def wait_for_ack(self, envelope_id: str, timeout: float = ACK_DEADLINE * 2) -> Envelope:
        with self._lock:
            self._lock.wait_for(lambda: self._envelopes[envelope_id].acked_at is not None, timeout)
            return self._envelopes[envelope_id]

    def acked(self, envelope_id: str) -> bool:
        """Whether the envelope's ack came within Slack's 3 seconds."""
        envelope = self.wait_for_ack(envelope_id)
        return envelope.acked_at is not None and envelope.acked_at - envelope.sent_at <= ACK_DEADLINE

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connections)

    # -- the server --------------------------------------------------------------------------------

    def _serve(self, socket: ServerConnection) -> None:
        with self._lock:
            connection = _Connection(len(self._connections) + 1, socket)
            self._connections.append(connection)
        socket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0PLCHAT"},
                    "debug_info": {"host": "applink-sandbox", "approximate_connection_time": 3600},
                }
            )
        )
        with self._lock:
            self._lock.notify_all()
        try:
            for raw in socket:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                connection.open = False
                self._lock.notify_all()

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._lock:
            envelope = self._envelopes.get(str(envelope_id))
            if envelope is not None and envelope.acked_at is None:
                envelope.acked_at, envelope.ack_payload = time.monotonic(), message.get("payload")
                self._lock.notify_all()
