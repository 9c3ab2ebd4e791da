"""The Bluesky account the bot runs chats from, over atproto's own `Client`, pointed at BLUESKY_SERVICE_URL (the
SDK then follows the PDS the account's DID document names).

- Logins are scarce (about 30 per 5 minutes and a few hundred a day per account), so the session is kept,
  sealed, in the database (`Vault`) and shared by every process; a restart imports it, and an expired token
  is refreshed (the SDK does so ahead of expiry; an `ExpiredToken` answer is refreshed here) before the
  password is used again.
- Every post is created with a record key of our own, a TID derived from its delivery, so after a crash
  `getRecord` says exactly whether it went out, and a repeat can never make a second post.
- Facets are built only for what the bot itself places (the chat's hashtag, the recap link): people's words
  never become a mention, so nobody is pinged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import regex
from atproto import Client, Session, SessionEvent, models
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request
from atproto_client.utils import TextBuilder
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from bot.config import Settings
from bot.delivery.errors import DeliveryError, Permanent, ReadDenied, RetryAfter, Transient
from bot.social.chat_text import SocialText, TextRule
from bot.social.network import Page, SocialPost
from bot.social.vault import Vault
from bot.unicode_safe import scrub

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
SEARCH_PAGE = 100
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRY_SECONDS = 60.0
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_RENEW = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})
T = TypeVar("T")


def graphemes(text: str) -> int:
    """What Bluesky counts: user-perceived characters (an emoji with its modifiers is one)."""
    return len(regex.findall(r"\X", text))


BLUESKY_RULE = TextRule(MAX_GRAPHEMES, graphemes)


def record_key(key: str, due_at: datetime) -> str:
    """A valid TID (13 sortable base32 characters: 53 bits of microseconds, 10 of clock id) that only this
    delivery has: its due time in whole seconds, and microseconds and clock id drawn from a hash of its key."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = int(due_at.timestamp()) * 1_000_000 + digest % 1_000_000
    value = (micros << 10) | (digest >> 40) % 1024
    return "".join(_TID_ALPHABET[(value >> (5 * place)) & 31] for place in reversed(range(13)))


