"""Chats in Slack, driven as Slack would: `/plchat schedule` and its form, `/plchat chats` and its buttons, and
answers left in a chat question's thread, against the Slack stand-in on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import FIXED_NOW, new_team
from slack_helpers import all_text, button, buttons, reply
from sqlalchemy import func, select, update

from bot.bootstrap import Database
from bot.chats import answers, store
from bot.chats.definition import parse_chat_fields
from bot.chats.spec import ChatSpec, ScheduledChat
from bot.db import transaction
from bot.delivery import outbox
from bot.models import ChatAnswer, DeliveryRecord, TipRecord, WaitingReply
from bot.sandbox import payloads
from bot.sandbox.harness import BotHarness
from bot.sandbox.render import Button
from bot.slack import chat_blocks
from bot.slack.services import Services

MODERATOR = "U0MOD"
TEACHER = "U0TEACHER"
CHANNEL = "C0PLCHAT"
TZ = "America/Los_Angeles"
BROADCAST = re.compile(r"<!(channel|here|everyone)\b|<!subteam")
FIRST = date(2026, 12, 1)  # the first chat: Tue 17:00 in Los Angeles, a week after FIXED_NOW

Harness = Callable[..., BotHarness]


@pytest.fixture
def harness(database: Database) -> Iterator[Harness]:
    """BotHarness(user) in a workspace of its own (so chats of other tests stay out of its lists), with U0MOD a
    configured moderator; every harness started here is stopped at the end."""
    team, started = new_team(), []
    services = Services(
        database.sessions,
        clock=lambda: FIXED_NOW,
        rng=random.Random(1),
        moderators=frozenset({MODERATOR}),
        default_timezone=TZ,
    )

    def start(user: str = TEACHER) -> BotHarness:
        workspace = payloads.Workspace(team_id=team, user_id=user, user_name=user.lower())
        bot = BotHarness(database, services=services, workspace=workspace).start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


def chat_spec(title: str = "Feedback that moves learning", **fields: object) -> ChatSpec:
    return parse_chat_fields(
        {
            "title": title,
            "hashtag": "PLChat",
            "starts": f"{FIRST} 17:00",
            "timezone": TZ,
            "duration": 60,
            "repeat": "weekly",
            "slack_channels": [CHANNEL],
            "post_to_x": False,
            "questions": [
                {"at": 5, "text": "How do your students give each other feedback?"},
                {"at": 20, "text": "Which tool made feedback faster this year?"},
            ],
            **fields,
        },
        default_timezone=TZ,
    )


def create(database: Database, team: str, spec: ChatSpec | None = None) -> ScheduledChat:
    with transaction(database.sessions) as session:
        return store.create_chat(session, team, spec or chat_spec(), MODERATOR, FIXED_NOW)


def stored(database: Database, chat_id: int) -> ScheduledChat:
    with database.sessions() as session:
        return store.get_chat(session, chat_id, FIXED_NOW)


def team_chats(database: Database, team: str) -> list[ScheduledChat]:
    with database.sessions() as session:
        return store.upcoming(session, FIXED_NOW, team)


def form_values(**changes: object) -> dict:
    """view.state.values for the schedule form, as Slack sends them; `changes` replace a field's value."""
    fields: dict[str, object] = {
        "title": "Feedback that moves learning",
        "hashtag": "PLChat",
        "starts": f"{FIRST} 17:00",
        "timezone": TZ,
        "duration": "60",
        "repeat": "weekly",
        "until": "2027-06-01",
        "skip": "2026-12-22, 2026-12-29",
        "slack_channels": [CHANNEL],
        "post_to_x": True,
        "reminders": "24h, 1h",
        "questions": "5: How do your students give each other feedback?\n15: Which tool made feedback faster?",
        **changes,
    }
    values: dict[str, dict] = {}
    for name, value in fields.items():
        if name == "repeat":
            element = {"type": "static_select", "selected_option": {"value": value}}
        elif name == "until":
            element = {"type": "datepicker", "selected_date": value}
        elif name == "slack_channels":
            element = {"type": "multi_conversations_select", "selected_conversations": value}
        elif name == "post_to_x":
            element = {"type": "checkboxes", "selected_options": [{"value": "post_to_x"}] if value else []}
        else:
            element = {"type": "plain_text_input", "value": value}
        values[name] = {name: element}
    return values


