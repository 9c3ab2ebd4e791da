"""The X account the bot posts chats with, over tweepy's v2 Client.

tweepy always calls https://api.twitter.com; a requests transport adapter mounted on the client's session sends
every request to `settings.x_api_url` instead (X itself, or the local stand-in) with a timeout, and signs OAuth 1.0a
requests again for the URL actually requested. Failures come out as `bot.delivery.errors` types, whose reasons
never carry a secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from requests_oauthlib import OAuth1

from bot.chats.spec import X_MAX_CHARS, x_inert
from bot.config import Settings
from bot.delivery.errors import (
    DeliveryError,
    Permanent,
    ReadDenied,
    RetryAfter,
    Transient,
)
from bot.social.chat_text import SocialText, TextRule
from bot.social.network import Page, SocialPost
from bot.unicode_safe import scrub

logger = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
"""The host tweepy hard-codes."""
DEFAULT_TIMEOUT = 15.0
"""Seconds to connect, and then to wait for each read of an answer."""
SEARCH_MIN_RESULTS, SEARCH_MAX_RESULTS = 10, 100
DEFAULT_RETRY_SECONDS = 60.0
"""Wait when X rate-limits without saying until when."""
_OWN_POSTS_MAX_PAGES = 5
_TWEET_FIELDS = ["created_at", "author_id"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class XUser:
    id: str
    username: str


@dataclass(frozen=True)
class XPost:
    id: str
    text: str
    author_id: str
    username: str  # "" when X did not say (the author's account is gone)
    created_at: datetime  # aware, UTC

    @property
    def url(self) -> str:
        return f"https://x.com/{self.username or 'i'}/status/{self.id}"

    def social(self) -> SocialPost:
        return SocialPost(
            self.id,
            self.text,
            f"@{self.username}" if self.username else f"x:{self.author_id}",
            self.username or self.author_id,
            self.url,
            self.created_at,
        )


@dataclass(frozen=True)
class SearchResult:
    posts: list[XPost]  # newest first, as X answers
    newest_id: str | None  # the next search's since_id; None when nothing new was found
    reads: int  # posts X returned (what X counts against the plan)
    more: bool = False  # X had more pages, left unread because the budget ran out
    error: DeliveryError | None = None  # a later page failed: `posts` are the pages before it


def x_length(text: str) -> int:
    """Length as X counts it (twitter-text v3): most Latin and punctuation count 1, other characters
    (CJK, emoji, '…') count 2. X counts a URL as 23; this counts its characters, which only errs short."""
    return sum(1 if _light(ord(char)) else 2 for char in text)


def _light(code: int) -> bool:
    return code <= 4351 or 8192 <= code <= 8205 or 8208 <= code <= 8223 or 8242 <= code <= 8247


X_RULE = TextRule(X_MAX_CHARS, x_length, x_inert)


class XAccount:
    """One X account, as a `bot.social.network.Network`: posting needs OAuth 1.0a user context; reads use the
    bearer token when there is one. X has no metadata to carry a delivery's key, but every post's text is
    unique (it carries the date), so after a crash the account's own recent posts say whether one went out."""

    name, label = "x", "X"

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        access_token: str,
        access_token_secret: str,
        bearer_token: str | None = None,
        api_url: str = TWEEPY_HOST,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=api_key,
            consumer_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=dict,
        )
        self._client.session.mount(
            TWEEPY_HOST + "/",
            _Rerouting(api_url, timeout, OAuth1(api_key, api_secret, access_token, access_token_secret)),
        )
        self._read_user_auth = not bearer_token
        self._clock = clock
        self._me: XUser | None = None
        self.api_url = api_url.rstrip("/")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _utc_now,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> XAccount | None:
        """The configured account, or None when the four OAuth 1.0a credentials are not all set."""
        user_context = (
            settings.x_api_key,
            settings.x_api_secret,
            settings.x_access_token,
            settings.x_access_token_secret,
        )
        if not all(secret and secret.get_secret_value() for secret in user_context):
            return None
        api_key, api_secret, access_token, access_token_secret = (
            secret.get_secret_value() for secret in user_context if secret is not None
        )
        bearer = settings.x_bearer_token.get_secret_value() if settings.x_bearer_token else None
        return cls(
            api_key=api_key,
            api_secret=api_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            bearer_token=bearer or None,
            api_url=settings.x_api_url,
            timeout=timeout,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"XAccount(api_url={self.api_url!r})"

    # -- as a network ---------------------------------------------------------------------------

    def rule(self) -> TextRule:
        return X_RULE

    def publish(self, text: SocialText, *, key: str, due_at: datetime) -> str:
        return self.post(x_inert(text.text))

    def find_sent(self, text: SocialText, *, key: str, due_at: datetime, attempted: datetime) -> str | None:
        wanted = x_inert(text.text)
        return next(
            (post.id for post in self.own_posts_since(attempted - timedelta(minutes=1)) if post.text == wanted), None
        )

    def own_id(self) -> str:
        return self.me().username

    def read_tag(self, hashtag: str, *, cursor: str | None, since: datetime, until: datetime, budget: int) -> Page:
        if budget < SEARCH_MIN_RESULTS:  # X reads at least ten a page
            return Page([], cursor, 0)
        try:
            found = self.search_recent(f"#{hashtag} -is:retweet", since_id=cursor, budget=budget)
        except DeliveryError as exc:
            return Page([], cursor, 0, exc)
        # Pages come newest first: after a failed one the older posts are still to read, so the cursor stays.
        newest = cursor if found.error else found.newest_id or cursor
        return Page([post.social() for post in found.posts], newest, found.reads, found.error)

    def replies(self, ref: str, *, budget: int) -> Page:
        """Not read on X: every post read is billed, so only posts with the hashtag are (a reply carries it)."""
        return Page([], None, 0)

    # -- posting -------------------------------------------------------------------------------

    def post(self, text: str, *, reply_to: str | None = None) -> str:
        """Post `text` (as a reply to `reply_to` if given); the new post's id."""
        answer = self._call(
            "POST /2/tweets", self._client.create_tweet, text=text, in_reply_to_tweet_id=reply_to, user_auth=True
        )
        return str(answer["data"]["id"])

    def delete(self, post_id: str) -> None:
        """Delete one of the account's posts; a post that is already gone is fine."""
        self._call("DELETE /2/tweets/:id", self._client.delete_tweet, post_id, user_auth=True, gone_ok=True)

    def me(self) -> XUser:
        """The account the credentials belong to (asked once)."""
        if self._me is None:
            answer = self._call("GET /2/users/me", self._client.get_me, user_auth=True)
            self._me = XUser(id=str(answer["data"]["id"]), username=answer["data"]["username"])
        return self._me

    # -- reading -------------------------------------------------------------------------------

    def own_posts_since(self, since: datetime) -> list[XPost]:
        """The account's posts created at or after `since` (aware), newest first: did a post go out?"""
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        me = self.me()
        posts: list[XPost] = []
        token: str | None = None
        for _ in range(_OWN_POSTS_MAX_PAGES):
            answer = self._call(
                "GET /2/users/:id/tweets",
                self._client.get_users_tweets,
                me.id,
                start_time=since,
                max_results=SEARCH_MAX_RESULTS,
                pagination_token=token,
                tweet_fields=_TWEET_FIELDS,
                user_auth=self._read_user_auth,
                read=True,
            )
            posts += [_post(data, {me.id: me.username}) for data in answer.get("data") or []]
            token = (answer.get("meta") or {}).get("next_token")
            if not token:
                break
        return posts

    def search_recent(self, query: str, *, since_id: str | None, budget: int) -> SearchResult:
        """Posts matching `query` newer than `since_id`, newest first, reading pages while fewer than `budget`
        posts were read. X's smallest page is 10 posts, so `reads` can pass a budget by up to 9. A failed first
        page raises; a later one ends the search with the pages before it (`error`)."""
        posts: list[XPost] = []
        newest_id: str | None = None
        token: str | None = None
        more = False
        while len(posts) < budget:
            page_size = max(SEARCH_MIN_RESULTS, min(SEARCH_MAX_RESULTS, budget - len(posts)))
            try:
                answer = self._call(
                    "GET /2/tweets/search/recent",
                    self._client.search_recent_tweets,
                    query,
                    since_id=since_id,
                    max_results=page_size,
                    next_token=token,
                    expansions=["author_id"],
                    user_fields=["username"],
                    tweet_fields=_TWEET_FIELDS,
                    user_auth=self._read_user_auth,
                    read=True,
                )
            except DeliveryError as exc:
                if token is None:  # the first page: nothing found to keep
                    raise
                return SearchResult(posts=posts, newest_id=newest_id, reads=len(posts), error=exc)
            page = answer.get("data") or []
            usernames = {
                str(user["id"]): user.get("username", "") for user in (answer.get("includes") or {}).get("users", [])
            }
            posts += [_post(data, usernames) for data in page]
            meta = answer.get("meta") or {}
            if newest_id is None and page:
                newest_id = str(meta.get("newest_id") or max((str(data["id"]) for data in page), key=int))
            token = meta.get("next_token")
            if not token or not page:
                break
            more = len(posts) >= budget
        return SearchResult(posts=posts, newest_id=newest_id, reads=len(posts), more=more)

    # -- errors --------------------------------------------------------------------------------

    def _call(
        self,
        what: str,
        method: Callable[..., Any],
        *args: Any,
        read: bool = False,
        gone_ok: bool = False,
        **kwargs: Any,
    ) -> Any:
        """`method(*args, **kwargs)`, with every failure turned into a DeliveryError (no secrets, no chain
        that would keep the request and its Authorization header reachable)."""
        try:
            return method(*args, **kwargs)
        except tweepy.NotFound:
            if gone_ok:
                return None
            error: DeliveryError = Permanent(f"X has no such resource ({what})")
        except tweepy.TooManyRequests as exc:
            error = RetryAfter(f"X rate limit reached ({what})", self._seconds_until(exc.reset_time))
        except tweepy.TwitterServerError as exc:
            error = Transient(f"X server error {exc.response.status_code} ({what})")
        except tweepy.Unauthorized:
            error = Permanent("X rejected the credentials")
        except tweepy.HTTPException as exc:
            error = _refusal(what, exc, read=read)
        except requests.Timeout:
            error = Transient(f"X did not answer in time ({what})")
        except requests.RequestException as exc:
            error = Transient(f"could not reach X ({what}): {type(exc).__name__}")
        raise error

    def _seconds_until(self, reset_epoch: int | None) -> float:
        if reset_epoch is None:
            return DEFAULT_RETRY_SECONDS
        return max(1.0, reset_epoch - self._clock().timestamp())


def _refusal(what: str, exc: tweepy.HTTPException, *, read: bool) -> DeliveryError:
    """A 4xx other than 401, 404 and 429, as X explains it."""
    status = exc.response.status_code
    try:
        body = exc.response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    detail = " ".join(str(message) for message in exc.api_messages) or str(body.get("detail") or "")
    detail = detail.strip()[:200] or exc.response.reason or ""
    if status == 403:
        lowered = detail.lower()
        no_read_access = body.get("reason") == "client-not-enrolled" or "client-forbidden" in str(body.get("type"))
        if read and no_read_access:
            return ReadDenied(
                "this X app may not read (X answered client-not-enrolled): hashtag search and the check of the "
                "account's own posts need an X plan with read access"
            )
        if "duplicate content" in lowered:
            return Permanent("duplicate content")
        if "reply to this conversation is not allowed" in lowered:
            return Permanent("reply not allowed: the author has not mentioned or engaged with this account")
        return Permanent(f"X refused ({what}): {detail}")
    if status == 400:
        return Permanent(f"X rejected the request ({what}): {detail}")
    return Permanent(f"X answered {status} ({what}): {detail}")


def _post(data: dict[str, Any], usernames: dict[str, str]) -> XPost:
    author_id = str(data.get("author_id") or "")
    created = datetime.fromisoformat(data["created_at"]).astimezone(UTC)
    return XPost(
        id=str(data["id"]),
        text=scrub(str(data.get("text", ""))),  # a JSON \ud800 from X can't be stored
        author_id=author_id,
        username=scrub(usernames.get(author_id, "")),
        created_at=created,
    )


class _Rerouting(HTTPAdapter):
    """Sends what tweepy addresses to https://api.twitter.com to `base_url` instead, with a default timeout.

    OAuth 1.0a signs the URL, so a rerouted user-context request is signed again for its new URL (the
    stand-in checks signatures, and so would X behind another host name). No retries: a POST must not repeat.
    """

    def __init__(self, base_url: str, timeout: float, oauth: OAuth1) -> None:
        super().__init__(max_retries=0)
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._oauth = oauth

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        if self._base_url != TWEEPY_HOST and url.startswith(TWEEPY_HOST + "/"):
            request.url = self._base_url + url[len(TWEEPY_HOST) :]
            proxies = get_environ_proxies(request.url)  # the session chose proxies for api.twitter.com
            if str(request.headers.get("Authorization", "")).startswith("OAuth "):
                del request.headers["Authorization"]
                request = self._oauth(request)
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


class _RedactBearer(logging.Filter):
    """tweepy logs its request headers at DEBUG, bearer token included: mask it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Bearer " in message:
            record.msg, record.args = re.sub(r"Bearer [^'\"\s,}]+", "Bearer ***", message), ()
        return True


_tweepy_log = logging.getLogger("tweepy.client")
if not any(isinstance(existing, _RedactBearer) for existing in _tweepy_log.filters):
    _tweepy_log.addFilter(_RedactBearer())
