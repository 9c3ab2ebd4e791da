"""Block Kit for scheduled chats: escaping, Slack date tokens, Slack's limits, and the schedule form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_helpers import shown_text

from bot.chats.definition import parse_chat_fields
from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import ChatSpec, ChatSpecError, FieldProblem, Question, ScheduledChat
from bot.sandbox.payloads import form_state
from bot.sandbox.slack_api import MAX_VIEW_BLOCKS, block_errors
from bot.slack import chat_blocks as cb

HOSTILE = "<!channel> <https://evil.example|x> @here &amp; @everyone <@U0BOSS> <!subteam^S1>"
START = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)  # Tuesday 2026-03-03, 11:00 in Los Angeles


def make_spec(**changes: Any) -> ChatSpec:
    fields: dict[str, Any] = {
        "title": "Station rotation",
        "hashtag": "PLChat",
        "starts": datetime(2026, 3, 3, 11, 0),
        "timezone": "America/Los_Angeles",
        "duration": 60,
        "repeat": "weekly",
        "until": date(2026, 6, 9),
        "skip": (date(2026, 4, 7), date(2026, 4, 14)),
        "slack_channels": ("C0PLCHAT", "G0PRIVATE"),
        "post_to_x": True,
        "reminders": (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=15)),
        "questions": (
            Question(0, "What brought you here?"),
            Question(7.5, "How do you group students?"),
            Question(15, "What would you try next week?"),
        ),
    }
    fields.update(changes)
    return ChatSpec(**fields)


def make_chat(chat_id: int = 7, spec: ChatSpec | None = None, **changes: Any) -> ScheduledChat:
    return ScheduledChat(id=chat_id, team_id="T1", spec=spec or make_spec(**changes), cancelled=False, next_start=START)


def assert_inert(payload: dict[str, Any]) -> None:
    """No broadcast, no group mention, no link or mention smuggled in by the hostile text."""
    text = shown_text(payload)
    assert "<!channel>" not in text and "<!subteam" not in text
    assert "<https://evil" not in text and "<@U0BOSS>" not in text
    assert not re.search(r"[@!](channel|here|everyone)\b", text)
    assert "&lt;!\u2060channel&gt;" in text  # shown as typed, but inert


def assert_slack_accepts(payload: dict[str, Any]) -> None:
    assert block_errors(payload["blocks"]) == []
    assert len(payload["text"]) <= 40_000


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in payload["blocks"]:
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
    return found


# -- escaping ------------------------------------------------------------------------------------------------


def test_every_post_of_a_hostile_chat_is_inert() -> None:
    spec = make_spec(title=HOSTILE, hashtag="PLChat", questions=(Question(0, HOSTILE),))
    payloads = [
        cb.reminder_message(spec, START, timedelta(hours=1), None),
        cb.welcome_message(spec, START),
        cb.question_message(spec, 1, spec.questions[0]),
        cb.wrapup_message(spec, START),
        cb.chats_list_message([ScheduledChat(1, "T1", spec, False, START)], moderator=True),
    ]
    for payload in payloads:
        assert_inert(payload)
        assert_slack_accepts(payload)


def test_a_hostile_recap_is_inert_but_slack_authors_are_mentioned() -> None:
    answers = (
        RecapAnswer(HOSTILE, "U0ANA", "slack", 4, "https://school.slack.com/archives/C1/p1"),
        RecapAnswer("Try it <!here>", "@teacher_bo", "x", 1, "https://x.com/teacher_bo/status/1"),
        RecapAnswer("Sneaky", "<!channel>", "slack", 0, "javascript:alert(1)"),
    )
    recap = Recap(1, HOSTILE, "PLChat", START, (RecapQuestion(1, HOSTILE, answers, 9),), 12, 3)

    payload = cb.recap_message(recap, "https://plchat.example/chats/1?a=1&b=2")

    assert_inert(payload)
    assert_slack_accepts(payload)
    text = shown_text(payload)
    assert "<@U0ANA>" in text
    assert "@teacher_bo on X" in text and "<https://x.com/teacher_bo/status/1|view>" in text
    assert "javascript:" not in text
    assert "<https://plchat.example/chats/1?a=1&amp;b=2|the full archive>" in text
    assert "12 people took part, 3 of them for the first time" in text
    assert "9 answers in all" in text


def test_a_hostile_schedule_error_and_a_hostile_form_are_inert() -> None:
    view = cb.schedule_modal(default_timezone="UTC", problems={"title": HOSTILE})

    assert_inert({"blocks": view["blocks"]})


# -- dates -----------------------------------------------------------------------------------------------------


def test_reminder_uses_a_slack_date_token_with_the_right_epoch_and_a_utc_fallback() -> None:
    payload = cb.reminder_message(make_spec(), START, timedelta(hours=1), None)

    token = f"<!date^{int(START.timestamp())}^{{date_long_pretty}} at {{time}}|Tuesday, March 3, 2026 at 19:00 UTC>"
    assert token in payload["text"]
    assert token in shown_text({"blocks": payload["blocks"]})
    assert "starts in 1 hour" in payload["text"]
    assert buttons(payload) == []


def test_the_date_token_is_the_same_moment_whatever_zone_start_is_given_in() -> None:
    local = START.astimezone(ZoneInfo("America/Los_Angeles"))
    naive_utc = START.replace(tzinfo=None)

    assert cb.slack_date(local) == cb.slack_date(START) == cb.slack_date(naive_utc)


@pytest.mark.parametrize(
    ("lead", "words"),
    [
        (timedelta(hours=24), "tomorrow"),
        (timedelta(hours=1), "in 1 hour"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(minutes=90), "in 1 hour 30 minutes"),
        (timedelta(minutes=15), "in 15 minutes"),
        (timedelta(days=7), "in a week"),
        (timedelta(days=3), "in 3 days"),
        (timedelta(seconds=10), "now"),
    ],
)
def test_how_far_ahead(lead: timedelta, words: str) -> None:
    assert cb.how_far_ahead(lead) == words


def test_reminder_offers_the_calendar_link_as_a_url_button() -> None:
    payload = cb.reminder_message(make_spec(), START, timedelta(hours=24), "https://plchat.example/cal/7.ics")

    [calendar] = buttons(payload)
    assert calendar["action_id"] == "chat_calendar"
    assert calendar["url"] == "https://plchat.example/cal/7.ics"
    assert "tomorrow" in payload["text"]
    assert_slack_accepts(payload)


def test_reminder_refuses_a_calendar_link_that_is_not_http() -> None:
    assert buttons(cb.reminder_message(make_spec(), START, timedelta(hours=1), "javascript:alert(1)")) == []


# -- the chat's posts -------------------------------------------------------------------------------------------


def test_question_message_starts_with_its_number_and_invites_answers_in_the_thread() -> None:
    spec = make_spec()

    payload = cb.question_message(spec, 2, spec.questions[1])

    assert payload["text"].startswith("Q2 How do you group students?")
    assert "#PLChat" in payload["text"]
    assert "Reply in this thread with A2" in shown_text(payload)
    assert_slack_accepts(payload)


def test_welcome_and_wrapup_name_the_chat_and_its_hashtag() -> None:
    spec = make_spec()
    for payload in (cb.welcome_message(spec, START), cb.wrapup_message(spec, START)):
        assert "Station rotation" in payload["text"] and "#PLChat" in payload["text"]
        assert f"<!date^{int(START.timestamp())}^" in shown_text(payload)
        assert_slack_accepts(payload)
    welcome = shown_text(cb.welcome_message(spec, START))
    assert "3 questions" in welcome
    assert f"<!date^{int((START + timedelta(hours=1)).timestamp())}^{{time}}|" in welcome


# -- the recap -------------------------------------------------------------------------------------------------


def test_a_twenty_question_recap_with_long_answers_stays_within_slack_limits() -> None:
    long = "Rotate every 12 minutes & keep a visible timer <so> nobody is lost. " * 60  # ~4,000 characters
    questions = tuple(
        RecapQuestion(
            n,
            f"Question {n}: " + "why & how " * 40,
            tuple(
                RecapAnswer(long, f"U0PERSON{a}", "slack", 10 - a, "https://school.slack.com/archives/C1/p" + "9" * 400)
                for a in range(3)
            ),
            42,
        )
        for n in range(1, 21)
    )
    recap = Recap(3, "Station rotation " * 20, "PLChat", START, questions, 150, 20)

    payload = cb.recap_message(recap, "https://plchat.example/chats/3")

    assert_slack_accepts(payload)
    assert len(payload["blocks"]) <= 50
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    assert sum("*Q" in text for text in sections) == 20
    cut = next(text for text in sections if "*Q7*" in text)
    assert "…" in cut and "<@U0PERSON0>" in cut and "<@U0PERSON2>" in cut
    assert not re.search(r"&[a-z]*…", cut)  # never cut inside an escaped entity


def test_a_recap_with_more_questions_than_blocks_says_how_many_it_left_out() -> None:
    questions = tuple(RecapQuestion(n, f"Q text {n}", (), 0) for n in range(1, 61))
    recap = Recap(3, "Big chat", "PLChat", START, questions, 0, 0)

    payload = cb.recap_message(recap, None)

    assert len(payload["blocks"]) == 50
    assert "more questions" in shown_text(payload)
    assert_slack_accepts(payload)


# -- the chat list ---------------------------------------------------------------------------------------------


def test_moderators_get_edit_skip_and_cancel_with_confirmations() -> None:
    late = datetime(2026, 3, 4, 5, 30, tzinfo=UTC)  # still March 3 in Los Angeles
    chat = ScheduledChat(7, "T1", make_spec(), False, late)

    payload = cb.chats_list_message([chat], moderator=True)

    edit, skip, cancel = buttons(payload)
    assert (edit["action_id"], edit["value"]) == ("chat_edit", "7")
    assert (skip["action_id"], skip["value"]) == ("chat_skip", "7:2026-03-03")
    assert skip["confirm"]["confirm"]["text"]
    assert (cancel["action_id"], cancel["value"], cancel["style"]) == ("chat_cancel", "7", "danger")
    assert cancel["confirm"]
    text = shown_text(payload)
    assert "<#C0PLCHAT>, <#G0PRIVATE>" in text
    assert f"<!date^{int(late.timestamp())}^" in text
    assert "Weekly until" in text and "on X" in text
    assert_slack_accepts(payload)


def test_everyone_else_sees_the_list_without_buttons() -> None:
    payload = cb.chats_list_message(
        [make_chat(1), make_chat(2, post_to_x=False, repeat="none", until=None)], moderator=False
    )

    assert buttons(payload) == []
    assert "Once" in shown_text(payload) and "Slack only" in shown_text(payload)


def test_a_chat_with_no_dates_left_cannot_be_skipped() -> None:
    chat = ScheduledChat(7, "T1", make_spec(), False, None)

    actions = [b["action_id"] for b in buttons(cb.chats_list_message([chat], moderator=True))]

    assert actions == ["chat_edit", "chat_cancel"]


def test_a_long_list_stays_within_fifty_blocks() -> None:
    payload = cb.chats_list_message([make_chat(n) for n in range(40)], moderator=True)

    assert len(payload["blocks"]) <= 50
    assert "more chats" in shown_text(payload)
    assert_slack_accepts(payload)


@pytest.mark.parametrize("moderator", [True, False])
def test_an_empty_list_points_to_plchat_schedule(moderator: bool) -> None:
    assert "`/plchat schedule`" in cb.chats_list_message([], moderator=moderator)["text"]


# -- the schedule form -----------------------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_the_new_chat_form() -> None:
    view = cb.schedule_modal(default_timezone="Europe/Berlin")

    assert (view["callback_id"], view["private_metadata"]) == ("chat_schedule", "")
    fields = inputs(view)
    assert list(fields) == list(cb.FIELDS)
    assert all(block["element"]["action_id"] == name for name, block in fields.items())
    assert fields["timezone"]["element"]["initial_value"] == "Europe/Berlin"
    assert fields["duration"]["element"]["initial_value"] == "60"
    assert fields["repeat"]["element"]["initial_option"]["value"] == "weekly"
    assert fields["questions"]["element"]["multiline"] is True
    assert fields["slack_channels"]["element"]["filter"]["include"] == ["public", "private"]
    assert {name for name, block in fields.items() if block.get("optional")} == {
        "until",
        "skip",
        "slack_channels",
        "post_to_x",
        "reminders",
    }
    assert len(view["title"]["text"]) <= 24


def test_a_blank_form_gives_blank_fields_and_leaves_reminders_to_the_defaults() -> None:
    fields = cb.schedule_fields(form_state(cb.schedule_modal(default_timezone="UTC")))

    assert fields == {
        "title": "",
        "hashtag": "",
        "starts": "",
        "timezone": "UTC",
        "duration": 60,
        "repeat": "weekly",
        "until": None,
        "skip": [],
        "slack_channels": [],
        "post_to_x": False,
        "post_to_bluesky": False,
        "post_to_mastodon": False,
        "questions": [],
    }


def test_the_edit_form_round_trips_the_chat() -> None:
    chat = make_chat(42, post_to_mastodon=True)
    view = cb.schedule_modal(default_timezone="UTC", chat=chat)

    fields = cb.schedule_fields(form_state(view))

    assert view["private_metadata"] == "42"
    assert fields == {
        "title": "Station rotation",
        "hashtag": "PLChat",
        "starts": "2026-03-03 11:00",
        "timezone": "America/Los_Angeles",
        "duration": 60,
        "repeat": "weekly",
        "until": "2026-06-09",
        "skip": ["2026-04-07", "2026-04-14"],
        "slack_channels": ["C0PLCHAT", "G0PRIVATE"],
        "post_to_x": True,
        "post_to_bluesky": False,
        "post_to_mastodon": True,
        "reminders": ["24h", "1h", "15m"],
        "questions": [
            {"at": 0.0, "text": "What brought you here?"},
            {"at": 7.5, "text": "How do you group students?"},
            {"at": 15.0, "text": "What would you try next week?"},
        ],
    }


def test_the_edit_form_gives_back_the_same_chat_through_the_parser() -> None:
    spec = make_spec()
    view = cb.schedule_modal(default_timezone="UTC", chat=make_chat(spec=spec))

    assert parse_chat_fields(cb.schedule_fields(form_state(view)), default_timezone="UTC") == spec


def test_a_chat_without_reminders_keeps_none() -> None:
    spec = make_spec(reminders=(), post_to_x=False, until=None, repeat="none", skip=())
    view = cb.schedule_modal(default_timezone="UTC", chat=make_chat(spec=spec))

    fields = cb.schedule_fields(form_state(view))

    assert fields["reminders"] == []
    assert (fields["post_to_x"], fields["until"]) == (False, None)
    assert parse_chat_fields(fields, default_timezone="UTC") == spec


def test_twenty_long_questions_continue_in_more_inputs_within_slack_limits() -> None:
    questions = tuple(Question(n * 3, f"Question {n} " + "x" * 250) for n in range(20))  # X's limit, nearly
    spec = make_spec(questions=questions)
    view = cb.schedule_modal(default_timezone="UTC", chat=make_chat(spec=spec))

    for block in inputs(view).values():
        element = block["element"]
        if element["type"] == "plain_text_input":
            assert len(element.get("initial_value", "")) <= element["max_length"] <= 3000
    assert "questions_2" in inputs(view)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    fields = cb.schedule_fields(form_state(view))
    assert [(q["at"], q["text"]) for q in fields["questions"]] == [(q.at, q.text) for q in questions]
    assert parse_chat_fields(fields, default_timezone="UTC") == spec


def test_schedule_fields_reads_what_a_moderator_typed() -> None:
    values = form_state(cb.schedule_modal(default_timezone="UTC"))
    values["duration"]["duration"]["value"] = "an hour"
    values["skip"]["skip"]["value"] = " 2026-04-07 ,2026-04-14,, "
    values["reminders"]["reminders"]["value"] = "2h"
    values["questions"]["questions"]["value"] = "Warm-up question\n\n5: Second\n 12.5 - Third: with a colon\n"

    fields = cb.schedule_fields(values)

    assert fields["duration"] == "an hour"
    assert fields["skip"] == ["2026-04-07", "2026-04-14"]
    assert fields["reminders"] == ["2h"]
    assert fields["questions"] == [
        {"at": None, "text": "Warm-up question"},
        {"at": 5.0, "text": "Second"},
        {"at": 12.5, "text": "Third: with a colon"},
    ]


def test_field_errors_put_each_problem_on_its_input() -> None:
    problems = [
        FieldProblem("timezone", "unknown time zone 'Mars/Olympus'"),
        FieldProblem("questions[2].text", "longer than 280 characters on X"),
        FieldProblem("questions[4].at", "after the chat ends"),
        FieldProblem("skip[0]", "not a date"),
        FieldProblem("chat", "x" * 400),
    ]

    errors = cb.field_errors(problems)

    assert errors["timezone"] == "unknown time zone 'Mars/Olympus'"
    assert errors["questions"] == "Q2: longer than 280 characters on X; Q4's minute: after the chat ends"
    assert errors["skip"] == "skip[0]: not a date"
    assert errors["title"].startswith("chat: ")
    assert all(len(message) <= 150 for message in errors.values())
    assert set(errors) <= set(inputs(cb.schedule_modal(default_timezone="UTC")))


def test_the_parsers_problems_with_a_blank_form_land_on_its_inputs() -> None:
    view = cb.schedule_modal(default_timezone="UTC")

    with pytest.raises(ChatSpecError) as caught:
        parse_chat_fields(cb.schedule_fields(form_state(view)), default_timezone="UTC")

    errors = cb.field_errors(caught.value.problems)
    assert {"title", "hashtag", "starts", "questions"} <= set(errors) <= set(inputs(view))
    assert all(len(message) <= 150 for message in errors.values())
