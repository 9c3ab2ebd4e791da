"""A local stand-in for the X API v2 endpoints the bot uses.

It is a real HTTP server on 127.0.0.1, so an unchanged tweepy Client reaches it once requests for
https://api.twitter.com are routed to `standin.base_url` (what `bot.social.x.XAccount` does with X_API_URL).
It answers like X: 201 on a new post, 403 on duplicate content or a reply X would not allow, 400 on a bad
parameter, 401 without (or with wrong) credentials, 403 "client-not-enrolled" on reads when the plan has no read
access, and 429 with x-rate-limit-* headers when a fault is injected. Every request is recorded.

    POST   /2/tweets                 {"text", "reply": {"in_reply_to_tweet_id"}}
    DELETE /2/tweets/:id
    GET    /2/tweets/search/recent   query, since_id, until_id, max_results (10..100), next_token, expansions, ...
    GET    /2/users/me
    GET    /2/users/:id/tweets       start_time, end_time, since_id, max_results (5..100), pagination_token, ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

from bot.sandbox.local_server import Fault, LocalStandIn, StandInHandler

logger = logging.getLogger(__name__)

MAX_POST_LENGTH = 280
SEARCH_WINDOW = timedelta(days=7)
TWITTER_EPOCH_MS = 1288834974657
ANY = "*"
"""Fault key that matches every request."""

_ROUTES = (
    ("POST", re.compile(r"/2/tweets"), "/2/tweets"),
    ("DELETE", re.compile(r"/2/tweets/(?P<id>\d+)"), "/2/tweets/:id"),
    ("GET", re.compile(r"/2/tweets/search/recent"), "/2/tweets/search/recent"),
    ("GET", re.compile(r"/2/users/me"), "/2/users/me"),
    ("GET", re.compile(r"/2/users/(?P<id>\d+)/tweets"), "/2/users/:id/tweets"),
)
_READS = frozenset({"/2/tweets/search/recent", "/2/users/:id/tweets"})
_USER_CONTEXT_ONLY = frozenset({"/2/tweets", "/2/tweets/:id", "/2/users/me"})

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by "
    "the author of the post you are replying to."
)
_FAULT_BODIES: dict[int, dict[str, Any]] = {
    401: {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    429: {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
    500: {"errors": [{"message": "Internal error", "code": 131}]},
    502: {"title": "Bad Gateway", "detail": "Bad Gateway", "type": "about:blank", "status": 502},
    503: {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503},
}


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received, and the HTTP status it answered."""

    method: str
    path: str
    route: str  # e.g. "/2/users/:id/tweets" ("" when no endpoint matched)
    query: dict[str, str]
    body: Any  # decoded JSON, or None
    auth: str | None  # "oauth1", "bearer" or None (never the credential itself)
    status: int


@dataclass(frozen=True)
class StoredPost:
    id: str
    text: str
    author_id: str
    username: str
    created_at: datetime  # aware, UTC
    in_reply_to: str | None = None


@dataclass(frozen=True)
class XCredentials:
    """What a real X app holds; given to the stand-in, it checks OAuth 1.0a signatures and bearer tokens."""

    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str | None = None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


def _problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> _Answer:
    return _Answer(status, {"title": title, "detail": detail, "type": kind, "status": status, **extra})


