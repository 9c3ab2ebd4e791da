"""Slack's HTTP requests read as Slack sent them.

Bolt takes any form-encoded body with the word "payload" anywhere in it for an interactivity payload (it tests
`"payload" in body`), finds no `payload` field and reads an empty request, which goes unanswered: a teacher's
`/tips payload`, or any command from a channel called #payload-team. `FormRequest` reads such a body as the
form it is, and so does its copy for the lazy listeners. Socket Mode sends JSON and never meets this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context.context import BoltContext
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse


class FormRequest(BoltRequest):
    def __init__(self, **fields: Any):
        super().__init__(**fields)
        if self.mode != "http" or "payload" not in self.raw_body or self.raw_body.startswith("{"):
            return
        form = dict(parse_qsl(self.raw_body, keep_blank_values=True))
        if "payload" not in form:  # Bolt read this form as an (empty) interactivity payload
            self.body = form
            self.context = build_context(BoltContext(dict(fields.get("context") or {})), form)

    def to_copyable(self) -> FormRequest:
        return FormRequest(
            body=self.raw_body if self.mode == "http" else self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


class FormRequestHandler(SlackRequestHandler):
    """Bolt's WSGI handler, reading requests with `FormRequest`."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        return self.app.dispatch(
            FormRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        )
