"""A local stand-in for the Mastodon REST endpoints the bot uses, one instance with the bot's account on it.

It is a real HTTP server on 127.0.0.1 that Mastodon.py reaches unchanged (`api_base_url=standin.base_url`). It
answers like Mastodon: its own `max_characters` (500 unless told; 280 and 1,000 are instances seen in the wild),
422 on a longer status, `Idempotency-Key` honoured for an hour (a repeat gets the status already made), snowflake
ids so `min_id` may be a time, `min_id` giving the statuses just after it, 401 on a wrong token, and 429 with
`X-RateLimit-*` headers (the reset an ISO time, and the answer's `Date` on the stand-in's clock, as Mastodon.py
compares the two).

    GET  /api/v2/instance
    GET  /api/v1/accounts/verify_credentials
    POST /api/v1/statuses                     status, visibility, in_reply_to_id (+ Idempotency-Key)
    GET  /api/v1/accounts/:id/statuses        min_id, max_id, since_id, limit
    GET  /api/v1/timelines/tag/:hashtag       min_id, max_id, since_id, limit
    GET  /api/v1/statuses/:id/context
"""

from __future__ import annotations

import email.utils
import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.sandbox.local_server import Fault, LocalStandIn, StandInHandler

logger = logging.getLogger(__name__)

ANY = "*"
IDEMPOTENCY_KEPT = timedelta(hours=1)
_URL = re.compile(r"https?://\S+")
_ROUTES = (
    ("GET", re.compile(r"/api/v2/instance/?"), "/api/v2/instance"),
    ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), "/api/v1/accounts/verify_credentials"),
    ("POST", re.compile(r"/api/v1/statuses"), "/api/v1/statuses"),
    ("GET", re.compile(r"/api/v1/accounts/(?P<id>\d+)/statuses"), "/api/v1/accounts/:id/statuses"),
    ("GET", re.compile(r"/api/v1/timelines/tag/(?P<tag>[^/]+)"), "/api/v1/timelines/tag/:hashtag"),
    ("GET", re.compile(r"/api/v1/statuses/(?P<id>\d+)/context"), "/api/v1/statuses/:id/context"),
)


@dataclass(frozen=True)
class RecordedCall:
    method: str
    route: str
    query: dict[str, str]
    form: dict[str, str]
    idempotency_key: str | None
    status: int


@dataclass(frozen=True)
class StoredStatus:
    id: int
    account_id: str
    acct: str
    text: str
    created_at: datetime
    in_reply_to_id: int | None = None

    @property
    def tags(self) -> set[str]:
        return {tag.lower() for tag in re.findall(r"#(\w+)", self.text)}


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(StandInHandler):
    def date_time_string(self, timestamp: float | None = None) -> str:
        """The answer's Date, on the stand-in's clock (Mastodon.py measures the rate-limit reset against it)."""
        return email.utils.formatdate(self.server.standin._clock().timestamp(), usegmt=True)  # type: ignore[attr-defined]


