"""Requests shaped like the ones Slack sends, signed the way Slack signs them.

Shapes follow Slack's documentation for slash commands (form-encoded), interactivity
(`payload=` form field holding JSON) and the Events API (JSON `event_callback`).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

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
class SignedRequest:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def sign(body: bytes, secret: str, content_type: str, now: Callable[[], float] = time.time) -> SignedRequest:
    timestamp = str(int(now()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return SignedRequest(body, {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    })


def slash_command(ws: Workspace, command: str, text: str, response_url: str) -> tuple[bytes, str]:
    form = {
        "token": "verification-token-unused", "team_id": ws.team_id, "team_domain": ws.team_domain,
        "channel_id": ws.channel_id, "channel_name": ws.channel_name, "user_id": ws.user_id,
        "user_name": ws.user_name, "command": command, "text": text, "api_app_id": ws.api_app_id,
        "is_enterprise_install": "false", "response_url": response_url, "trigger_id": _trigger_id(),
    }
    return urlencode(form).encode(), "application/x-www-form-urlencoded"


def block_action(ws: Workspace, action: dict[str, Any], *, response_url: str | None,
                 message_ts: str | None = None, view_id: str | None = None) -> tuple[bytes, str]:
    """A button press, on an ephemeral message (response_url) or on a view such as App Home."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ws.user_id, "username": ws.user_name, "name": ws.user_name, "team_id": ws.team_id},
        "api_app_id": ws.api_app_id, "token": "verification-token-unused", "trigger_id": _trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain}, "enterprise": None, "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [{**action, "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
    if view_id:
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "type": "home", "team_id": ws.team_id}
    else:
        payload["container"] = {"type": "message", "message_ts": message_ts or "0", "channel_id": ws.channel_id,
                                "is_ephemeral": True}
        payload["channel"] = {"id": ws.channel_id, "name": ws.channel_name}
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def event_callback(ws: Workspace, event: dict[str, Any], bot_user_id: str = "U0PLCHATBOT") -> tuple[bytes, str]:
    envelope = {
        "token": "verification-token-unused", "team_id": ws.team_id, "api_app_id": ws.api_app_id,
        "event": {**event, "event_ts": f"{time.time():.6f}"}, "type": "event_callback",
        "event_id": f"Ev{next(_ids):08d}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": ws.team_id, "user_id": bot_user_id,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode(), "application/json"


def app_home_opened(ws: Workspace) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": ws.user_id, "channel": "D0HOME", "tab": "home"}


def _trigger_id() -> str:
    return f"{next(_ids)}.{int(time.time())}.sandbox"