def opened_form(bot: BotHarness) -> dict:
    exchange = bot.slash("/plchat", "schedule")
    [opened] = exchange.api("views.open")
    assert opened.status == 200
    return opened.args["view"]


# -- /plchat schedule ------------------------------------------------------------------------------------------


def test_schedule_by_a_teacher_is_refused_without_a_form(harness: Harness) -> None:
    bot = harness(TEACHER)

    exchange = bot.slash("/plchat", "schedule")

    assert not exchange.api("views.open")
    answer = reply(exchange)
    assert answer["response_type"] == "ephemeral" and "Only moderators schedule or change chats" in answer["text"]


def test_schedule_by_a_moderator_opens_the_form(harness: Harness) -> None:
    bot = harness(MODERATOR)

    exchange = bot.slash("/plchat", "schedule")

    [opened] = exchange.api("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == chat_blocks.SCHEDULE_MODAL == "chat_schedule"
    assert view["private_metadata"] == "" and view["title"]["text"] == "Schedule a chat"
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert {"title", "hashtag", "starts", "timezone", "questions"} <= set(block_ids)
    [zone] = [b for b in view["blocks"] if b["block_id"] == "timezone"]
    assert zone["element"]["initial_value"] == TZ
    assert not exchange.hooks(), "the form is the whole answer"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone": "is not a known time zone"}),
        ({"questions": " \n "}, {"questions": "at least one question"}),
        ({"questions": "5: " + "Why " * 80}, {"questions": "characters over"}),
        (
            {"timezone": "Pacific time", "skip": "2026-12-23", "duration": "9"},
            {"timezone": "not a known time zone", "skip": "is a Wednesday", "duration": "is 9 minutes"},
        ),
    ],
)
def test_a_bad_form_is_answered_with_errors_under_its_fields(
    harness: Harness, database: Database, changes: dict, errors: dict[str, str]
) -> None:
    bot = harness(MODERATOR)
    view = opened_form(bot)

    exchange = bot.submit_view(view, form_values(**changes))

    assert exchange.status == 200
    ack = json.loads(exchange.ack_body)
    assert ack["response_action"] == "errors" and set(ack["errors"]) == set(errors)
    for block_id, says in errors.items():
        assert says in ack["errors"][block_id] and len(ack["errors"][block_id]) <= 150
        assert block_id in {b["block_id"] for b in view["blocks"]}, "errors go on blocks the form has"
    assert not exchange.api("chat.postMessage") and team_chats(database, bot.workspace.team_id) == []


