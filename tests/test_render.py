"""Block Kit rendered as console text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.render import DIVIDER, Button, mrkdwn_to_text, render_message, render_view


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
        "Your tip: (Type here)",
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
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}, "blocks": [
        {"type": "input", "label": {"type": "plain_text", "text": "Steps"},
         "element": {"type": "plain_text_input", "action_id": "steps", "initial_value": "One\nTwo"}},
        {"type": "input", "label": {"type": "plain_text", "text": "Repeat"},
         "element": {"type": "static_select", "action_id": "repeat", "options": [option], "initial_option": option}},
        {"type": "input", "label": {"type": "plain_text", "text": "Grades"},
         "element": {"type": "checkboxes", "action_id": "grades", "options": [option], "initial_options": [option]}},
        {"type": "input", "label": {"type": "plain_text", "text": "Until"},
         "element": {"type": "datepicker", "action_id": "until", "initial_date": "2027-06-01"}},
        {"type": "input", "label": {"type": "plain_text", "text": "Channels"},
         "element": {"type": "multi_conversations_select", "action_id": "channels",
                     "initial_conversations": ["C1", "C2"]}},
        {"type": "input", "label": {"type": "plain_text", "text": "Time"},
         "element": {"type": "timepicker", "action_id": "time"}},
    ]}

    assert render_view(view).text.splitlines()[2:] == [
        "Steps: One", "    Two", "Repeat: Weekly", "Grades: Weekly", "Until: 2027-06-01", "Channels: #C1, #C2",
        "Time: (timepicker)",
    ]