def _invalid(parameter: str, value: str, message: str) -> _Answer:
    return _Answer(
        400,
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


class _Handler(StandInHandler):
    do_DELETE = do_PUT = StandInHandler.do_POST


class XStandIn(LocalStandIn[RecordedCall]):
    """A local X API v2 server for tests and the sandbox."""

    handler = _Handler

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        user_id: str = "1790000000000000001",
        username: str = "plchat",
        name: str = "PLChat",
        read_access: bool = True,
        credentials: XCredentials | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.name = name
        self.read_access = read_access
        self.credentials = credentials
        self._clock = clock or (lambda: datetime.now(UTC))
        super().__init__("X", host, port, logger)
        self._posts: list[StoredPost] = []  # oldest first
        self._users: dict[str, str] = {user_id: username}  # id -> username
        self._no_replies: set[str] = set()
        self._last_id = 0

    # -- what is on X ----------------------------------------------------------------------

    def add_post(self, username: str, text: str, created_at: datetime | None = None, *, replies: bool = True) -> str:
        """Someone's post (e.g. an answer with the chat's hashtag); its id. replies=False: X refuses replies
        to it from this account (the author never mentioned or engaged with it)."""
        with self._changed:
            author_id = next((uid for uid, name in self._users.items() if name == username), None)
            if author_id is None:
                author_id = str(2_000_000_000 + len(self._users))
                self._users[author_id] = username
            post = self._store(author_id, text, created_at)
            if not replies:
                self._no_replies.add(post.id)
            self._changed.notify_all()
        return post.id

    @property
    def posts(self) -> list[StoredPost]:
        """The account's own posts that are still up, oldest first."""
        return self.posts_by_me()

    def posts_by_me(self) -> list[StoredPost]:
        """The account's own posts that are still up, oldest first."""
        with self._changed:
            return [post for post in self._posts if post.author_id == self.user_id]

    # -- recorded calls --------------------------------------------------------------------

    def calls_to(self, route: str, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls to `route` (e.g. "/2/tweets/search/recent"), optionally only with `method`."""
        return [c for c in self.calls if c.route == route and (method is None or c.method == method)]

    def _describe_call(self, call: RecordedCall) -> str:
        return _describe(call)

    # -- fault injection -------------------------------------------------------------------

    def inject(
        self, key: str, *, status: int | None = None, times: int = 1, reset_in: float = 60, delay: float = 0.0
    ) -> None:
        """Make the next `times` requests matching `key` misbehave; queued faults for a key run in order.

        `key` is a method ("POST"), a path or route ("/2/tweets", "/2/users/:id/tweets"), both
        ("POST /2/tweets") or ANY. status=429 answers like X's rate limit, with x-rate-limit-remaining: 0 and
        x-rate-limit-reset `reset_in` seconds after the clock's now; other statuses answer X's error body for
        them; `delay` answers (or lets the request through) only after that many seconds.
        """
        self._queue_fault(key, Fault(status, delay, times, reset_in=reset_in))

    def delay(self, key: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` requests matching `key` only after `seconds`."""
        self.inject(key, delay=seconds, times=times)

    # -- request handling ------------------------------------------------------------------

    def _serve(self, http: StandInHandler) -> None:
        url = urlsplit(http.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ...
        method, route, params = http.command, "", {}
        for route_method, pattern, name in _ROUTES:
            match = pattern.fullmatch(url.path)
            if match and route_method == method:
                route, params = name, match.groupdict()
                break
        authorization = http.headers.get("Authorization") or ""
        auth = (
            "oauth1"
            if authorization.startswith("OAuth ")
            else "bearer"
            if authorization.startswith("Bearer ")
            else None
        )

        answer = self._fault_answer(method, url.path, route)
        if answer is None:
            if not route:
                answer = _problem(404, "Not Found Error", f"Unknown endpoint {method} {url.path}")
            elif auth is None or not self._authentic(http, auth, authorization, url.query):
                answer = _FAULT_ANSWER_401
            elif auth == "bearer" and route in _USER_CONTEXT_ONLY:
                answer = _problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                )
            elif route in _READS and not self.read_access:
                answer = _problem(
                    403,
                    "Client Forbidden",
                    "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
                    "from a Twitter developer App that is attached to a Project. You can create a project via the "
                    "developer portal.",
                    "https://api.twitter.com/2/problems/client-forbidden",
                    reason="client-not-enrolled",
                    required_enrollment="Appropriate Level of API Access",
                    registration_url="https://developer.twitter.com/en/docs/projects/overview",
                )
            elif body is ...:
                answer = _problem(400, "Invalid Request", "The request body is not valid JSON.")
            else:
                answer = self._answer(method, route, params, query, body)

        call = RecordedCall(method, url.path, route, query, None if body is ... else body, auth, answer.status)
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        logger.debug("X stand-in: %s", _describe(call))
        _send(http, answer)

    def _fault_answer(self, method: str, path: str, route: str) -> _Answer | None:
        fault = self._next_fault(f"{method} {path}", f"{method} {route}", path, route, method, ANY)
        if fault is None or fault.status is None:
            return None
        body = _FAULT_BODIES.get(fault.status) or {
            "title": "Error",
            "detail": f"HTTP {fault.status}",
            "type": "about:blank",
            "status": fault.status,
        }
        headers = {}
        if fault.status == 429:
            reset = int(self._clock().timestamp() + (fault.reset_in or 0))
            headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
        return _Answer(fault.status, body, headers)

    def _authentic(self, http: StandInHandler, auth: str, authorization: str, query: str) -> bool:
        """Without `credentials`, any Authorization of the right kind passes; with them, X's checks."""
        credentials = self.credentials
        if credentials is None:
            return True
        if auth == "bearer":
            given = authorization.removeprefix("Bearer ").strip()
            return bool(credentials.bearer_token) and hmac.compare_digest(given, credentials.bearer_token or "")
        try:
            oauth = dict(parse_authorization_header(authorization))
            params = oauth_signature.collect_parameters(
                uri_query=query, headers={"Authorization": authorization}, exclude_oauth_signature=True
            )
        except ValueError:
            return False
        if oauth.get("oauth_consumer_key") != credentials.api_key or oauth.get("oauth_token") != (
            credentials.access_token
        ):
            return False
        uri = oauth_signature.base_string_uri(f"http://{http.headers.get('Host', '')}{urlsplit(http.path).path}")
        # The stubs want a literal method and a dict; oauthlib takes any method and iterates (name, value) pairs.
        base = oauth_signature.signature_base_string(http.command, uri, oauth_signature.normalize_parameters(params))  # type: ignore[arg-type]
        key = f"{quote(credentials.api_secret, safe='~')}&{quote(credentials.access_token_secret, safe='~')}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
        return hmac.compare_digest(expected, unquote(oauth.get("oauth_signature", "")))

    # -- endpoints -------------------------------------------------------------------------

    def _answer(self, method: str, route: str, params: dict[str, str], query: dict[str, str], body: Any) -> _Answer:
        if route == "/2/tweets":
            return self._create(body if isinstance(body, dict) else {})
        if route == "/2/tweets/:id":
            return self._delete(params["id"])
        if route == "/2/users/me":
            return _Answer(200, {"data": {"id": self.user_id, "name": self.name, "username": self.username}})
        if route == "/2/tweets/search/recent":
            return self._search(query)
        return self._timeline(params["id"], query)

    def _create(self, body: dict[str, Any]) -> _Answer:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _invalid("text", str(text), "The `text` field is required and must not be empty.")
        if _x_length(text) > MAX_POST_LENGTH:
            return _invalid("text", text, "Your Tweet text is too long.")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        with self._changed:
            if any(p.author_id == self.user_id and p.text == text for p in self._posts):
                return _problem(403, "Forbidden", DUPLICATE_DETAIL)
            if reply_to is not None:
                if not any(p.id == str(reply_to) for p in self._posts):
                    return _invalid(
                        "reply.in_reply_to_tweet_id",
                        str(reply_to),
                        "The post you are replying to does not exist or has been deleted.",
                    )
                if str(reply_to) in self._no_replies:
                    return _problem(403, "Forbidden", REPLY_DETAIL)
            post = self._store(self.user_id, text, None, str(reply_to) if reply_to is not None else None)
        return _Answer(201, {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}})

    def _delete(self, post_id: str) -> _Answer:
        with self._changed:
            post = next((p for p in self._posts if p.id == post_id), None)
            if post is None:
                return _problem(
                    404,
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    "https://api.twitter.com/2/problems/resource-not-found",
                )
            if post.author_id != self.user_id:
                return _problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
            self._posts.remove(post)
        return _Answer(200, {"data": {"deleted": True}})

    def _search(self, query: dict[str, str]) -> _Answer:
        words = (query.get("query") or "").split()
        if not words:
            return _invalid("query", "", "The `query` parameter can not be empty")
        problem = _id_problem(query, "since_id") or _id_problem(query, "until_id")
        if problem:
            return problem
        oldest_allowed = self._clock() - SEARCH_WINDOW

        def matches(post: StoredPost) -> bool:
            return post.created_at >= oldest_allowed and _matches(words, post, self._users)

        return self._page(query, matches, "next_token", (10, 100))

    def _timeline(self, user_id: str, query: dict[str, str]) -> _Answer:
        with self._changed:
            known = user_id in self._users
        if not known:
            return _problem(
                404,
                "Not Found Error",
                f"Could not find user with id: [{user_id}].",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        problem = _id_problem(query, "since_id") or _id_problem(query, "until_id")
        if problem:
            return problem
        try:
            start = _parse_time(query.get("start_time"))
            end = _parse_time(query.get("end_time"))
        except ValueError:
            return _invalid("start_time", query.get("start_time", ""), "Invalid start_time or end_time.")

        def matches(post: StoredPost) -> bool:
            return (
                post.author_id == user_id
                and (start is None or post.created_at >= start)
                and (end is None or post.created_at < end)
            )

        return self._page(query, matches, "pagination_token", (5, 100))

    def _page(
        self, query: dict[str, str], matches: Callable[[StoredPost], bool], token_name: str, bounds: tuple[int, int]
    ) -> _Answer:
        """Matching posts newer than since_id, newest first, one page of max_results, like X."""
        raw_max = query.get("max_results", "10")
        low, high = bounds
        if not raw_max.isdigit() or not low <= int(raw_max) <= high:
            return _invalid(
                "max_results",
                raw_max,
                f"The `max_results` query parameter value [{raw_max}] is not between {low} and {high}",
            )
        since = int(query.get("since_id") or 0)
        until = int(query.get("until_id") or 0)
        before: int | None = None
        if query.get(token_name):
            try:
                before = int(base64.urlsafe_b64decode(query[token_name].encode()).decode())
            except ValueError:
                return _invalid(token_name, query[token_name], f"The `{token_name}` query parameter is invalid.")
        with self._changed:
            found = [
                p
                for p in reversed(self._posts)
                if int(p.id) > since and (not until or int(p.id) < until) and matches(p)
            ]
            users = dict(self._users)
        if before is not None:
            found = [p for p in found if int(p.id) < before]
        page, rest = found[: int(raw_max)], found[int(raw_max) :]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if rest:
            meta["next_token"] = base64.urlsafe_b64encode(page[-1].id.encode()).decode()
        if not page:
            return _Answer(200, {"meta": meta})
        fields = set(query.get("tweet.fields", "").split(","))
        data = [_post_json(p, fields) for p in page]
        answer: dict[str, Any] = {"data": data, "meta": meta}
        if "author_id" in query.get("expansions", "").split(","):
            user_fields = set(query.get("user.fields", "").split(","))
            authors = dict.fromkeys(p.author_id for p in page)
            answer["includes"] = {"users": [_user_json(uid, users[uid], user_fields) for uid in authors]}
        return _Answer(200, answer)

    def _store(self, author_id: str, text: str, created_at: datetime | None, reply_to: str | None = None) -> StoredPost:
        """Call with the lock held."""
        moment = (created_at or self._clock()).astimezone(UTC)
        snowflake = (int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, snowflake)
        post = StoredPost(str(self._last_id), text, author_id, self._users[author_id], moment, reply_to)
        self._posts.append(post)
        self._posts.sort(key=lambda p: int(p.id))
        self._changed.notify_all()
        return post


_FAULT_ANSWER_401 = _Answer(401, _FAULT_BODIES[401])


# -- X's rules -------------------------------------------------------------------------------


def _x_length(text: str) -> int:
    """twitter-text v3 weighting: code points up to U+10FF and some punctuation count 1, the rest 2."""
    light = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
    return sum(1 if any(low <= ord(c) <= high for low, high in light) else 2 for c in text)


def _matches(words: list[str], post: StoredPost, users: dict[str, str]) -> bool:
    """A small part of X's query language: words and #hashtags (all must appear), from:user, -word, and
    operators such as -is:retweet or lang:en (ignored)."""
    text = post.text.lower()
    for word in words:
        lowered = word.lower()
        negate = lowered.startswith("-")
        lowered = lowered.removeprefix("-")
        if lowered.startswith("from:"):
            found = users.get(post.author_id, "").lower() == lowered.removeprefix("from:").lstrip("@")
        elif ":" in lowered:
            continue
        else:
            found = re.search(rf"(?<!\w){re.escape(lowered)}(?!\w)", text) is not None
        if found == negate:
            return False
    return True


def _id_problem(query: dict[str, str], name: str) -> _Answer | None:
    value = query.get(name)
    if value is not None and not value.isdigit():
        return _invalid(name, value, f"The `{name}` query parameter value [{value}] is not valid")
    return None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _post_json(post: StoredPost, fields: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
    if "created_at" in fields:
        data["created_at"] = post.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{post.created_at:%f}"[:3] + "Z"
    if "author_id" in fields:
        data["author_id"] = post.author_id
    return data


def _user_json(user_id: str, username: str, fields: set[str]) -> dict[str, Any]:
    return {"id": user_id, "name": username, "username": username}


# -- HTTP plumbing ---------------------------------------------------------------------------


def _describe(call: RecordedCall) -> str:
    query = "&".join(f"{k}={v}" for k, v in call.query.items())
    body = json.dumps(call.body) if call.body is not None else ""
    text = f"{call.method} {call.path}{'?' + query if query else ''} {body}".strip()
    if len(text) > 240:
        text = text[:237] + "..."
    return f"{text} -> {call.status}"


def _send(http: StandInHandler, answer: _Answer) -> None:
    payload = json.dumps(answer.body).encode("utf-8") if answer.body is not None else b""
    content_type = None
    if answer.body is not None:
        kind = "application/problem+json" if answer.status >= 400 and "type" in answer.body else "application/json"
        content_type = f"{kind}; charset=utf-8"
    http.send_answer(answer.status, answer.headers, payload, content_type)
