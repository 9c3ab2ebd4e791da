"""Block Kit for weekly digests: escaping, Slack's limits, one-click Unsubscribe, Slack date tokens, settings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from slack_helpers import shown_text

from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import ChatSpec, Question, ScheduledChat
from bot.digests.records import Digest, DigestTip, Subscription
from bot.plays import Play
from bot.sandbox.payloads import form_state
from bot.sandbox.slack_api import MAX_VIEW_BLOCKS, block_errors
from bot.slack import digest_blocks as db
from bot.slack.markup import guard

HOSTILE = "<!channel> @here <https://evil|x> *bold*"
NEXT_SEND = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
CHAT_START = datetime(2026, 12, 9, 19, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def make_subscription(**changes: Any) -> Subscription:
    fields: dict[str, Any] = {
        "id": 17,
        "team_id": "T1",
        "user_id": "U0ANA",
        "channel": "U0ANA",
        "weekday": 0,
        "send_time": time(7, 0),
        "timezone": "Europe/Berlin",
        "quiet_weeks": "note",
        "active": True,
        "paused": False,
        "reason": "",
        "next_send": NEXT_SEND,
    }
    fields.update(changes)
    return Subscription(**fields)


def make_chat(
    chat_id: int = 3, title: str = "Station rotation", hashtag: str = "PLChat", start: datetime = CHAT_START
) -> ScheduledChat:
    spec = ChatSpec(
        title=title,
        hashtag=hashtag,
        starts=datetime(2026, 12, 9, 11, 0),
        timezone="America/Los_Angeles",
        duration=60,
        repeat="weekly",
        until=None,
        skip=(),
        slack_channels=("C0PLCHAT",),
        post_to_x=False,
        reminders=(timedelta(hours=1),),
        questions=(Question(0, "What brought you here?"),),
    )
    return ScheduledChat(id=chat_id, team_id="T1", spec=spec, cancelled=False, next_start=start)


def make_play(**changes: Any) -> Play:
    fields: dict[str, Any] = {
        "slug": "station-rotation",
        "title": "Station rotation",
        "category": "blended-learning",
        "summary": "Rotate small groups through three stations.",
        "tags": ("groups",),
        "grades": ("3-5",),
        "time_needed": "45 minutes",
        "source": "The playbook",
        "body": "## Steps\nDo it.",
    }
    fields.update(changes)
    return Play(**fields)


def make_recap(
    questions: int = 3,
    text: str = "How do you group students?",
    answer: str = "By need",
    author: str = "U0BEA",
    via: str = "slack",
    title: str = "Station rotation",
) -> Recap:
    return Recap(
        chat_id=3,
        title=title,
        hashtag="PLChat",
        starts=datetime(2026, 12, 2, 11, 0, tzinfo=UTC),
        questions=tuple(
            RecapQuestion(
                n,
                f"{text} {n}",
                (
                    RecapAnswer(answer, author, via, 4, "https://example.slack.com/archives/C1/p1"),
                    RecapAnswer("second best", "U0CAL", "slack", 1, None),
                ),
                9,
            )
            for n in range(1, questions + 1)
        ),
        participants=12,
        first_timers=2,
    )


def make_digest(**changes: Any) -> Digest:
    fields: dict[str, Any] = {
        "subscription": make_subscription(),
        "period": "2026-W49",
        "since": SINCE,
        "tips": (
            DigestTip(1, "Exit tickets every Friday", "U0ANA", 5, "https://example.slack.com/archives/C1/p2"),
            DigestTip(2, "Use a timer for stations", "Jo Smith", 2, None),
        ),
        "new_tips": 12,
        "chats": (make_chat(),),
        "recap": make_recap(),
        "play": make_play(),
    }
    fields.update(changes)
    return Digest(**fields)


def assert_inert(text: str) -> None:
    assert "<!channel>" not in text and "<https://evil" not in text
    assert not re.search(r"[@!](channel|here|everyone)\b", text)
    assert "&lt;!\u2060channel&gt;" in text and "&lt;https://evil|x&gt;" in text  # shown as typed, but inert


def sections(payload: dict[str, Any]) -> list[str]:
    return [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]


def elements(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [element for block in payload["blocks"] if block["type"] == "actions" for element in block["elements"]]


def accessories(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [block["accessory"] for block in payload["blocks"] if "accessory" in block]


def assert_within_limits(payload: dict[str, Any]) -> None:
    assert block_errors(payload["blocks"]) == []
    assert len(payload["blocks"]) <= 50
    assert all(len(text) <= 3000 for text in sections(payload))
    assert all(len(b["text"]["text"]) <= 150 for b in payload["blocks"] if b["type"] == "header")
    assert len(payload["text"]) <= 3000


# -- the digest ---------------------------------------------------------------------------------------------------


def test_digest_shows_tips_chats_recap_and_play_and_ends_with_the_two_buttons() -> None:
    payload = db.digest_message(make_digest())
    assert_within_limits(payload)
    header = payload["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"] == "Your PLChat week: Nov 30 – Dec 6, 2026"
    text = shown_text(payload)
    assert "Exit tickets every Friday" in text and "by <@U0ANA>" in text and "by Jo Smith" in text
    assert "<https://example.slack.com/archives/C1/p2|view tip>" in text
    assert "12 new tips shared this week" in text
    assert "*Station rotation* #PLChat" in text
    assert "*Q1* How do you group students? 1\n• By need — <@U0BEA>" in text and "second best" not in text
    assert "…and 0 more" not in text
    assert {"action_id": "play_open", "value": "station-rotation"}.items() <= accessories(payload)[0].items()
    assert accessories(payload)[0]["text"]["text"] == "Open play"
    last = payload["blocks"][-1]
    assert last["type"] == "actions"
    assert [e["action_id"] for e in last["elements"]] == ["digest_unsubscribe", "digest_settings"]
    assert payload["text"].startswith("Your PLChat week (Nov 30 – Dec 6, 2026): 12 new tips, 1 upcoming chat")
    assert "Top tip: Exit tickets every Friday (by <@U0ANA>)" in guard(payload)["text"]  # as Slack receives it


def test_hostile_text_is_escaped_everywhere_including_the_fallback() -> None:
    tips = (
        DigestTip(1, HOSTILE, HOSTILE, 3, "javascript:alert(1)"),
        DigestTip(2, "fine", "@here", 0, "https://evil.example/x|<!channel>"),
    )
    digest = make_digest(
        tips=tips,
        chats=(make_chat(title=HOSTILE, hashtag=HOSTILE),),
        recap=make_recap(text=HOSTILE, answer=HOSTILE, author=HOSTILE, via="x", title=HOSTILE),
        play=make_play(title=HOSTILE, summary=HOSTILE),
    )
    payload = db.digest_message(digest, calendar_url="javascript:alert(1)")
    assert_within_limits(payload)
    text = shown_text(payload)
    assert_inert(text)
    assert_inert(payload["text"])
    assert "javascript:" not in text and "evil.example" not in text  # no unsafe link, no smuggled url
    assert "digest_calendar" not in str(payload)  # the calendar button needs an http(s) url
    quiet = db.digest_message(make_digest(tips=(), new_tips=0, chats=(), recap=None, play=make_play(title=HOSTILE)))
    assert_inert(shown_text(quiet))
    assert_inert(quiet["text"])


def test_a_huge_digest_stays_within_slacks_limits() -> None:
    long = "word " * 900
    tips = tuple(DigestTip(n, long + HOSTILE, "A" * 500, n, "https://example.com/" + "p" * 2900) for n in range(20))
    chats = tuple(
        make_chat(n, title="T" * 3000, hashtag="H" * 500, start=CHAT_START + timedelta(days=n)) for n in range(10)
    )
    recap = make_recap(questions=20, text="Q" * 3000, answer="A " * 3000, author="B" * 3000, via="x", title="R" * 3000)
    play = make_play(title="P" * 3000, summary="S " * 3000)
    payload = db.digest_message(
        make_digest(tips=tips, new_tips=400, chats=chats, recap=recap, play=play),
        calendar_url="https://example.com/calendar.ics",
    )
    assert_within_limits(payload)
    text = shown_text(payload)
    assert "…and 5 more chats" in text and "…and 17 more questions in the recap." in text
    assert payload["blocks"][-1]["type"] == "actions"
    calendar = [a for a in accessories(payload) if a["action_id"] == "digest_calendar"]
    assert calendar == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Add to calendar"},
            "action_id": "digest_calendar",
            "url": "https://example.com/calendar.ics",
        }
    ]


def test_unsubscribe_is_one_click_and_carries_the_subscription_id() -> None:
    payload = db.digest_message(make_digest())
    unsubscribe, settings = payload["blocks"][-1]["elements"]
    assert unsubscribe["action_id"] == "digest_unsubscribe" and unsubscribe["value"] == "17"
    assert "confirm" not in unsubscribe
    assert settings["action_id"] == "digest_settings" and settings["value"] == "17"


def test_a_quiet_week_is_a_short_note_with_a_play_and_both_buttons() -> None:
    digest = make_digest(tips=(), new_tips=0, chats=(), recap=None)
    assert digest.quiet
    payload = db.digest_message(digest)
    assert_within_limits(payload)
    assert "A quiet week in PLChat: no new tips or chats. Here's a play to try:" in sections(payload)[0]
    assert [e["action_id"] for e in accessories(payload)] == ["play_open"]
    assert [(e["action_id"], e["value"]) for e in elements(payload)] == [
        ("digest_unsubscribe", "17"),
        ("digest_settings", "17"),
    ]
    assert payload["text"] == "A quiet week in PLChat: no new tips or chats. A play to try: Station rotation."

    bare = db.digest_message(replace(digest, play=None))
    assert "play" not in sections(bare)[0] and "play_open" not in str(bare)
    assert [e["action_id"] for e in elements(bare)] == ["digest_unsubscribe", "digest_settings"]


def test_times_are_slack_date_tokens_with_the_right_epoch() -> None:
    payload = db.digest_message(make_digest())
    assert f"<!date^{int(CHAT_START.timestamp())}^{{date_long_pretty}} at {{time}}|" in shown_text(payload)
    naive = db.digest_message(make_digest(chats=(make_chat(start=CHAT_START.replace(tzinfo=None)),)))
    assert f"<!date^{int(CHAT_START.timestamp())}^" in shown_text(naive)
    confirmed = shown_text(db.subscribed_message(make_subscription()))
    assert f"<!date^{int(NEXT_SEND.timestamp())}^" in confirmed
    assert f"<!date^{int(NEXT_SEND.timestamp())}^" in shown_text(db.subscriptions_home_blocks([make_subscription()]))


def test_cancelled_or_finished_chats_are_left_out() -> None:
    gone = replace(make_chat(title="Gone"), cancelled=True)
    done = replace(make_chat(title="Done"), next_start=None)
    payload = db.digest_message(make_digest(chats=(gone, done)), calendar_url="https://example.com/c.ics")
    text = shown_text(payload)
    assert "Gone" not in text and "Done" not in text and "Chats coming up" not in text
    assert "digest_calendar" not in str(payload)


# -- settings -----------------------------------------------------------------------------------------------------


def test_settings_modal_round_trips_through_settings_values() -> None:
    subscription = make_subscription(weekday=4, send_time=time(8, 30), timezone="America/Chicago", quiet_weeks="skip")
    modal = db.settings_modal(subscription)
    assert modal["callback_id"] == "digest_settings" and modal["private_metadata"] == "17"
    assert block_errors(modal["blocks"], MAX_VIEW_BLOCKS) == []
    inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["weekday", "send_time", "timezone", "quiet_weeks"]
    assert all(element["action_id"] == name for name, element in inputs.items())
    assert [o["text"]["text"] for o in inputs["weekday"]["options"]][:2] == ["Monday", "Tuesday"]
    assert inputs["weekday"]["initial_option"]["text"]["text"] == "Friday"
    assert inputs["send_time"] == {"type": "timepicker", "initial_time": "08:30", "action_id": "send_time"}
    assert {o["value"]: o["text"]["text"] for o in inputs["quiet_weeks"]["options"]} == {
        "note": "Send a short note",
        "skip": "Send nothing",
    }
    assert db.settings_values(form_state(modal)) == {
        "weekday": 4,
        "send_time": "08:30",
        "timezone": "America/Chicago",
        "quiet_weeks": "skip",
    }


def test_settings_values_reads_missing_or_odd_fields_as_none() -> None:
    assert db.settings_values({}) == {"weekday": None, "send_time": None, "timezone": None, "quiet_weeks": None}
    odd = {
        "weekday": {"weekday": {"selected_option": None}},
        "send_time": {"send_time": {"selected_time": "25:00"}},
        "timezone": {"timezone": {"value": "  "}},
        "quiet_weeks": {"quiet_weeks": {"selected_option": {"value": "loud"}}},
    }
    assert db.settings_values(odd) == {"weekday": None, "send_time": None, "timezone": None, "quiet_weeks": None}


# -- App Home, help, confirmation ---------------------------------------------------------------------------------


def test_home_lists_each_active_subscription_with_settings_and_unsubscribe() -> None:
    dm = make_subscription()
    channel = make_subscription(id=18, channel="C0GENERAL", weekday=2, paused=True, next_send=None)
    stopped = make_subscription(id=19, channel="C0OLD", active=False, reason="unsubscribed", next_send=None)
    blocks = db.subscriptions_home_blocks([dm, channel, stopped])
    assert block_errors(blocks, MAX_VIEW_BLOCKS) == []
    text = shown_text(blocks)
    assert "*Your digests*" in text
    assert "*To your DMs*\nMondays at 07:00 (Europe/Berlin)" in text
    assert "*To <#C0GENERAL>*\nWednesdays at 07:00" in text and "Next: paused" in text
    assert "C0OLD" not in text
    actions = [(e["action_id"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == [
        ("digest_unsubscribe", "17"),
        ("digest_settings", "17"),
        ("digest_unsubscribe", "18"),
        ("digest_settings", "18"),
    ]
    assert "`/digest subscribe`" in shown_text(db.subscriptions_home_blocks([stopped]))
    assert "`/digest subscribe`" in shown_text(db.subscriptions_home_blocks([]))


def test_help_lists_every_digest_command() -> None:
    payload = db.digest_help()
    assert block_errors(payload["blocks"]) == []
    text = shown_text(payload)
    for command in (
        "/digest subscribe [#channel] [monday..sunday] [HH:MM]",
        "/digest settings",
        "/digest pause",
        "/digest resume",
        "/digest unsubscribe",
        "/digest preview",
    ):
        assert command in text


def test_subscribed_message_says_where_when_and_the_next_send() -> None:
    payload = guard(db.subscribed_message(make_subscription(channel="C0GENERAL", weekday=6, send_time=time(18, 5))))
    assert block_errors(payload["blocks"]) == []
    assert "<#C0GENERAL> on Sundays at 18:05 (Europe/Berlin)" in payload["text"]
    assert f"Next one: <!date^{int(NEXT_SEND.timestamp())}^" in sections(payload)[0]
    assert [e["action_id"] for e in elements(payload)] == ["digest_unsubscribe", "digest_settings"]
    assert "your DMs" in db.subscribed_message(make_subscription())["text"]


def test_header_dates_span_a_new_year() -> None:
    payload = db.digest_message(make_digest(since=datetime(2026, 12, 28, 6, 0, tzinfo=UTC)))
    assert payload["blocks"][0]["text"]["text"] == "Your PLChat week: Dec 28, 2026 – Jan 3, 2027"
