"""Tips in Slack, driven as Slack would: signed HTTP with documented payloads, against the Slack stand-in."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import threading

import pytest
from conftest import FIXED_NOW, new_team
from slack_helpers import all_text, button, buttons, reply

from bot.db import transaction
from bot.sandbox import payloads
from bot.sandbox.harness import BotHarness, Exchange
from bot.sandbox.render import Button
from bot.sandbox.slack_api import TRIGGER_LIFETIME, SlackStandIn
from bot.slack import tip_blocks
from bot.slack.markup import live_markup
from bot.slack.tip_blocks import TIP_MODAL
from bot.tips import store
from bot.tips.records import NewTip

BROADCAST = re.compile(r"<!(channel|here|everyone)>|<!subteam")


@pytest.fixture
def unique(request) -> str:
    """A word no other test uses, so tests sharing a module database stay independent."""
    return "zq" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


def test_tip_with_text_saves_at_once_and_offers_undo(bot: BotHarness, database, unique: str):
    answer = reply(bot.slash("/tip", f"Exit tickets every Friday {unique} #Assessment #exit_tickets"))
    assert answer["response_type"] == "ephemeral" and "Saved your tip" in all_text(answer)
    undo = button(answer, "tip_undo")
    with database.sessions() as session:
        tip = store.get_tip(session, bot.workspace.team_id, int(undo.value))
    assert tip.text == f"Exit tickets every Friday {unique}" and tip.tags == ("assessment", "exit-tickets")
    assert tip.author == bot.workspace.user_id and tip.source == "command"
    undone = reply(bot.press(undo))
    assert undone["replace_original"] is True and "no longer saved" in undone["text"]
    with database.sessions() as session:
        assert store.get_tip(session, bot.workspace.team_id, tip.id) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x" * 3001, "3,001 characters"),
        ("bad\x00bytes", "binary"),
        ("\x01\x02\x03\x04\x05 junk", "binary"),
    ],
)
def test_bad_tip_text_gets_a_clear_answer_and_nothing_is_saved(bot: BotHarness, database, text: str, says: str):
    with database.sessions() as session:
        before = store.count_by(session, bot.workspace.team_id, bot.workspace.user_id)
    answer = reply(bot.slash("/tip", text))
    assert says in answer["text"]
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, bot.workspace.user_id) == before


def test_tip_without_text_opens_the_form(bot: BotHarness):
    exchange = bot.slash("/tip")
    [opened] = exchange.api("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "tip_modal" and json.loads(view["private_metadata"])["channel"] == "C0GENERAL"
    assert [b["block_id"] for b in view["blocks"]] == ["text", "tags", "grade"]
    assert not exchange.hooks()


def test_a_near_duplicate_is_pointed_out_before_it_is_added(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Give every group a {unique} timer card for station rotation"))
    held = reply(bot.slash("/tip", f"give every group a {unique} timer card, for station rotation!"))
    assert "already shared" in held["text"]
    search = reply(bot.slash("/tips", unique))
    assert len([b for b in buttons(search) if b.action_id == "tip_share"]) == 1, "held tip is not searchable"
    added = reply(bot.press(button(held, "tip_confirm")))
    assert "Saved your tip" in all_text(added)
    search = reply(bot.slash("/tips", unique))
    assert len([b for b in buttons(search) if b.action_id == "tip_share"]) == 2


def test_tips_search_is_private_ranked_and_pages_five_at_a_time(bot: BotHarness, unique: str):
    twists = [
        "timers",
        "playlists",
        "exit tickets",
        "peer coaching",
        "reading corners",
        "math games",
        "quiet conferences",
    ]
    for twist in twists:
        reply(bot.slash("/tip", f"Station rotation {unique}: one station for {twist}"))
    first = reply(bot.slash("/tips", f"station {unique}"))
    assert first["response_type"] == "ephemeral"
    assert len([b for b in buttons(first) if b.action_id == "tip_share"]) == 5
    second = reply(bot.press(button(first, "tips_page")))
    assert second["replace_original"] is True
    assert len([b for b in buttons(second) if b.action_id == "tip_share"]) == 2
    assert [b.label for b in buttons(second) if b.action_id == "tips_page"] == ["Previous"]
    first_ids = {b.value for b in buttons(first) if b.action_id == "tip_share"}
    assert first_ids.isdisjoint(b.value for b in buttons(second) if b.action_id == "tip_share")


def test_typos_are_forgiven_and_the_corrected_words_are_shown(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Blended learning playlists {unique} let students pace themselves"))
    answer = reply(bot.slash("/tips", "blnded lerning playlsts"))
    assert "showing results for `blended learning playlists`" in all_text(answer)


def test_a_search_for_a_person_is_echoed_as_typed_not_as_the_mention_slack_sent(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Exit slips on sticky notes {unique} every day"))
    me = bot.workspace.user_id
    found = all_text(reply(bot.slash("/tips", f"{unique} from:<@{me}|teacher>")))
    assert f"Tips for `{unique} from:@teacher`" in found and "U0" not in found.split("·")[0]
    missing = all_text(reply(bot.slash("/tips", f"zzqnothing{unique} from:<@{me}|teacher>")))
    assert f"No tips match `zzqnothing{unique} from:@teacher`" in missing


@pytest.mark.parametrize(
    "hostile",
    ['"unbalanced', "NEAR(a b)", "*", "-x", "(((", "text:foo", "team:T0OTHER", "'; DROP TABLE tips; --", "AND OR NOT"],
)
def test_query_text_is_data_never_syntax(bot: BotHarness, hostile: str):
    answer = reply(bot.slash("/tips", hostile))
    assert answer["blocks"] and "went wrong" not in answer["text"]


def test_tip_text_can_never_ping_or_inject_links(bot: BotHarness, unique: str):
    hostile = f"{unique} <!channel> <!here> @everyone <!subteam^S123|@teachers> <https://evil.example|click> *bold*"
    reply(bot.slash("/tip", hostile))
    answer = reply(bot.slash("/tips", unique))
    rendered = all_text(answer)
    assert not BROADCAST.search(rendered) and "<https://evil.example" not in rendered
    assert "@\u2060everyone" in rendered


def test_share_posts_the_tip_publicly_crediting_author_and_sharer(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Use a parking lot poster {unique} for questions"))
    found = reply(bot.slash("/tips", unique))
    exchange = bot.press(button(found, "tip_share"))
    [post] = exchange.api("chat.postMessage")
    assert post.args["channel"] == "C0GENERAL" and f"<@{bot.workspace.user_id}>" in all_text(post.args)
    assert "parking lot poster" in all_text(post.args)


def share_as(database, team: str, author: str, text: str) -> int:
    with transaction(database.sessions) as session:
        return store.save_tip(session, NewTip(team, author, author, text, "command"), FIXED_NOW).tip.id


def test_helpful_counts_one_vote_per_person(bot: BotHarness, database, unique: str):
    share_as(database, bot.workspace.team_id, "U0COLLEAGUE", f"Warm-up question on the board {unique}")
    found = reply(bot.slash("/tips", unique))
    helpful = button(found, "tip_helpful")
    assert "Marked as helpful (1 so far)" in reply(bot.press(helpful))["text"]
    assert "already marked" in reply(bot.press(helpful))["text"]
    with database.sessions() as session:
        assert store.get_tip(session, bot.workspace.team_id, int(helpful.value)).helpful_count == 1


def test_a_vote_for_ones_own_tip_is_refused_privately_and_not_counted(bot: BotHarness, database, unique: str):
    saved = reply(bot.slash("/tip", f"Warm-up question on the board {unique}"))
    tip_id = button(saved, "tip_undo").value
    found = reply(bot.slash("/tips", unique))
    assert not [b for b in buttons(found) if b.action_id == "tip_helpful"], "no Helpful on one's own tip"

    refused = reply(bot.press(Button(0, "Helpful", "tip_helpful", tip_id, None)))  # a button from before

    assert refused["replace_original"] is False and "your own tip" in refused["text"]  # a private reply
    with database.sessions() as session:
        assert store.get_tip(session, bot.workspace.team_id, int(tip_id)).helpful_count == 0


@pytest.mark.parametrize(
    ("text", "echoed"), [("hi", "hi"), ("  test  ", "test"), ("<!channel> ok", "@\u2060channel ok")]
)
def test_too_short_a_tip_is_not_saved_and_comes_back_to_edit(bot: BotHarness, database, text: str, echoed: str):
    with database.sessions() as session:
        before = store.count_by(session, bot.workspace.team_id, bot.workspace.user_id)

    answer = reply(bot.slash("/tip", text))

    assert answer["response_type"] == "ephemeral" and "at least 3 words or 15 characters" in answer["text"]
    shown = [block["text"]["text"] for block in answer["blocks"] if block["type"] == "section"]
    assert f"```{echoed}```" in shown and not BROADCAST.search(all_text(answer))
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, bot.workspace.user_id) == before


def test_whoever_saved_a_colleagues_message_may_delete_it_but_never_edit_its_words(
    bot: BotHarness, database, unique: str
):
    words = f"Exit slips on sticky notes {unique} every Friday"
    message = bot.standin.seed_message(bot.workspace.channel_id, "U0COLLEAGUE", words)
    saved = reply(bot.message_shortcut("save_tip", message))
    tip_id = int(button(saved, "tip_undo").value)

    found = reply(bot.slash("/tips", unique))  # as its saver sees it
    assert {b.action_id for b in buttons(found)} >= {"tip_delete", "tip_helpful"}
    assert not [b for b in buttons(found) if b.action_id == "tip_edit"], "no Edit on a colleague's words"
    pressed = bot.press(Button(0, "Edit", "tip_edit", str(tip_id), None))  # a button forged or from before
    assert "Only the tip's author can edit it" in reply(pressed)["text"] and not pressed.api("views.open")
    with database.sessions() as session:
        tip = store.get_tip(session, bot.workspace.team_id, tip_id)
    form = tip_blocks.tip_modal(channel=None, tip=tip)  # the edit form, submitted by hand
    forged = bot.submit_view(form, payloads.form_state(form, text=f"Words {unique} the colleague never wrote"))
    [told] = [c for c in forged.api("chat.postMessage") if c.args["channel"] == bot.workspace.user_id]
    assert "Only the tip's author can edit it" in told.args["text"]
    with database.sessions() as session:
        assert store.get_tip(session, bot.workspace.team_id, tip_id).text == words, "nothing changed"

    author = dataclasses.replace(bot.workspace, user_id="U0COLLEAGUE")
    bot.workspace, saver = author, bot.workspace
    assert {"tip_edit", "tip_delete"} <= {b.action_id for b in buttons(reply(bot.slash("/tips", unique)))}
    bot.workspace = saver
    assert "Deleted that tip" in reply(bot.press(button(found, "tip_delete")))["text"]
    with database.sessions() as session:
        assert store.get_tip(session, bot.workspace.team_id, tip_id) is None


def test_report_tells_moderators_privately_and_is_recorded(bot: BotHarness, services, unique: str):
    reply(bot.slash("/tip", f"A tip to report {unique}"))
    found = reply(bot.slash("/tips", unique))
    # The reporter here is the author; authors see Edit/Delete instead of Report, so press it as Slack would.
    report = Button(0, "Report", "tip_report", button(found, "tip_share").value, None)
    exchange = bot.press(report)
    said = reply(exchange)["text"]
    assert "no moderators yet" in said and "nobody was told" in said and "admins and owners" in said
    assert "App Home" in said and "/plchat moderators add" in said


def test_a_report_in_a_workspace_without_moderators_waits_on_its_admins_app_home(database, services, unique: str):
    workspace = payloads.Workspace(team_id=new_team(), user_id="U0MEMBER")
    with BotHarness(database, services=services, workspace=workspace) as slack:
        slack.standin.set_user("U0ADMIN", role="admin")
        first = share_as(database, workspace.team_id, "U0COLLEAGUE", f"Seat pairs by reading level {unique}")
        second = share_as(database, workspace.team_id, "U0COLLEAGUE", f"Quiet corner {unique} for readers")

        def as_(user: str) -> BotHarness:
            slack.workspace = dataclasses.replace(workspace, user_id=user)
            return slack

        def home(user: str) -> dict:
            return as_(user).open_home().api("views.publish")[0].args["view"]

        for tip_id in (first, first, second):
            pressed = as_("U0MEMBER").press(Button(0, "Report", "tip_report", str(tip_id), None))
            assert "no moderators yet" in reply(pressed)["text"] and not pressed.api("chat.postMessage")
        assert "Reported tips" not in all_text(home("U0MEMBER")), "members see no reports"
        shown = home("U0ADMIN")
        assert "Reported tips* (2 open)" in all_text(shown) and "Reported 2 times" in all_text(shown)
        assert f"Seat pairs by reading level {unique}" in all_text(shown)

        kept = as_("U0ADMIN").press(button(shown, "tip_keep", nth=1), view_id="V0HOME")  # the first tip
        assert "Reported tips* (1 open)" in all_text(kept.api("views.publish")[0].args["view"])
        hidden = as_("U0ADMIN").press(button(shown, "tip_hide", nth=0), view_id="V0HOME")  # the second
        assert "Reported tips" not in all_text(hidden.api("views.publish")[0].args["view"])
        assert "went wrong" not in all_text([call.args for call in kept.calls + hidden.calls])
        with database.sessions() as session:
            assert store.get_tip(session, workspace.team_id, second).hidden
            assert not store.get_tip(session, workspace.team_id, first).hidden
        as_("U0MEMBER").press(Button(0, "Report", "tip_report", str(first), None))
        assert "Reported tips* (1 open)" in all_text(home("U0ADMIN")), "a new report after Keep is open again"
        refused = reply(as_("U0MEMBER").press(Button(0, "Keep it", "tip_keep", str(first), None)))
        assert "Only moderators" in refused["text"]
        reply(as_("U0ADMIN").slash("/plchat", "moderators add <@U0ADMIN|admin>"))
        mine = as_("U0ADMIN").press(Button(0, "Report", "tip_report", str(second), None))
        assert "only moderator, so nobody else was told" in reply(mine)["text"]
        assert not mine.api("chat.postMessage"), "a moderator is not told of their own report"


def test_a_teacher_cannot_hide_a_tip(bot: BotHarness, unique: str):
    reply(bot.slash("/tip", f"Hide me if you can {unique}"))
    found = reply(bot.slash("/tips", unique))
    assert not [b for b in buttons(found) if b.action_id == "tip_hide"], "teachers get no Hide button"
    forged = Button(0, "Hide", "tip_hide", button(found, "tip_share").value, None)
    assert "Only moderators" in reply(bot.press(forged))["text"]


def test_moderators_can_be_added_only_by_moderators(bot: BotHarness):
    answer = reply(bot.slash("/plchat", "moderators add <@U0SOMEONE|someone>"))
    assert "Only moderators" in answer["text"]
    listed = reply(bot.slash("/plchat", "moderators list"))
    assert "U0SOMEONE" not in listed["text"]


def test_workspace_admins_moderate_until_they_add_the_first_moderator(database, services, unique: str):
    workspace = payloads.Workspace(team_id=new_team(), user_id="U0ADMIN")
    with BotHarness(database, services=services, workspace=workspace) as slack:
        slack.standin.set_user("U0ADMIN", role="admin")
        share_as(database, workspace.team_id, "U0COLLEAGUE", f"Seat pairs by reading level {unique}")

        def as_(user: str) -> BotHarness:
            slack.workspace = dataclasses.replace(workspace, user_id=user)
            return slack

        assert "admins and owners moderate" in reply(as_("U0ADMIN").slash("/plchat", "moderators list"))["text"]
        seen_by_member = reply(as_("U0MEMBER").slash("/tips", unique))
        assert button(seen_by_member, "tip_share")
        assert not [b for b in buttons(seen_by_member) if b.action_id == "tip_hide"]
        found = reply(as_("U0ADMIN").slash("/tips", unique))
        assert "Hidden" in reply(as_("U0ADMIN").press(button(found, "tip_hide")))["text"]
        refused = reply(as_("U0MEMBER").slash("/plchat", "moderators add <@U0MEMBER|me>"))
        assert "Only moderators and workspace admins" in refused["text"]
        added = reply(as_("U0ADMIN").slash("/plchat", "moderators add <@U0BEN|ben>"))
        assert "<@U0BEN> is now a moderator" in all_text(added)
        later = reply(as_("U0ADMIN").slash("/tips", unique))
        asked = [call.args["user"] for call in slack.standin.calls_to("users.info")]

    assert not [b for b in buttons(later) if b.action_id in ("tip_hide", "tip_restore")], "admins step back"
    assert sorted(asked) == ["U0ADMIN", "U0MEMBER"], "Slack is asked once a person, not once a click"


def test_my_tips_export_and_delete_after_confirmation(bot: BotHarness, database, unique: str):
    reply(bot.slash("/tip", f"My own tip {unique}"))
    mine = reply(bot.slash("/tips", "mine"))
    assert unique in all_text(mine) and button(mine, "tip_edit")
    confirm = reply(bot.slash("/tips", "delete-mine"))
    delete_all = button(confirm, "tips_delete_mine")
    [element] = [
        e for b in confirm["blocks"] for e in b.get("elements", []) if e.get("action_id") == delete_all.action_id
    ]
    assert element["confirm"]["confirm"]["text"] == "Delete them", "Slack asks once more before deleting"
    done = reply(bot.press(delete_all))
    assert re.search(r"Deleted your \d+ tips", done["text"])
    with database.sessions() as session:
        assert store.count_by(session, bot.workspace.team_id, bot.workspace.user_id) == 0


def test_tips_help_lists_every_way_to_use_tips(bot: BotHarness):
    answer = reply(bot.slash("/tips", "help"))
    for usage in ("/tip ", "/tips mine", "/tips export-mine", "/tips delete-mine", "from:@", "since:"):
        assert usage in all_text(answer)


def test_a_failing_reply_reaches_the_person_not_just_the_log(bot: BotHarness, caplog):
    bot.standin.inject("views.open", status=500, times=3)  # more than the client's retries
    exchange = bot.slash("/tip")
    assert "went wrong" in reply(exchange)["text"]
    assert any("Reply" in r.message and "failed" in r.message for r in caplog.records)


def test_acks_never_wait_behind_other_requests_replies(bot: BotHarness):
    gate = bot.standin.hold("hooks")
    try:
        for _ in range(bot.executor._max_workers + 2):  # every reply worker stuck at Slack, and a queue
            body, content_type = payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url())
            signed = payloads.sign(body, bot.signing_secret, content_type)
            assert bot.http("POST", "/slack/events", signed.body, signed.headers).status == 200
        assert gate.wait_arrived(10)
    finally:
        gate.release()
        bot.executor.wait_idle()


def test_a_full_reply_queue_says_busy_at_once_and_lets_slack_retry_events(database, services, caplog):
    with BotHarness(database, services=services, max_pending_replies=1) as bot:

        def post(body: bytes, content_type: str):
            signed = payloads.sign(body, bot.signing_secret, content_type)
            return bot.http("POST", "/slack/events", signed.body, signed.headers)

        gate = bot.standin.hold("hooks")
        try:
            first = post(*payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url()))
            assert first.status == 200 and gate.wait_arrived(10)  # its reply now fills the queue

            refused = post(*payloads.slash_command(bot.workspace, "/tips", "rubric", bot.standin.new_response_url()))
            event = post(*payloads.event_callback(bot.workspace, payloads.app_home_opened(bot.workspace)))
        finally:
            gate.release()
            bot.executor.wait_idle()

    answer = json.loads(refused.body)
    assert refused.status == 200 and answer["response_type"] == "ephemeral" and "very busy" in answer["text"]
    assert event.status == 500, "Slack retries an event it got no 2xx for"
    refusals = [r for r in caplog.records if r.getMessage().startswith("Refused")]
    assert len(refusals) == 2 and not any(r.exc_info for r in refusals)


def test_share_in_channel_of_a_tip_full_of_broadcasts_notifies_nobody(bot: BotHarness, unique: str):
    # As Slack sends /tip text: typed brackets escaped, picked mentions and groups as tokens.
    typed = (
        f"&lt;!channel&gt; <!here> <!everyone> <!subteam^S0EVIL|@teachers> <@U0EVIL|boss> {unique} "
        "use &lt;b&gt; tags &amp; read this"
    )
    saved = reply(bot.slash("/tip", typed))
    found = reply(bot.slash("/tips", unique))

    exchange = bot.press(button(found, "tip_share"))

    [post] = exchange.api("chat.postMessage")
    assert live_markup(post.args) == [f"<@{bot.workspace.user_id}>", f"<@{bot.workspace.user_id}>"], (
        "the author's credit and the sharer's, nothing else"
    )
    for payload in (saved, found, post.args):
        assert not re.search(r"<!(channel|here|everyone|subteam)|<@U0EVIL", json.dumps(payload)), payload
    assert "use &lt;b&gt; tags &amp; read this" in all_text(post.args), "shown as typed"


def test_a_form_the_reply_opens_after_its_trigger_expired_says_so_in_plain_words(
    database, services, caplog: pytest.LogCaptureFixture
) -> None:
    moment = [1000.0]  # the stand-in's clock, which times trigger ids
    standin = SlackStandIn(clock=lambda: moment[0])
    with BotHarness(database, services=services, standin=standin) as bot:
        gate = standin.hold("views.open")
        done: list[Exchange] = []
        typing = threading.Thread(target=lambda: done.append(bot.slash("/tip")))
        with caplog.at_level(logging.WARNING):
            typing.start()
            assert gate.wait_arrived()
            moment[0] += TRIGGER_LIFETIME + 1  # the reply reached Slack after the trigger's 3 seconds
            gate.release()
            typing.join(timeout=30)
        [exchange] = done
        assert [c.status for c in exchange.api("views.open")] == [200]  # Slack answers ok: false, as it does
        assert "took longer than Slack allows to open that form" in reply(exchange)["text"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert standin.shown_view(TIP_MODAL) is None

        second = bot.slash("/tip")  # pressed again: a fresh trigger opens the form
        assert second.api("views.open") and not second.hooks() and standin.shown_view(TIP_MODAL) is not None
