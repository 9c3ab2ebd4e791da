"""The chats' public pages, by calling the production WSGI app with a WSGI environ: the calendar feed
(`/chats.ics`), each chat's archive (`/chats/ID`), on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from conftest import FIXED_NOW, new_team
from slack_bolt import App

from bot.bootstrap import Database
from bot.chats import answers, store
from bot.chats.answers import QuestionRef
from bot.chats.definition import parse_chat_fields
from bot.chats.spec import ChatSpec, ScheduledChat
from bot.db import transaction
from bot.tips.records import NewTip
from bot.web import WsgiApp, create_wsgi_app

TZ = "America/Los_Angeles"
LA = ZoneInfo(TZ)
SITE = "https://plchat.example/"
HOSTILE = '<script>alert("x")</script> & <a href="https://evil.example">win</a>'


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, dict(headers), body

    @property
    def code(self) -> int:
        return int(self.status.split()[0])


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(FIXED_NOW)


@pytest.fixture
def web(database: Database, clock: Clock) -> WsgiApp:
    app = App(token="xoxb-test", signing_secret="not-used", token_verification_enabled=False)
    return create_wsgi_app(app, database.engine, database.sessions, clock=clock, link=lambda path: SITE + path)


def call(web: WsgiApp, path: str, method: str = "GET", query: str = "") -> Response:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "plchat.example",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": "0",
    }
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = b"".join(web(environ, lambda status, headers, exc_info=None: started.append((status, headers))))
    [(status, headers)] = started
    return Response(status, headers, body)


def chat_spec(title: str = "Feedback that moves learning", **fields: object) -> ChatSpec:
    return parse_chat_fields(
        {
            "title": title,
            "hashtag": "PLChat",
            "starts": "2026-12-01 17:00",
            "timezone": TZ,
            "duration": 60,
            "repeat": "weekly",
            "until": "2027-06-01",
            "skip": ["2026-12-22", "2026-12-29"],
            "slack_channels": ["C0PLCHAT"],
            "post_to_x": True,
            "questions": [
                {"at": 5, "text": "How do your students give each other feedback?"},
                {"at": 20, "text": "Which tool made feedback faster this year?"},
            ],
            **fields,
        },
        default_timezone=TZ,
    )


def create(database: Database, team: str, spec: ChatSpec) -> ScheduledChat:
    with transaction(database.sessions) as session:
        return store.create_chat(session, team, spec, "U0MOD", FIXED_NOW)


def events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


# -- the calendar ----------------------------------------------------------------------------------------------


def test_calendar_has_one_event_per_upcoming_chat_with_its_rule(web: WsgiApp, database: Database, team: str) -> None:
    weekly = create(database, team, chat_spec())
    once = create(
        database,
        team,
        chat_spec("A one-off", repeat="none", until=None, skip=[], starts="2026-12-03 09:30", timezone="Europe/London"),
    )
    cancelled = create(database, team, chat_spec("Called off"))
    with transaction(database.sessions) as session:
        store.cancel_chat(session, cancelled.id, FIXED_NOW)
    create(database, new_team(), chat_spec("Another workspace"))

    response = call(web, "/chats.ics", query=f"team={team}")

    assert response.code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    assert int(response.headers["Content-Length"]) == len(response.body)
    found = events(response.body)
    assert set(found) == {f"chat-{weekly.id}@plchat", f"chat-{once.id}@plchat"}
    event = found[f"chat-{weekly.id}@plchat"]
    assert str(event["summary"]) == "#PLChat: Feedback that moves learning"
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 17, 0, tzinfo=LA)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=60)
    assert event["dtstart"].params["TZID"] == TZ
    rule = event["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["UNTIL"][0].date() in (date(2027, 6, 1), date(2027, 6, 2))
    skipped = {moment.dt for moment in event["exdate"].dts}
    assert skipped == {datetime(2026, 12, 22, 17, 0, tzinfo=LA), datetime(2026, 12, 29, 17, 0, tzinfo=LA)}
    assert str(event["url"]) == f"{SITE}chats/{weekly.id}"
    assert "Q2 (20 min in): Which tool made feedback faster this year?" in str(event["description"])
    single = found[f"chat-{once.id}@plchat"]
    assert "rrule" not in single and single.decoded("dtstart") == datetime(
        2026, 12, 3, 9, 30, tzinfo=ZoneInfo("Europe/London")
    )
    zones = {str(zone["tzid"]) for zone in icalendar.Calendar.from_ical(response.body).walk("VTIMEZONE")}
    assert {TZ, "Europe/London"} <= zones


def test_calendar_without_a_team_lists_every_workspace(web: WsgiApp, database: Database) -> None:
    first, second = create(database, new_team(), chat_spec("One")), create(database, new_team(), chat_spec("Two"))

    found = events(call(web, "/chats.ics").body)

    assert {f"chat-{first.id}@plchat", f"chat-{second.id}@plchat"} <= set(found)


def test_calendar_leaves_out_chats_that_are_over(web: WsgiApp, database: Database, clock: Clock, team: str) -> None:
    chat = create(database, team, chat_spec("Ends soon", until="2026-12-08", skip=[]))
    assert f"chat-{chat.id}@plchat" in events(call(web, "/chats.ics", query=f"team={team}").body)

    clock.now = datetime(2026, 12, 9, 2, 1, tzinfo=UTC)  # the last one ended at 02:00 UTC
    later = call(web, "/chats.ics", query=f"team={team}")

    assert later.code == 200 and events(later.body) == {}
    assert icalendar.Calendar.from_ical(later.body)["X-WR-CALNAME"] == "PLChat chats"


def test_calendar_escapes_hostile_titles_as_ical_text(web: WsgiApp, database: Database, team: str) -> None:
    chat = create(database, team, chat_spec("Commas, semicolons; and\\backslashes"))

    response = call(web, "/chats.ics", query=f"team={team}")

    event = events(response.body)[f"chat-{chat.id}@plchat"]
    assert str(event["summary"]) == "#PLChat: Commas, semicolons; and\\backslashes"
    assert b"Commas\\, semicolons\\; and\\\\backslashes" in response.body


# -- the archive -----------------------------------------------------------------------------------------------


def seed_answers(database: Database, team: str, chat_id: int, day: date) -> None:
    with transaction(database.sessions) as session:
        for number, (user, text) in enumerate([("U0ANA", HOSTILE), ("U0BEN", "Two stars and a wish")], 1):
            tip = NewTip(
                team,
                user,
                user,
                text,
                "chat",
                source_ref=f"C0PLCHAT:17000000{number}.000100",
                permalink="javascript:alert(1)" if number == 1 else "https://x.slack.com/p1",
            )
            answers.save_answer(session, QuestionRef(chat_id, team, day, number), tip, user, FIXED_NOW)


def test_archive_shows_the_latest_occurrence_with_answers_escaped(
    web: WsgiApp, database: Database, clock: Clock, team: str
) -> None:
    chat = create(database, team, chat_spec())
    seed_answers(database, team, chat.id, date(2026, 12, 1))
    clock.now = datetime(2026, 12, 10, tzinfo=UTC)  # Dec 8's chat has run since: it has no answers
    assert b"Two stars" not in call(web, f"/chats/{chat.id}").body

    clock.now = datetime(2026, 12, 3, tzinfo=UTC)
    response = call(web, f"/chats/{chat.id}")

    assert response.code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.body.decode()
    assert page.startswith("<!doctype html>") and "<h1>Feedback that moves learning</h1>" in page
    assert "Tuesday, December 1, 2026, 5:00 PM PST" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;a href=&quot;https://evil.example" in page
    assert "<script" not in page and '<a href="https://evil' not in page and "javascript:" not in page
    assert "Two stars and a wish" in page and 'href="https://x.slack.com/p1"' in page
    assert "2 participants" in page


def test_archive_of_a_given_date(web: WsgiApp, database: Database, clock: Clock, team: str) -> None:
    chat = create(database, team, chat_spec())
    seed_answers(database, team, chat.id, date(2026, 12, 1))
    clock.now = datetime(2026, 12, 20, tzinfo=UTC)

    response = call(web, f"/chats/{chat.id}", query="date=2026-12-01")
    latest = call(web, f"/chats/{chat.id}", query="date=not-a-date")

    assert response.code == 200 and b"Two stars and a wish" in response.body
    assert latest.code == 200 and b"Two stars" not in latest.body and b"December 15, 2026" in latest.body


def test_archive_of_an_unknown_chat_is_404(web: WsgiApp) -> None:
    response = call(web, "/chats/987654321")

    assert response.code == 404 and response.headers["Content-Type"].startswith("text/plain")
    assert response.body == b"There is no chat 987654321."


def test_archive_of_a_chat_that_has_not_run_yet_is_404_with_a_message(
    web: WsgiApp, database: Database, team: str
) -> None:
    chat = create(database, team, chat_spec())

    response = call(web, f"/chats/{chat.id}")

    assert response.code == 404
    assert response.body.decode() == f"Chat {chat.id} hasn't run yet; its recap appears here after."


def test_a_date_before_the_chat_was_scheduled_never_ran_so_the_archive_does_not_show_it(
    web: WsgiApp, database: Database, clock: Clock, team: str
) -> None:
    with transaction(database.sessions) as session:  # scheduled on Dec 3 from a file whose `starts` is Dec 1
        chat = store.create_chat(session, team, chat_spec(), "U0MOD", datetime(2026, 12, 3, tzinfo=UTC))
    clock.now = datetime(2026, 12, 5, tzinfo=UTC)

    response = call(web, f"/chats/{chat.id}")

    assert response.code == 404
    assert response.body.decode() == f"Chat {chat.id} hasn't run yet; its recap appears here after."


@pytest.mark.parametrize("path", ["/chats/", "/chats/abc", "/chats/1/extra", "/chats.ics/x"])
def test_other_chat_paths_are_not_pages(web: WsgiApp, path: str) -> None:
    response = call(web, path)

    assert response.code == 404 and b"hasn't run" not in response.body and b"There is no chat" not in response.body


# -- HEAD and the health check ---------------------------------------------------------------------------------


def test_head_answers_like_get_without_a_body(web: WsgiApp, database: Database, clock: Clock, team: str) -> None:
    chat = create(database, team, chat_spec())
    clock.now = datetime(2026, 12, 3, tzinfo=UTC)
    for path, query in ((f"/chats/{chat.id}", ""), ("/chats.ics", f"team={team}"), ("/chats/987654321", "")):
        got, head = call(web, path, query=query), call(web, path, "HEAD", query)
        assert head.status == got.status and head.body == b""
        assert head.headers["Content-Type"] == got.headers["Content-Type"]
        assert head.headers["Content-Length"] == str(len(got.body)) != "0"


def test_healthz_is_unaffected(web: WsgiApp) -> None:
    response = call(web, "/healthz")

    assert response.code == 200 and response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == {"status": "ok", "database": "ok"}


def test_without_sessions_and_clock_there_are_no_chat_pages(database: Database) -> None:
    app = App(token="xoxb-test", signing_secret="not-used", token_verification_enabled=False)
    bare = create_wsgi_app(app, database.engine)

    assert call(bare, "/healthz").code == 200
    assert call(bare, "/chats.ics").code == 404
