"""HTTP mode: Slack events and OAuth through Bolt's WSGI adapter, a health check, served by gunicorn."""

from __future__ import annotations

import json
import logging
import os
from typing import Callable, Iterable

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def create_wsgi_app(app: App, engine: Engine) -> WsgiApp:
    """`GET /healthz` here; `POST /slack/events`, `/slack/install` and `/slack/oauth_redirect` go to Bolt."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            status, payload = health(engine)
            body = json.dumps(payload).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return wsgi


def health(engine: Engine) -> tuple[str, dict[str, str]]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.error("Health check: database unreachable (%s)", type(exc).__name__)
        return "503 Service Unavailable", {"status": "error", "database": "unreachable"}
    return "200 OK", {"status": "ok", "database": "ok"}


class GunicornServer(BaseApplication):
    """Gunicorn configured in code, each worker building its own app (and so its own connection pool)."""

    def __init__(self, load_app: Callable[[], WsgiApp], options: dict):
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        return self._load_app()


def serve(settings: Settings, load_app: Callable[[], WsgiApp]) -> None:
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    GunicornServer(load_app, {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 8,
        "timeout": 30,
        "accesslog": "-",
        # Query strings can carry OAuth codes and state: log the path only.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    }).run()
