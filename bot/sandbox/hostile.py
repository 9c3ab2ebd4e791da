"""Hostile text, and how to tell whether any of it came out live: shared by the property tests and
`bench/fuzz_listeners.py`.

A fragment names its targets with EVIL (a user U0EVIL, a group S0EVIL, a channel C0EVIL, evil.example), so a
live token carrying that word can only have come from the input.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from datetime import UTC
from functools import partial
from typing import Any

from bot.slack.markup import live_markup

FRAGMENTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0EVIL|@teachers>",
    "<!subteam^S0EVIL>",
    "<@U0EVIL>",
    "<@U0EVIL|boss>",
    "<#C0EVIL>",
    "<#C0EVIL|general>",
    "<https://evil.example|click me>",
    "<https://evil.example>",
    "<mailto:evil@evil.example|mail>",
    "<!date^1^{date}^https://evil.example|soon>",
    "&lt;!channel&gt;",
    "&amp;lt;!here&amp;gt;",
    "&lt;@U0EVIL&gt;",
    "@channel",
    "@here",
    "@everyone",
    "＠evil",
    "<script>alert('evil')</script>",
    "<img src=x onerror=evil()>",
    "[click](https://evil.example)",
    "*bold* _it_ ~s~ `code` ```block```",
    "> quote",
    '=HYPERLINK("https://evil.example")',
    "+1",
    "-2",
    "@SUM(1)",
    "NEAR(a b)",
    "title:evil",
    '"unbalanced',
    "a* OR b",
    "'; DROP TABLE tips; --",
    "%_\\",
    "\x00",
    "\x07",
    "\u202eevil\u202c",
    "\u200b\u200d\ufeff",
    "\u2060",
    "\ue000",
    "\ue001",
    "\ud800",
    "\udfff",
    "🎉👩🏽‍🏫",
    "مرحبا",
    "\n\n",
    "\t",
    "  ",
    "A1",
    "Q2",
    "#PLChat",
    "#tag",
    "from:@U0EVIL",
    "since:<!channel>",
    "since:2026-13-45",
)
MARK = re.compile(r"evil", re.IGNORECASE)
_BROADCAST = re.compile(
    r"<!(channel|here|everyone|subteam)|<!date\^[^|>]*\^[^|>]*\^|^@(channel|here|everyone)", re.IGNORECASE
)


def hostile_text(rng: random.Random, *, max_pieces: int = 8) -> str:
    """A few fragments and random characters run together; now and then one very long text."""
    if rng.random() < 0.02:
        return (rng.choice(FRAGMENTS) + " ") * (40_000 // 20)
    pieces = [
        rng.choice(FRAGMENTS) if rng.random() < 0.7 else _random_chars(rng) for _ in range(rng.randint(1, max_pieces))
    ]
    return rng.choice(("", " ", "\n")).join(pieces)


def _random_chars(rng: random.Random) -> str:
    printable, anything = (0x20, 0x7E), (0, 0x10FFFF)
    return "".join(chr(rng.randint(*rng.choice((printable, anything)))) for _ in range(rng.randint(1, 12)))


_PICKED = re.compile(r"<[@#][UWCG][A-Z0-9]+>")  # a person or channel by id alone, as picked from Slack's menus


def smuggled(payload: Any, inputs: tuple[str, ...] = (), *, private: bool = False) -> list[str]:
    """The live markup in a payload (as sent) that the bot did not mean: any broadcast or group mention, a date
    token with a link, a token naming EVIL, or a token that stands in one of the `inputs` as typed. A `private`
    reply (only its reader sees it, and a mention there notifies nobody) may name, by id, the person or channel
    its reader picked: "<@U0ANA> is now a moderator"."""
    return [
        token
        for token in live_markup(payload)
        if _BROADCAST.search(token)
        or (
            (MARK.search(token) or any(token in text for text in inputs)) and not (private and _PICKED.fullmatch(token))
        )
    ]


def _private(call: Any) -> bool:
    """A reply only the person who asked sees: through response_url (ephemeral unless it says in_channel), an
    ephemeral message, a view, or a DM."""
    if call.kind == "hook":
        return call.args.get("response_type") != "in_channel"
    channel = str(call.args.get("channel") or "")
    return call.method in ("chat.postEphemeral", "views.open", "views.publish", "views.update", "views.push") or (
        call.method == "chat.postMessage" and channel.startswith(("U", "W", "D"))
    )


# -- every listener, driven with one text ------------------------------------------------------------------------

ACTIONS = (
    "digest_unsubscribe",
    "digest_settings",
    "chat_edit",
    "chat_cancel",
    "chat_skip",
    "play_another",
    "play_open",
    "play_share",
    "home_another_play",
    "tip_undo",
    "tip_confirm",
    "tip_cancel",
    "tip_share",
    "tip_helpful",
    "tip_report",
    "tip_hide",
    "tip_restore",
    "tip_keep",
    "tip_edit",
    "tip_delete",
    "tips_page",
    "tips_delete_mine",
    "tips_keep_mine",
    "chat_calendar",
    "digest_calendar",
    "tip_to_play",
    "play_draft_edit",
    "play_draft_publish",
    "play_draft_discard",
    "play_edit",
    "play_unpublish",
)
COMMANDS = ("/play", "/tip", "/tips", "/plchat", "/digest")
ENTRY_POINTS = (
    *COMMANDS,
    "/tips since:",
    "/tips from:",
    "/digest subscribe",
    "/plchat moderators",
    "save_tip shortcut",
    "bulb reaction",
    "thread reply",
    "tip form",
    "schedule form",
    "digest settings form",
    "play draft form",
    "play draft add tip",
    *(f"button {action}" for action in ACTIONS),
)


def _input(block: str, value: str) -> dict[str, Any]:
    return {block: {block: {"type": "plain_text_input", "value": value}}}


def entry_points(harness: Any, question_ts: str) -> dict[str, Callable[[str], Any]]:
    """{name: drive} for every kind of request the bot answers (`ENTRY_POINTS`): `drive(text)` sends one signed
    request carrying `text` wherever a person could put it, and returns its `Exchange`. `question_ts` is a chat
    question's post, so thread replies to it are answers."""
    from bot.community import Draft, DraftFields
    from bot.sandbox.render import Button
    from bot.slack import chat_blocks, digest_blocks, play_blocks, tip_blocks

    ws, standin = harness.workspace, harness.standin
    channel = ws.channel_id

    def message(text: str) -> dict[str, Any]:
        return standin.seed_message(channel, "U0COLLEAGUE", text)

    def thread_reply(text: str) -> Any:
        reply = standin.seed_message(channel, "U0ANSWER", text, thread_ts=question_ts)
        return harness.event({"type": "message", "channel": channel, "channel_type": "channel", **reply})

    def tip_form(text: str) -> Any:
        view = tip_blocks.tip_modal(channel=channel)
        values = {
            **_input("text", text),
            **_input("tags", text),
            "grade": {"grade": {"type": "static_select", "selected_option": {"value": text[:50]}}},
        }
        return harness.submit_view(view | {"private_metadata": text if len(text) < 300 else ""}, values)

    def chat_form(text: str) -> Any:
        view = chat_blocks.schedule_modal(default_timezone="America/Los_Angeles")
        values = {
            name: {name: {"type": "plain_text_input", "value": text}}
            for name in ("title", "hashtag", "starts", "timezone", "duration", "skip", "reminders", "questions")
        }
        return harness.submit_view(view | {"private_metadata": text[:20]}, values)

    def digest_form(text: str) -> Any:
        view = digest_blocks.settings_modal(_any_subscription(ws))
        values = {
            "timezone": {"timezone": {"type": "plain_text_input", "value": text}},
            "send_time": {"send_time": {"type": "timepicker", "selected_time": text[:10]}},
            "weekday": {"weekday": {"type": "static_select", "selected_option": {"value": text[:10]}}},
            "quiet_weeks": {"quiet_weeks": {"type": "static_select", "selected_option": {"value": text[:10]}}},
        }
        return harness.submit_view(view, values)

    def play_form(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        view = play_blocks.draft_form(Draft(None, DraftFields()))
        option = {"text": {"type": "plain_text", "text": text[:75] or "x"}, "value": text[:150]}
        values: dict[str, Any] = {
            name: {name.split("~")[0]: {"type": "plain_text_input", "value": text}}
            for name in (
                "title~0",
                "summary~0",
                "steps~0",
                "looks_like~0",
                "watch_out~0",
                "time_needed~0",
                "tags~0",
                "note:K-5~0",
                "note:9-12~0",
            )
        }
        values |= {
            "category~0": {"category": {"type": "static_select", "selected_option": option}},
            "grades~0": {"grades": {"type": "checkboxes", "selected_options": [option]}},
        }
        return view | {"private_metadata": text if len(text) < 3000 else ""}, values

    def play_add_tip(text: str) -> Any:
        view, values = play_form(text)
        return harness.act_in_view(
            view,
            values,
            {
                "type": "plain_text_input",
                "action_id": play_blocks.ADD_TIP,
                "block_id": f"{play_blocks.ADD_TIP}~0",
                "value": text,
            },
        )

    points: list[tuple[str, Callable[[str], Any]]] = [
        (command, partial(harness.slash, command)) for command in COMMANDS
    ]
    points += [
        ("/tips since:", lambda text: harness.slash("/tips", f"since:{text}")),
        ("/tips from:", lambda text: harness.slash("/tips", f"from:{text} #{text}")),
        ("/digest subscribe", lambda text: harness.slash("/digest", f"subscribe {text}")),
        ("/plchat moderators", lambda text: harness.slash("/plchat", f"moderators add {text}")),
        ("save_tip shortcut", lambda text: harness.message_shortcut("save_tip", message(text))),
        ("bulb reaction", lambda text: harness.react("bulb", message(text))),
        ("thread reply", thread_reply),
        ("tip form", tip_form),
        ("schedule form", chat_form),
        ("digest settings form", digest_form),
        ("play draft form", lambda text: harness.submit_view(*play_form(text))),
        ("play draft add tip", play_add_tip),
    ]

    def press(action: str) -> Callable[[str], Any]:
        return lambda text: harness.press(
            Button(number=1, label=text[:75] or "x", action_id=action, value=text[:2000], block_id=text[:255])
        )

    points += [(f"button {action}", press(action)) for action in ACTIONS]
    assert [name for name, _ in points] == list(ENTRY_POINTS)
    return dict(points)


def _any_subscription(ws: Any) -> Any:
    from datetime import datetime, time

    from bot.digests.records import Subscription

    return Subscription(
        id=0,
        team_id=ws.team_id,
        user_id=ws.user_id,
        channel=ws.user_id,
        weekday=0,
        send_time=time(7, 0),
        timezone="UTC",
        quiet_weeks="note",
        active=True,
        paused=False,
        reason="",
        next_send=datetime(2026, 12, 7, 7, tzinfo=UTC),
    )


SORRY_WORDS = "something went wrong on my side"


def problems(exchange: Any, text: str) -> list[str]:
    """What went wrong with one request: a non-2xx answer, an "I failed" reply (a listener raised), or live
    markup from `text` in anything the bot sent."""
    found = [] if 200 <= exchange.status < 300 else [f"HTTP {exchange.status}"]
    for call in exchange.calls:
        if SORRY_WORDS in json.dumps(call.args):
            found.append(f"{call.method}: a listener failed")
        found += [f"{call.method}: live {token}" for token in smuggled(call.args, (text,), private=_private(call))]
    if exchange.ack_body:
        try:
            ack = json.loads(exchange.ack_body)
        except ValueError:
            ack = {}
        found += [f"ack: live {token}" for token in smuggled(ack, (text,))]
    return found


def seed_question(harness: Any, sessions: Any, now: Any) -> str:
    """A chat with question 1 posted in the harness's channel (as the worker would have): returns its ts."""
    from datetime import datetime, timedelta

    from bot.chats import store
    from bot.chats.spec import ChatSpec, Question
    from bot.db import transaction
    from bot.delivery import outbox

    ws = harness.workspace
    spec = ChatSpec(
        title="Feedback",
        hashtag="PLChat",
        starts=datetime(2026, 12, 1, 17, 0),  # noqa: DTZ001 - wall clock
        timezone="America/Los_Angeles",
        duration=60,
        repeat="none",
        until=None,
        skip=(),
        slack_channels=(ws.channel_id,),
        post_to_x=False,
        reminders=(timedelta(hours=1),),
        questions=(Question(5, "How do students give feedback?"),),
    )
    posted = harness.standin.seed_message(ws.channel_id, "U0PLCHATBOT", "Q1 How do students give feedback? #PLChat")
    with transaction(sessions) as session:
        chat = store.create_chat(session, ws.team_id, spec, ws.user_id, now)
        row = outbox.new_row(
            key=f"{store.subject(chat.id)}:2026-12-01:q1:slack:{ws.channel_id}",
            team_id=ws.team_id,
            subject=store.subject(chat.id),
            target="slack",
            channel=ws.channel_id,
            due_at=now,
            expires_at=None,
            payload={"chat_id": chat.id, "occurrence": "2026-12-01", "post": "q1"},
            now=now,
        )
        outbox.enqueue(session, [row | {"state": "sent", "sent_ref": posted["ts"], "finished_at": now}])
    return str(posted["ts"])
