"""A local stand-in for the Slack Web API and for response_url webhooks.

It is a real HTTP server on 127.0.0.1, so unchanged slack_sdk clients talk to it:
``WebClient(base_url=standin.api_url)`` and ``WebhookClient(standin.new_response_url())``.
It answers like Slack (including Block Kit validation), records every request, and can
inject rate limits, server errors, Slack errors, slow answers and held requests. It can also
rate-limit a method per workspace like Slack's tiers (`rate_limit`), refuse posts to one channel
(`fail_channel`) and describe people (`set_user`: time zone, deactivated).
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.local_server import Fault, LocalStandIn, StandInHandler

logger = logging.getLogger(__name__)

HOOKS = "hooks"
"""Fault/hold key that applies to every response_url post."""

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
TRIGGER_LIFETIME = 3.0  # seconds a trigger_id may open a view, once
MAX_MESSAGE_TEXT = 40_000

_APP_TOKEN = "xapp-"
_TOKEN_PREFIXES = ("xoxb-", "xoxp-", "xoxe.xoxb-", _APP_TOKEN)
_JSON_FORM_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files"})
_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
_STATUS_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}
_CHANNEL_POSTS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_DEFAULT_TZ = "America/Los_Angeles"
_RATE_WINDOW = 60.0  # seconds: Slack's per-minute tiers are a rolling minute
_ts_lock = threading.Lock()
_last_ts_micros = 0


@dataclass(frozen=True)
class RecordedCall:
    """One request the stand-in received, and the HTTP status it answered."""

    kind: Literal["api", "hook", "upload"]
    method: str
    """Web API method (e.g. "chat.postMessage"), or the URL path for hooks and file uploads."""
    args: dict[str, Any]
    token: str | None
    status: int


class Gate:
    """Keeps requests to one method waiting inside the server until `release()`."""

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        """Let held requests (and all later ones) through."""
        self._released.set()

    def wait_arrived(self, timeout: float = 5.0) -> bool:
        """Block until a request is held here; False if none arrived within `timeout`."""
        return self._arrived.wait(timeout)

    def _pass(self) -> None:
        self._arrived.set()
        self._released.wait()


@dataclass(frozen=True)
class _Answer:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


def _ok(**fields: Any) -> _Answer:
    return _Answer(200, {"ok": True, **fields})


def _api_error(error: str, **fields: Any) -> _Answer:
    return _Answer(200, {"ok": False, "error": error, **fields})


class SlackStandIn(LocalStandIn[RecordedCall]):
    """A local Slack Web API + response_url server for tests and the sandbox console."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox School",
        bot_user_id: str = "U0PLCHATBOT",
        bot_id: str = "B0PLCHATBOT",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] | None = None,
        distributed: bool = False,
    ) -> None:
        """`clock` (seconds, monotonic) drives `rate_limit` windows; `wall_clock` stamps message ts (the real
        time by default). Tests may pass fake ones. `distributed`: answer as Slack does an app distributed
        outside the Marketplace since 2025 (`distributed_app`)."""
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        super().__init__("Slack", host, port, logger)
        self._gates: dict[str, Gate] = {}
        self._hook_paths: set[str] = set()
        self._serial = itertools.count(1)
        self._messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages, oldest first
        self._uploads: dict[str, dict[str, Any]] = {}  # file id -> {"filename", "content"}
        self._clock = clock
        self._wall_clock = wall_clock
        self._last_fake_ts = 0
        self._rate_limits: dict[str, tuple[int, float]] = {}  # method -> (calls, window s) per workspace
        self._rate_calls: dict[tuple[str, str | None], deque[float]] = {}  # (method, token) -> call times
        self._channel_errors: dict[str, str] = {}  # channel -> the Slack error posts to it answer
        self._revoked: set[str] = set()  # tokens revoked (or never issued), as `revoke` set up
        self._users: dict[str, dict[str, Any]] = {}  # user id -> {"tz", "deleted"} set by set_user
        self._views: dict[str, dict[str, Any]] = {}  # view id -> the view as Slack shows it now (with its hash)
        self._triggers: dict[str, float | None] = {}  # trigger id -> when issued (`clock`), None once used
        self._methods: dict[str, Callable[[dict[str, Any]], _Answer]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update_message,
            "chat.delete": self._delete_message,
            "views.publish": self._view,
            "views.open": self._view,
            "views.update": self._view,
            "views.push": self._view,
            "users.info": self._user_info,
            "conversations.info": self._conversation,
            "conversations.join": self._conversation,
            "conversations.open": self._open_dm,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "reactions.get": self._reactions_get,
            "oauth.v2.access": self._oauth_access,
            "chat.getPermalink": self._permalink,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        self._by_token: dict[str, Callable[[str], _Answer]] = {"apps.connections.open": self._open_socket}
        self._installs: dict[str, dict[str, Any]] = {}  # OAuth code (or refresh token) -> what it installs
        self._expiring: dict[str, float] = {}  # rotating bot token -> when it expires (`clock`)
        self.socket_mode_url: str | None = None  # where apps.connections.open sends clients (a SocketModeStandIn)
        self._read_limit = 999  # messages conversations.history / .replies return at most a call
        if distributed:
            self.distributed_app()

    def distributed_app(self) -> None:
        """Slack's limits since 2025 for an app distributed outside the Marketplace: conversations.history and
        conversations.replies allow 1 call a minute per workspace, and return at most 15 messages a call."""
        for method in ("conversations.history", "conversations.replies"):
            self.rate_limit(method, 1)
        with self._changed:
            self._read_limit = DISTRIBUTED_READ_LIMIT

    def expect_install(
        self,
        code: str,
        *,
        team_id: str | None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
        expires_in: int | None = None,
    ) -> None:
        """oauth.v2.access with `code` installs the app in `team_id` (or, `org_wide`, across `enterprise_id`).
        `expires_in`: with token rotation on, the bot token expires after that many seconds and comes with a
        refresh token (grant_type=refresh_token gives a new pair; an expired token answers token_expired)."""
        with self._changed:
            self._installs[code] = {
                "team_id": team_id,
                "enterprise_id": enterprise_id,
                "org_wide": org_wide,
                "expires_in": expires_in,
            }

    # -- lifecycle -------------------------------------------------------------------------

    def _release(self) -> None:
        with self._changed:
            gates = list(self._gates.values())
        for gate in gates:
            gate.release()

    def _announced_url(self) -> str:
        return self.api_url

    @property
    def api_url(self) -> str:
        """Web API base URL, with the trailing slash WebClient's base_url needs."""
        return f"{self.base_url}/api/"

    def new_trigger_id(self) -> str:
        """A trigger_id for a request a test sends: like Slack's, it opens one view within 3 seconds (on `clock`).
        Trigger ids the stand-in did not issue are not checked."""
        trigger = f"{next(self._serial)}.{int(time.time())}.standin"
        with self._changed:
            self._triggers[trigger] = self._clock()
        return trigger

    def new_response_url(self) -> str:
        """A fresh response_url served by this stand-in."""
        path = f"/hooks/{next(self._serial)}"
        with self._changed:
            self._hook_paths.add(path)
        return self.base_url + path

    # -- what is in the workspace -----------------------------------------------------------

    def seed_message(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message someone posted (the bot can then read it with conversations.history/replies)."""
        message: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "team": self.team_id,
            "ts": self._next_ts(),
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        if metadata is not None:
            message["metadata"] = metadata
        with self._changed:
            self._messages.setdefault(channel, []).append(message)
        return dict(message)

    def set_user(
        self,
        user_id: str,
        *,
        tz: str = _DEFAULT_TZ,
        deleted: bool = False,
        role: Literal["member", "admin", "owner", "primary_owner", "guest"] = "member",
    ) -> None:
        """How users.info describes `user_id` (IANA `tz`, and their `role` in the workspace as Slack's is_admin,
        is_owner, is_primary_owner and is_restricted); a deleted (deactivated) user's DM cannot be opened
        (conversations.open: user_disabled) and posts to it answer account_inactive."""
        with self._changed:
            self._users[user_id] = {"tz": tz, "deleted": deleted, "role": role}

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the messages stored in `channel` (posted by the bot or seeded; a user id means the bot's
        DM with them), oldest first."""
        return [dict(m) for m in self._channel_messages(_where(channel))]

    def uploaded(self, file_id: str) -> dict[str, Any] | None:
        """A file the bot uploaded and completed: filename, title, content (text), channel."""
        with self._changed:
            upload = self._uploads.get(file_id)
            return dict(upload) if upload else None

    # -- recorded calls --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded Web API calls to `method`."""
        return [c for c in self.calls if c.kind == "api" and c.method == method]

    def hooks(self) -> list[RecordedCall]:
        """Recorded response_url posts."""
        return [c for c in self.calls if c.kind == "hook"]

    def _describe_call(self, call: RecordedCall) -> str:
        return _describe(call)

    # -- fault injection -------------------------------------------------------------------

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` requests to `method` (or HOOKS) misbehave; queued faults run in order.

        status=429 rate-limits with a Retry-After header (`retry_after`, default 1 second);
        other statuses (500, 503, ...) answer that status with a Slack-style error body;
        `error` alone answers HTTP 200 {"ok": false, "error": error} (HTTP 400 text for hooks);
        `delay` answers only after that many seconds.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._queue_fault(method, Fault(status, delay, times, reset_in=retry_after, error=error))

    def rate_limit(self, method: str, per_minute: int | None, *, window: float = _RATE_WINDOW) -> None:
        """Answer `method` with HTTP 429 and a Retry-After header (whole seconds until the rolling minute
        frees a slot, at least 1) once a workspace has made `per_minute` calls to it within the last minute.
        `window` makes the rolling window that many seconds instead: Slack holds chat.postMessage to about one
        a second a channel with short bursts, so `rate_limit(POST, 8, window=1)` is 8 a second.

        Workspaces are told apart by their bearer token. Refused calls do not count. None lifts the limit.
        """
        if per_minute is not None and per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        with self._changed:
            if per_minute is None:
                self._rate_limits.pop(method, None)
            else:
                self._rate_limits[method] = (per_minute, window)
            for key in [key for key in self._rate_calls if key[0] == method]:
                del self._rate_calls[key]

    def revoke(self, token: str) -> None:
        """Calls with `token` fail from now on as Slack's do with a revoked token: `token_revoked` for a bot or
        user token, `invalid_auth` for an app-level one (apps.connections.open)."""
        with self._changed:
            self._revoked.add(token)

    def fail_channel(self, channel: str, error: str | None) -> None:
        """Posts (chat.postMessage, chat.postEphemeral, chat.update) to `channel` answer
        {"ok": false, "error": error} until called again with None."""
        with self._changed:
            if error is None:
                self._channel_errors.pop(channel, None)
            else:
                self._channel_errors[channel] = error

    def shown_view(self, callback_id: str) -> dict[str, Any] | None:
        """The newest view with `callback_id` as Slack shows it (its id and hash included), for a test to act on
        as a person would; None if none opened. Views the stand-in never issued (ids a test made up) are not
        checked."""
        with self._changed:
            shown = [view for view in self._views.values() if view.get("callback_id") == callback_id]
        return dict(shown[-1]) if shown else None

    def hold(self, method: str) -> Gate:
        """Keep requests to `method` (or HOOKS) waiting in the server until the gate is released."""
        gate = Gate()
        with self._changed:
            self._gates[method] = gate
        return gate

    # -- request handling ------------------------------------------------------------------

    def _serve(self, http: StandInHandler) -> None:
        url = urlsplit(http.path)
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        kind: Literal["api", "hook", "upload"]
        if url.path.startswith("/api/"):
            kind, method = "api", url.path.removeprefix("/api/")
            key = method
        elif url.path.startswith("/hooks/"):
            kind, method, key = "hook", url.path, HOOKS
        elif url.path.startswith("/upload/"):
            self._receive_upload(http, url.path.removeprefix("/upload/"), body)
            return
        else:
            _send(http, _Answer(404, "not_found"))
            return
        token = _bearer_token(http.headers.get("Authorization"))
        try:
            args: dict[str, Any] | None = _decode_args(http.headers.get_content_type(), body, url.query)
        except ValueError:
            args = None
        if args is not None and "token" in args:
            form_token = args.pop("token")
            token = token or form_token

        with self._changed:
            gate = self._gates.get(key)
        if gate is not None:
            gate._pass()
        answer = self._fault_answer(kind, key)
        if answer is None and kind == "api":
            answer = self._rate_limited(method, token)
        if answer is None:
            if args is None:
                answer = _api_error("invalid_json") if kind == "api" else _Answer(400, "invalid_payload")
            elif kind == "api":
                answer = self._answer_api(method, args, token)
            else:
                answer = self._answer_hook(method, args)

        call = RecordedCall(kind, method, args or {}, token, answer.status)
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        logger.debug("Slack stand-in: %s", _describe(call))
        _send(http, answer)

    def _fault_answer(self, kind: str, key: str) -> _Answer | None:
        fault = self._next_fault(key)
        if fault is None:
            return None
        if fault.status is not None:
            error = fault.error or _STATUS_ERRORS.get(fault.status, "fatal_error")
            headers = {} if fault.reset_in is None else {"Retry-After": str(fault.reset_in)}
            body: dict[str, Any] | str = {"ok": False, "error": error} if kind == "api" else error
            return _Answer(fault.status, body, headers)
        if fault.error is not None:
            return _api_error(fault.error) if kind == "api" else _Answer(400, fault.error)
        return None

    def _rate_limited(self, method: str, token: str | None) -> _Answer | None:
        """The 429 a workspace over its per-minute allowance for `method` gets; None counts the call."""
        with self._changed:
            limit = self._rate_limits.get(method)
            if limit is None:
                return None
            allowed, window = limit
            now = self._clock()
            recent = self._rate_calls.setdefault((method, token), deque())
            while recent and recent[0] <= now - window:
                recent.popleft()
            if len(recent) < allowed:
                recent.append(now)
                return None
            wait = recent[len(recent) - allowed] + window - now
        retry_after = max(1, math.ceil(wait))
        return _Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    def _answer_api(self, method: str, args: dict[str, Any], token: str | None) -> _Answer:
        answer_method = self._methods.get(method)
        if answer_method is None and method not in self._by_token:
            return _api_error("unknown_method")
        if method == "oauth.v2.access":  # the app's client id and secret authenticate it, not a token
            assert answer_method is not None
            return answer_method(args)
        if not token:
            return _api_error("not_authed")
        if not token.startswith(_TOKEN_PREFIXES):
            return _api_error("invalid_auth")
        with self._changed:
            revoked = token in self._revoked
            expires = self._expiring.get(token)
        if revoked:
            return _api_error("invalid_auth" if token.startswith(_APP_TOKEN) else "token_revoked")
        if answer_method is None:
            return self._by_token[method](token)
        if expires is not None and self._clock() >= expires:
            return _api_error("token_expired")
        if method in _CHANNEL_POSTS:
            refused = self._channel_refusal(str(args.get("channel") or ""))
            if refused is not None:
                return refused
        return answer_method(args)

    def _channel_refusal(self, channel: str) -> _Answer | None:
        """A post to a channel made to fail, or to a deactivated user's DM; None when it may go through."""
        with self._changed:
            error = self._channel_errors.get(channel)
            if error is None and any(
                info["deleted"] and channel in (user, _dm_id(user)) for user, info in self._users.items()
            ):
                error = "account_inactive"
        return None if error is None else _api_error(error)

    def _answer_hook(self, path: str, args: dict[str, Any]) -> _Answer:
        with self._changed:
            issued = path in self._hook_paths
        if not issued:
            return _Answer(404, "no_service")
        problem = _content_problem(args.get("text"), args.get("blocks"), MAX_MESSAGE_BLOCKS)
        if problem is not None:
            return _Answer(400, problem[0])
        return _Answer(200, "ok")

    # -- Web API methods -------------------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> _Answer:
        slug = re.sub(r"[^a-z0-9]+", "-", self.team_name.lower()).strip("-")
        return _ok(
            url=f"https://{slug}.slack.com/",
            team=self.team_name,
            user="plchat",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=self.bot_id,
        )

    def _post_message(self, args: dict[str, Any]) -> _Answer:
        problem = _new_message_problem(args) or _metadata_problem(args.get("metadata"))
        if problem is not None:
            return problem
        ts = self._next_ts()
        message = self._message(args, ts)
        channel = _where(args["channel"])
        with self._changed:
            self._messages.setdefault(channel, []).append(message)
        return _ok(channel=channel, ts=ts, message=message)

    def _post_ephemeral(self, args: dict[str, Any]) -> _Answer:
        return _new_message_problem(args) or _ok(message_ts=self._next_ts())

    def _update_message(self, args: dict[str, Any]) -> _Answer:
        problem = _existing_message_problem(args) or _api_content_problem(args)
        if problem is not None:
            return problem
        ts = args["ts"]
        return _ok(
            channel=args["channel"],
            ts=ts,
            text=args.get("text") or "",
            message=self._message(args, ts),
        )

    def _delete_message(self, args: dict[str, Any]) -> _Answer:
        return _existing_message_problem(args) or _ok(channel=args["channel"], ts=args["ts"])

    def _view(self, args: dict[str, Any]) -> _Answer:
        view = args.get("view")
        if not isinstance(view, dict):
            return _api_error("invalid_arguments")
        problem = _content_problem(None, view.get("blocks"), MAX_VIEW_BLOCKS)
        if problem is not None:
            return _api_error(problem[0], errors=problem[1])
        view_id = args.get("view_id") or f"V{next(self._serial):08d}"
        with self._changed:
            trigger = str(args.get("trigger_id") or "")
            if trigger in self._triggers:
                issued, self._triggers[trigger] = self._triggers[trigger], None
                if issued is None:
                    return _api_error("exchanged_trigger_id")
                if self._clock() - issued > TRIGGER_LIFETIME:
                    return _api_error("expired_trigger_id")
            shown = self._views.get(view_id)
            if args.get("hash") and shown is not None and args["hash"] != shown["hash"]:
                return _api_error("hash_conflict")  # the view changed since the caller saw it
            shown = self._views[view_id] = {
                **view,
                "id": view_id,
                "team_id": self.team_id,
                "hash": f"{next(self._serial)}.{view_id.lower()}",
            }
        return _ok(view=shown)

    def _user_info(self, args: dict[str, Any]) -> _Answer:
        user_id = args.get("user")
        if not user_id:
            return _api_error("user_not_found")
        with self._changed:
            info = dict(self._users.get(user_id) or {"tz": _DEFAULT_TZ, "deleted": False, "role": "member"})
        role = info["role"]
        return _ok(
            user={
                "id": user_id,
                "team_id": self.team_id,
                "name": f"user.{user_id.lower()}",
                "real_name": f"Sandbox User {user_id}",
                "tz": info["tz"],
                "deleted": info["deleted"],
                "is_bot": user_id == self.bot_user_id,
                # As Slack has them: an owner is an admin too, the primary owner an owner; a guest is restricted.
                "is_admin": role in ("admin", "owner", "primary_owner"),
                "is_owner": role in ("owner", "primary_owner"),
                "is_primary_owner": role == "primary_owner",
                "is_restricted": role == "guest",
                "is_ultra_restricted": False,
            }
        )

    def _conversation(self, args: dict[str, Any]) -> _Answer:
        channel_id = args.get("channel")
        if not channel_id:
            return _api_error("channel_not_found")
        return _ok(channel={"id": channel_id, "name": "general", "is_member": True})

    def _open_dm(self, args: dict[str, Any]) -> _Answer:
        users = str(args.get("users") or "")
        if not users or "," in users:
            return _api_error("user_not_found" if not users else "not_implemented")
        with self._changed:
            deleted = (self._users.get(users) or {}).get("deleted", False)
        if deleted:
            return _api_error("user_disabled")
        return _ok(channel={"id": _dm_id(users), "is_im": True})

    def _channel_messages(self, channel: str) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._messages.get(channel, []))

    def _history(self, args: dict[str, Any]) -> _Answer:
        """Top-level messages, newest first, between `oldest` and `latest` (exclusive unless `inclusive`),
        `limit` (default 100, at most 999) a page; `response_metadata.next_cursor` pages back in time.
        `metadata` is on a message only when `include_all_metadata` is true, as in Slack."""
        try:
            latest, oldest = _ts_bound(args.get("latest")), _ts_bound(args.get("oldest"))
            limit = min(max(int(args.get("limit") or 100), 1), self._read_limit)
            before = _cursor_ts(args.get("cursor"))
        except ValueError:
            return _api_error("invalid_arguments")
        except _BadCursor:
            return _api_error("invalid_cursor")
        inclusive = _flag(args.get("inclusive"))
        found = []
        for m in reversed(self._channel_messages(args.get("channel", ""))):
            ts = float(m["ts"])
            if m.get("thread_ts") not in (None, m["ts"]) or (before is not None and ts > before):
                continue
            if latest is not None and not (ts < latest or (inclusive and ts == latest)):
                continue
            if oldest is not None and not (ts > oldest or (inclusive and ts == oldest)):
                continue
            found.append(_visible(m, _flag(args.get("include_all_metadata"))))
        page, rest = found[:limit], found[limit:]
        fields: dict[str, Any] = {"messages": page, "has_more": bool(rest)}
        if rest:
            fields["response_metadata"] = {"next_cursor": _cursor(rest[0]["ts"])}
        return _ok(**fields)

    def _replies(self, args: dict[str, Any]) -> _Answer:
        ts = args.get("ts")
        metadata = _flag(args.get("include_all_metadata"))
        thread = [
            _visible(m, metadata)
            for m in self._channel_messages(args.get("channel", ""))
            if ts in (m["ts"], m.get("thread_ts"))
        ]
        if not thread:
            return _api_error("thread_not_found")
        return _ok(messages=thread[: self._read_limit], has_more=len(thread) > self._read_limit)

    def _open_socket(self, token: str) -> _Answer:
        """apps.connections.open: a Socket Mode URL, when a SocketModeStandIn serves one. Only an app-level token
        may ask (a bot token is refused, as Slack refuses it)."""
        if not token.startswith(_APP_TOKEN) or self.socket_mode_url is None:
            return _api_error("not_allowed_token_type")
        return _ok(url=f"{self.socket_mode_url}?ticket=sandbox-{next(self._serial)}")

    def _oauth_access(self, args: dict[str, Any]) -> _Answer:
        """An install (`code`) or a token refresh (grant_type=refresh_token), as `expect_install` set up."""
        key = args.get("refresh_token") if args.get("grant_type") == "refresh_token" else args.get("code")
        with self._changed:
            install = self._installs.pop(str(key), None) if key else None
            if install is None:
                return _api_error("invalid_refresh_token" if args.get("grant_type") else "invalid_code")
            serial = next(self._serial)
            fields: dict[str, Any] = {
                "access_token": f"xoxb-installed-{serial}",
                "token_type": "bot",
                "app_id": "A0PLCHAT",
                "scope": "commands,chat:write,reactions:read",
                "bot_user_id": self.bot_user_id,
                "team": {"id": install["team_id"], "name": self.team_name} if install["team_id"] else None,
                "enterprise": {"id": install["enterprise_id"], "name": "Sandbox District"}
                if install["enterprise_id"]
                else None,
                "is_enterprise_install": install["org_wide"],
                "authed_user": {"id": "U0INSTALLER"},
            }
            if install["expires_in"] is not None:
                token, refresh = f"xoxe.xoxb-1-{serial}", f"xoxe-1-refresh-{serial}"
                # The first token lasts `expires_in`; a refreshed one 12 hours, as Slack's do.
                lasts = ROTATED_TOKEN_SECONDS if args.get("grant_type") == "refresh_token" else install["expires_in"]
                fields |= {"access_token": token, "refresh_token": refresh, "expires_in": lasts}
                self._expiring[token] = self._clock() + lasts
                self._installs[refresh] = install
        return _ok(**fields)

    def _reactions_get(self, args: dict[str, Any]) -> _Answer:
        """The message at `timestamp` (a thread reply too), with its reactions, as reactions.get answers."""
        channel, ts = args.get("channel", ""), args.get("timestamp")
        if not channel or not ts:
            return _api_error("invalid_arguments")
        found = next((m for m in self._channel_messages(channel) if m["ts"] == ts), None)
        if found is None:
            return _api_error("message_not_found")
        return _ok(type="message", channel=channel, message=_visible(found, False))

    def _permalink(self, args: dict[str, Any]) -> _Answer:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        if not any(m["ts"] == ts for m in self._channel_messages(channel)):
            return _api_error("message_not_found")
        slug = re.sub(r"[^a-z0-9]+", "-", self.team_name.lower()).strip("-")
        return _ok(channel=channel, permalink=f"https://{slug}.slack.com/archives/{channel}/p{ts.replace('.', '')}")

    def _upload_url(self, args: dict[str, Any]) -> _Answer:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return _api_error("invalid_arguments")
        file_id = f"F{next(self._serial):08d}"
        with self._changed:
            self._uploads[file_id] = {"filename": args["filename"], "content": None}
        return _ok(upload_url=f"{self.base_url}/upload/{file_id}", file_id=file_id)

    def _receive_upload(self, http: StandInHandler, file_id: str, body: bytes) -> None:
        with self._changed:
            known = file_id in self._uploads
            if known:
                self._uploads[file_id]["content"] = body.decode("utf-8", errors="replace")
            self._calls.append(RecordedCall("upload", file_id, {"bytes": len(body)}, None, 200 if known else 404))
            self._changed.notify_all()
        _send(http, _Answer(200, "OK - " + str(len(body))) if known else _Answer(404, "not_found"))

    def _complete_upload(self, args: dict[str, Any]) -> _Answer:
        files = args.get("files")
        if not isinstance(files, list):
            return _api_error("invalid_arguments")
        completed = []
        with self._changed:
            for entry in files or []:
                upload = self._uploads.get(entry.get("id", ""))
                if upload is None or upload["content"] is None:
                    return _api_error("file_not_found")
                upload.update(
                    title=entry.get("title"),
                    channel=args.get("channel_id"),
                    initial_comment=args.get("initial_comment"),
                )
                completed.append({"id": entry["id"], "title": entry.get("title"), "name": upload["filename"]})
        return _ok(files=completed) if completed else _api_error("invalid_arguments")

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "text": args.get("text") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
        }
        for optional in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(optional):
                message[optional] = args[optional]
        return message

    def _next_ts(self) -> str:
        """Message timestamps like Slack's: the time of posting in microseconds ("1764000000.000100"), unique
        and increasing, also across stand-ins and runs (a message's ts is part of its identity)."""
        global _last_ts_micros  # noqa: PLW0603 - one clock for every stand-in in the process, as Slack has one
        with _ts_lock:
            if self._wall_clock is not None:  # a test's clock: unique within this stand-in
                self._last_fake_ts = max(self._last_fake_ts + 1, int(self._wall_clock().timestamp() * 1_000_000))
                micros = self._last_fake_ts
            else:
                _last_ts_micros = max(_last_ts_micros + 1, time.time_ns() // 1000)
                micros = _last_ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


# -- Slack's rules ---------------------------------------------------------------------------


class _BadCursor(Exception):
    pass


DISTRIBUTED_READ_LIMIT = 15
ROTATED_TOKEN_SECONDS = 12 * 3600


def _dm_id(user: str) -> str:
    """The id of the bot's DM with `user`, as conversations.open gives it."""
    return "D" + user.lstrip("UW")


def _where(channel: str) -> str:
    """Where a post lands: posting to a user id posts in the bot's DM with them, as Slack does."""
    return _dm_id(channel) if channel[:1] in ("U", "W") else channel


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _ts_bound(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: Any) -> float | None:
    """The newest ts a page that starts at `cursor` may hold; _BadCursor for a cursor Slack never gave."""
    if cursor in (None, ""):
        return None
    try:
        kind, _, ts = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return float(ts)
    except ValueError as bad:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise _BadCursor(str(cursor)) from bad


def _visible(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    """A stored message as a reader gets it: its metadata only when asked for."""
    if with_metadata or "metadata" not in message:
        return message
    return {key: value for key, value in message.items() if key != "metadata"}


def _metadata_problem(metadata: Any) -> _Answer | None:
    """Slack takes message metadata as {"event_type": str, "event_payload": object}."""
    if metadata in (None, ""):
        return None
    if not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and metadata["event_type"]
        and isinstance(metadata.get("event_payload"), dict)
    ):
        return _api_error("invalid_metadata_format")
    return None


def _new_message_problem(args: dict[str, Any]) -> _Answer | None:
    if not args.get("channel"):
        return _api_error("channel_not_found")
    if not any(args.get(key) for key in ("text", "blocks", "attachments")):
        return _api_error("no_text")
    return _api_content_problem(args)


def _existing_message_problem(args: dict[str, Any]) -> _Answer | None:
    if not args.get("channel"):
        return _api_error("channel_not_found")
    if not args.get("ts"):
        return _api_error("message_not_found")
    return None


def _api_content_problem(args: dict[str, Any]) -> _Answer | None:
    problem = _content_problem(args.get("text"), args.get("blocks"), MAX_MESSAGE_BLOCKS)
    if problem is None:
        return None
    error, errors = problem
    return _api_error(error, errors=errors) if errors else _api_error(error)


def _content_problem(text: Any, blocks: Any, max_blocks: int) -> tuple[str, list[str]] | None:
    """("msg_too_long", []) or ("invalid_blocks", [details]) if Slack would refuse this content."""
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", []
    errors = block_errors(blocks, max_blocks)
    return ("invalid_blocks", errors) if errors else None


def block_errors(blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Slack-style invalid_blocks details for `blocks` (empty when Slack would accept them)."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        errors += _block_errors(block, f"/blocks/{index}")
    return errors


def _block_errors(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict) or "type" not in block:
        return [f"missing required field: type [json-pointer:{at}]"]
    errors: list[str] = []
    if block["type"] == "section":
        if "text" in block:
            errors += _text_errors(block["text"], f"{at}/text", 3000)
        for index, text in enumerate(block.get("fields") or []):
            errors += _text_errors(text, f"{at}/fields/{index}", 2000)
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{at}/accessory")
    elif block["type"] == "header":
        errors += _text_errors(block.get("text"), f"{at}/text", 150, plain_only=True)
    elif block["type"] == "actions":
        for index, element in enumerate(block.get("elements") or []):
            errors += _element_errors(element, f"{at}/elements/{index}")
    elif block["type"] == "context":
        for index, element in enumerate(block.get("elements") or []):
            if not (isinstance(element, dict) and element.get("type") == "image"):
                errors += _text_errors(element, f"{at}/elements/{index}", 3000)
    return errors


def _element_errors(element: Any, at: str) -> list[str]:
    if not isinstance(element, dict) or "type" not in element:
        return [f"missing required field: type [json-pointer:{at}]"]
    errors: list[str] = []
    action_id = element.get("action_id")
    if isinstance(action_id, str) and len(action_id) > 255:
        errors.append(f"must be less than 256 characters [json-pointer:{at}/action_id]")
    if element["type"] == "button":
        errors += _text_errors(element.get("text"), f"{at}/text", 75, plain_only=True)
        value = element.get("value")
        if isinstance(value, str) and len(value) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{at}/value]")
    return errors


def _text_errors(text: Any, at: str, max_length: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in _TEXT_TYPES:
        return [f"must be a plain_text or mrkdwn text object [json-pointer:{at}]"]
    if plain_only and text["type"] != "plain_text":
        return [f"must be plain_text [json-pointer:{at}/type]"]
    if not isinstance(text.get("text"), str):
        return [f"missing required field: text [json-pointer:{at}]"]
    if len(text["text"]) > max_length:
        return [f"must be less than {max_length + 1} characters [json-pointer:{at}/text]"]
    return []


# -- HTTP plumbing ---------------------------------------------------------------------------


def _bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip() or None
    return None


def _decode_args(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Query string plus form or JSON body, with JSON-text form fields decoded (ValueError if malformed)."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if content_type == "application/json":
        payload = json.loads(body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("a JSON body must be an object")
        args.update(payload)
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for name in _JSON_FORM_FIELDS & args.keys():
        if isinstance(args[name], str):
            try:
                args[name] = json.loads(args[name])
            except ValueError:
                pass  # Slack would reject it; keep the raw text so the test can see it.
    return args


def _describe(call: RecordedCall) -> str:
    args = json.dumps(call.args, default=str)
    if len(args) > 200:
        args = args[:197] + "..."
    return f"{call.kind} {call.method} -> {call.status} {args}"


def _send(http: StandInHandler, answer: _Answer) -> None:
    if isinstance(answer.body, str):
        payload, content_type = answer.body.encode("utf-8"), "text/plain; charset=utf-8"
    else:
        payload, content_type = json.dumps(answer.body).encode("utf-8"), "application/json; charset=utf-8"
    http.send_answer(answer.status, answer.headers, payload, content_type)
