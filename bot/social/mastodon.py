"""The Mastodon account the bot runs chats from, over Mastodon.py, on the instance MASTODON_BASE_URL names.

- Rate limits raise (`ratelimit_method="throw"`): nothing sleeps in a sender thread; the reset the instance
  gave (`X-RateLimit-Reset`) holds only Mastodon's posts.
- Every post carries `Idempotency-Key` = its delivery key: the instance answers a repeat within the hour with the
  status it already made. A crash older than that is settled by reading the account's own statuses.
- The instance's own `max_characters` (500 unless it says otherwise) is read once.
- People's words are made inert (a word joiner after each `@` that would start a mention), so a post
  notifies nobody.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, TypeVar

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from bot.chats.spec import x_inert
from bot.config import Settings
from bot.delivery.errors import DeliveryError, Permanent, ReadDenied, RetryAfter, Transient
from bot.social.chat_text import SocialText, TextRule
from bot.social.network import Page, SocialPost
from bot.unicode_safe import scrub

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # Mastodon counts every link as 23 characters, however long
PAGE = 40
IDEMPOTENCY_WINDOW = timedelta(minutes=50)  # the instance keeps a key an hour; a margin for clocks
DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRY_SECONDS = 60.0
_URL = re.compile(r"https?://\S+")
T = TypeVar("T")


def mastodon_length(text: str) -> int:
    return len(_URL.sub("x" * URL_LENGTH, text))


class MastodonAccount:
    """One Mastodon account, as a `bot.social.network.Network`."""

    name, label = "mastodon", "Mastodon"

    def __init__(
        self, *, base_url: str, access_token: str, clock: Callable[[], datetime], timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._api = Mastodon(
            access_token=access_token,
            api_base_url=base_url,
            ratelimit_method="throw",
            request_timeout=timeout,
            version_check_mode="none",
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._rule: TextRule | None = None
        self._me: dict[str, Any] | None = None
        self.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], datetime], timeout: float = DEFAULT_TIMEOUT
    ) -> MastodonAccount | None:
        """The configured account, or None without MASTODON_BASE_URL and MASTODON_ACCESS_TOKEN."""
        if not settings.mastodon_enabled:
            return None
        assert settings.mastodon_base_url is not None and settings.mastodon_access_token is not None
        return cls(
            base_url=settings.mastodon_base_url,
            access_token=settings.mastodon_access_token.get_secret_value(),
            clock=clock,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"MastodonAccount(base_url={self.base_url!r})"

    # -- as a network ----------------------------------------------------------------------------

    def rule(self) -> TextRule:
        """The instance's limit, asked once; 500 if it does not say (or cannot be reached just now)."""
        with self._lock:
            if self._rule is None:
                try:
                    configuration = self._call("GET /api/v2/instance", self._api.instance_v2)["configuration"]
                    limit = int(configuration["statuses"]["max_characters"])
                except (DeliveryError, KeyError, TypeError, ValueError) as exc:
                    log.warning("Mastodon did not give its post limit (%s); using %d", exc, DEFAULT_MAX_CHARACTERS)
                    return TextRule(DEFAULT_MAX_CHARACTERS, mastodon_length, x_inert)
                self._rule = TextRule(max(limit, 1), mastodon_length, x_inert)
            return self._rule

    def publish(self, text: SocialText, *, key: str, due_at: datetime) -> str:
        status = self._call(
            "POST /api/v1/statuses",
            self._api.status_post,
            x_inert(text.text),
            visibility="public",
            idempotency_key=key[:64],
        )
        return str(status["id"])

    def find_sent(self, text: SocialText, *, key: str, due_at: datetime, attempted: datetime) -> str | None:
        if self._clock() - attempted < IDEMPOTENCY_WINDOW:
            return None  # sending again with the same key gives back the status the first attempt made, if any
        wanted = _squash(x_inert(text.text))
        me = self._account()
        statuses = self._call(
            "GET /api/v1/accounts/:id/statuses",
            self._api.account_statuses,
            me["id"],
            min_id=attempted - timedelta(minutes=1),
            limit=PAGE,
            exclude_reblogs=True,
        )
        return next((str(status["id"]) for status in statuses if _squash(_plain(status["content"])) == wanted), None)

    def own_id(self) -> str:
        return str(self._account()["id"])

    def read_tag(self, hashtag: str, *, cursor: str | None, since: datetime, until: datetime, budget: int) -> Page:
        """The hashtag timeline forward from `cursor` (a status id; the chat's start the first time): each read
        with `min_id` gives the statuses just after it, so the next starts after the newest of those."""
        posts: list[SocialPost] = []
        reads, error = 0, None
        while reads < budget:
            try:
                page = self._call(
                    "GET /api/v1/timelines/tag/:hashtag",
                    self._api.timeline_hashtag,
                    hashtag,
                    min_id=cursor or since,
                    limit=PAGE,
                    read=True,
                )
            except DeliveryError as exc:  # the pages before it are kept, the cursor just after them
                error = exc
                break
            reads += 1
            if not page:
                break
            posts += [self._post(status) for status in page]
            cursor = str(max(int(status["id"]) for status in page))
            if len(page) < PAGE:
                break
        return Page(posts, cursor, reads, error)

    def replies(self, ref: str, *, budget: int) -> Page:
        if budget < 1:
            return Page([], None, 0)
        try:
            context = self._call("GET /api/v1/statuses/:id/context", self._api.status_context, ref, read=True)
        except Permanent:  # 404: the question was deleted (a refusal is a ReadDenied)
            return Page([], None, 1)
        return Page(
            [self._post(status) for status in context["descendants"] if str(status.get("in_reply_to_id")) == ref],
            None,
            1,
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _account(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self._call("GET /api/v1/accounts/verify_credentials", self._api.account_verify_credentials)
        return self._me

    def _post(self, status: dict[str, Any]) -> SocialPost:
        account = status.get("account") or {}
        acct = scrub(str(account.get("acct") or account.get("username") or ""))
        created = status.get("created_at")
        if isinstance(created, datetime):
            created = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(UTC)
        else:
            created = self._clock()
        reply_to = status.get("in_reply_to_id")
        return SocialPost(
            ref=str(status["id"]),
            text=scrub(_plain(str(status.get("content") or ""))),
            author=f"@{acct}" if acct else f"mastodon:{account.get('id')}",
            person=str(account.get("id") or acct),
            url=str(status.get("url") or status.get("uri") or ""),
            created_at=created,
            reply_to=str(reply_to) if reply_to is not None else None,
        )

    def _call(self, what: str, method: Callable[..., T], *args: Any, read: bool = False, **kwargs: Any) -> T:
        """`method(*args, **kwargs)`, with every failure as a DeliveryError (no chain that would keep the token).
        A `read` refused with 401 or 403 (a token without the read scope, a revoked one, an instance that keeps
        its timelines closed) is a ReadDenied."""
        try:
            return method(*args, **kwargs)
        except MastodonRatelimitError:
            error: DeliveryError = RetryAfter(f"Mastodon rate limit reached ({what})", self._seconds())
        except MastodonNetworkError:
            error = Transient(f"could not reach Mastodon ({what})")
        except MastodonServerError as exc:
            error = Transient(f"Mastodon server error {_status(exc)} ({what})")
        except MastodonUnauthorizedError:
            refused = ReadDenied if read else Permanent
            error = refused("Mastodon refused the access token (MASTODON_ACCESS_TOKEN)")
        except MastodonNotFoundError:
            error = Permanent(f"Mastodon has no such thing ({what})")
        except MastodonAPIError as exc:
            status, detail = _status(exc), _detail(exc)
            if status == 403 and read:
                error = ReadDenied(f"Mastodon does not let this account read ({what}): {detail or status}"[:300])
            else:
                error = Permanent(f"Mastodon refused ({what}): {detail or status}"[:300])
        except MastodonError as exc:
            error = Transient(f"Mastodon answered something unreadable ({what}): {type(exc).__name__}")
        raise error

    def _seconds(self) -> float:
        """Until the reset the instance gave; Mastodon.py keeps it on the client, moved onto this machine's clock
        by the answer's Date, so it is compared with this machine's clock."""
        reset = self._api.ratelimit_reset
        return max(1.0, reset - time.time()) if reset else DEFAULT_RETRY_SECONDS


def _status(exc: MastodonError) -> int:
    return next((arg for arg in exc.args if isinstance(arg, int)), 0)


def _detail(exc: MastodonError) -> str:
    return scrub(str(exc.args[-1]))[:200] if len(exc.args) >= 4 and exc.args[-1] else ""


class _Text(HTMLParser):
    """A status's HTML content as the text it was written as (paragraphs and line breaks as new lines)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def _squash(text: str) -> str:
    return "".join(text.split())
