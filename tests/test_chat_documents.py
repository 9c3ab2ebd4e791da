"""Documents made from chats: the iCalendar feed and the public archive (Markdown and HTML)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from itertools import groupby
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.archive import recap_html, recap_markdown
from bot.chats.calendar import chats_calendar
from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import ChatSpec, Question, ScheduledChat

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
LA = ZoneInfo("America/Los_Angeles")


def spec(**changes: object) -> ChatSpec:
    values: dict = {
        "title": "Feedback that moves learning",
        "hashtag": "PLChat",
        "starts": datetime(2026, 12, 1, 17, 0),
        "timezone": "America/Los_Angeles",
        "duration": 60,
        "repeat": "weekly",
        "until": date(2027, 6, 1),
        "skip": (date(2026, 12, 22), date(2026, 12, 29)),
        "slack_channels": ("C0PLCHAT",),
        "post_to_x": True,
        "reminders": (timedelta(hours=24), timedelta(hours=1)),
        "questions": (
            Question(5, "How do your students give each other feedback?"),
            Question(15, "Which tool made feedback faster this year?"),
        ),
    }
    values.update(changes)
    return ChatSpec(**values)


def chat(chat_id: int = 1, *, cancelled: bool = False, **changes: object) -> ScheduledChat:
    return ScheduledChat(chat_id, "T1", spec(**changes), cancelled, None)


def events(ics: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


# --- calendar ----------------------------------------------------------------------------------------


def test_the_calendar_parses_back_with_its_headers() -> None:
    ics = chats_calendar([chat()], now=NOW)
    assert isinstance(ics, bytes) and ics.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = icalendar.Calendar.from_ical(ics)
    assert calendar["VERSION"] == "2.0"
    assert "PLChat" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "PLChat chats"


def test_a_weekly_chat_is_one_recurring_event_in_its_timezone() -> None:
    ics = chats_calendar([chat(7)], link=lambda chat_id: f"https://plchat.example/chats/{chat_id}", now=NOW)
    (event,) = events(ics)
    assert str(event["UID"]) == "chat-7@plchat"
    assert event.decoded("DTSTAMP") == NOW
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 17, 0, tzinfo=LA)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 18, 0, tzinfo=LA)
    assert str(event["SUMMARY"]) == "#PLChat: Feedback that moves learning"
    description = str(event["DESCRIPTION"])
    assert "Q1 (5 min in): How do your students give each other feedback?" in description
    assert "Q2 (15 min in): Which tool made feedback faster this year?" in description
    assert str(event["URL"]) == "https://plchat.example/chats/7"

    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    # The end of 2027-06-01 in Los Angeles (PDT, UTC-7), in UTC as RFC 5545 requires with a TZID start.
    assert rule["UNTIL"] == [datetime(2027, 6, 2, 6, 59, 59, tzinfo=UTC)]
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20270602T065959Z" in ics


def test_skipped_dates_are_exdates_at_the_start_time_with_the_tzid() -> None:
    ics = chats_calendar([chat()], now=NOW)
    (event,) = events(ics)
    exdates = event["EXDATE"]
    exdates = exdates if isinstance(exdates, list) else [exdates]
    moments = [moment.dt for group in exdates for moment in group.dts]
    assert moments == [datetime(2026, 12, 22, 17, 0, tzinfo=LA), datetime(2026, 12, 29, 17, 0, tzinfo=LA)]
    assert b"EXDATE;TZID=America/Los_Angeles:20261222T170000,20261229T170000" in ics


def test_the_timezones_used_are_defined() -> None:
    ics = chats_calendar(
        [chat(1), chat(2, timezone="Europe/London", starts=datetime(2027, 1, 5, 19, 0), skip=(), until=None)], now=NOW
    )
    calendar = icalendar.Calendar.from_ical(ics)
    defined = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    assert defined == {"America/Los_Angeles", "Europe/London"}
    assert calendar.get_missing_tzids() == set()
    london = next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == "chat-2@plchat")
    assert london["RRULE"].get("UNTIL") is None  # weekly without an end
    assert "EXDATE" not in london
    assert london["DTSTART"].params["TZID"] == "Europe/London"


def test_a_cancelled_chat_is_left_out() -> None:
    ics = chats_calendar([chat(1, cancelled=True), chat(2)], now=NOW)
    assert [str(event["UID"]) for event in events(ics)] == ["chat-2@plchat"]
    assert b"chat-1@plchat" not in ics


def test_a_one_off_chat_has_no_rule() -> None:
    ics = chats_calendar([chat(3, repeat="none", until=None, skip=())], now=NOW)
    (event,) = events(ics)
    assert "RRULE" not in event and "EXDATE" not in event and "URL" not in event
    # A one-off chat whose only date is skipped does not happen.
    skipped = chats_calendar([chat(4, repeat="none", until=None, skip=(date(2026, 12, 1),))], now=NOW)
    assert events(skipped) == []


def test_the_end_is_measured_in_real_minutes_across_a_clock_change() -> None:
    ics = chats_calendar([chat(5, starts=datetime(2026, 11, 1, 1, 30), repeat="none", until=None, skip=())], now=NOW)
    (event,) = events(ics)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=60)


def test_user_text_is_escaped_in_the_calendar() -> None:
    ics = chats_calendar([chat(6, title="Commas, semicolons; and\nnewlines")], now=NOW)
    (event,) = events(ics)
    assert str(event["SUMMARY"]) == "#PLChat: Commas, semicolons; and\nnewlines"
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))


def test_an_empty_calendar_is_still_a_calendar() -> None:
    calendar = icalendar.Calendar.from_ical(chats_calendar([], now=NOW))
    assert calendar.name == "VCALENDAR" and list(calendar.walk("VEVENT")) == []


# --- archive -----------------------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script> [x](http://evil) ![img](http://evil/i.png) & more"


def recap(**changes: object) -> Recap:
    values: dict = {
        "chat_id": 1,
        "title": "Feedback that moves learning",
        "hashtag": "PLChat",
        "starts": datetime(2026, 12, 1, 17, 0, tzinfo=LA),
        "questions": (
            RecapQuestion(
                1,
                "How do your students give each other feedback?",
                (
                    RecapAnswer("Peer review with a rubric.", "U0ANN", "slack", 4, "https://slack.com/archives/C1/p1"),
                    RecapAnswer("Two stars and a wish.", "@teacher_bob", "x", 1, "https://x.com/teacher_bob/status/1"),
                ),
                5,
            ),
            RecapQuestion(2, "Which tool made feedback faster this year?", (), 0),
        ),
        "participants": 12,
        "first_timers": 3,
    }
    values.update(changes)
    return Recap(**values)


def hostile_recap() -> Recap:
    return recap(
        title=HOSTILE,
        questions=(
            RecapQuestion(
                1,
                HOSTILE,
                (
                    RecapAnswer(HOSTILE + "\n# Heading\n---", "U0EVE", "slack", 2, "javascript:alert(1)"),
                    RecapAnswer("ok", "U0ANN", "slack", 0, 'https://ok.example/"><script>x</script>'),
                ),
                2,
            ),
        ),
    )


def test_markdown_archive_has_the_chat_and_its_answers() -> None:
    text = recap_markdown(recap(), names={"U0ANN": "Ann Lee"})
    assert text.startswith("# Feedback that moves learning\n")
    assert "**#PLChat** · " in text
    assert "Tuesday, December 1, 2026, 5:00 PM PST" in text
    assert "12 participants, 3 first-timers" in text
    assert "## Q1: How do your students give each other feedback?" in text
    assert "Ann Lee · 4 found this helpful · [link](<https://slack.com/archives/C1/p1>)" in text
    assert "@teacher\\_bob on X" in text
    assert "## Q2: Which tool made feedback faster this year?\n\n_No answers yet_" in text
    assert "most helpful of 5 answers" in text


def test_slack_authors_are_anonymous_without_names() -> None:
    assert "a Slack member · 4 found this helpful" in recap_markdown(recap())
    assert "U0ANN" not in recap_markdown(recap())
    assert "U0ANN" not in recap_html(recap())


def test_markdown_escapes_user_text() -> None:
    text = recap_markdown(hostile_recap())
    assert not re.search(r"(?<!\\)<script>", text)
    assert "[x](http://evil)" not in text and not re.search(r"(?<!\\)\]\(http", text)
    assert "![img]" not in text
    assert "\\[x\\](http" in text
    assert "javascript:" not in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert len(headings) == 2 and headings[0].startswith("# ") and headings[1].startswith("## Q1: ")
    assert not any(line.strip() == "---" for line in text.splitlines())
    # The only links are the ones the archive itself makes: [link](<...>) with http(s) and nothing raw in them.
    assert re.findall(r"(?<!\\)\[[^\]\\]*\]\(", text) == ["[link]("]
    assert "https://ok.example/%22%3E%3Cscript%3Ex%3C/script%3E" in text


def test_markdown_escapes_only_what_would_be_markup() -> None:
    text = recap_markdown(
        recap(
            title="Welcome! Q&A (and more): 1.5 hours, 100% #PLChat",
            questions=(RecapQuestion(1, "What's new? A+B = C", (), 0),),
        )
    )
    assert text.startswith("# Welcome! Q&A (and more): 1.5 hours, 100% #PLChat\n")
    assert "\n**#PLChat** · " in text and "## Q1: What's new? A+B = C\n" in text
    assert "\\" not in text


def rendered_text(children: list) -> str:
    """The text of inline tokens that must all be plain text (no emphasis, link, code, HTML or entity)."""
    assert all(token.type == "text" for token in children), [token.type for token in children]
    return "".join(token.content for token in children)


MARKDOWN_TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(list("#>+-=*_`[]()<>!&;:.)\\~|x12 \n\t"))))


@settings(max_examples=300, deadline=None)
@given(MARKDOWN_TEXT.filter(lambda text: text.split()))
def test_any_text_renders_as_exactly_that_text(text: str) -> None:
    """Rendered by a CommonMark parser, whatever someone wrote reads back as they wrote it (on one line), in a
    heading, a question and a list item alike, and makes no markup and no other block."""
    plain = " ".join(text.replace("\x00", "\ufffd").split())
    document = recap_markdown(
        recap(title=text, questions=(RecapQuestion(1, text, (RecapAnswer(text, "U0ANN", "slack", 0, None),), 1),))
    )
    tokens = MarkdownIt("commonmark").parse(document)
    inline = [token for token in tokens if token.type == "inline"]
    assert [token.type for token in tokens if token.type.endswith("_open")] == [
        "heading_open",
        "paragraph_open",
        "paragraph_open",
        "heading_open",
        "ordered_list_open",
        "list_item_open",
        "paragraph_open",
    ]
    assert rendered_text(inline[0].children) == plain
    assert rendered_text(inline[3].children) == f"Q1: {plain}"
    answer, *_byline = [
        list(group) for is_break, group in groupby(inline[4].children, key=lambda token: token.type == "hardbreak")
    ]
    assert rendered_text(answer) == plain


def test_html_archive_is_a_standalone_page() -> None:
    page = recap_html(recap(), names={"U0ANN": "Ann Lee"})
    assert page.lower().startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert '<meta charset="utf-8">' in page
    assert 'name="viewport"' in page
    assert "<style>" in page
    assert "<title>#PLChat: Feedback that moves learning</title>" in page
    assert "12 participants, 3 first-timers" in page
    assert "Q1: How do your students give each other feedback?" in page
    assert "Ann Lee" in page and "4 found this helpful" in page
    assert 'href="https://slack.com/archives/C1/p1"' in page
    assert "No answers yet" in page
    assert_well_formed(page)


def test_html_escapes_user_text() -> None:
    page = recap_html(hostile_recap(), names={"U0EVE": "<b>Eve</b>"})
    assert "<script>" not in page and "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert "&lt;b&gt;Eve&lt;/b&gt;" in page
    assert 'href="http://evil' not in page and "javascript:" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs == ["https://ok.example/%22%3E%3Cscript%3Ex%3C/script%3E"]
    assert_well_formed(page)
    collector = TextCollector()
    collector.feed(page)
    assert HOSTILE in collector.text  # the reader sees exactly what was written, as text


class TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


VOID = {"meta", "br", "link", "img", "hr", "input"}


class TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.errors: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()


def assert_well_formed(page: str) -> None:
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.doctype
    assert checker.errors == []
    assert checker.stack == []
    assert "script" not in checker.seen
    assert checker.seen[:3] == ["html", "head", "meta"]
    assert {"title", "style", "body", "main", "h1", "h2"} <= set(checker.seen)
