"""Requests shaped like the ones Slack sends, signed the way Slack signs them.

Shapes follow Slack's documentation for slash commands (form-encoded), interactivity
(`payload=` form field holding JSON) and the Events API (JSON `event_callback`).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.slack import manifest

_ids = itertools.count(1)


@dataclass(frozen=True)
class Workspace:
    team_id: str = "T0SANDBOX"
    team_domain: str = "sandbox-school"
    api_app_id: str = "A0PLCHAT"
    channel_id: str = "C0GENERAL"
    channel_name: str = "general"
    user_id: str = "U0TEACHER"
    user_name: str = "teacher"


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox's workspace, as Slack knows them."""

    user_id: str
    name: str  # the handle: what Slack puts after the | of an escaped mention, and what people type after @
    display_name: str
    tz: str  # IANA, as users.info gives it


# The people of the sandbox's workspace: you (the Workspace's user) and a colleague.
SANDBOX_PEOPLE = (
    Person("U0TEACHER", "teacher", "teacher", "America/Los_Angeles"),
    Person("U0ANA", "ana", "Ana", "America/New_York"),
)
COLLEAGUE = SANDBOX_PEOPLE[1]

# The commands whose manifest entry has should_escape: true. For those Slack sends a person picked from the
# @ menu as <@U…|handle>, a channel as <#C…|name> and @here as <!here>; the others get the text as typed.
ESCAPED_COMMANDS = frozenset(command.command for command in manifest.COMMANDS if command.should_escape)
_AT_NAME = re.compile(r"(?<![\w<@])@([A-Za-z0-9][\w.-]*)")
_HASH_NAME = re.compile(r"(?<![\w<#])#([a-z0-9][\w-]*)")
_BROADCASTS = frozenset({"here", "channel", "everyone"})


