"""HTTP mode: Slack events and OAuth through Bolt's WSGI adapter, a health check, and the chats' public pages
(the calendar, and each chat's archive), served by gunicorn."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from urllib.parse import parse_qs

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import archive
from bot.chats import answers, store, timetable
from bot.chats.calendar import chats_calendar
from bot.config import Settings
from bot.links import Links
from bot.slack.form_request import FormRequestHandler
from bot.slack.manifest import EVENTS_PATH

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


Page = tuple[str, str, bytes]  # status, content type, body
_ARCHIVE = re.compile(r"/chats/(\d{1,12})")


def create_wsgi_app(
    app: App,
    engine: Engine,
    sessions: sessionmaker[Session] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    link: Callable[[str], str | None] = lambda _path: None,
) -> WsgiApp:
    """`GET /healthz`, `/chats.ics` and `/chats/ID` here; `POST /slack/events`, `/slack/install` and
    `/slack/oauth_redirect` go to Bolt."""
    slack = FormRequestHandler(app, path=EVENTS_PATH)
    pages = ChatPages(sessions, clock, link) if sessions is not None and clock is not None else None

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if method in ("GET", "HEAD") and (path == "/healthz" or (pages and pages.serves(path))):
            if path == "/healthz":
                status, payload = health(engine)
                page = (status, "application/json", json.dumps(payload).encode())
            else:
                assert pages is not None
                page = pages.answer(path, parse_qs(environ.get("QUERY_STRING", "")))
            status, content_type, body = page
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [b"" if method == "HEAD" else body]
        return slack(environ, start_response)

    return wsgi


class ChatPages:
    """The public side of chats: a calendar to subscribe to, and each chat's archive (its latest recap)."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime], link: Callable[[str], str | None]
    ):
        self._sessions, self._clock, self._links = sessions, clock, Links(link)

    def serves(self, path: str) -> bool:
        return path == "/chats.ics" or bool(_ARCHIVE.fullmatch(path))

    def answer(self, path: str, query: dict[str, list[str]]) -> Page:
        try:
            if path == "/chats.ics":
                return self._calendar(query)
            found = _ARCHIVE.fullmatch(path)
            assert found is not None
            return self._archive(int(found.group(1)), query)
        except SQLAlchemyError as exc:
            log.error("Chat page %s: database error (%s)", path, type(exc).__name__)
            return _text("503 Service Unavailable", "The database is not answering; try again shortly.")

    def _calendar(self, query: dict[str, list[str]]) -> Page:
        team = query["team"][0] if query.get("team") else None
        now = self._clock()
        with self._sessions() as session:
            chats = store.upcoming(session, now, team, limit=1000)
        body = chats_calendar(chats, link=self._links.archive, now=now)
        return "200 OK", "text/calendar; charset=utf-8", body

    def _archive(self, chat_id: int, query: dict[str, list[str]]) -> Page:
        now = self._clock()
        with self._sessions() as session:
            try:
                chat = store.get_chat(session, chat_id, now)
            except store.ChatNotFound:
                return _text("404 Not Found", f"There is no chat {chat_id}.")
            day = _date((query.get("date") or [""])[0])
            if day is None:
                started = timetable.last_start(chat.spec, now, chat.scheduled_at)
                if started is None:
                    return _text("404 Not Found", f"Chat {chat_id} hasn't run yet; its recap appears here after.")
                day = started.date()
            recap = answers.build_recap(session, chat_id, day)
        return "200 OK", "text/html; charset=utf-8", archive.recap_html(recap).encode()


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(status: str, message: str) -> Page:
    return status, "text/plain; charset=utf-8", message.encode()


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
    GunicornServer(
        load_app,
        {
            "bind": f"0.0.0.0:{settings.port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 8,
            "timeout": 30,
            "accesslog": "-",
            # Query strings can carry OAuth codes and state: log the path only.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        },
    ).run()
