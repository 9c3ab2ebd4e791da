"""The community playbook in Slack, driven as Slack would (signed HTTP, documented payloads, the Slack stand-in) on
SQLite and PostgreSQL: a tip becomes a draft and a published play, its author is credited and told, `/play` ranks
it with the shared playbook for that workspace only, and only moderators draft and publish."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterator

import pytest
from conftest import FIXED_NOW, new_team
from slack_helpers import all_text, button, buttons, reply
from sqlalchemy import func, select

from bot import community, plays
from bot.bootstrap import Database
from bot.db import transaction
from bot.models import DeliveryRecord, PlayDraft, PlayRecord
from bot.sandbox import payloads
from bot.sandbox.chat_run import FakeClock, sandbox_worker
from bot.sandbox.harness import BotHarness, Exchange
from bot.sandbox.payloads import form_state
from bot.sandbox.render import Button
from bot.slack import play_blocks
from bot.slack.markup import live_markup
from bot.slack.services import Services
from bot.tips import store
from bot.tips.records import NewTip

MODERATOR = "U0MOD"
TEACHER = "U0TEACHER"
COLLEAGUE = "U0COLLEAGUE"

Harness = Callable[..., BotHarness]


@pytest.fixture
def unique(request) -> str:
    """A word no other test uses, so tests sharing a module database stay independent."""
    return "zq" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def workspace() -> str:
    return new_team()


@pytest.fixture
def harness(database: Database, workspace: str) -> Iterator[Harness]:
    """BotHarness(user, team) with U0MOD a configured moderator; every harness started here is stopped."""
    services = Services(
        database.sessions, clock=lambda: FIXED_NOW, rng=random.Random(7), moderators=frozenset({MODERATOR})
    )
    started: list[BotHarness] = []

    def start(user: str = TEACHER, team: str | None = None) -> BotHarness:
        ws = payloads.Workspace(team_id=team or workspace, user_id=user, user_name=user.lower())
        bot = BotHarness(database, services=services, workspace=ws).start()
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


def share_tip(
    database: Database, team: str, author: str, text: str, tags: tuple[str, ...] = (), grade: str = ""
) -> int:
    with transaction(database.sessions) as session:
        return store.save_tip(
            session, NewTip(team, author, author, text, "command", tags, grade), FIXED_NOW, check_similar=False
        ).tip.id


def opened_view(exchange: Exchange) -> dict:
    [opened] = exchange.api("views.open")
    return opened.args["view"]


LOOKS_LIKE = (
    "A sixth-grade class hangs timer cards at each table. Groups move on their own when the sand runs "
    "out, and the teacher keeps teaching her small group without stopping to call time."
)
WATCH_OUT = "Timers that are too loud.\nGroups that skip the clean-up minute."


def make_draft(moderator: BotHarness, tip_id: int, **changes: str) -> tuple[dict, Exchange]:
    """Press Make a play on a tip (as /tips shows it to a moderator) and submit the form; returns (form, submit)."""
    view = opened_view(moderator.press(payloads_button("tip_to_play", str(tip_id))))
    filled = {"looks_like": LOOKS_LIKE, "watch_out": WATCH_OUT, **changes}
    return view, moderator.submit_view(view, form_state(view, **filled))


def payloads_button(action_id: str, value: str) -> Button:
    """A button as the bot draws it, for presses a test makes without first reading it off a message."""
    return Button(number=1, label=action_id, action_id=action_id, value=value, block_id="")


def dm_to(exchange: Exchange, user: str) -> dict:
    [posted] = [c for c in exchange.api("chat.postMessage") if c.args["channel"] == user]
    return posted.args


def test_a_tip_becomes_a_published_play_credited_and_found_by_play(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    tip_id = share_tip(
        database,
        workspace,
        TEACHER,
        f"Hang a sand timer {unique} at every station. Groups rotate when it runs out.",
        ("station-rotation",),
        "6-8",
    )
    other = share_tip(database, workspace, COLLEAGUE, f"Give the {unique} quiet station a clean-up minute.")
    moderator = harness(MODERATOR)

    found = reply(moderator.slash("/tips", unique))
    assert {b.value for b in buttons(found) if b.action_id == "tip_to_play"} == {str(tip_id), str(other)}
    view = opened_view(
        moderator.press(
            button(
                found,
                "tip_to_play",
                nth=[b.value for b in buttons(found) if b.action_id == "tip_to_play"].index(str(tip_id)),
            )
        )
    )
    assert view["callback_id"] == "play_draft"
    shown = form_state(view)
    by_name = {block_id.split("~")[0]: state for block_id, state in shown.items()}
    steps = by_name["steps"]["steps"]["value"]
    assert f"Hang a sand timer {unique} at every station." in steps and "Groups rotate" in steps
    assert by_name["category"]["category"]["selected_option"]["value"] == "blended-learning"
    assert by_name["tags"]["tags"]["value"] == "station-rotation"
    assert [o["value"] for o in by_name["grades"]["grades"]["selected_options"]] == ["6-8"]
    assert f"<@{TEACHER}>" in all_text(view), "the form credits the tip's author"

    # The moderator adds the colleague's tip to the same play from inside the form.
    added = moderator.act_in_view(
        view,
        shown,
        {
            "type": "plain_text_input",
            "action_id": play_blocks.ADD_TIP,
            "block_id": f"{play_blocks.ADD_TIP}~0",
            "value": f"{unique} clean-up minute",
        },
    )
    [update] = added.api("views.update")
    view = update.args["view"]
    assert "clean-up minute" in form_state(view)["steps~1"]["steps"]["value"]
    assert f"<@{COLLEAGUE}>" in all_text(view)

    submitted = moderator.submit_view(
        view,
        form_state(view, title=f"Sand timers {unique} run the rotation", looks_like=LOOKS_LIKE, watch_out=WATCH_OUT),
    )
    assert json.loads(submitted.ack_body or b"{}").get("response_action") != "errors"
    saved = dm_to(submitted, MODERATOR)
    assert "Saved the draft" in saved["text"]
    done = moderator.press(button(saved, "play_draft_publish"))
    answer = reply(done)
    assert "Published" in all_text(answer) and "from your community" in all_text(answer)

    # Each credited author hears about it in a DM, through the outbox, once.
    assert sorted(told_about_plays(moderator, workspace)) == [COLLEAGUE, TEACHER]
    assert all(
        "Your tip became a play" in c.args["text"]
        for c in moderator.standin.calls_to("chat.postMessage")
        if c.args.get("channel") in (TEACHER, COLLEAGUE)
    )
    assert told_about_plays(moderator, workspace) == [], "a second pass sends nothing again"

    teacher = harness(TEACHER)
    card = reply(teacher.slash("/play", f"sand timers {unique}"))
    text = all_text(card)
    assert f"Sand timers {unique} run the rotation" in text and "from your community" in text
    assert f"<@{TEACHER}>" in all_text(card) and f"<@{COLLEAGUE}>" in all_text(card)
    mine = reply(teacher.slash("/play", "mine"))
    assert f"Sand timers {unique}" in all_text(mine)
    assert "No play" in reply(harness(COLLEAGUE, new_team()).slash("/play", "mine"))["text"]


def test_a_moderator_publishing_a_play_from_their_own_tip_is_not_told_about_it(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    own = share_tip(database, workspace, MODERATOR, f"Hang a sand timer {unique} at every station.")
    share_tip(database, workspace, COLLEAGUE, f"Give the {unique} quiet station a clean-up minute.")
    moderator = harness(MODERATOR)
    view = opened_view(moderator.press(payloads_button("tip_to_play", str(own))))
    view = (
        moderator.act_in_view(
            view,
            form_state(view),
            {
                "type": "plain_text_input",
                "action_id": play_blocks.ADD_TIP,
                "block_id": f"{play_blocks.ADD_TIP}~0",
                "value": f"{unique} clean-up minute",
            },
        )
        .api("views.update")[0]
        .args["view"]
    )
    submitted = moderator.submit_view(
        view, form_state(view, title=f"Sand timers {unique}", looks_like=LOOKS_LIKE, watch_out=WATCH_OUT)
    )

    answer = reply(moderator.press(button(dm_to(submitted, MODERATOR), "play_draft_publish")))

    lead = answer["blocks"][0]["text"]["text"]
    assert "It credits you for your tip." in lead and f"I'm letting <@{COLLEAGUE}> know." in lead
    assert f"<@{MODERATOR}>" not in lead
    moderator.standin.clear()
    worker = sandbox_worker(moderator, None, FakeClock(FIXED_NOW))
    try:
        worker.deliver("play:", workspace)
    finally:
        worker.close()
    assert [c.args["channel"] for c in moderator.standin.calls_to("chat.postMessage")] == [COLLEAGUE]
    with database.sessions() as session:
        slug = session.scalar(select(PlayRecord.slug).where(PlayRecord.team_id == workspace))
        assert plays.get_play(session, slug, team=workspace).credits == (MODERATOR, COLLEAGUE), "credited all the same"


def test_only_moderators_draft_see_drafts_and_publish(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    tip_id = share_tip(database, workspace, TEACHER, f"Exit tickets {unique} sorted into three piles each day.")
    teacher = harness(TEACHER)
    refused = teacher.press(payloads_button("tip_to_play", str(tip_id)))
    assert not refused.api("views.open") and "Only moderators" in reply(refused)["text"]
    assert "Only moderators" in reply(teacher.slash("/play", "drafts"))["text"]
    found = reply(teacher.slash("/tips", unique))
    assert not [b for b in buttons(found) if b.action_id == "tip_to_play"]

    moderator = harness(MODERATOR)
    view, _ = make_draft(moderator, tip_id, title=f"Three piles {unique}")
    # A teacher who forges the form's submission saves nothing.
    forged = teacher.submit_view(
        view, form_state(view, title=f"Forged {unique}", looks_like=LOOKS_LIKE, watch_out=WATCH_OUT)
    )
    assert "Only moderators" in dm_to(forged, TEACHER)["text"]
    with database.sessions() as session:
        [draft] = community.drafts(session, workspace)
    assert draft.fields.title == f"Three piles {unique}"
    for action in ("play_draft_publish", "play_draft_discard", "play_draft_edit"):
        answer = reply(teacher.press(payloads_button(action, str(draft.id))))
        assert "Only moderators" in answer["text"], action
    with database.sessions() as session:
        assert community.get_draft(session, workspace, draft.id) is not None
        assert session.scalar(select(func.count()).select_from(PlayRecord).where(PlayRecord.team_id == workspace)) == 0

    listed = reply(moderator.slash("/play", "drafts"))
    assert f"Three piles {unique}" in all_text(listed)
    assert opened_view(moderator.press(button(listed, "play_draft_edit")))["callback_id"] == "play_draft"
    discarded = reply(moderator.press(button(listed, "play_draft_discard")))
    assert "Discarded" in discarded["text"]
    assert "gone" in reply(moderator.press(button(listed, "play_draft_publish")))["text"]


def test_the_form_says_what_to_fix_and_nothing_is_saved(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    tip_id = share_tip(database, workspace, TEACHER, f"Peer feedback {unique} with two stars and a wish.")
    moderator = harness(MODERATOR)
    view = opened_view(moderator.press(payloads_button("tip_to_play", str(tip_id))))
    submitted = moderator.submit_view(
        view,
        form_state(
            view,
            title="<!channel> look",
            looks_like="",
            watch_out="## Try this\nsneaky",
            tags="Not A Tag!!",
            time_needed="x",
        ),
    )
    ack = json.loads(submitted.ack_body)
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"title~0", "looks_like~0", "watch_out~0", "tags~0", "time_needed~0"}
    assert all(len(message) <= 150 for message in ack["errors"].values())
    assert not submitted.api("chat.postMessage")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlayDraft).where(PlayDraft.team_id == workspace)) == 0


def test_hostile_tip_text_never_pings_from_the_form_the_card_or_the_authors_note(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    hostile = f"<!channel> <@U0EVIL> <!subteam^S1|@staff> {unique} *bold* <https://evil.example|click> & more"
    tip_id = share_tip(database, workspace, TEACHER, hostile)
    moderator = harness(MODERATOR)
    view = opened_view(moderator.press(payloads_button("tip_to_play", str(tip_id))))
    assert live_markup(view) == [f"<@{TEACHER}>"], "only the bot's own credit is live"
    submitted = moderator.submit_view(
        view, form_state(view, title=f"Safe title {unique}", looks_like=LOOKS_LIKE, watch_out=WATCH_OUT)
    )
    published = reply(moderator.press(button(dm_to(submitted, MODERATOR), "play_draft_publish")))
    worker = sandbox_worker(moderator, None, FakeClock(FIXED_NOW))
    try:
        worker.deliver("play:", workspace)
    finally:
        worker.close()
    note = [c.args for c in moderator.standin.calls if c.method == "chat.postMessage" and c.args["channel"] == TEACHER]
    card = reply(moderator.slash("/play", f"safe title {unique}"))
    for payload in (published, card, *note):
        assert set(live_markup(payload)) == {f"<@{TEACHER}>"}, payload
    assert note, "the author was told"


def test_app_home_suggests_helpful_tips_to_moderators_only(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    tip_id = share_tip(database, workspace, TEACHER, f"Morning check-in {unique} with a feelings chart.")
    with transaction(database.sessions) as session:
        for voter in ("U1", "U2", "U3"):
            store.vote_helpful(session, workspace, tip_id, voter, FIXED_NOW)
    moderator, teacher = harness(MODERATOR), harness(TEACHER)

    def home(bot: BotHarness) -> dict:
        [published] = bot.open_home().api("views.publish")
        return published.args["view"]

    view = home(moderator)
    assert "Ready to become a play" in all_text(view)
    assert [b for b in buttons(view) if b.action_id == "tip_to_play" and b.value == str(tip_id)]
    assert "Ready to become a play" not in all_text(home(teacher))
    opened = moderator.press(payloads_button("tip_to_play", str(tip_id)), view_id="VHOME")
    assert opened_view(opened)["callback_id"] == "play_draft"
    make_draft(moderator, tip_id, title=f"Feelings chart {unique}")
    assert not [b for b in buttons(home(moderator)) if b.action_id == "tip_to_play" and b.value == str(tip_id)], (
        "a tip already in a draft is no longer suggested"
    )


def publish_play(
    database: Database,
    team: str,
    title: str,
    text: str,
    *,
    grades: tuple[str, ...] = (),
    category: str = "blended-learning",
    tags: str = "station rotation",
) -> plays.Play:
    tip_id = share_tip(database, team, TEACHER, text)
    with transaction(database.sessions) as session:
        tip = store.get_tip(session, team, tip_id)
        draft = community.from_tip(session, team, tip)
        fields = community.DraftFields(
            title,
            category,
            f"{text} It is a play made from a colleague's tip.",
            text,
            LOOKS_LIKE,
            WATCH_OUT,
            grades,
            "Ten minutes",
            tags,
        )
        saved = community.save_draft(
            session,
            team,
            MODERATOR,
            {MODERATOR},
            community.Draft(None, fields, draft.tip_ids, draft.credits),
            FIXED_NOW,
        )
        published = community.publish(session, team, MODERATOR, {MODERATOR}, saved.id, FIXED_NOW)
    assert published is not None
    return published.play


def test_play_ranks_both_kinds_as_one_list_for_its_workspace_only(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    play = publish_play(
        database,
        workspace,
        f"Station rotation {unique} with timer cards",
        f"Station rotation {unique}: timer cards keep every group moving between stations.",
    )
    with database.sessions() as session:
        result = plays.search_plays(session, f"station rotation {unique}", limit=3, team=workspace)
        assert result.plays[0].slug == play.slug and result.plays[0].from_community
        assert any(not p.from_community for p in result.plays[1:]), "shared plays rank in the same list"
        both = [p.slug for p in plays.search_plays(session, "station rotation", limit=3, team=workspace).plays]
        assert play.slug in both and "station-rotation-starter" in both
        elsewhere = new_team()
        assert all(
            p.slug != play.slug
            for p in plays.search_plays(session, f"station rotation {unique}", limit=50, team=elsewhere).plays
        )
        assert plays.get_play(session, play.slug, team=elsewhere) is None
        counts = {c.slug: c.count for c in plays.category_counts(session, team=workspace)}
        assert (
            counts["blended-learning"]
            == 1 + {c.slug: c.count for c in plays.category_counts(session, team=elsewhere)}["blended-learning"]
        )
    other = harness(TEACHER, new_team())
    theirs = all_text(reply(other.slash("/play", f"station rotation {unique}")))
    assert play.slug not in theirs and "from your community" not in theirs
    opened = reply(other.press(payloads_button("play_open", play.slug)))
    assert "no longer in the playbook" in opened["text"]
    listed = reply(harness(TEACHER).slash("/play", "blended learning"))
    assert f"Station rotation {unique}" in all_text(listed) and "from your community" in all_text(listed)


def test_grade_filter_and_the_bands_notes(harness: Harness, database: Database, workspace: str, unique: str) -> None:
    teacher = harness(TEACHER)
    young = reply(teacher.slash("/play", "station rotation grade:K-5"))
    assert "station-rotation-starter" in all_text(young) and "In grades K-5" in all_text(young)
    assert "In grades 6-8" not in all_text(young)
    older = reply(teacher.slash("/play", "station rotation grade:9-12"))
    assert "Best match" in all_text(older) and "play:station-rotation-starter" not in all_text(older)
    plain = reply(teacher.slash("/play", "station rotation"))
    assert "In grades" not in all_text(plain) and "grade:K-5" in all_text(plain)
    halves = [all_text(reply(teacher.slash("/play", f"station rotation grade:{band}"))) for band in ("K-2", "3-5")]
    assert all("station-rotation-starter" in half and "In grades K-5" in half for half in halves)
    assert "isn't a grade band" in reply(teacher.slash("/play", "feedback grade:college"))["text"]
    opened = reply(teacher.press(payloads_button("play_open", "weekly-goal-slips@9-12")))
    assert "In grades 9-12" in all_text(opened)
    publish_play(
        database, workspace, f"High school {unique} labs", f"Lab stations {unique} for chemistry.", grades=("9-12",)
    )
    with database.sessions() as session:
        for band, expected in (("9-12", True), ("K-5", False)):
            result = plays.search_plays(session, f"lab stations {unique}", limit=50, team=workspace, band=band)
            assert any(p.title == f"High school {unique} labs" for p in result.plays) is expected
            assert all(plays.fits_band(p, band) for p in result.plays)
        in_band = plays.plays_in_category(session, "blended-learning", team=workspace, band="K-5")
        assert in_band and all(plays.fits_band(p, "K-5") for p in in_band)


def test_uninstalling_deletes_the_workspaces_plays_and_drafts(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    play = publish_play(database, workspace, f"Goodbye {unique} play", f"A tip {unique} about exit tickets.")
    tip_id = share_tip(database, workspace, TEACHER, f"Another tip {unique} for a draft.")
    bot = harness(MODERATOR)
    make_draft(bot, tip_id, title=f"Draft {unique} to lose")
    with transaction(database.sessions) as session:  # and an edit begun on the published play
        edit = community.edit_play(session, workspace, MODERATOR, {MODERATOR}, play.slug)
        community.save_draft(session, workspace, MODERATOR, {MODERATOR}, edit, FIXED_NOW)
    assert bot.event(payloads.app_uninstalled()).status == 200
    with database.sessions() as session:
        assert plays.get_play(session, play.slug, team=workspace) is None
        assert session.scalar(select(func.count()).select_from(PlayRecord).where(PlayRecord.team_id == workspace)) == 0
        assert session.scalar(select(func.count()).select_from(PlayDraft).where(PlayDraft.team_id == workspace)) == 0
        assert (
            session.scalar(select(func.count()).select_from(DeliveryRecord).where(DeliveryRecord.team_id == workspace))
            == 0
        )
        assert plays.get_play(session, "station-rotation-starter", team=None) is not None


GRADE_NOTES = (
    "## Grade-band notes\n### K-5\nPractise the timer routine together before the first rotation.\n"
    "### 9-12\nStudents set their own timers and log what they finished at each station."
)


def test_a_published_play_is_edited_in_place_keeping_its_notes_and_telling_only_new_authors(
    harness: Harness, database: Database, workspace: str, unique: str, tmp_path
) -> None:
    play = publish_play(
        database,
        workspace,
        f"Timer cards {unique} keep groups moving",
        f"Timer cards {unique} hang at each station. Groups move when the sand runs out.",
    )
    with transaction(database.sessions) as session:  # an operator adds grade-band notes through a file
        [path] = community.export_plays(session, workspace, tmp_path)
        path.write_text(path.read_text(encoding="utf-8").rstrip() + "\n\n" + GRADE_NOTES + "\n", encoding="utf-8")
        assert community.import_plays(session, workspace, [path]).updated == [play.slug]
    other = share_tip(database, workspace, COLLEAGUE, f"Let a {unique} station captain restart the timer.")
    moderator = harness(MODERATOR)
    assert told_about_plays(moderator, workspace) == [TEACHER], "the first publishing told the tip's author"

    listed = reply(moderator.slash("/play", "drafts"))
    assert "Published by your community" in all_text(listed) and f"Timer cards {unique}" in all_text(listed)
    view = opened_view(moderator.press(button(listed, "play_edit")))
    assert view["title"]["text"] == "Edit the play"
    shown = {block_id.split("~")[0]: state for block_id, state in form_state(view).items()}
    assert shown["title"]["title"]["value"] == play.title
    assert shown["watch_out"]["watch_out"]["value"] == WATCH_OUT, "the form holds the play's lines, not Markdown"
    assert f"Timer cards {unique} hang at each station." in shown["steps"]["steps"]["value"]
    assert shown["note:9-12"]["note:9-12"]["value"].startswith("Students set their own timers")
    assert shown["note:6-8"]["note:6-8"]["value"] is None, "no 6-8 note, so an empty optional field"

    added = moderator.act_in_view(
        view,
        form_state(view),
        {
            "type": "plain_text_input",
            "action_id": play_blocks.ADD_TIP,
            "block_id": f"{play_blocks.ADD_TIP}~0",
            "value": f"{unique} station captain",
        },
    )
    view = added.api("views.update")[0].args["view"]
    saved = dm_to(
        moderator.submit_view(
            view, form_state(view, summary=f"Sand timers {unique} and a station captain keep every group moving.")
        ),
        MODERATOR,
    )
    assert "An edit of a published play" in all_text(saved)
    with database.sessions() as session:  # until published, /play still shows the play as it was
        assert plays.get_play(session, play.slug, team=workspace).summary == play.summary

    again = opened_view(moderator.press(button(listed, "play_edit")))  # a second press opens the same edit
    assert "captain" in form_state(again)["steps~0"]["steps"]["value"]
    answer = reply(moderator.press(button(saved, "play_draft_publish")))
    lead = answer["blocks"][0]["text"]["text"]
    assert "Updated" in lead and f"<@{COLLEAGUE}>" in lead and f"<@{TEACHER}>" not in lead, "told: the new author"

    with database.sessions() as session:
        edited = plays.get_play(session, play.slug, team=workspace)
        assert edited.summary.startswith(f"Sand timers {unique}") and edited.credits == (TEACHER, COLLEAGUE)
        assert edited.source == play.source and edited.grade_note("9-12").startswith("Students set their own")
        assert "captain" in edited.main_body and community.drafts(session, workspace) == []
        assert (
            session.scalar(select(func.count()).select_from(PlayRecord).where(PlayRecord.team_id == workspace)) == 1
        ), "replaced, not added"
        assert other in next(
            iter(
                session.scalars(
                    select(community.PlayCredit.tip_ids).where(
                        community.PlayCredit.author == COLLEAGUE, community.PlayCredit.team_id == workspace
                    )
                )
            )
        )
    assert told_about_plays(moderator, workspace) == [COLLEAGUE], "only the newly credited author is told"


def told_about_plays(bot: BotHarness, team: str) -> list[str]:
    """Whom the worker's pass over the play notices DMs now (the stand-in's calls are cleared for the next)."""
    bot.standin.clear()
    worker = sandbox_worker(bot, None, FakeClock(FIXED_NOW))
    try:
        worker.deliver("play:", team)
    finally:
        worker.close()
    return [
        c.args["channel"]
        for c in bot.standin.calls
        if c.method == "chat.postMessage" and c.args.get("channel") in (TEACHER, COLLEAGUE)
    ]


def test_unpublishing_keeps_the_play_as_a_draft_and_only_moderators_may(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    play = publish_play(
        database,
        workspace,
        f"Exit ticket {unique} piles",
        f"Sort exit tickets {unique} into three piles and regroup tomorrow by pile.",
    )
    teacher, moderator = harness(TEACHER), harness(MODERATOR)
    for action in ("play_edit", "play_unpublish"):
        answer = teacher.press(payloads_button(action, play.slug))
        assert "Only moderators" in reply(answer)["text"] and not answer.api("views.open"), action
    elsewhere = harness(MODERATOR, new_team())
    for action in ("play_edit", "play_unpublish"):
        assert (
            "no longer in your community's playbook"
            in reply(elsewhere.press(payloads_button(action, play.slug)))["text"]
        ), "another workspace can't reach the play"

    listed = reply(moderator.slash("/play", "drafts"))
    begun = opened_view(moderator.press(button(listed, "play_edit")))
    moderator.submit_view(begun, form_state(begun, title=f"Exit ticket {unique} piles, revised"))
    gone = reply(moderator.press(button(listed, "play_unpublish")))
    assert "Unpublished" in gone["text"]
    assert "no longer" in reply(moderator.press(button(listed, "play_unpublish")))["text"]

    with database.sessions() as session:
        assert plays.get_play(session, play.slug, team=workspace) is None
        assert plays.search_plays(session, f"exit ticket {unique}", team=workspace).plays[:1] != [play]
        kept = {draft.fields.title: draft for draft in community.drafts(session, workspace)}
    assert set(kept) == {play.title, f"Exit ticket {unique} piles, revised"}, "the play and the edit begun on it"
    assert kept[play.title].credits == (TEACHER,) and kept[play.title].tip_ids
    assert all(draft.play_id is None for draft in kept.values())
    assert community.body(kept[play.title].fields) == play.main_body

    drafts = reply(moderator.slash("/play", "drafts"))
    titles = [b for b in drafts["blocks"] if b["type"] == "actions"]
    again = reply(
        moderator.press(
            button(
                drafts, "play_draft_publish", nth=[b["block_id"] for b in titles].index(f"draft:{kept[play.title].id}")
            )
        )
    )
    assert "Published" in all_text(again)
    with database.sessions() as session:
        assert plays.get_play(session, play.slug, team=workspace).summary == play.summary


def test_play_drafts_lists_the_newest_within_slacks_50_blocks(
    harness: Harness, database: Database, workspace: str, unique: str
) -> None:
    for n in range(play_blocks.LISTED_PLAYS + 1):
        publish_play(
            database,
            workspace,
            f"Play {n} {unique} for groups",
            f"Tip {n} {unique}: groups rotate between stations when the timer rings.",
        )
    moderator = harness(MODERATOR)
    for n in range(play_blocks.LISTED_DRAFTS + 1):
        make_draft(
            moderator,
            share_tip(database, workspace, TEACHER, f"Draft tip {n} {unique} for a play."),
            title=f"Draft {n} {unique} of a play",
        )

    listed = reply(moderator.slash("/play", "drafts"))  # reply() checks that Slack took the message
    assert len(listed["blocks"]) <= 50
    shown = all_text(listed)
    assert f"Draft {play_blocks.LISTED_DRAFTS} {unique}" in shown and f"Draft 0 {unique} " not in shown
    assert f"Play {play_blocks.LISTED_PLAYS} {unique}" in shown and f"Play 0 {unique} " not in shown
    assert shown.count("newest are shown") == 2
    assert len([b for b in buttons(listed) if b.action_id == "play_edit"]) == play_blocks.LISTED_PLAYS

    found = reply(moderator.slash("/play", f"drafts {unique} play 0"))  # an older one, found by its words
    edits = [b for b in buttons(found) if b.action_id == "play_edit"]
    assert edits and edits[0].value == f"play-0-{unique}-for-groups", [b.value for b in edits]
    assert opened_view(moderator.press(edits[0]))["title"]["text"] == "Edit the play"
    assert "None of your community's plays" in reply(moderator.slash("/play", f"drafts zz{unique}"))["text"]
    assert "Only moderators" in reply(harness(TEACHER).slash("/play", f"drafts {unique}"))["text"]


def test_adding_a_tip_from_a_form_slack_changed_meanwhile_leaves_the_newer_form(
    harness: Harness, database: Database, workspace: str, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    tip_id = share_tip(database, workspace, TEACHER, f"Colour-coded {unique} folders for each station.")
    share_tip(database, workspace, COLLEAGUE, f"A {unique} checklist taped inside every folder.")
    moderator = harness(MODERATOR)
    moderator.press(payloads_button("tip_to_play", str(tip_id)))
    seen = moderator.standin.shown_view(play_blocks.PLAY_DRAFT)  # the form, with the id and hash Slack gave it
    enter = {
        "type": "plain_text_input",
        "action_id": play_blocks.ADD_TIP,
        "block_id": f"{play_blocks.ADD_TIP}~0",
        "value": f"{unique} checklist",
    }

    first = moderator.act_in_view(seen, form_state(seen), enter)
    assert first.api("views.update") and moderator.standin.shown_view(play_blocks.PLAY_DRAFT)["hash"] != seen["hash"]
    with caplog.at_level(logging.INFO):
        again = moderator.act_in_view(seen, form_state(seen), enter)  # Enter again, before the update showed
    assert again.status == 200 and again.api("views.update"), "the bot tried, and Slack refused the stale hash"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("hash_conflict" in r.getMessage() for r in caplog.records)
    shown = moderator.standin.shown_view(play_blocks.PLAY_DRAFT)
    assert "checklist taped" in form_state(shown)["steps~1"]["steps"]["value"] and f"<@{COLLEAGUE}>" in all_text(shown)


def test_moderators_write_grade_band_notes_the_card_shows_for_that_band(
    harness: Harness, database: Database, workspace: str, unique: str, tmp_path
) -> None:
    tip_id = share_tip(database, workspace, TEACHER, f"Number talks {unique} open every maths lesson.")
    moderator = harness(MODERATOR)
    view, short = make_draft(moderator, tip_id, **{"note:K-5": "Too short."})
    ack = json.loads(short.ack_body)
    assert ack["response_action"] == "errors" and set(ack["errors"]) == {"note:K-5~0"}

    k5 = f"Use dot cards {unique} and let children show their thinking with fingers before anyone speaks."
    submitted = moderator.submit_view(
        view, form_state(view, looks_like=LOOKS_LIKE, watch_out=WATCH_OUT, **{"note:K-5": k5})
    )
    reply(moderator.press(button(dm_to(submitted, MODERATOR), "play_draft_publish")))

    teacher = harness(TEACHER)
    assert k5 in all_text(reply(teacher.slash("/play", f"number talks {unique} grade:K-5")))
    assert k5 not in all_text(reply(teacher.slash("/play", f"number talks {unique}")))
    with transaction(database.sessions) as session:
        [path] = community.export_plays(session, workspace, tmp_path)
    assert "## Grade-band notes\n### K-5\n" + k5 in path.read_text(encoding="utf-8")