def escaped_text(text: str, people: Iterable[Person], channels: dict[str, str]) -> tuple[str, list[str]]:
    """`text` as Slack sends it to a command that escapes: each @handle (or @display name) of someone in `people`
    and each #name of one of `channels` (id -> name) as Slack's mention, @here/@channel/@everyone as a broadcast.
    Returns the text and the @names it knows no one by (Slack sends those as typed)."""
    by_name = {key.lower(): person for person in people for key in (person.name, person.display_name)}
    by_channel = {name: channel_id for channel_id, name in channels.items()}
    unknown: list[str] = []

    def person(match: re.Match[str]) -> str:
        typed = match.group(1).rstrip(".")
        rest = match.group(1)[len(typed) :]
        if typed.lower() in _BROADCASTS:
            return f"<!{typed.lower()}>{rest}"
        if found := by_name.get(typed.lower()):
            return f"<@{found.user_id}|{found.name}>{rest}"
        unknown.append(typed)
        return match.group(0)

    def channel(match: re.Match[str]) -> str:
        found = by_channel.get(match.group(1))
        return f"<#{found}|{match.group(1)}>" if found else match.group(0)

    return _HASH_NAME.sub(channel, _AT_NAME.sub(person, text)), unknown


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def sign(body: bytes, secret: str, content_type: str, now: Callable[[], float] = time.time) -> SignedRequest:
    timestamp = str(int(now()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None  # None only without a timestamp or a body
    return SignedRequest(
        body,
        {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        },
    )


def slash_command(
    ws: Workspace, command: str, text: str, response_url: str, *, trigger_id: str | None = None
) -> tuple[bytes, str]:
    form = {
        "token": "verification-token-unused",
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": ws.channel_id,
        "channel_name": ws.channel_name,
        "user_id": ws.user_id,
        "user_name": ws.user_name,
        "command": command,
        "text": text,
        "api_app_id": ws.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    # A lone surrogate goes as the invalid UTF-8 bytes a hostile client could send
    return urlencode(form, errors="surrogatepass").encode(), "application/x-www-form-urlencoded"


def block_action(
    ws: Workspace,
    action: dict[str, Any],
    *,
    response_url: str | None,
    message_ts: str | None = None,
    view_id: str | None = None,
    trigger_id: str | None = None,
) -> tuple[bytes, str]:
    """A button press, on an ephemeral message (response_url) or on a view such as App Home."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ws.user_id, "username": ws.user_name, "name": ws.user_name, "team_id": ws.team_id},
        "api_app_id": ws.api_app_id,
        "token": "verification-token-unused",
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [{**action, "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
    if view_id:
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "type": "home", "team_id": ws.team_id}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts or "0",
            "channel_id": ws.channel_id,
            "is_ephemeral": True,
        }
        payload["channel"] = {"id": ws.channel_id, "name": ws.channel_name}
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def view_action(
    ws: Workspace, view: dict[str, Any], values: dict[str, Any], action: dict[str, Any]
) -> tuple[bytes, str]:
    """An element with `dispatch_action` in a modal (Enter pressed in a text input): Slack sends the view as it
    stands, its typed values in `view.state`, and no response_url."""
    shown = {
        **view,
        "id": view.get("id") or f"V{next(_ids):08d}",
        "team_id": ws.team_id,
        "type": "modal",
        "state": {"values": values},
        "hash": view.get("hash") or f"{int(time.time())}.sandbox",
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ws.user_id, "username": ws.user_name, "name": ws.user_name, "team_id": ws.team_id},
        "api_app_id": ws.api_app_id,
        "token": "verification-token-unused",
        "trigger_id": _trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "container": {"type": "view", "view_id": shown["id"]},
        "view": shown,
        "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def _interaction(ws: Workspace, kind: str, **fields: Any) -> tuple[bytes, str]:
    payload = {
        "type": kind,
        "token": "verification-token-unused",
        "trigger_id": _trigger_id(),
        "user": {"id": ws.user_id, "username": ws.user_name, "name": ws.user_name, "team_id": ws.team_id},
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "api_app_id": ws.api_app_id,
        "enterprise": None,
        "is_enterprise_install": False,
        **fields,
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def message_action(
    ws: Workspace, callback_id: str, message: dict[str, Any], response_url: str, *, trigger_id: str | None = None
) -> tuple[bytes, str]:
    """A message shortcut ("Save as tip") chosen on `message` in the workspace's channel."""
    return _interaction(
        ws,
        "message_action",
        callback_id=callback_id,
        action_ts=f"{time.time():.6f}",
        message_ts=message["ts"],
        message=message,
        response_url=response_url,
        channel={"id": ws.channel_id, "name": ws.channel_name},
        **({"trigger_id": trigger_id} if trigger_id else {}),
    )


def global_shortcut(ws: Workspace, callback_id: str, *, trigger_id: str | None = None) -> tuple[bytes, str]:
    """A global shortcut ("Share a tip") from the lightning-bolt menu: no channel, no response_url."""
    return _interaction(
        ws,
        "shortcut",
        callback_id=callback_id,
        action_ts=f"{time.time():.6f}",
        **({"trigger_id": trigger_id} if trigger_id else {}),
    )


def view_submission(ws: Workspace, view: dict[str, Any], values: dict[str, Any]) -> tuple[bytes, str]:
    """The person pressed Submit on a modal the bot opened, with `values` as Slack's view.state.values."""
    submitted = {
        **view,
        "id": view.get("id") or f"V{next(_ids):08d}",
        "team_id": ws.team_id,
        "type": "modal",
        "state": {"values": values},
        "hash": view.get("hash") or f"{int(time.time())}.sandbox",
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
    }
    return _interaction(ws, "view_submission", view=submitted, response_urls=[])


def reaction_added(ws: Workspace, reaction: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": ws.user_id,
        "reaction": reaction,
        "item_user": message.get("user"),
        "item": {"type": "message", "channel": ws.channel_id, "ts": message["ts"]},
    }


def app_uninstalled() -> dict[str, Any]:
    return {"type": "app_uninstalled"}


def event_callback(ws: Workspace, event: dict[str, Any], bot_user_id: str = "U0PLCHATBOT") -> tuple[bytes, str]:
    envelope = {
        "token": "verification-token-unused",
        "team_id": ws.team_id,
        "api_app_id": ws.api_app_id,
        "event": {**event, "event_ts": f"{time.time():.6f}"},
        "type": "event_callback",
        "event_id": f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode(), "application/json"


def app_home_opened(ws: Workspace) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": ws.user_id, "channel": "D0HOME", "tab": "home"}


def _trigger_id() -> str:
    return f"{next(_ids)}.{int(time.time())}.sandbox"


def field_name(block: dict[str, Any]) -> str:
    """An input's field name: its block id, up to a `~` (forms that redraw add `~version`)."""
    return str(block.get("block_id", "")).split("~", 1)[0]


def form_fields(view: dict[str, Any]) -> list[str]:
    """The names of a form's inputs, in order."""
    return [field_name(block) for block in view.get("blocks") or [] if block.get("type") == "input"]


def form_elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each input's element, by field name."""
    return {
        field_name(block): block.get("element") or {}
        for block in view.get("blocks") or []
        if block.get("type") == "input"
    }


def enter_fields(view: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The inputs that act when Enter is pressed in them (`dispatch_action`), by field name: (block, element).
    Slack sends a block_actions payload on Enter; a submitted form carries what they hold, which no listener reads."""
    return {
        field_name(block): (block, block.get("element") or {})
        for block in view.get("blocks") or []
        if block.get("type") == "input" and block.get("dispatch_action")
    }


def option_value(element: dict[str, Any], typed: str) -> str | None:
    """The value of the option `typed` names (its value, or its label, in any case), or None when it names none
    of the element's options."""
    for option in element.get("options") or []:
        label = (option.get("text") or {}).get("text", "")
        if typed == option.get("value") or typed.casefold() in (str(option.get("value")).casefold(), label.casefold()):
            return str(option.get("value"))
    return None


def form_state(view: dict[str, Any], /, *, current_channel: str | None = None, **changes: Any) -> dict[str, Any]:
    """A form's `view.state.values` as Slack sends them when it is submitted: each input as the form shows it,
    with `changes` typed over, by field name (a block id up to its `~`). A change is the text, option value, date
    or time; for checkboxes and channel pickers a list or a comma-separated string. A channel picker that
    defaults to the current conversation holds `current_channel` (the one the form was opened from)."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element, name = block["element"], field_name(block)
        kind, changed = element["type"], name in changes
        typed = changes.get(name)
        listed = [part.strip() for part in typed.split(",") if part.strip()] if isinstance(typed, str) else typed

        def option(value: str, element: dict[str, Any] = element) -> dict[str, Any]:
            known = [o for o in element.get("options") or [] if o.get("value") == value]
            return known[0] if known else {"text": {"type": "plain_text", "text": value}, "value": value}

        if kind == "plain_text_input":
            state = {"value": typed if changed else element.get("initial_value")}
        elif kind in ("static_select", "radio_buttons"):
            state = {
                "selected_option": option(typed)
                if changed and typed
                else None
                if changed
                else element.get("initial_option")
            }
        elif kind == "checkboxes":
            state = {
                "selected_options": [option(v) for v in listed or []] if changed else element.get("initial_options", [])
            }
        elif kind == "datepicker":
            state = {"selected_date": typed if changed else element.get("initial_date")}
        elif kind == "timepicker":
            state = {"selected_time": typed if changed else element.get("initial_time")}
        elif kind == "multi_conversations_select":
            shown = element.get("initial_conversations") or (
                [current_channel] if current_channel and element.get("default_to_current_conversation") else []
            )
            state = {"selected_conversations": list(listed or []) if changed else shown}
        else:
            raise ValueError(f"form_state knows no {kind} element")
        values[block["block_id"]] = {element["action_id"]: {"type": kind, **state}}
    return values
