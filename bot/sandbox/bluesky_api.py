"""A local stand-in for the Bluesky (atproto XRPC) endpoints the bot uses, a PDS with its AppView's reads.

It is a real HTTP server on 127.0.0.1: atproto's unchanged `Client(base_url=standin.base_url)` reaches it, and
the DID document it returns at login names it as the account's PDS (so the SDK stays here). It answers like
Bluesky: JWT sessions that expire on its clock (`400 ExpiredToken`, which the SDK does not retry), refresh tokens
used once, `401 AuthenticationRequired` on a wrong password, logins limited (30 per 5 minutes per account) with
`429` and `RateLimit-*` headers, record keys checked as TIDs and a repeated one answered `500` (as today's
reference PDS does), posts over 300 graphemes refused, search by words (`q`) with `since`/`until` and a cursor.

    POST /xrpc/com.atproto.server.createSession   {identifier, password}
    POST /xrpc/com.atproto.server.refreshSession  (the refresh token as Bearer)
    POST /xrpc/com.atproto.repo.createRecord      {repo, collection, record, rkey}
    GET  /xrpc/com.atproto.repo.getRecord         repo, collection, rkey
    GET  /xrpc/app.bsky.feed.searchPosts          q, since, until, sort, limit, cursor
    GET  /xrpc/app.bsky.feed.getPostThread        uri, depth
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import regex

from bot.sandbox.local_server import Fault, LocalStandIn, StandInHandler
from bot.unicode_safe import scrub

logger = logging.getLogger(__name__)

ANY = "*"
POST = "app.bsky.feed.post"
ACCESS_LIFETIME = timedelta(hours=2)
REFRESH_LIFETIME = timedelta(days=90)
LOGINS_PER_WINDOW, LOGIN_WINDOW = 30, timedelta(minutes=5)
MAX_GRAPHEMES = 300
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


@dataclass(frozen=True)
class RecordedCall:
    method: str
    nsid: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass(frozen=True)
class StoredPost:
    uri: str
    cid: str
    did: str
    handle: str
    text: str
    facets: list[Any]
    created_at: datetime
    reply_to: str | None = None  # the parent's URI

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, error: str, message: str, **headers: str) -> _Answer:
    return _Answer(status, {"error": error, "message": message}, dict(headers))


class BlueskyStandIn(LocalStandIn[RecordedCall]):
    """A local Bluesky for tests and the sandbox, holding one account the bot logs in as, and everyone else's
    posts (`add_post`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        handle: str = "plchat.bsky.social",
        password: str = "sandbox-app-password",
        clock: Callable[[], datetime] | None = None,
        appview: bool = True,
    ) -> None:
        """`appview=False`: a PDS with no AppView behind it (self-hosted, say), which answers the `app.bsky.*`
        reads it would pass on with `400 InvalidRequest: No service configured for <method>`, as the reference
        PDS does; posting still works."""
        self.handle, self.password, self.appview = handle, password, appview
        self.did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        self._clock = clock or (lambda: datetime.now(UTC))
        super().__init__("Bluesky", host, port, logger)
        self._posts: dict[str, StoredPost] = {}  # uri → post
        self._access: dict[str, datetime] = {}  # token → expiry
        self._refresh: dict[str, datetime] = {}
        self._logins: list[datetime] = []
        self._dids: dict[str, str] = {handle: self.did}

    # -- what is on Bluesky ------------------------------------------------------------------------

    @property
    def logins(self) -> int:
        """Password logins (createSession) that succeeded."""
        with self._changed:
            return len(self._logins)

    def posts_by_me(self) -> list[StoredPost]:
        with self._changed:
            return sorted((p for p in self._posts.values() if p.did == self.did), key=lambda p: p.created_at)

    def add_post(
        self, handle: str, text: str, created_at: datetime | None = None, *, reply_to: str | None = None
    ) -> str:
        """Someone's post (an answer); `reply_to` is the URI of the post it replies to. Returns its URI. Records
        are CBOR, whose strings are valid UTF-8: a lone surrogate cannot be posted, and becomes U+FFFD."""
        text = scrub(text)
        with self._changed:
            did = self._dids.setdefault(handle, "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24])
            rkey = _tid(len(self._posts) + 1, created_at or self._clock())
            post = self._store(did, handle, rkey, text, [], created_at or self._clock(), reply_to)
            self._changed.notify_all()
        return post.uri

    def expire_sessions(self) -> None:
        """Every access token expires now (as after a PDS restart or a long sleep): the next call gets
        ExpiredToken and must refresh."""
        with self._changed:
            self._access = {token: self._clock() - timedelta(seconds=1) for token in self._access}

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
        message: str | None = None,
    ) -> None:
        """Make the next `times` requests to `key` (an NSID such as "com.atproto.repo.createRecord", or ANY)
        misbehave: 429 with RateLimit-* headers resetting `reset_in` seconds after the clock's now, another status
        with XRPC's error body (`{"error": error, "message": message}`; a 400 when only `error` is given), or an
        answer only after `delay` seconds (`after`: the request is carried out first, as when a post went out but
        its answer never reached the sender)."""
        if error is not None and status is None:
            status = 400
        self._queue_fault(
            key,
            Fault(
                status,
                delay,
                times,
                reset_in=reset_in,
                after=after,
                error=f"{error}\n{message or ''}" if error else None,
            ),
        )

    def calls_to(self, nsid: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.nsid == nsid]

    # -- serving ---------------------------------------------------------------------------------

    def _serve(self, http: StandInHandler) -> None:
        url = urlsplit(http.path)
        nsid = url.path.removeprefix("/xrpc/")
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ...
        answer, late = self._fault(nsid), None
        if not isinstance(answer, _Answer):
            late = answer
            if body is ...:
                answer = _error(400, "InvalidRequest", "Invalid JSON body")
            else:
                answer = self._answer(http.command, nsid, query, body, http.headers.get("Authorization") or "")
        with self._changed:
            self._calls.append(RecordedCall(http.command, nsid, query, None if body is ... else body, answer.status))
            self._changed.notify_all()
        if late is not None:
            self._stopping.wait(late.delay)
        payload = json.dumps(answer.body).encode()
        http.send_answer(answer.status, answer.headers, payload, "application/json; charset=utf-8")

    def _fault(self, nsid: str) -> _Answer | Fault | None:
        """A fault's answer; the fault itself when its answer comes late, after the request was carried out."""
        fault = self._next_fault(nsid, ANY)
        if fault is None or fault.after:
            return fault
        if fault.status is None:
            return None
        if fault.status == 429:
            return self._limited(fault.reset_in or 0)
        if fault.error:
            name, message = fault.error.split("\n", 1)
            return _error(fault.status, name, message or name)
        return _error(
            fault.status, "InternalServerError" if fault.status >= 500 else "InvalidRequest", f"HTTP {fault.status}"
        )

    def _limited(self, reset_in: float) -> _Answer:
        reset = int(self._clock().timestamp() + reset_in)
        return _error(
            429,
            "RateLimitExceeded",
            "Rate Limit Exceeded",
            **{
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300",
            },
        )

    def _answer(self, method: str, nsid: str, query: dict[str, str], body: Any, authorization: str) -> _Answer:
        now = self._clock()
        with self._changed:
            if (method, nsid) == ("POST", "com.atproto.server.createSession"):
                return self._create_session(body or {}, now)
            token = authorization.removeprefix("Bearer ").strip()
            if (method, nsid) == ("POST", "com.atproto.server.refreshSession"):
                return self._refresh_session(token, now)
            expiry = self._access.get(token)
            if expiry is None:
                return _error(401, "AuthenticationRequired", "Authentication Required")
            if expiry <= now:
                return _error(400, "ExpiredToken", "Token has expired")
            if (method, nsid) == ("POST", "com.atproto.repo.createRecord"):
                return self._create_record(body or {}, now)
            if (method, nsid) == ("GET", "com.atproto.repo.getRecord"):
                post = self._posts.get(f"at://{query.get('repo')}/{query.get('collection')}/{query.get('rkey')}")
                if post is None:
                    return _error(400, "RecordNotFound", "Could not locate record")
                return _Answer(200, {"uri": post.uri, "cid": post.cid, "value": self._record(post)})
            if nsid.startswith("app.bsky.") and not self.appview:
                return _error(400, "InvalidRequest", f"No service configured for {nsid}")
            if (method, nsid) == ("GET", "app.bsky.feed.searchPosts"):
                return self._search(query)
            if (method, nsid) == ("GET", "app.bsky.feed.getPostThread"):
                post = self._posts.get(query.get("uri", ""))
                if post is None:
                    return _error(400, "NotFound", f"Post not found: {query.get('uri')}")
                replies = [
                    self._thread_view(reply)
                    for reply in sorted(self._posts.values(), key=lambda p: p.created_at)
                    if reply.reply_to == post.uri
                ]
                return _Answer(200, {"thread": {**self._thread_view(post), "replies": replies}})
        return _error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")

    # -- sessions ----------------------------------------------------------------------------------

    def _create_session(self, body: dict[str, Any], now: datetime) -> _Answer:
        self._logins = [at for at in self._logins if at > now - LOGIN_WINDOW]
        if len(self._logins) >= LOGINS_PER_WINDOW:
            return self._limited((self._logins[0] + LOGIN_WINDOW - now).total_seconds())
        if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        self._logins.append(now)
        return _Answer(200, self._session(now))

    def _refresh_session(self, token: str, now: datetime) -> _Answer:
        expiry = self._refresh.pop(token, None)
        if expiry is None:
            return _error(400, "InvalidToken", "Token could not be verified")
        if expiry <= now:
            return _error(400, "ExpiredToken", "Token has expired")
        return _Answer(200, self._session(now))

    def _session(self, now: datetime) -> dict[str, Any]:
        access = _jwt(
            {
                "scope": "com.atproto.access",
                "sub": self.did,
                "iat": int(now.timestamp()),
                "exp": int((now + ACCESS_LIFETIME).timestamp()),
                "nonce": secrets.token_hex(8),
            }
        )
        refresh = _jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": self.did,
                "jti": secrets.token_hex(16),
                "exp": int((now + REFRESH_LIFETIME).timestamp()),
            }
        )
        self._access[access], self._refresh[refresh] = now + ACCESS_LIFETIME, now + REFRESH_LIFETIME
        did_doc = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": self.did,
            "alsoKnownAs": [f"at://{self.handle}"],
            "verificationMethod": [],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.base_url}],
        }
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.handle,
            "did": self.did,
            "didDoc": did_doc,
            "active": True,
        }

    # -- records -----------------------------------------------------------------------------------

    def _create_record(self, body: dict[str, Any], now: datetime) -> _Answer:
        if body.get("repo") not in (self.did, self.handle) or body.get("collection") != POST:
            return _error(400, "InvalidRequest", "Invalid repo or collection")
        record = body.get("record") or {}
        rkey = str(body.get("rkey") or _tid(len(self._posts) + 1, now))
        if not _TID.fullmatch(rkey):
            return _error(400, "InvalidRequest", f"Invalid record key: {rkey}")
        text = str(record.get("text", ""))
        if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES:
            return _error(
                400,
                "InvalidRequest",
                f"Invalid app.bsky.feed.post record: Record/text must not be longer than {MAX_GRAPHEMES} graphemes",
            )
        uri = f"at://{self.did}/{POST}/{rkey}"
        if uri in self._posts:
            return _error(500, "InternalServerError", "Internal Server Error")
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        post = self._store(
            self.did,
            self.handle,
            rkey,
            text,
            list(record.get("facets") or []),
            _parse_time(record.get("createdAt")) or now,
            parent,
        )
        return _Answer(
            200,
            {
                "uri": post.uri,
                "cid": post.cid,
                "validationStatus": "valid",
                "commit": {"cid": _cid(post.uri + "commit"), "rev": rkey},
            },
        )

    def _store(
        self, did: str, handle: str, rkey: str, text: str, facets: list[Any], created_at: datetime, reply_to: str | None
    ) -> StoredPost:
        uri = f"at://{did}/{POST}/{rkey}"
        post = StoredPost(uri, _cid(uri), did, handle, text, facets, created_at.astimezone(UTC), reply_to)
        self._posts[uri] = post
        return post

    def _record(self, post: StoredPost) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST, "text": post.text, "createdAt": _iso(post.created_at), "langs": ["en"]}
        if post.facets:
            record["facets"] = post.facets
        if post.reply_to:
            parent = {"uri": post.reply_to, "cid": _cid(post.reply_to)}
            record["reply"] = {"root": parent, "parent": parent}
        return record

    def _view(self, post: StoredPost) -> dict[str, Any]:
        return {
            "uri": post.uri,
            "cid": post.cid,
            "author": {"did": post.did, "handle": post.handle},
            "record": self._record(post),
            "indexedAt": _iso(post.created_at),
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
        }

    def _thread_view(self, post: StoredPost) -> dict[str, Any]:
        return {"$type": "app.bsky.feed.defs#threadViewPost", "post": self._view(post)}

    def _search(self, query: dict[str, str]) -> _Answer:
        words = [word.lower() for word in query.get("q", "").split()]
        if not words:
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        since, until = _parse_time(query.get("since")), _parse_time(query.get("until"))
        limit = min(max(int(query.get("limit") or 25), 1), 100)
        offset = int(query.get("cursor") or 0)
        found = [
            post
            for post in sorted(self._posts.values(), key=lambda p: p.created_at, reverse=True)
            if all(word in post.text.lower() for word in words)
            and (since is None or post.created_at >= since)
            and (until is None or post.created_at < until)
        ]
        page = found[offset : offset + limit]
        answer: dict[str, Any] = {"posts": [self._view(post) for post in page]}
        if offset + limit < len(found):
            answer["cursor"] = str(offset + limit)
        return _Answer(200, answer)


def _tid(sequence: int, moment: datetime) -> str:
    value = (int(moment.timestamp() * 1_000_000) << 10) | (sequence % 1024)
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[(value >> (5 * place)) & 31] for place in reversed(range(13)))


def _cid(seed: str) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower().rstrip("=")[:52]


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
