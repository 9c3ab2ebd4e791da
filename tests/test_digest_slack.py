"""`/digest` and the digest's buttons, form and App Home, driven as Slack would (signed HTTP, documented payloads)
against the Slack stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXED_NOW, new_team
from slack_helpers import all_text, button, buttons, reply

from bot.bootstrap import Database
from bot.digests import subscriptions
from bot.digests.records import Subscription
from bot.sandbox import payloads
from bot.sandbox.harness import BotHarness
from bot.slack.services import Services

MODERATOR, TEACHER, NEIGHBOUR = "U0MOD", "U0TEACHER", "U0NEIGHBOUR"
LA, NZ = "America/Los_Angeles", "Pacific/Auckland"
NEWS = "C0NEWS"


@pytest.fixture
def bot(database: Database) -> Iterator[BotHarness]:
    """The bot in a workspace of its own (the database lives for the module), U0MOD a configured moderator,
    PLCHAT_TIMEZONE Los Angeles, at FIXED_NOW (a Tuesday)."""
    services = Services(
        database.sessions,
        clock=lambda: FIXED_NOW,
        rng=random.Random(7),
        moderators=frozenset({MODERATOR}),
        default_timezone=LA,
    )
    with BotHarness(
        database, services=services, workspace=payloads.Workspace(team_id=new_team(), user_id=TEACHER)
    ) as harness:
        yield harness


def as_user(bot: BotHarness, user: str) -> BotHarness:
    """The next requests come from `user` (same workspace, same stand-in)."""
    bot.workspace = replace(bot.workspace, user_id=user, user_name=user.lower())
    return bot


def destination(database: Database, bot: BotHarness, channel: str) -> Subscription | None:
    with database.sessions() as session:
        return subscriptions.destination(session, bot.workspace.team_id, channel)


def local_next(subscription: Subscription) -> datetime:
    assert subscription.next_send is not None
    return subscription.next_send.astimezone(ZoneInfo(subscription.timezone))


# -- /digest subscribe --------------------------------------------------------------------------------------------


def test_subscribe_sends_it_to_my_dms_on_monday_at_seven_in_my_own_slack_timezone(bot: BotHarness, database):
    bot.standin.set_user(TEACHER, tz=NZ)
    exchange = bot.slash("/digest", "subscribe")
    answer = reply(exchange)
    assert answer["response_type"] == "ephemeral" and "Subscribed" in answer["text"]
    assert [call.args.get("user") for call in exchange.api("users.info")] == [TEACHER]
    mine = destination(database, bot, TEACHER)
    assert mine is not None and mine.to_dm and mine.user_id == TEACHER
    assert (mine.weekday, mine.send_time, mine.timezone, mine.quiet_weeks) == (0, time(7, 0), NZ, "note")
    assert local_next(mine).strftime("%a %Y-%m-%d %H:%M") == "Mon 2026-11-30 07:00"
    assert mine.next_send == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    assert "Pacific/Auckland" in all_text(answer) and "your DMs" in answer["text"]
    assert {b.action_id for b in buttons(answer)} == {"digest_unsubscribe", "digest_settings"}


def test_subscribe_on_another_day_and_time_and_again_changes_the_same_subscription(bot: BotHarness, database):
    reply(bot.slash("/digest", "subscribe friday 15:30"))
    first = destination(database, bot, TEACHER)
    assert first is not None and (first.weekday, first.send_time, first.timezone) == (4, time(15, 30), LA)
    assert local_next(first).strftime("%a %H:%M") == "Fri 15:30"
    reply(bot.slash("/digest", "subscribe 7:45am"))  # the day stays Friday; the time changes
    again = destination(database, bot, TEACHER)
    assert again is not None and again.id == first.id and (again.weekday, again.send_time) == (4, time(7, 45))


def test_a_channel_is_subscribed_by_moderators_only_unless_they_let_members(bot: BotHarness, database):
    refused = reply(bot.slash("/digest", f"subscribe <#{NEWS}|news>"))
    assert "Only moderators" in refused["text"] and destination(database, bot, NEWS) is None

    as_user(bot, MODERATOR)
    bot.standin.set_user(MODERATOR, tz=NZ)  # a channel's digest uses the workspace's time zone, not theirs
    answer = reply(bot.slash("/digest", f"subscribe <#{NEWS}|news> thursday 08:30"))
    news = destination(database, bot, NEWS)
    assert news is not None and not news.to_dm and news.user_id == MODERATOR
    assert (news.weekday, news.send_time, news.timezone) == (3, time(8, 30), LA)
    assert f"<#{NEWS}>" in answer["text"]

    as_user(bot, TEACHER)
    assert "Only moderators" in reply(bot.slash("/digest", "channel-subscriptions members"))["text"]
    as_user(bot, MODERATOR)
    assert "any channel member" in reply(bot.slash("/digest", "channel-subscriptions members"))["text"]
    as_user(bot, TEACHER)
    reply(bot.slash("/digest", "subscribe <#C0TEAM|team>"))
    team = destination(database, bot, "C0TEAM")
    assert team is not None and team.active and team.user_id == TEACHER


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("subscribe blursday", "didn't understand `blursday`"),
        ("subscribe #news", "Pick the channel from Slack's suggestions"),
        ("subscribe 25:00", "didn't understand `25:00`"),
        ("subscribe monday 7", "didn't understand `7`"),
        ("subscribe " + "x" * 5000, "didn't understand"),
        ("subscribe " + "monday " * 700 + "blursday", "didn't understand `blursday`"),
        ("resubscribe", "I don't know `/digest resubscribe`"),
        ("channel-subscriptions everyone", "Say who may subscribe a channel"),
    ],
)
def test_bad_input_gets_a_clear_problem_and_nothing_changes(bot: BotHarness, database, text: str, says: str):
    answer = reply(bot.slash("/digest", text))
    assert says in answer["text"], answer["text"]
    assert len(answer["text"]) < 1000, "the reply quotes a short piece of what was typed, not all of it"
    assert destination(database, bot, TEACHER) is None


# -- pause, resume, unsubscribe, preview ---------------------------------------------------------------------------


def test_pause_resume_and_unsubscribe(bot: BotHarness, database):
    assert "you have no digest" in reply(bot.slash("/digest", "pause"))["text"]
    reply(bot.slash("/digest", "subscribe"))
    paused = reply(bot.slash("/digest", "pause"))
    assert "Paused" in paused["text"]
    mine = destination(database, bot, TEACHER)
    assert mine is not None and mine.paused and mine.next_send is None and mine.active
    assert "Resumed" in reply(bot.slash("/digest", "resume"))["text"]
    mine = destination(database, bot, TEACHER)
    assert mine is not None and not mine.paused and local_next(mine).strftime("%a %H:%M") == "Mon 07:00"
    assert "Unsubscribed" in reply(bot.slash("/digest", "unsubscribe"))["text"]
    mine = destination(database, bot, TEACHER)
    assert mine is not None and (mine.active, mine.reason, mine.next_send) == (False, "unsubscribed", None)
    assert "you have no digest" in reply(bot.slash("/digest", "resume"))["text"]


def test_a_moderator_pauses_a_channel_digest_but_not_someone_elses_dms(bot: BotHarness, database):
    reply(bot.slash("/digest", "subscribe"))
    as_user(bot, MODERATOR)
    reply(bot.slash("/digest", f"subscribe <#{NEWS}|news>"))
    as_user(bot, MODERATOR)
    assert "Paused" in reply(bot.slash("/digest", f"pause <#{NEWS}|news>"))["text"]
    news = destination(database, bot, NEWS)
    assert news is not None and news.paused
    as_user(bot, TEACHER)
    assert "Only whoever subscribed" in reply(bot.slash("/digest", f"resume <#{NEWS}|news>"))["text"]


def test_preview_shows_this_weeks_digest_privately(bot: BotHarness, database):
    answer = reply(bot.slash("/digest", "preview"))
    assert answer["response_type"] == "ephemeral"
    assert "quiet week" in answer["text"].lower(), "a new workspace has nothing new yet"
    reply(bot.slash("/tip", "Start each class with a two-minute retrieval warm-up"))
    answer = reply(bot.slash("/digest", "preview"))
    assert answer["blocks"][0]["type"] == "header" and "Your PLChat week" in answer["blocks"][0]["text"]["text"]
    assert "two-minute retrieval warm-up" in all_text(answer)
    assert not bot.standin.calls_to("chat.postMessage"), "nothing was posted anywhere"


# -- buttons, the settings form, App Home ---------------------------------------------------------------------------


def test_the_unsubscribe_button_works_in_one_click_for_the_subscriber_only(bot: BotHarness, database):
    subscribed = reply(bot.slash("/digest", "subscribe"))
    unsubscribe = button(subscribed, "digest_unsubscribe")
    mine = destination(database, bot, TEACHER)
    assert mine is not None and unsubscribe.value == str(mine.id)

    as_user(bot, NEIGHBOUR)
    refused = reply(bot.press(unsubscribe))
    assert "Only whoever subscribed" in refused["text"]
    as_user(bot, MODERATOR)
    assert "Only whoever subscribed" in reply(bot.press(unsubscribe))["text"], "a DM is its owner's alone"
    still = destination(database, bot, TEACHER)
    assert still is not None and still.active

    as_user(bot, TEACHER)
    done = reply(bot.press(unsubscribe))
    assert "Unsubscribed" in done["text"] and done["replace_original"] is False
    gone = destination(database, bot, TEACHER)
    assert gone is not None and (gone.active, gone.reason) == (False, "unsubscribed")


def test_settings_button_opens_the_form_a_bad_timezone_is_refused_and_good_values_change_it(bot: BotHarness, database):
    subscribed = reply(bot.slash("/digest", "subscribe"))
    mine = destination(database, bot, TEACHER)
    assert mine is not None
    exchange = bot.press(button(subscribed, "digest_settings"))
    [opened] = exchange.api("views.open")
    view = opened.args["view"]
    assert (view["callback_id"], view["private_metadata"]) == ("digest_settings", str(mine.id))
    assert [b.get("block_id") for b in view["blocks"][1:]] == ["weekday", "send_time", "timezone", "quiet_weeks"]
    assert not exchange.hooks()

    def values(zone: str) -> dict:
        return {
            "weekday": {"weekday": {"type": "static_select", "selected_option": {"value": "wednesday"}}},
            "send_time": {"send_time": {"type": "timepicker", "selected_time": "06:15"}},
            "timezone": {"timezone": {"type": "plain_text_input", "value": zone}},
            "quiet_weeks": {"quiet_weeks": {"type": "radio_buttons", "selected_option": {"value": "skip"}}},
        }

    refused = bot.submit_view(view, values("Mars/Olympus_Mons"))
    ack = json.loads(refused.ack_body)
    assert ack["response_action"] == "errors" and set(ack["errors"]) == {"timezone"}
    assert "Mars/Olympus_Mons" in ack["errors"]["timezone"] and len(ack["errors"]["timezone"]) <= 150
    assert not refused.api("chat.postMessage")
    assert destination(database, bot, TEACHER) == mine, "nothing changed"

    saved = bot.submit_view(view, values("Europe/Berlin"))
    assert saved.status == 200 and saved.ack_body in (b"", b"{}"), saved.ack_body
    [dm] = saved.api("chat.postMessage")
    assert dm.args["channel"] == TEACHER and "Wednesdays at 06:15 (Europe/Berlin)" in dm.args["text"]
    changed = destination(database, bot, TEACHER)
    assert changed is not None
    assert (changed.weekday, changed.send_time, changed.timezone, changed.quiet_weeks) == (
        2,
        time(6, 15),
        "Europe/Berlin",
        "skip",
    )
    assert local_next(changed).strftime("%a %Y-%m-%d %H:%M") == "Wed 2026-11-25 06:15"


def test_someone_else_cannot_open_or_save_my_settings(bot: BotHarness, database):
    subscribed = reply(bot.slash("/digest", "subscribe"))
    mine = destination(database, bot, TEACHER)
    as_user(bot, TEACHER)
    view = bot.press(button(subscribed, "digest_settings")).api("views.open")[0].args["view"]
    as_user(bot, NEIGHBOUR)
    exchange = bot.submit_view(view, {"timezone": {"timezone": {"type": "plain_text_input", "value": "Europe/Berlin"}}})
    [dm] = exchange.api("chat.postMessage")
    assert dm.args["channel"] == NEIGHBOUR and "Only whoever subscribed" in dm.args["text"]
    assert destination(database, bot, TEACHER) == mine
    pressed = bot.press(button(subscribed, "digest_settings"))
    assert pressed.api("views.open") == [], "the form, with my settings, does not open for someone else"
    assert "Only whoever subscribed" in reply(pressed)["text"]


def test_digest_settings_command_opens_the_form_or_says_there_is_nothing(bot: BotHarness, database):
    assert "you have no digest" in reply(bot.slash("/digest", "settings"))["text"]
    reply(bot.slash("/digest", "subscribe"))
    exchange = bot.slash("/digest", "settings")
    [opened] = exchange.api("views.open")
    assert opened.args["view"]["callback_id"] == "digest_settings" and not exchange.hooks()


def test_app_home_shows_my_digest_with_its_buttons(bot: BotHarness, database):
    before = bot.open_home().api("views.publish")[0].args["view"]
    assert "No weekly digest yet" in all_text(before)
    reply(bot.slash("/digest", "subscribe tuesday 16:00"))
    [published] = bot.open_home().api("views.publish")
    view = published.args["view"]
    text = all_text(view)
    mine = destination(database, bot, TEACHER)
    assert mine is not None
    assert "Your digests" in text and "Tuesdays at 16:00 (America/Los_Angeles)" in text
    home_buttons = {(b.action_id, b.value) for b in buttons(view)}
    assert {("digest_unsubscribe", str(mine.id)), ("digest_settings", str(mine.id))} <= home_buttons
    # Home's Settings button opens the form (a press on a view has no response_url) ...
    settings = next(b for b in buttons(view) if b.action_id == "digest_settings")
    [form] = bot.press(settings, view_id="V0HOME").api("views.open")
    assert form.args["view"]["private_metadata"] == str(mine.id)
    # ... and its Unsubscribe works in one click, and Home shows it gone, without an error message.
    unsubscribe = next(b for b in buttons(view) if b.action_id == "digest_unsubscribe")
    pressed = bot.press(unsubscribe, view_id="V0HOME")
    gone = destination(database, bot, TEACHER)
    assert gone is not None and not gone.active
    assert "went wrong" not in all_text([call.args for call in pressed.calls])
    [refreshed] = pressed.api("views.publish")
    assert refreshed.args["user_id"] == TEACHER and "No weekly digest yet" in all_text(refreshed.args["view"])


def test_a_refused_press_on_home_is_explained_in_a_dm(bot: BotHarness, database):
    reply(bot.slash("/digest", "subscribe"))
    view = bot.open_home().api("views.publish")[0].args["view"]
    unsubscribe = next(b for b in buttons(view) if b.action_id == "digest_unsubscribe")
    as_user(bot, NEIGHBOUR)  # someone else's id in the button's value: refused, and told why
    pressed = bot.press(unsubscribe, view_id="V0HOME")
    [dm] = pressed.api("chat.postMessage")
    assert dm.args["channel"] == NEIGHBOUR and "Only whoever subscribed" in dm.args["text"]
    still = destination(database, bot, TEACHER)
    assert still is not None and still.active
