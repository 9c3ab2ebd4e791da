"""Block Kit rendered as console text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.render import DIVIDER, Button, Reader, mrkdwn_to_text, render_message, render_view


def button(label: str, action_id: str, value: str | None = None, **extra: Any) -> dict[str, Any]:
    element = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id}
    if value is not None:
        element["value"] = value
    return {**element, **extra}


PLAY_MESSAGE = [
    {"type": "header", "text": {"type": "plain_text", "text": "Think-Pair-Share"}},
    {
        "type": "section",
        "block_id": "play",
        "text": {"type": "mrkdwn", "text": "*Pairs* discuss for <https://ex.org/tps|two minutes>."},
        "fields": [{"type": "mrkdwn", "text": "*Grade* K-5"}],
        "accessory": button("Save", "save_play", "play-7"),
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Shared by <@U42>"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "block_id": "more",
        "elements": [
            button("Another play", "another_play", "next"),
            button("Share in channel", "share", "play-7"),
        ],
    },
    {"type": "image", "image_url": "https://ex.org/a.png", "alt_text": "a classroom"},
]


def test_a_play_message_reads_top_to_bottom() -> None:
    rendered = render_message("fallback", PLAY_MESSAGE)

    assert rendered.text.splitlines() == [
        "Think-Pair-Share",
        "================",
        "*Pairs* discuss for two minutes (https://ex.org/tps).",
        "*Grade* K-5",
        "[1] Save",
        "  Shared by @U42",
        DIVIDER,
        "[2] Another play  [3] Share in channel",
        "[image: a classroom]",
    ]


def test_buttons_are_numbered_across_the_message_with_their_payloads() -> None:
    rendered = render_message(None, PLAY_MESSAGE)

    assert rendered.buttons == [
        Button(1, "Save", "save_play", "play-7", "play", None),
        Button(2, "Another play", "another_play", "next", "more", None),
        Button(3, "Share in channel", "share", "play-7", "more", None),
    ]


def test_link_buttons_keep_their_url() -> None:
    blocks = [{"type": "actions", "elements": [button("Open guide", "guide", url="https://ex.org/g")]}]

    [guide] = render_message(None, blocks).buttons

    assert (guide.number, guide.url, guide.value) == (1, "https://ex.org/g", None)


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("hi <@U123>", "hi @U123"),
        ("in <#C123|general>", "in #general"),
        ("<!channel> <!here> <!everyone>", "@channel @here @everyone"),
        ("see <https://ex.org|the guide>", "see the guide (https://ex.org)"),
        ("see <https://ex.org>", "see https://ex.org"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("&lt;https://evil.example|click&gt;", "<https://evil.example|click>"),
        ("fish &amp;lt; chips", "fish &lt; chips"),
    ],
)
def test_mrkdwn_is_shown_as_a_reader_sees_it(mrkdwn: str, shown: str) -> None:
    assert mrkdwn_to_text(mrkdwn) == shown


def test_plain_text_objects_are_shown_literally() -> None:
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "<@U1> &amp; friends"}}]

    assert render_message(None, blocks).text == "<@U1> &amp; friends"


def test_without_blocks_the_text_is_rendered() -> None:
    assert render_message("Hi <!here>, new play &amp; tips", []) == render_message(
        "Hi <!here>, new play &amp; tips", None
    )
    rendered = render_message("Hi <!here>, new play &amp; tips", None)
    assert rendered.text == "Hi @here, new play & tips"
    assert rendered.buttons == []


def test_rich_text_falls_back_to_the_message_text() -> None:
    blocks = [{"type": "rich_text", "elements": []}, {"type": "divider"}]

    assert render_message("Posted by <@U9>", blocks).text == f"Posted by @U9\n{DIVIDER}"


def test_a_modal_view_shows_title_blocks_inputs_and_closers() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Share a tip"},
        "submit": {"type": "plain_text", "text": "Share"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Your tip"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "tip",
                    "placeholder": {"type": "plain_text", "text": "Type here"},
                },
            },
            {"type": "actions", "elements": [button("Preview", "preview")]},
        ],
    }

    rendered = render_view(view)

    assert rendered.text.splitlines() == [
        "Share a tip",
        "===========",
        "Your tip: (empty, showing “Type here”)",
        "[1] Preview",
        "(submit: Share)  (close: Cancel)",
    ]
    assert [b.action_id for b in rendered.buttons] == ["preview"]


def test_a_home_view_without_title_renders_its_blocks() -> None:
    rendered = render_view({"type": "home", "blocks": PLAY_MESSAGE[:2]})

    assert rendered.text.startswith("Think-Pair-Share\n")
    assert [b.label for b in rendered.buttons] == ["Save"]


def test_a_form_shows_what_each_input_holds_before_anyone_types() -> None:
    option = {"text": {"type": "plain_text", "text": "Weekly"}, "value": "weekly"}
    once = {"text": {"type": "plain_text", "text": "Just once"}, "value": "none"}
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Steps"},
                "element": {"type": "plain_text_input", "action_id": "steps", "initial_value": "One\nTwo"},
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Repeat"},
                "element": {
                    "type": "static_select",
                    "action_id": "repeat",
                    "options": [option, once],
                    "initial_option": option,
                },
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Grades"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "grades",
                    "options": [option],
                    "initial_options": [option],
                },
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Until"},
                "element": {"type": "datepicker", "action_id": "until", "initial_date": "2027-06-01"},
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Channels"},
                "element": {
                    "type": "multi_conversations_select",
                    "action_id": "channels",
                    "initial_conversations": ["C1", "C2"],
                },
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Time"},
                "element": {"type": "timepicker", "action_id": "time"},
            },
        ],
    }

    assert render_view(view, Reader(channels={"C1": "general"})).text.splitlines()[2:] == [
        "Steps: One",
        "    Two",
        "Repeat: Weekly",
        "    one of: weekly (Weekly), none (Just once)",
        "Grades: Weekly",
        "    any of, comma separated: weekly (Weekly)",
        "Until: 2027-06-01",
        "Channels: #general, #C2",
        "Time: (empty)",
    ]


def test_a_choice_nobody_made_yet_still_lists_its_options() -> None:
    grades = [{"text": {"type": "plain_text", "text": band}, "value": band} for band in ("K-2", "3-5")]
    view = {
        "type": "modal",
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Grade band"},
                "element": {"type": "static_select", "action_id": "grade", "options": grades},
            },
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Reminders"},
                "element": {"type": "radio_buttons", "action_id": "quiet", "options": grades[:1]},
            },
        ],
    }

    assert render_view(view).text.splitlines() == [
        "Grade band: (none chosen)",
        "    one of: K-2, 3-5",
        "Reminders: (none chosen)",
        "    one of: K-2",
    ]


def test_people_and_channels_show_by_the_names_slack_knows() -> None:
    reader = Reader(names={"U0ANA": "Ana"}, channels={"C0GENERAL": "general"})

    shown = mrkdwn_to_text("<@U0ANA> thanks <@U0BOB|bob> and <@U0CAL> in <#C0GENERAL> and <#C9|lounge>", reader)

    assert shown == "@Ana thanks @bob and @U0CAL in #general and #lounge"


# 2026-12-07 03:41:00 UTC: Sunday December 6 at 9:41 PM in Chicago, Monday at 12:41 PM in Tokyo.
STAMP = 1796614860
CHICAGO = Reader(zone=ZoneInfo("America/Chicago"), now=lambda: datetime(2026, 12, 6, 15, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("{date_num} {time}", "2026-12-06 9:41 PM"),
        ("{date_slash}", "06/12/2026"),
        ("{date_long}", "Sunday, December 6th, 2026"),
        ("{date_long_full}", "December 6, 2026"),
        ("{date}", "December 6"),
        ("{date_short} at {time_secs}", "Dec 6, 2026 at 9:41:00 PM"),
        ("{date_pretty}, {date_short_pretty}, {date_long_pretty}, {day_divider_pretty}", "today, today, today, today"),
        ("{ago}", "in 12 hours"),
        ("Starts {date_long_pretty} at {time}^https://ex.org/chat", "Starts today at 9:41 PM (https://ex.org/chat)"),
    ],
)
def test_a_slack_date_shows_in_the_readers_zone_as_slack_formats_it(token: str, shown: str) -> None:
    assert mrkdwn_to_text(f"<!date^{STAMP}^{token}|Monday, December 7, 2026 at 03:41 UTC>", CHICAGO) == shown


def test_pretty_dates_name_the_day_relative_to_the_readers_clock() -> None:
    def read_on(moment: datetime) -> str:
        reader = Reader(zone=ZoneInfo("Asia/Tokyo"), now=lambda: moment)
        return mrkdwn_to_text(f"<!date^{STAMP}^{{date_long_pretty}} ({{ago}})|fallback>", reader)

    monday_noon_in_tokyo = datetime(2026, 12, 7, 3, 41, tzinfo=UTC)
    assert read_on(monday_noon_in_tokyo - timedelta(days=1)) == "tomorrow (in 1 day)"
    assert read_on(monday_noon_in_tokyo + timedelta(minutes=3)) == "today (3 minutes ago)"
    assert read_on(monday_noon_in_tokyo + timedelta(days=1)) == "yesterday (1 day ago)"
    assert read_on(monday_noon_in_tokyo + timedelta(days=3)) == "Monday, December 7th, 2026 (3 days ago)"


@pytest.mark.parametrize(
    "markup",
    [f"<!date^{STAMP}^{{nonsense}}|the fallback>", "<!date^soon^{date}|the fallback>", f"<!date^{STAMP}|the fallback>"],
)
def test_a_slack_date_slack_cannot_read_shows_its_fallback(markup: str) -> None:
    assert mrkdwn_to_text(markup, CHICAGO) == "the fallback"


@given(
    seconds=st.integers(min_value=0, max_value=4_102_444_800),
    zone=st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham", "Europe/London"]),
)
def test_any_slack_date_shows_the_day_and_hour_on_the_readers_wall_clock(seconds: int, zone: str) -> None:
    local = datetime.fromtimestamp(seconds, UTC).astimezone(ZoneInfo(zone))
    reader = Reader(zone=ZoneInfo(zone))

    shown = mrkdwn_to_text(f"<!date^{seconds}^{{date_num}} {{time}}|fallback UTC>", reader)

    day, clock, half = shown.split(" ")
    assert day == local.date().isoformat()
    hour, minute = (int(part) for part in clock.split(":"))
    assert (hour % 12 + (12 if half == "PM" else 0), minute) == (local.hour, local.minute)