class _ClockedClient(Client):
    """The SDK's client on our clock: when to refresh a token ahead of expiry, and each post's `createdAt`."""

    def __init__(self, clock: Callable[[], datetime], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plchat_clock = clock

    def get_current_time(self) -> datetime:
        return self._plchat_clock().astimezone(UTC)


class BlueskyAccount:
    """One Bluesky account, as a `bot.social.network.Network`."""

    name, label = "bluesky", "Bluesky"

    def __init__(
        self,
        *,
        handle: str,
        app_password: str,
        service_url: str,
        sessions: sessionmaker[DbSession],
        clock: Callable[[], datetime],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._handle, self._password, self._service_url = handle, app_password, service_url
        self._clock, self._timeout = clock, timeout
        self._vault = Vault(sessions, self.name, handle.lower(), app_password, clock)
        self._client: Client | None = None
        self._lock = threading.RLock()
        self.logins = 0  # password logins this process made (the rest were a kept session, or refreshed)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: sessionmaker[DbSession],
        *,
        clock: Callable[[], datetime],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> BlueskyAccount | None:
        """The configured account, or None without BLUESKY_HANDLE and BLUESKY_APP_PASSWORD."""
        if not settings.bluesky_enabled:
            return None
        assert settings.bluesky_handle is not None and settings.bluesky_app_password is not None
        return cls(
            handle=settings.bluesky_handle.strip().lstrip("@"),
            app_password=settings.bluesky_app_password.get_secret_value(),
            service_url=settings.bluesky_service_url,
            sessions=sessions,
            clock=clock,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"BlueskyAccount(handle={self._handle!r}, service_url={self._service_url!r})"

    # -- as a network ----------------------------------------------------------------------------

    def rule(self) -> TextRule:
        return BLUESKY_RULE

    def publish(self, text: SocialText, *, key: str, due_at: datetime) -> str:
        rkey = record_key(key, due_at)
        builder = TextBuilder()
        for part in text.parts:
            if part.tag:
                builder.tag(part.text, part.tag)
            elif part.link:
                builder.link(part.text, part.link)
            else:
                builder.text(part.text)

        def create(client: Client) -> Any:
            record = models.AppBskyFeedPost.Record(
                text=builder.build_text(),
                facets=builder.build_facets() or None,
                created_at=client.get_current_time_iso(),
                langs=["en"],
            )
            return client.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(repo=self.own_id(), collection=POST, record=record, rkey=rkey)
            )

        try:
            self._call("createRecord", create)
        except (Transient, Permanent):
            # A record key already taken is answered 500 by the reference PDS (and 400 elsewhere): it is ours
            # if the record is there, whatever the error said.
            if self._exists(rkey):
                return rkey
            raise
        return rkey

    def find_sent(self, text: SocialText, *, key: str, due_at: datetime, attempted: datetime) -> str | None:
        rkey = record_key(key, due_at)
        return rkey if self._exists(rkey) else None

    def own_id(self) -> str:
        with self._lock:
            client = self._ready()
            return Session.decode(client.export_session_string()).did

    def read_tag(self, hashtag: str, *, cursor: str | None, since: datetime, until: datetime, budget: int) -> Page:
        """`searchPosts` for the hashtag as text (its `tag` filter misses posts), newest first, a page at a
        time; `cursor` is the newest post's time seen by the last read that got to the end."""
        start = max(since, datetime.fromisoformat(cursor) - timedelta(minutes=2)) if cursor else since
        posts: list[SocialPost] = []
        page_cursor: str | None = None
        reads, finished, error = 0, False, None
        me = self.own_id()
        while reads < budget:
            params = models.AppBskyFeedSearchPosts.Params(
                q=f"#{hashtag}",
                since=_iso(start),
                until=_iso(until),
                sort="latest",
                limit=SEARCH_PAGE,
                cursor=page_cursor,
            )
            try:
                answer = self._call(
                    "searchPosts",
                    lambda client: client.app.bsky.feed.search_posts(params),  # noqa: B023 - run now
                    read=True,
                )
            except DeliveryError as exc:  # the pages before it are kept; the cursor stays for the rest
                error = exc
                break
            reads += 1
            posts += [self._post(view, me) for view in answer.posts]
            page_cursor = answer.cursor
            if not page_cursor or not answer.posts:
                finished = True
                break
        newest = max((post.created_at for post in posts), default=None)
        if finished and newest is not None and (not cursor or newest.isoformat() > cursor):
            cursor = newest.isoformat()
        return Page(posts, cursor, reads, error)

    def replies(self, ref: str, *, budget: int) -> Page:
        if budget < 1:
            return Page([], None, 0)
        me = self.own_id()
        params = models.AppBskyFeedGetPostThread.Params(uri=f"at://{me}/{POST}/{ref}", depth=1, parent_height=0)
        try:
            answer = self._call("getPostThread", lambda client: client.app.bsky.feed.get_post_thread(params), read=True)
        except Permanent:  # NotFound: the question was deleted (every other refusal is a ReadDenied)
            return Page([], None, 1)
        replies = getattr(answer.thread, "replies", None) or []
        posts = [self._post(reply.post, me) for reply in replies if getattr(reply, "post", None) is not None]
        return Page(posts, None, 1)

    # -- the session -------------------------------------------------------------------------------

    def _ready(self) -> Client:
        """The SDK client with a session: the one kept in the database if there is one, else a login."""
        with self._lock:
            if self._client is None:
                client = _ClockedClient(self._clock, base_url=self._service_url, request=Request(timeout=self._timeout))
                client.on_session_change(self._session_changed)
                kept = self._vault.load()
                if kept:
                    client.login(session_string=kept, fetch_bsky_profile=False)
                else:
                    self._login(client)
                self._client = client
            return self._client

    def _login(self, client: Client) -> None:
        try:
            client.login(self._handle, self._password, fetch_bsky_profile=False)
        except UnauthorizedError:
            raise Permanent(
                "Bluesky refused the handle and app password (BLUESKY_HANDLE, BLUESKY_APP_PASSWORD)"
            ) from None
        except RequestErrorBase as exc:
            raise self._error("createSession", exc) from None
        self.logins += 1
        log.info("Logged in to Bluesky as %s", self._handle)

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._vault.save(session.export())

    def _renew(self, client: Client) -> None:
        """After an expired or refused token: a session another process has renewed since, else a refresh,
        else (the refresh token is gone too) a login."""
        current = client.export_session_string()
        kept = self._vault.load()
        if kept and kept != current:
            client.login(session_string=kept, fetch_bsky_profile=False)
            return
        old = Session.decode(current)
        try:
            answer = client.com.atproto.server.refresh_session(
                headers={"Authorization": f"Bearer {old.refresh_jwt}"}, ignore_session_check=True
            )
        except (BadRequestError, UnauthorizedError):
            self._login(client)
            return
        fresh = Session(answer.handle, answer.did, answer.access_jwt, answer.refresh_jwt, old.pds_endpoint)
        client.login(session_string=fresh.export(), fetch_bsky_profile=False)
        self._vault.save(fresh.export())

    def _call(self, what: str, call: Callable[[Client], T], *, read: bool = False) -> T:
        """`call(client)`, renewing the session once if Bluesky says it expired; failures as DeliveryErrors
        (no chain that would keep a token reachable). A `read` Bluesky refuses (but for `NotFound`) is a
        `ReadDenied`: asking again will not change the answer."""
        for attempt in (1, 2):
            with self._lock:
                client = self._ready()
            try:
                return call(client)
            except (BadRequestError, UnauthorizedError, LoginRequiredError) as exc:
                if attempt == 1 and (isinstance(exc, LoginRequiredError) or _error_name(exc) in _RENEW):
                    with self._lock:
                        self._renew(client)
                    continue
                raise self._error(what, exc, read=read) from None
            except RequestErrorBase as exc:
                raise self._error(what, exc, read=read) from None
            except httpx.TransportError as exc:  # the SDK passes on what it does not map (a dropped connection)
                raise Transient(f"could not reach Bluesky ({what}): {type(exc).__name__}") from None
            except (ModelError, ValueError):  # an answer that is not the JSON the lexicon says
                raise Transient(f"Bluesky answered something unreadable ({what})") from None
        raise AssertionError("unreachable")

    def _error(self, what: str, exc: Exception, *, read: bool = False) -> DeliveryError:
        if isinstance(exc, RateLimitExceededError):
            return RetryAfter(f"Bluesky rate limit reached ({what})", self._seconds(exc))
        if isinstance(exc, NetworkError) and exc.response is None:
            return Transient(f"could not reach Bluesky ({what}): {type(exc).__name__}")
        status = exc.response.status_code if isinstance(exc, RequestErrorBase) and exc.response else 0
        if status >= 500 or isinstance(exc, NetworkError):
            return Transient(f"Bluesky server error {status} ({what})")
        refused = Permanent if not read or _error_name(exc) == "NotFound" else ReadDenied
        if isinstance(exc, (UnauthorizedError, LoginRequiredError)):
            return refused(f"Bluesky refused the session ({what}); check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD")
        name, message = _error_name(exc), _error_message(exc)
        return refused(f"Bluesky refused ({what}): {name or status}{': ' + message if message else ''}"[:300])

    def _seconds(self, exc: RateLimitExceededError) -> float:
        if exc.reset_at is not None:
            return max(1.0, (exc.reset_at - self._clock()).total_seconds())
        return max(1.0, exc.retry_after) if exc.retry_after is not None else DEFAULT_RETRY_SECONDS

    def _exists(self, rkey: str) -> bool:
        params = models.ComAtprotoRepoGetRecord.Params(repo=self.own_id(), collection=POST, rkey=rkey)
        try:
            self._call("getRecord", lambda client: client.com.atproto.repo.get_record(params))
        except Permanent:  # RecordNotFound
            return False
        return True

    def _post(self, view: Any, me: str) -> SocialPost:
        record, author = view.record, view.author
        uri = str(view.uri)
        handle = scrub(str(getattr(author, "handle", "") or ""))
        created = _when(getattr(record, "created_at", None)) or _when(getattr(view, "indexed_at", None))
        parent = getattr(getattr(getattr(record, "reply", None), "parent", None), "uri", None)
        own_prefix = f"at://{me}/{POST}/"
        reply_to = (
            None if parent is None else (parent[len(own_prefix) :] if parent.startswith(own_prefix) else str(parent))
        )
        return SocialPost(
            ref=uri,
            text=scrub(str(getattr(record, "text", "") or "")),
            author=f"@{handle}" if handle else str(author.did),
            person=str(author.did),
            url=f"https://bsky.app/profile/{handle or author.did}/post/{uri.rsplit('/', 1)[-1]}",
            created_at=created or self._clock(),
            reply_to=reply_to,
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _error_name(exc: Exception) -> str:
    content = exc.response.content if isinstance(exc, RequestErrorBase) and exc.response else None
    return str(getattr(content, "error", "") or "")


def _error_message(exc: Exception) -> str:
    content = exc.response.content if isinstance(exc, RequestErrorBase) and exc.response else None
    return scrub(str(getattr(content, "message", "") or ""))[:200]