def test_a_good_form_schedules_the_chat_and_tells_the_moderator(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    view = opened_form(bot)

    exchange = bot.submit_view(view, form_values())

    assert exchange.status == 200 and exchange.ack_body in (b"", b"{}"), exchange.ack_body
    [chat] = team_chats(database, bot.workspace.team_id)
    spec = chat.spec
    assert (spec.title, spec.hashtag, spec.timezone, spec.duration, spec.repeat) == (
        "Feedback that moves learning",
        "PLChat",
        TZ,
        60,
        "weekly",
    )
    assert spec.until == date(2027, 6, 1) and spec.skip == (date(2026, 12, 22), date(2026, 12, 29))
    assert spec.slack_channels == (CHANNEL,) and spec.post_to_x is True
    assert [(q.at, q.text) for q in spec.questions] == [
        (5, "How do your students give each other feedback?"),
        (15, "Which tool made feedback faster?"),
    ]
    assert chat.next_start == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    [dm] = exchange.api("chat.postMessage")
    assert dm.status == 200 and dm.args["channel"] == MODERATOR
    assert dm.args["text"] == "Chat scheduled: Feedback that moves learning"
    assert button(dm.args, "chat_cancel").value == str(chat.id)


def test_a_form_from_someone_no_longer_a_moderator_saves_nothing(harness: Harness, database: Database) -> None:
    view = opened_form(harness(MODERATOR))
    teacher = harness(TEACHER)

    exchange = teacher.submit_view(view, form_values())

    [dm] = exchange.api("chat.postMessage")
    assert dm.args["channel"] == TEACHER and "Only moderators" in dm.args["text"]
    assert team_chats(database, teacher.workspace.team_id) == []


def test_edit_opens_the_form_filled_in_and_saving_changes_the_chat(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    chat = create(database, bot.workspace.team_id)
    listing = reply(bot.slash("/plchat", "chats"))

    exchange = bot.press(button(listing, "chat_edit"))

    [opened] = exchange.api("views.open")
    view = opened.args["view"]
    assert view["private_metadata"] == str(chat.id) and view["title"]["text"] == "Edit chat"
    [title] = [b for b in view["blocks"] if b["block_id"] == "title"]
    assert title["element"]["initial_value"] == "Feedback that moves learning"
    saved = bot.submit_view(view, form_values(title="Feedback, round two"))
    [dm] = saved.api("chat.postMessage")
    assert dm.args["text"] == "Chat changed: Feedback, round two"
    assert stored(database, chat.id).spec.title == "Feedback, round two"
    assert len(team_chats(database, bot.workspace.team_id)) == 1


# -- /plchat chats and its buttons -----------------------------------------------------------------------------


def test_chats_lists_the_workspace_chats_with_buttons_for_moderators(harness: Harness, database: Database) -> None:
    moderator, teacher = harness(MODERATOR), harness(TEACHER)
    chat = create(database, moderator.workspace.team_id)
    create(database, new_team(), chat_spec("Another workspace's chat"))

    for_moderator = reply(moderator.slash("/plchat", "chats"))
    for_teacher = reply(teacher.slash("/plchat", "chats"))

    assert for_moderator["response_type"] == "ephemeral" and for_moderator["text"] == "Upcoming chats (1)"
    text = all_text(for_moderator)
    assert "Feedback that moves learning" in text and "#PLChat" in text and "Another workspace" not in text
    assert f"<!date^{int(chat.next_start.timestamp())}^" in text
    assert {(b.action_id, b.value) for b in buttons(for_moderator)} == {
        ("chat_edit", str(chat.id)),
        ("chat_skip", f"{chat.id}:{FIRST}"),
        ("chat_cancel", str(chat.id)),
    }
    assert "Feedback that moves learning" in all_text(for_teacher) and buttons(for_teacher) == []


def test_chats_without_any_says_who_can_schedule(harness: Harness) -> None:
    answer = reply(harness(TEACHER).slash("/plchat", "chats"))

    assert answer["text"] == "No chats are scheduled yet. Moderators can schedule one with `/plchat schedule`."


def test_cancel_pressed_by_a_teacher_is_refused_and_the_chat_stays(harness: Harness, database: Database) -> None:
    teacher = harness(TEACHER)
    chat = create(database, teacher.workspace.team_id)
    forged = Button(0, "Cancel", "chat_cancel", str(chat.id), f"chat:{chat.id}")

    answer = reply(teacher.press(forged))

    assert "Only moderators" in answer["text"]
    assert stored(database, chat.id).cancelled is False
    assert [c.id for c in team_chats(database, teacher.workspace.team_id)] == [chat.id]


def test_cancel_pressed_by_a_moderator_cancels_the_chat(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    chat = create(database, bot.workspace.team_id)
    listing = reply(bot.slash("/plchat", "chats"))
    cancel = button(listing, "chat_cancel")
    [element] = [e for b in listing["blocks"] for e in b.get("elements", []) if e.get("action_id") == "chat_cancel"]
    assert element["confirm"]["confirm"]["text"] == "Cancel the chat", "Slack asks once more before cancelling"

    answer = reply(bot.press(cancel))

    assert answer["replace_original"] is True and "Cancelled. Nothing more of that chat" in answer["text"]
    assert stored(database, chat.id).cancelled is True
    assert team_chats(database, bot.workspace.team_id) == []
    again = reply(bot.slash("/plchat", "chats"))
    assert again["text"].startswith("No chats are scheduled yet")


def test_cancel_of_another_workspaces_chat_is_refused(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    elsewhere = create(database, new_team())

    answer = reply(bot.press(Button(0, "Cancel", "chat_cancel", str(elsewhere.id), None)))

    assert f"There is no chat {elsewhere.id}." in answer["text"]
    assert stored(database, elsewhere.id).cancelled is False


def test_skip_next_skips_that_date_only(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    chat = create(database, bot.workspace.team_id)
    listing = reply(bot.slash("/plchat", "chats"))

    answer = reply(bot.press(button(listing, "chat_skip")))

    assert answer["replace_original"] is True and "Skipped Tue Dec 1." in answer["text"]
    after = stored(database, chat.id)
    assert after.spec.skip == (FIRST,) and not after.cancelled
    assert after.next_start == datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
    assert button(answer, "chat_skip").value == f"{chat.id}:2026-12-08", "the list shown after is up to date"


@pytest.mark.parametrize(
    ("until", "value", "says"),
    [
        ("2027-06-01", "{id}:2026-12-02", "does not run on Wed 2026-12-02 (it runs on Tuesdays)"),
        ("2027-06-01", "{id}:2026-12-22", "does not run on Tue 2026-12-22"),
        ("2027-06-01", "{id}:2026-11-17", "does not run on Tue 2026-11-17"),
        ("2027-06-01", "{id}:soon", "That button is out of date"),
        (None, "{id}:2026-12-02", "does not run on Wed 2026-12-02"),  # a weekly chat without an end
    ],
)
def test_skip_with_a_stale_or_forged_date_is_explained(
    harness: Harness, database: Database, until: str | None, value: str, says: str
) -> None:
    bot = harness(MODERATOR)
    chat = create(database, bot.workspace.team_id, chat_spec(until=until, skip=["2026-12-22"] if until else []))

    answer = reply(bot.press(Button(0, "Skip next", "chat_skip", value.format(id=chat.id), None)))

    assert says in answer["text"]
    assert stored(database, chat.id).spec.skip == ((date(2026, 12, 22),) if until else ())


def test_skip_by_a_teacher_is_refused(harness: Harness, database: Database) -> None:
    teacher = harness(TEACHER)
    chat = create(database, teacher.workspace.team_id)

    answer = reply(teacher.press(Button(0, "Skip next", "chat_skip", f"{chat.id}:{FIRST}", None)))

    assert "Only moderators" in answer["text"] and stored(database, chat.id).spec.skip == ()


HOSTILE_TITLE = "<!channel> @here <https://evil.example|x> <!subteam^S123|@teachers> & *bold*"


@pytest.mark.parametrize("user", [MODERATOR, TEACHER])
def test_a_hostile_title_never_reaches_slack_unescaped(harness: Harness, database: Database, user: str) -> None:
    bot = harness(user)
    create(database, bot.workspace.team_id, chat_spec(HOSTILE_TITLE, hashtag="PLChat"))

    answer = reply(bot.slash("/plchat", "chats"))

    rendered = all_text(answer)
    assert "&lt;!\u2060channel&gt;" in rendered and "@\u2060here" in rendered
    assert not BROADCAST.search(rendered) and "<https://evil" not in rendered and "<!subteam" not in rendered
    for call in bot.standin.calls:
        assert not BROADCAST.search(json.dumps(call.args, ensure_ascii=False))


def test_a_hostile_title_in_the_moderators_confirmation_is_escaped(harness: Harness, database: Database) -> None:
    bot = harness(MODERATOR)
    view = opened_form(bot)

    exchange = bot.submit_view(view, form_values(title=HOSTILE_TITLE))

    [dm] = exchange.api("chat.postMessage")
    rendered = json.dumps(dm.args, ensure_ascii=False)
    assert not BROADCAST.search(rendered) and "<https://evil" not in rendered
    assert "&lt;https://evil.example|x&gt;" in dm.args["text"]
    [chat] = team_chats(database, bot.workspace.team_id)
    assert chat.spec.title == HOSTILE_TITLE, "stored as typed; escaped only where it is shown"


# -- answers in a question's thread ----------------------------------------------------------------------------


def question_posted(bot: BotHarness, database: Database, chat_id: int, number: int, team: str | None = None) -> str:
    """The chat's question `number` as the worker would have posted it on FIRST: a message in CHANNEL and its
    outbox row (of `team`, by default the harness's), sent; returns the message's ts."""
    team = team or bot.workspace.team_id
    message = bot.standin.seed_message(CHANNEL, "U0PLCHATBOT", f"Q{number} a question #PLChat")
    key = f"{store.subject(chat_id)}:{FIRST}:q{number}:slack:{CHANNEL}"
    with transaction(database.sessions) as session:
        outbox.enqueue(
            session,
            [
                outbox.new_row(
                    key=key,
                    team_id=team,
                    subject=store.subject(chat_id),
                    target="slack",
                    channel=CHANNEL,
                    due_at=FIXED_NOW,
                    expires_at=None,
                    now=FIXED_NOW,
                    payload={"chat_id": chat_id, "occurrence": FIRST.isoformat(), "post": f"q{number}"},
                )
            ],
        )
        row_id = session.scalar(select(DeliveryRecord.id).where(DeliveryRecord.key == key))
        session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.id == row_id)
            .values(state="sent", sent_ref=message["ts"], finished_at=FIXED_NOW)
        )
    return message["ts"]


def thread_reply(bot: BotHarness, thread_ts: str, text: str, user: str = "U0ANSWER", channel: str = CHANNEL) -> dict:
    message = bot.standin.seed_message(channel, user, text, thread_ts=thread_ts)
    return {"type": "message", "channel": channel, "channel_type": "channel", **message}


def chat_answers(database: Database, chat_id: int) -> list[tuple[ChatAnswer, TipRecord]]:
    with database.sessions() as session:
        return list(
            session.execute(
                select(ChatAnswer, TipRecord)
                .join(TipRecord, TipRecord.id == ChatAnswer.tip_id)
                .where(ChatAnswer.chat_id == chat_id)
                .order_by(TipRecord.id)
            ).all()
        )


def tips_of(database: Database, team: str) -> list[TipRecord]:
    with database.sessions() as session:
        return list(session.scalars(select(TipRecord).where(TipRecord.team_id == team)))


def test_a_reply_in_a_questions_thread_becomes_a_chat_tip(harness: Harness, database: Database) -> None:
    bot = harness(TEACHER)
    chat = create(database, bot.workspace.team_id)
    question_posted(bot, database, chat.id, 1)
    q2 = question_posted(bot, database, chat.id, 2)
    event = thread_reply(bot, q2, "A2 Exit tickets on sticky notes #assessment")

    exchange = bot.event(event)

    assert exchange.status == 200
    [(answer, tip)] = chat_answers(database, chat.id)
    assert (answer.team_id, answer.occurrence, answer.question, answer.participant) == (
        bot.workspace.team_id,
        FIRST,
        2,
        "U0ANSWER",
    )
    assert tip.source == "chat" and tip.author == "U0ANSWER" and tip.team_id == bot.workspace.team_id
    assert "Exit tickets on sticky notes" in tip.text and "assessment" in tip.tags
    assert (
        tip.source_ref == f"{CHANNEL}:{event['ts']}" and tip.permalink and event["ts"].replace(".", "") in tip.permalink
    )
    assert not exchange.api("chat.postMessage"), "answers are saved quietly: the thread is the conversation"


def test_the_same_reply_delivered_twice_is_saved_once(harness: Harness, database: Database) -> None:
    bot = harness(TEACHER)
    chat = create(database, bot.workspace.team_id)
    event = thread_reply(bot, question_posted(bot, database, chat.id, 1), "A1 Peer feedback with two stars")

    bot.event(event)
    bot.event(event)  # Slack retries an event it thinks was missed

    assert len(chat_answers(database, chat.id)) == 1


@pytest.mark.parametrize(
    "kind", ["unrelated thread", "other channel", "bot reply", "edit", "thread parent", "emoji codes", "emoji"]
)
def test_replies_that_are_not_answers_save_nothing(harness: Harness, database: Database, kind: str) -> None:
    bot = harness(TEACHER)
    chat = create(database, bot.workspace.team_id)
    question = question_posted(bot, database, chat.id, 1)
    if kind == "unrelated thread":
        parent = bot.standin.seed_message(CHANNEL, "U0SOMEONE", "Lunch plans?")
        event = thread_reply(bot, parent["ts"], "A1 Pizza, obviously")
    elif kind == "other channel":
        event = thread_reply(bot, question, "A1 Same ts, other channel", channel="C0OTHER")
    elif kind == "bot reply":
        event = {**thread_reply(bot, question, "A1 I am a bot"), "bot_id": "B0OTHER", "subtype": "bot_message"}
    elif kind == "edit":
        event = {**thread_reply(bot, question, "A1 edited"), "subtype": "message_changed"}
    elif kind == "thread parent":
        event = {**thread_reply(bot, question, "A1 parent"), "ts": question}
    elif kind == "emoji codes":
        event = thread_reply(bot, question, ":tada: :+1::skin-tone-2: ")
    else:
        event = thread_reply(bot, question, "\U0001f389\U0001f64c !")

    exchange = bot.event(event)

    assert exchange.status == 200
    assert chat_answers(database, chat.id) == [] and tips_of(database, bot.workspace.team_id) == []


def test_a_reply_under_another_workspaces_question_is_not_saved_here(harness: Harness, database: Database) -> None:
    bot = harness(TEACHER)
    elsewhere = create(database, new_team())
    # The same channel id and ts, but the question was the other workspace's.
    question = question_posted(bot, database, elsewhere.id, 1, team=elsewhere.team_id)

    bot.event(thread_reply(bot, question, "A1 Cross-workspace answer"))

    assert chat_answers(database, elsewhere.id) == [] and tips_of(database, bot.workspace.team_id) == []


def question_on_its_way(bot: BotHarness, database: Database, chat_id: int) -> tuple[int, str]:
    """Question 1 as the worker is sending it: Slack has the post (its ts), the outbox row is still `sending`
    with no ts recorded (mid-send, or left so by a crash)."""
    message = bot.standin.seed_message(CHANNEL, "U0PLCHATBOT", "Q1 a question #PLChat")
    key = f"{store.subject(chat_id)}:{FIRST}:q1:slack:{CHANNEL}"
    with transaction(database.sessions) as session:
        outbox.enqueue(
            session,
            [
                outbox.new_row(
                    key=key,
                    team_id=bot.workspace.team_id,
                    subject=store.subject(chat_id),
                    target="slack",
                    channel=CHANNEL,
                    due_at=FIXED_NOW,
                    expires_at=None,
                    now=FIXED_NOW,
                    payload={"chat_id": chat_id, "occurrence": FIRST.isoformat(), "post": "q1"},
                )
                | {"state": "sending"}
            ],
        )
        row_id = session.scalar(select(DeliveryRecord.id).where(DeliveryRecord.key == key))
    return row_id, message["ts"]


def test_a_reply_before_its_questions_ts_is_recorded_is_kept_and_saved_once_it_is(
    harness: Harness, database: Database
) -> None:
    bot = harness(TEACHER)
    chat = create(database, bot.workspace.team_id)
    row_id, ts = question_on_its_way(bot, database, chat.id)

    bot.event(thread_reply(bot, ts, "A1 Quick thumbs up, thumbs down"))
    assert chat_answers(database, chat.id) == [], "not known as a question yet"
    with transaction(database.sessions) as session:
        assert answers.adopt_waiting(session, FIXED_NOW) == 0, "still not known: kept waiting"
        session.execute(
            update(DeliveryRecord)
            .where(DeliveryRecord.id == row_id)
            .values(state="sent", sent_ref=ts, finished_at=FIXED_NOW)
        )
    with transaction(database.sessions) as session:
        assert answers.adopt_waiting(session, FIXED_NOW) == 1

    [(answer, tip)] = chat_answers(database, chat.id)
    assert (answer.question, answer.participant, tip.author) == (1, "U0ANSWER", "U0ANSWER")
    assert "thumbs down" in tip.text
    with transaction(database.sessions) as session:
        assert answers.adopt_waiting(session, FIXED_NOW) == 0, "saved once"
        assert session.scalar(select(func.count()).select_from(WaitingReply)) == 0


def test_a_kept_reply_whose_thread_never_becomes_a_question_is_dropped_after_a_day(
    harness: Harness, database: Database
) -> None:
    bot = harness(TEACHER)
    chat = create(database, bot.workspace.team_id)
    question_on_its_way(bot, database, chat.id)
    lunch = bot.standin.seed_message(CHANNEL, "U0SOMEONE", "Lunch plans?")

    bot.event(thread_reply(bot, lunch["ts"], "Pizza, obviously"))  # kept: a question is on its way here
    with transaction(database.sessions) as session:
        kept = session.scalar(
            select(func.count())
            .select_from(WaitingReply)
            .where(WaitingReply.channel == CHANNEL, WaitingReply.thread_ts == lunch["ts"])
        )
        assert kept == 1
        answers.adopt_waiting(session, FIXED_NOW + answers.REPLIES_WAIT + timedelta(minutes=1))
    with database.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(WaitingReply).where(WaitingReply.thread_ts == lunch["ts"]))
            == 0
        )
    assert tips_of(database, bot.workspace.team_id) == []