class MastodonStandIn(LocalStandIn[RecordedCall]):
    """A local Mastodon instance for tests and the sandbox."""

    handler = _Handler

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = "sandbox-mastodon-token",
        max_characters: int = 500,
        username: str = "plchat",
        domain: str = "mastodon.example",
        clock: Callable[[], datetime] | None = None,
        scopes: tuple[str, ...] = ("read", "write"),
    ) -> None:
        """`scopes`: what the token was granted; without "read", every read answers 403 as Mastodon does."""
        self.token, self.max_characters, self.username, self.domain = token, max_characters, username, domain
        self.scopes = scopes
        self.account_id = "109000000000000001"
        self._clock = clock or (lambda: datetime.now(UTC))
        super().__init__("Mastodon", host, port, logger)
        self._statuses: dict[int, StoredStatus] = {}
        self._keys: dict[str, tuple[int, datetime]] = {}  # Idempotency-Key → (status id, when)
        self._accounts: dict[str, str] = {username: self.account_id}
        self._sequence = 0

    # -- what is on the instance -------------------------------------------------------------------

    def statuses_by_me(self) -> list[StoredStatus]:
        with self._changed:
            return sorted((s for s in self._statuses.values() if s.account_id == self.account_id), key=lambda s: s.id)

    def add_status(
        self, acct: str, text: str, created_at: datetime | None = None, *, in_reply_to_id: str | None = None
    ) -> str:
        """Someone's status (an answer; `acct` like "ana@mastodon.social"); its id."""
        with self._changed:
            account = self._accounts.setdefault(acct, str(110_000_000_000_000_000 + len(self._accounts)))
            status = self._store(
                account, acct, text, created_at or self._clock(), int(in_reply_to_id) if in_reply_to_id else None
            )
            self._changed.notify_all()
        return str(status.id)

    def forget_idempotency_keys(self) -> None:
        """As an hour later: a repeated Idempotency-Key makes a new status."""
        with self._changed:
            self._keys.clear()

    def inject(
        self,
        key: str,
        *,
        status: int | None = None,
        times: int = 1,
        reset_in: float = 60,
        delay: float = 0.0,
        after: bool = False,
        error: str | None = None,
    ) -> None:
        """Make the next `times` requests to `key` (a route such as "/api/v1/statuses", or ANY) misbehave: 429
        with X-RateLimit-* headers resetting `reset_in` seconds after the clock's now, another status with
        Mastodon's error body (`{"error": error}`), or an answer only after `delay` seconds (`after`: the request
        is carried out first, as when a post went out but its answer never reached the sender)."""
        if error is not None and status is None:
            raise ValueError("an error needs its status")
        self._queue_fault(key, Fault(status, delay, times, reset_in=reset_in, after=after, error=error))

    def calls_to(self, route: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.route == route]

    # -- serving ---------------------------------------------------------------------------------

    def _serve(self, http: StandInHandler) -> None:
        url = urlsplit(http.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = http.rfile.read(int(http.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        if "json" in (http.headers.get("Content-Type") or ""):
            try:
                form = {key: str(value) for key, value in (json.loads(raw) or {}).items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = dict(parse_qsl(raw, keep_blank_values=True))
        route, params = "", {}
        for method, pattern, name in _ROUTES:
            match = pattern.fullmatch(url.path)
            if match and method == http.command:
                route, params = name, match.groupdict()
                break
        key = http.headers.get("Idempotency-Key")
        answer, late = self._fault(route), None
        if not isinstance(answer, _Answer):
            late = answer
            if not route:
                answer = _Answer(404, {"error": "Record not found"})
            elif route != "/api/v2/instance" and http.headers.get("Authorization") != f"Bearer {self.token}":
                answer = _Answer(401, {"error": "The access token is invalid"})
            elif http.command == "GET" and route != "/api/v2/instance" and "read" not in self.scopes:
                answer = _Answer(403, {"error": "This action is outside the authorized scopes"})
            else:
                answer = self._answer(route, params, query, form, key)
        with self._changed:
            self._calls.append(RecordedCall(http.command, route, query, form, key, answer.status))
            self._changed.notify_all()
        if late is not None:
            self._stopping.wait(late.delay)
        http.send_answer(
            answer.status,
            {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", **answer.headers},
            json.dumps(answer.body).encode(),
            "application/json; charset=utf-8",
        )

    def _fault(self, route: str) -> _Answer | Fault | None:
        """A fault's answer; the fault itself when its answer comes late, after the request was carried out."""
        fault = self._next_fault(route, ANY)
        if fault is None or fault.after:
            return fault
        if fault.status is None:
            return None
        if fault.status == 429:
            reset = (self._clock() + timedelta(seconds=fault.reset_in or 0)).astimezone(UTC)
            return _Answer(
                429,
                {"error": "Too many requests"},
                {
                    "X-RateLimit-Limit": "300",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                },
            )
        return _Answer(fault.status, {"error": fault.error or f"HTTP {fault.status}"})

    def _answer(
        self, route: str, params: dict[str, str], query: dict[str, str], form: dict[str, str], key: str | None
    ) -> _Answer:
        now = self._clock()
        with self._changed:
            if route == "/api/v2/instance":
                return _Answer(
                    200,
                    {
                        "domain": self.domain,
                        "title": "Sandbox",
                        "version": "4.3.0",
                        "configuration": {
                            "statuses": {"max_characters": self.max_characters, "characters_reserved_per_url": 23}
                        },
                    },
                )
            if route == "/api/v1/accounts/verify_credentials":
                return _Answer(200, self._account(self.account_id, self.username))
            if route == "/api/v1/statuses":
                return self._post(form, key, now)
            if route == "/api/v1/accounts/:id/statuses":
                return _Answer(
                    200, self._page([s for s in self._statuses.values() if s.account_id == params["id"]], query)
                )
            if route == "/api/v1/timelines/tag/:hashtag":
                tag = unquote(params["tag"]).lower()
                return _Answer(200, self._page([s for s in self._statuses.values() if tag in s.tags], query))
            status = self._statuses.get(int(params["id"]))
            if status is None:
                return _Answer(404, {"error": "Record not found"})
            descendants = sorted(
                (s for s in self._statuses.values() if self._descends(s, status.id)), key=lambda s: s.id
            )
            return _Answer(200, {"ancestors": [], "descendants": [self._json(s) for s in descendants]})

    def _post(self, form: dict[str, str], key: str | None, now: datetime) -> _Answer:
        if key and key in self._keys and now - self._keys[key][1] < IDEMPOTENCY_KEPT:
            return _Answer(200, self._json(self._statuses[self._keys[key][0]]))
        text = form.get("status", "")
        if not text.strip():
            return _Answer(422, {"error": "Validation failed: Text can't be blank"})
        if len(_URL.sub("x" * 23, text)) > self.max_characters:
            return _Answer(422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"})
        reply = int(form["in_reply_to_id"]) if form.get("in_reply_to_id") else None
        status = self._store(self.account_id, self.username, text, now, reply)
        if key:
            self._keys[key] = (status.id, now)
        return _Answer(200, self._json(status))

    def _store(
        self, account_id: str, acct: str, text: str, created_at: datetime, in_reply_to_id: int | None
    ) -> StoredStatus:
        self._sequence += 1
        snowflake = (int(created_at.timestamp() * 1000) << 16) | (self._sequence & 0xFFFF)
        status = StoredStatus(snowflake, account_id, acct, text, created_at.astimezone(UTC), in_reply_to_id)
        self._statuses[snowflake] = status
        return status

    def _descends(self, status: StoredStatus, ancestor: int) -> bool:
        parent = status.in_reply_to_id
        while parent is not None:
            if parent == ancestor:
                return True
            parent = self._statuses[parent].in_reply_to_id if parent in self._statuses else None
        return False

    def _page(self, statuses: list[StoredStatus], query: dict[str, str]) -> list[dict[str, Any]]:
        """As Mastodon pages: newest first; `min_id` gives the `limit` statuses just after it."""
        limit = min(max(int(query.get("limit") or 20), 1), 40)
        chosen = sorted(statuses, key=lambda s: s.id)
        if query.get("max_id"):
            chosen = [s for s in chosen if s.id < int(query["max_id"])]
        if query.get("since_id"):
            chosen = [s for s in chosen if s.id > int(query["since_id"])][-limit:]
        if query.get("min_id"):
            chosen = [s for s in chosen if s.id > int(query["min_id"])][:limit]
        return [self._json(s) for s in reversed(chosen[-limit:])]

    def _account(self, account_id: str, acct: str) -> dict[str, Any]:
        username = acct.split("@", 1)[0]
        host = acct.split("@", 1)[1] if "@" in acct else self.domain
        return {
            "id": account_id,
            "username": username,
            "acct": acct,
            "display_name": username,
            "url": f"https://{host}/@{username}",
            "created_at": "2024-01-01T00:00:00.000Z",
        }

    def _json(self, status: StoredStatus) -> dict[str, Any]:
        paragraphs = "".join(
            f"<p>{html.escape(part).replace(chr(10), '<br />')}</p>" for part in status.text.split("\n\n")
        )
        account = self._account(status.account_id, status.acct)
        return {
            "id": str(status.id),
            "created_at": status.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "visibility": "public",
            "content": paragraphs,
            "account": account,
            "url": f"{account['url']}/{status.id}",
            "uri": f"{account['url']}/statuses/{status.id}",
            "tags": [{"name": tag} for tag in sorted(status.tags)],
            "mentions": [],
            "reblog": None,
        }
