"""Acknowledge first, reply after: Slack waits at most 3 seconds for an ack.

The app runs with `process_before_response=True`, so each listener's ack function runs on the request's
own thread and answers at once, never queued behind other requests' reply work. The reply work runs as a
Bolt lazy listener on a bounded pool. Bolt only logs a failing lazy listener, so `reply_later` catches the
failure itself: it is logged (its type, never the payload) and the person is told, as `app.error` does for
ack functions. A form that could not open because the reply came after its trigger_id expired (3 seconds) is
told as such, for every listener that opens one.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, BoltResponse
from slack_sdk.errors import SlackApiError

from bot.slack import blocks
from bot.slack.client import GuardedRespond, GuardedWebClient
from bot.unicode_safe import scrub

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again."
BUSY = "I'm very busy right now and couldn't take that on. Please try again in a minute."
TOO_LATE_FOR_FORM = "I took longer than Slack allows to open that form, so it didn't open. Please try again."
# What Slack answers views.open when the request's trigger_id is spent (it opens one view, within 3 seconds).
_SPENT_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})
# Arguments `reply_later` asks Bolt for on top of the reply function's own, to tell the person about a failure.
_REPORTING_ARGS = ("respond", "body", "client")
_REQUEST_ARGS = ("body", "payload", "command", "event", "action", "view", "message", "shortcut")


class RepliesBacklogged(RuntimeError):
    """More replies are waiting than the pool may hold; the request is refused rather than queued forever."""


class BoundedExecutor(ThreadPoolExecutor):
    """A thread pool that holds at most `max_pending` jobs (running or queued) and refuses more at once.

    The default bound is about ten seconds of reply work for one process (bench/ack_latency.py measures
    200-270 replies a second on two cores): past that, an honest "busy" now beats an answer that late.
    """

    def __init__(self, max_workers: int = 8, max_pending: int = 2000, thread_name_prefix: str = "reply"):
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.max_pending = max_pending
        self._slots = threading.BoundedSemaphore(max_pending)

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        if not self._slots.acquire(blocking=False):
            raise RepliesBacklogged(f"{self.max_pending} replies already pending")
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future


def ack_now(ack: Ack) -> None:
    ack()


def reply_later(work: Callable[..., None]) -> Callable[..., None]:
    """A Bolt lazy listener running `work` with the arguments it names; failures are logged and reported."""
    own = list(inspect.signature(work).parameters)
    wanted = list(dict.fromkeys([*own, *_REPORTING_ARGS]))

    def run(**kwargs: Any) -> None:
        scrub([kwargs.get(name) for name in _REQUEST_ARGS])  # Bolt parses the request again for lazy listeners
        kwargs = _guarded(kwargs)
        try:
            work(**{name: kwargs[name] for name in own})
        except Exception as error:
            if isinstance(error, SlackApiError) and error.response.get("error") in _SPENT_TRIGGER:
                log.warning("Reply %s was too late to open its form: %s", work.__name__, error.response["error"])
                tell(TOO_LATE_FOR_FORM, kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"))
                return
            log.error("Reply %s failed: %s", work.__name__, type(error).__name__, exc_info=error)
            tell(SORRY, kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client"))

    # Bolt picks the arguments to pass by reading the function's signature.
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in wanted]
    )
    run.__name__ = run.__qualname__ = f"reply_later_{work.__qualname__}"
    return run


def _guarded(arguments: dict[str, Any]) -> dict[str, Any]:
    """The listener's arguments with every way of sending swapped for its guarded twin (`bot.slack.markup`)."""
    if arguments.get("client") is not None:
        arguments["client"] = GuardedWebClient.like(arguments["client"])
    if arguments.get("respond") is not None and not isinstance(arguments["respond"], GuardedRespond):
        arguments["respond"] = GuardedRespond(arguments["respond"])
    return arguments


def tell(text: str, body: dict, respond, client) -> None:
    """Tell the person behind a request something privately, by whatever way this request allows."""
    respond, client = _guarded({"respond": respond, "client": client}).values()
    try:
        if respond is not None and respond.response_url:
            respond(replace_original=False, response_type="ephemeral", **blocks.problem(text))
            return
        user = (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user")
        if client is not None and user:
            client.chat_postMessage(channel=user, **blocks.problem(text))
    except SlackApiError as error:
        log.warning("Could not tell the person about a problem: %s", error.response.get("error"))


def report_error(error: Exception, body: dict, respond, client, logger: logging.Logger) -> BoltResponse | None:
    """`app.error`: an ack function failed, or the reply pool was full (overload: one line, no traceback).

    Refused work is answered so nothing is silently lost: a slash command gets the busy note as its ack,
    a button press through its response_url, and an event keeps its HTTP 500 so that Slack sends it again.
    """
    kind = body.get("command") or body.get("type")
    if not isinstance(error, RepliesBacklogged):
        logger.error("Listener failed on %s: %s", kind, type(error).__name__, exc_info=error)
        tell(SORRY, body, respond, client)
        return None
    logger.warning("Refused %s: %s", kind, error)
    if body.get("type") == "event_callback":
        return None
    if body.get("command"):
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", **blocks.problem(BUSY)}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    tell(BUSY, body, respond, client)
    return BoltResponse(status=200, body="")
