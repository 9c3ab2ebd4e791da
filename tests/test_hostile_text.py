"""For any text, in any field, every renderer's payload (as the guard sends it) carries no live mention, link or
broadcast from that text, and nothing raises. Renderers are pure, so each property runs many cases; together
they run well over 10,000 (see `test_the_properties_run_at_least_ten_thousand_cases`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_chat_blocks import make_chat as make_scheduled_chat
from test_chat_blocks import make_spec
from test_digest_blocks import make_digest, make_play, make_recap, make_subscription

from bot import archive, community
from bot.chats.definition import parse_chat_fields
from bot.chats.recap import RecapAnswer, RecapQuestion
from bot.chats.spec import ChatSpecError, Question, x_inert
from bot.digests.records import DigestTip
from bot.sandbox.hostile import FRAGMENTS, smuggled
from bot.slack import blocks, chat_blocks, digest_blocks, play_blocks, tip_blocks
from bot.slack.markup import guard, live_markup
from bot.social import chat_text
from bot.social.bluesky import BLUESKY_RULE
from bot.social.chat_text import TextRule
from bot.social.mastodon import mastodon_length
from bot.social.x import X_RULE
from bot.tips import transfer
from bot.tips.records import Tip
from bot.tips.search import TipPage, TipQuery

pytestmark = pytest.mark.slow  # 10,800 hypothesis cases

CASES = 900  # per property: 12 properties, 10,800 cases
RUN: dict[str, int] = {}
START = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)

# Any characters at all (lone surrogates, NUL, RTL and zero-width marks, emoji), Slack markup and its escaped
# forms, HTML, Markdown, FTS and SQL syntax, run together; now and then 40 KB of it.
_piece = st.one_of(
    st.sampled_from(FRAGMENTS), st.text(max_size=30), st.text(alphabet=st.characters(codec=None), max_size=10)
)
hostile = st.one_of(
    st.lists(_piece, min_size=1, max_size=8).map("".join),
    st.lists(_piece, min_size=1, max_size=8).map(" ".join),
    st.sampled_from(FRAGMENTS).map(lambda fragment: (fragment + " ") * (40_000 // (len(fragment) + 1) + 1)),
)


def prop(function: Callable[..., None]) -> Callable[..., None]:
    """A property over hostile text, counting the cases it ran."""
    name = function.__name__

    def counted(*args: Any, **kwargs: Any) -> None:
        RUN[name] = RUN.get(name, 0) + 1
        function(*args, **kwargs)

    counted.__name__ = name
    return settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
        given(text=hostile)(counted)
    )


def assert_inert(payload: Any, *inputs: str) -> None:
    sent = guard(payload)
    assert smuggled(sent, inputs) == []
    for token in live_markup(sent):  # what the bot means: mentions, channels, dates and its own links
        assert re.fullmatch(
            r"<(@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|!date\^\d+\^[^^|>]+\|[^>]*|https?://[^|>]+\|[^>]*)>", token
        ), token


def make_tip(text: str, **changes: Any) -> Tip:
    fields: dict[str, Any] = dict(
        id=5,
        team_id="T1",
        author="U0ANA",
        shared_by="U0ANA",
        text=text,
        tags=("assessment",),
        grade="3-5",
        source="command",
        source_ref=None,
        permalink="https://example.slack.com/archives/C1/p1",
        created_at=datetime(2026, 11, 2, tzinfo=UTC),
        helpful_count=2,
        hidden=False,
        pending=False,
    )
    fields.update(changes)
    return Tip(**fields)


# -- tips ---------------------------------------------------------------------------------------------------------


@prop
def test_tip_replies_and_notices(text: str) -> None:
    tip = make_tip(text, author=text[:120] or "x")
    for payload in (
        tip_blocks.tip_saved(tip),
        tip_blocks.tip_already_saved(tip),
        tip_blocks.tip_held(tip, tip),
        tip_blocks.shared_tip(tip, "U0SHARER"),
        tip_blocks.report_notice(tip, "U0REPORTER"),
    ):
        assert_inert(payload, text)


@prop
def test_tip_search_results_and_echo(text: str) -> None:
    page = TipPage(TipQuery(words=text), [make_tip(text)], page=1, has_next=True, corrected=text)
    assert_inert(tip_blocks.search_results(page, text, "U0ANA", True), text)
    assert_inert(tip_blocks.search_results(TipPage(TipQuery(words=text)), text, "U0ANA", False), text)
    assert_inert(tip_blocks.my_tips([make_tip(text)], 3, "U0ANA"), text)


@prop
def test_tip_form_and_app_home(text: str) -> None:
    tip = make_tip(text, tags=(text[:30],))
    assert_inert(tip_blocks.tip_modal(channel=text, tip=tip), text)
    assert_inert(blocks.home_view(make_play(title=text or "t"), tip_blocks.home_tips([tip], [tip])), text)


# -- plays --------------------------------------------------------------------------------------------------------


@prop
def test_play_cards_and_searches(text: str) -> None:
    play = make_play(
        title=text or "t",
        summary=text,
        body=f"## Try this\n{text}\n## Watch out for\n{text}",
        source=text,
        time_needed=text[:40],
    )
    assert_inert(blocks.play_card(play), text)
    assert_inert(blocks.play_card(play, shared_by="U0ANA"), text)
    assert_inert(blocks.category_plays(text, [play]), text)
    assert_inert(blocks.problem(text), text)
    credited = (text[:120] or "x",)
    own = replace(play, team_id="T1", credits=credited)
    draft = community.Draft(
        3,
        community.DraftFields(text, text, text, text, text, text, (), text, text, (("K-5", text),)),
        (1,),
        credited,
        4,
    )
    assert_inert(play_blocks.draft_form(draft, note=text), text)
    assert_inert(play_blocks.drafts_list([draft], [own]), text)
    assert_inert(play_blocks.matching_plays(text, [own]), text)
    assert_inert(play_blocks.matching_plays(text, []), text)
    assert_inert(play_blocks.published(own, credited, True), text)


# -- chats --------------------------------------------------------------------------------------------------------


def hostile_spec(text: str):
    return make_spec(title=text or "t", questions=(Question(0, text or "q"), Question(5, text or "q")))


@prop
def test_chat_posts(text: str) -> None:
    spec = hostile_spec(text)
    assert_inert(
        chat_blocks.reminder_message(spec, START, timedelta(hours=1), "https://plchat.example/chats.ics"), text
    )
    assert_inert(chat_blocks.welcome_message(spec, START), text)
    assert_inert(chat_blocks.question_message(spec, 1, spec.questions[0]), text)
    assert_inert(chat_blocks.wrapup_message(spec, START), text)


def hostile_recap(text: str):
    answers = (
        RecapAnswer(text, text[:60] or "@x", "x", 3, "https://x.com/i/status/1"),  # links come from the API
        RecapAnswer(text, "U0BEA", "slack", 1, None),
    )
    return replace(make_recap(title=text or "t"), questions=(RecapQuestion(1, text, answers, 9),))


@prop
def test_chat_recap_and_list(text: str) -> None:
    assert_inert(chat_blocks.recap_message(hostile_recap(text), "https://plchat.example/chats/3"), text)
    chat = make_scheduled_chat(spec=hostile_spec(text))
    assert_inert(chat_blocks.chats_list_message([chat], moderator=True), text)
    assert_inert(chat_blocks.schedule_modal(default_timezone="UTC", chat=chat), text)


@prop
def test_the_schedule_form_answers_any_text_with_short_errors(text: str) -> None:
    values = {name: {name: {"value": text}} for name in chat_blocks.FIELDS}
    try:
        parse_chat_fields(chat_blocks.schedule_fields(values), default_timezone="UTC")
    except ChatSpecError as refused:
        errors = chat_blocks.field_errors(refused.problems)
        assert errors and all(isinstance(error, str) and len(error) <= 150 for error in errors.values())


def _network_posts(spec: Any, rule: TextRule) -> list[chat_text.SocialText]:
    return [
        chat_text.reminder(spec, START, timedelta(hours=1), rule),
        chat_text.welcome(spec, START, rule),
        chat_text.question(spec, 1, rule),
        chat_text.wrapup(spec, START, rule),
        chat_text.recap_link(spec, START, "https://plchat.example.org/chats/1", rule),
    ]


@prop
def test_chat_posts_on_the_networks_mention_nobody_and_fit(text: str) -> None:
    spec = hostile_spec(text)
    for rule in (X_RULE, TextRule(280, mastodon_length, x_inert), BLUESKY_RULE):
        for post in _network_posts(spec, rule):
            assert rule.fits(post.text)
            sent = rule.inert(post.text)
            if rule is not BLUESKY_RULE:  # X and Mastodon read an @ in the text as a mention
                assert not re.search(r"(?<!\w)[@\uff20]\w", sent)
                assert sent == rule.inert(sent)  # applied again: nothing changes, nothing grows
            # Bluesky mentions only through facets: the only facets are the bot's own tag and link.
            assert {(part.tag, part.link) for part in post.parts if part.tag or part.link} <= {
                (spec.hashtag, None),
                (None, "https://plchat.example.org/chats/1"),
            }


# -- digests ------------------------------------------------------------------------------------------------------


@prop
def test_digests(text: str) -> None:
    digest = make_digest(
        tips=(
            DigestTip(1, text, text[:60] or "x", 5, None),
            DigestTip(2, text, "U0ANA", 1, "https://example.slack.com/archives/C1/p2"),
        ),
        chats=(make_scheduled_chat(spec=hostile_spec(text)),),
        recap=hostile_recap(text),
        play=make_play(title=text or "t", summary=text),
    )
    assert_inert(digest_blocks.digest_message(digest, calendar_url="https://plchat.example/chats.ics"), text)
    assert_inert(digest_blocks.digest_message(replace(digest, tips=(), chats=(), recap=None, new_tips=0)), text)


@prop
def test_digest_settings_and_home(text: str) -> None:
    subscription = make_subscription(channel=text[:32] or "C0X", timezone=text[:64] or "UTC")
    assert_inert(digest_blocks.subscribed_message(subscription), text)
    assert_inert(digest_blocks.settings_modal(subscription), text)
    assert_inert({"blocks": digest_blocks.subscriptions_home_blocks([subscription])}, text)


# -- documents ----------------------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@prop
def test_recap_documents(text: str) -> None:
    recap = hostile_recap(text)
    hostile_page, plain_page = _Tags(), _Tags()
    hostile_page.feed(archive.recap_html(recap, {"U0BEA": text}))
    plain_page.feed(archive.recap_html(hostile_recap("plain\nwords\n\nhere"), {"U0BEA": "Bea"}))
    assert {tag for tag, _ in hostile_page.tags} <= {tag for tag, _ in plain_page.tags}  # no element from the text
    parser = hostile_page
    assert not any(name.startswith("on") for _, attrs in parser.tags for name, _ in attrs)
    assert "evil.example" not in " ".join(
        value or "" for _, attrs in parser.tags for name, value in attrs if name in ("href", "src")
    )
    markdown = archive.recap_markdown(recap, {"U0BEA": text})
    assert not re.search(r"(?<!\\)\]\(https://evil|(?<!\\)<(https://evil|script)", markdown)  # all escaped


@prop
def test_csv_export_runs_no_formula(text: str) -> None:
    row = {
        "text": text.replace("\x00", ""),
        "author": text[:120],
        "tags": [text[:30]],
        "grade": "",
        "created_at": "2026-11-02T00:00:00+00:00",
        "source_url": "",
        "id": 1,
        "source": "import",
        "helpful": 0,
        "hidden": True,
    }
    out = io.StringIO()
    transfer.write_rows([row], out, "csv")
    [cells] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert not any(value.startswith(transfer.FORMULA_START) for value in cells.values())
    [(_, back)] = list(transfer.read_rows(io.StringIO(out.getvalue()), "csv"))
    assert isinstance(back, dict) and back["text"] == row["text"] and back["author"] == row["author"]
    assert back["hidden"] == "yes"


def test_the_properties_run_at_least_ten_thousand_cases() -> None:
    properties = [
        name
        for name, value in globals().items()
        if name.startswith("test_") and getattr(value, "hypothesis", None) is not None
    ]
    assert len(properties) * CASES >= 10_000, "each property runs CASES examples"
    for name in properties:  # pytest runs this module's tests in file order: the properties ran first
        assert RUN.get(name, 0) >= CASES or RUN.get(name, 0) == 0, (name, RUN.get(name))


def test_a_tip_full_of_broadcasts_notifies_nobody() -> None:
    text = "<!channel> <!here> <!everyone> <!subteam^S0EVIL|@team> <@U0EVIL> read this"
    sent = guard(tip_blocks.shared_tip(make_tip(text), "U0SHARER"))
    assert live_markup(sent) == [
        "<@U0ANA>",
        "<https://example.slack.com/archives/C1/p1|original message>",
        "<@U0SHARER>",
    ]
    assert sent["text"].startswith("A tip: &lt;!\u2060channel&gt; &lt;!\u2060here&gt;")  # shown as typed
