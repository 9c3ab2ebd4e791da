"""Every way a tip reaches the bot, driven with Slack's documented payloads (message_action, shortcut,
reaction_added, view_submission, app_uninstalled) over signed HTTP, against the Slack stand-in."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections.abc import Iterator

import pytest
from conftest import FIXED_NOW
from slack_helpers import all_text, button, buttons, reply

from bot.bootstrap import Database
from bot.db import transaction
from bot.sandbox import payloads
from bot.sandbox.harness import BotHarness, Exchange
from bot.sandbox.render import Button
from bot.slack.markup import live_markup
from bot.slack.services import Services
from bot.tips import store
from bot.tips.records import NewTip

COLLEAGUE = "U0COLLEAGUE"


@pytest.fixture
def unique(request) -> str:
    """A word no other test uses, so tests sharing a module database stay independent."""
    return "zq" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def other_bot(database: Database, services: Services) -> Iterator[BotHarness]:
    """The same bot installed in a second workspace, on the same database."""
    workspace = payloads.Workspace(
        team_id="T0OTHERSCHOOL",
        team_domain="other-school",
        channel_id="C0OTHER",
        user_id="U0STRANGER",
        user_name="stranger",
    )
    with BotHarness(database, services=services, workspace=workspace) as harness:
        yield harness


def private_post(exchange: Exchange) -> dict:
    """The one ephemeral message the bot posted with chat.postEphemeral (events have no response_url)."""
    assert exchange.status == 200, exchange.ack_body
    [post] = exchange.api("chat.postEphemeral")
    return post.args


def tips_with(database: Database, team: str, word: str) -> list[store.Tip]:
    with database.sessions() as session:
        return [t for t in store.newest(session, team, limit=100) if word in t.text]


def form_values(text: str, tags: str = "", grade: str | None = None) -> dict:
    return {
        "text": {"text": {"type": "plain_text_input", "value": text}},
        "tags": {"tags": {"type": "plain_text_input", "value": tags}},
        "grade": {"grade": {"type": "static_select", "selected_option": {"value": grade} if grade else None}},
    }


# -- message shortcut ------------------------------------------------------------------------


def test_a_too_short_message_is_saved_neither_by_shortcut_nor_by_reaction(bot: BotHarness, database):
    short = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, "+1 :)")
    by_shortcut = reply(bot.message_shortcut("save_tip", short))
    by_reaction = private_post(bot.react(bot.settings.plchat_tip_reaction, short))

    assert all("too short to save as a tip" in answer["text"] for answer in (by_shortcut, by_reaction))
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, COLLEAGUE) == 0


@pytest.mark.parametrize("save", ["shortcut", "reaction"])
def test_typed_markup_is_saved_as_text_and_shared_live_nowhere(bot: BotHarness, database, unique: str, save: str):
    # What Slack sends for a message where someone typed <!channel>, &lt; and a broadcast, beside real tokens.
    words = {"shortcut": "saved with the shortcut", "reaction": "bulb reaction keeps this one"}[save]  # not alike
    typed = (
        f"&lt;!channel&gt; &amp;lt;!here&amp;gt; {unique} <!here> <@U0EVIL|boss> <!subteam^S0EVIL|@team> "
        f"<!date^1796623200^{{date}}|Dec 7> {words}"
    )
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, typed)

    saved = (
        bot.message_shortcut("save_tip", message)
        if save == "shortcut"
        else bot.react(bot.settings.plchat_tip_reaction, message)
    )

    assert saved.status == 200
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert tip.text == f"<!channel> &lt;!here&gt; {unique} @here @boss @team Dec 7 {words}", (
        "entities decoded once, to text; tokens as their labels; a date as its fallback"
    )
    shared = bot.press(Button(number=1, label="Share in channel", action_id="tip_share", value=str(tip.id)))
    [post] = shared.api("chat.postMessage")
    assert live_markup(post.args) == [
        f"<@{COLLEAGUE}>",
        f"<{tip.permalink}|original message>",
        f"<@{bot.workspace.user_id}>",
    ], "only the bot's own credits and link"
    assert post.args["text"].startswith("A tip: &lt;!\u2060channel&gt; &amp;lt;!\u2060here&amp;gt;")


def test_save_as_tip_credits_the_author_and_keeps_the_permalink(bot: BotHarness, database, unique: str):
    message = bot.standin.seed_message(
        bot.workspace.channel_id, COLLEAGUE, f"Try a <https://example.org/walk|gallery walk> {unique} #feedback"
    )

    answer = reply(bot.message_shortcut("save_tip", message))

    assert answer["response_type"] == "ephemeral" and "Saved your tip" in answer["text"]
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert (tip.author, tip.shared_by, tip.source) == (COLLEAGUE, bot.workspace.user_id, "shortcut")
    assert tip.text == f"Try a gallery walk (https://example.org/walk) {unique}" and tip.tags == ("feedback",)
    assert tip.source_ref == f"{bot.workspace.channel_id}:{message['ts']}"
    assert tip.permalink.endswith(f"/archives/{bot.workspace.channel_id}/p{message['ts'].replace('.', '')}")
    assert button(answer, "tip_undo").value == str(tip.id)


def test_the_same_message_saved_twice_is_one_tip(bot: BotHarness, database, unique: str):
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, f"Cold-call with name sticks {unique}")

    reply(bot.message_shortcut("save_tip", message))
    again = bot.message_shortcut("save_tip", message)  # a retry, or a second person
    reacted = bot.react("bulb", message)

    assert "already a tip" in reply(again)["text"]
    assert "already" in all_text(private_post(reacted))
    assert len(tips_with(database, bot.workspace.team_id, unique)) == 1


def test_saving_an_empty_message_explains_and_saves_nothing(bot: BotHarness, database):
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, "")
    with database.sessions() as session:
        before = store.count_by(session, bot.workspace.team_id, COLLEAGUE)

    answer = reply(bot.message_shortcut("save_tip", message))

    assert "needs some text" in answer["text"]
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, COLLEAGUE) == before


# -- reaction --------------------------------------------------------------------------------


def test_reacting_with_the_tip_emoji_saves_the_message(bot: BotHarness, database, unique: str):
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, f"Families love photo updates {unique}")

    exchange = bot.react("bulb", message)

    assert exchange.status == 200 and exchange.ack_body in (b"", b"{}")
    [fetched] = exchange.api("reactions.get")  # Tier 3; history allows a distributed app one call a minute
    assert (fetched.args["channel"], fetched.args["timestamp"]) == (bot.workspace.channel_id, message["ts"])
    assert not exchange.api("conversations.history")
    post = private_post(exchange)
    assert post["user"] == bot.workspace.user_id and "Saved your tip" in post["text"]
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert (tip.author, tip.source, tip.source_ref) == (COLLEAGUE, "reaction", f"C0GENERAL:{message['ts']}")


def test_a_reply_in_a_thread_is_read_like_any_message(bot: BotHarness, database, unique: str):
    parent = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, "What is your best routine?")
    answer = bot.standin.seed_message(
        bot.workspace.channel_id, "U0THIRD", f"Silent signals {unique}", thread_ts=parent["ts"]
    )

    exchange = bot.react("bulb", answer)

    assert exchange.api("reactions.get") and not exchange.api("conversations.replies")
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert tip.author == "U0THIRD"


def test_other_reactions_are_ignored(bot: BotHarness, database, unique: str):
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, f"Nice idea {unique}")

    exchange = bot.react("tada", message)

    assert exchange.status == 200 and not exchange.calls
    assert tips_with(database, bot.workspace.team_id, unique) == []


def test_a_message_the_bot_cannot_read_gets_a_private_explanation(bot: BotHarness, database, unique: str):
    message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, f"Private idea {unique}")
    bot.standin.inject("reactions.get", error="not_in_channel")

    exchange = bot.react("bulb", message)

    post = private_post(exchange)
    assert post["user"] == bot.workspace.user_id and "/invite" in post["text"]
    assert "not_in_channel" not in json.dumps(post), "plain words, not Slack's error code"
    assert tips_with(database, bot.workspace.team_id, unique) == []


def test_the_reaction_setting_chooses_the_emoji(database, services: Services, unique: str):
    with BotHarness(database, services=dataclasses.replace(services, tip_reaction="star")) as bot:
        message = bot.standin.seed_message(bot.workspace.channel_id, COLLEAGUE, f"Star this {unique}")
        assert not bot.react("bulb", message).calls
        assert "Saved your tip" in private_post(bot.react("star", message))["text"]


# -- the form: global shortcut, /tip with no text, view_submission ---------------------------------


@pytest.mark.parametrize("grade", ["3-5", "K-5"])
def test_share_a_tip_shortcut_opens_the_form_and_submitting_saves(bot: BotHarness, database, unique: str, grade: str):
    opened = bot.global_shortcut("share_tip")
    [call] = opened.api("views.open")
    view = call.args["view"]
    assert view["callback_id"] == "tip_modal"

    submitted = bot.submit_view(view, form_values(f"Visual timers {unique}", "routines, Time_Management", grade))

    assert submitted.status == 200 and submitted.ack_body in (b"", b"{}")
    [dm] = submitted.api("chat.postMessage")  # no channel from a global shortcut: the DM
    assert dm.args["channel"] == bot.workspace.user_id and "Saved your tip" in dm.args["text"]
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert (tip.tags, tip.grade, tip.source) == (("routines", "time-management"), grade, "modal")


def test_the_form_from_tip_confirms_in_the_channel_it_came_from(bot: BotHarness, unique: str):
    [call] = bot.slash("/tip").api("views.open")

    submitted = bot.submit_view(call.args["view"], form_values(f"Turn and talk {unique}"))

    post = private_post(submitted)
    assert post["channel"] == bot.workspace.channel_id and "Saved your tip" in post["text"]


@pytest.mark.parametrize(
    ("text", "grade", "field", "says"),
    [
        ("   ", None, "text", "needs some text"),
        ("x" * 3001, None, "text", "3,001 characters"),
        ("Fine text for class", "college", "grade", "isn't one I know"),
        ("hi", None, "text", "at least 3 words"),
    ],
)
def test_a_bad_form_is_answered_under_its_field_and_nothing_is_saved(
    bot: BotHarness, database, text: str, grade: str | None, field: str, says: str
):
    [call] = bot.global_shortcut("share_tip").api("views.open")
    with database.sessions() as session:
        before = store.count_by(session, bot.workspace.team_id, bot.workspace.user_id)

    submitted = bot.submit_view(call.args["view"], form_values(text, "", grade))

    answer = json.loads(submitted.ack_body)
    assert answer["response_action"] == "errors" and says in answer["errors"][field]
    assert not submitted.calls
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, bot.workspace.user_id) == before


def test_editing_through_the_form_changes_only_your_own_tip(bot: BotHarness, database, unique: str):
    reply(bot.slash("/tip", f"Exit slips {unique}"))
    mine = reply(bot.slash("/tips", unique))
    [call] = bot.press(button(mine, "tip_edit")).api("views.open")

    edited = bot.submit_view(call.args["view"], form_values(f"Exit slips on sticky notes {unique}", "exit"))

    assert "Saved your changes" in all_text(
        private_post(edited) if edited.api("chat.postEphemeral") else edited.api("chat.postMessage")[0].args
    )
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert tip.text == f"Exit slips on sticky notes {unique}" and tip.tags == ("exit",)


def test_a_teacher_cannot_edit_or_delete_another_teachers_tip(bot: BotHarness, database, unique: str):
    with transaction(database.sessions) as session:
        theirs = store.save_tip(
            session,
            NewTip(bot.workspace.team_id, COLLEAGUE, COLLEAGUE, f"Their own words {unique}", "command"),
            FIXED_NOW,
        ).tip

    edit = reply(bot.press(Button(0, "Edit", "tip_edit", str(theirs.id), None)))
    delete = reply(bot.press(Button(0, "Delete", "tip_delete", str(theirs.id), None)))

    assert "Only the tip's author" in edit["text"] and "Only the tip's author" in delete["text"]
    assert [t.id for t in tips_with(database, bot.workspace.team_id, unique)] == [theirs.id]


# -- your data -------------------------------------------------------------------------------


def test_export_mine_sends_a_csv_of_your_tips_to_your_dms(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Number talks warm-up {unique} #math"))

    exchange = bot.slash("/tips", "export-mine")

    assert "sent you a file" in reply(exchange)["text"]
    [opened] = exchange.api("conversations.open")
    assert opened.args["users"] == bot.workspace.user_id
    [completed] = exchange.api("files.completeUploadExternal")
    upload = bot.standin.uploaded(completed.args["files"][0]["id"])
    rows = list(csv.DictReader(io.StringIO(upload["content"])))
    assert upload["channel"] == "D0TEACHER" and upload["filename"].endswith(".csv")
    assert {r["author"] for r in rows} == {bot.workspace.user_id}
    assert any(r["text"] == f"Number talks warm-up {unique}" and r["tags"] == "math" for r in rows)


# -- workspaces ------------------------------------------------------------------------------


def test_another_workspace_never_sees_or_touches_our_tips(
    bot: BotHarness, other_bot: BotHarness, database, unique: str
):
    saved = reply(bot.slash("/tip", f"Our secret seating plan {unique}"))
    tip_id = button(saved, "tip_undo").value

    found = reply(other_bot.slash("/tips", unique))
    helpful = reply(other_bot.press(Button(0, "Helpful", "tip_helpful", tip_id, None)))
    share = reply(other_bot.press(Button(0, "Share", "tip_share", tip_id, None)))
    undo = reply(other_bot.press(Button(0, "Undo", "tip_undo", tip_id, None)))

    assert "No tips match" in found["text"] and "seating plan" not in all_text(found)
    assert not [b for b in buttons(found) if b.action_id == "tip_share"]
    assert "gone" in helpful["text"] and "gone" in share["text"] and "gone" in undo["text"]
    [tip] = tips_with(database, bot.workspace.team_id, unique)
    assert tip.helpful_count == 0


def test_uninstalling_deletes_the_workspace_data_and_only_it(
    bot: BotHarness, other_bot: BotHarness, database, unique: str
):
    reply(bot.slash("/tip", f"Stays here {unique}"))
    reply(other_bot.slash("/tip", f"Goes away {unique}"))

    gone = other_bot.event(payloads.app_uninstalled())

    assert gone.status == 200
    assert tips_with(database, other_bot.workspace.team_id, unique) == []
    assert len(tips_with(database, bot.workspace.team_id, unique)) == 1
    with database.sessions() as session:
        assert other_bot.workspace.team_id not in store.known_teams(session)


def test_revoking_only_user_tokens_keeps_the_data(other_bot: BotHarness, database, unique: str):
    reply(other_bot.slash("/tip", f"Still installed {unique}"))

    other_bot.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0STRANGER"], "bot": []}})
    assert len(tips_with(database, other_bot.workspace.team_id, unique)) == 1

    other_bot.event({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0PLCHATBOT"]}})
    assert tips_with(database, other_bot.workspace.team_id, unique) == []
