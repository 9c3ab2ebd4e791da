"""`/play`, its buttons, App Home and `/plchat help`, as Slack would drive them: signed HTTP, documented payloads."""

from __future__ import annotations

import copy
import json
import logging
import re
import ssl
import time

import pytest
from slack_helpers import all_text, button, buttons, reply

from bot.config import Settings
from bot.plays import CATEGORIES, category_counts
from bot.sandbox import payloads
from bot.sandbox.harness import SANDBOX_TOKEN, BotHarness
from bot.sandbox.render import render_view
from bot.slack.app import create_web_client

BROADCAST = re.compile(r"<!(channel|here|everyone)>")


def test_play_without_words_answers_privately_with_a_card_and_two_buttons(bot: BotHarness):
    answer = reply(bot.slash("/play"))
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["type"] == "header"
    assert [b.action_id for b in buttons(answer)] == ["play_another", "play_share"]
    assert "Try this" in all_text(answer) and "Watch out for" in all_text(answer)


def test_play_with_words_leads_with_the_best_match_and_offers_alternatives(bot: BotHarness):
    answer = reply(bot.slash("/play", "station rotation"))
    assert button(answer, "play_share").value == "station-rotation-starter"
    alternatives = [b.value for b in buttons(answer) if b.action_id == "play_open"]
    assert 1 <= len(alternatives) <= 2 and "station-rotation-starter" not in alternatives


def test_play_list_counts_every_category(bot: BotHarness, database):
    answer = reply(bot.slash("/play", "list"))
    with database.sessions() as session:
        total = sum(c.count for c in category_counts(session))
    assert f"{total} plays" in answer["text"]
    for slug in CATEGORIES:
        assert f"`{slug}`" in all_text(answer)


def test_play_with_a_category_lists_its_plays(bot: BotHarness):
    answer = reply(bot.slash("/play", "Flipped classroom"))
    opened = [b.value for b in buttons(answer) if b.action_id == "play_open"]
    assert opened and all(slug.startswith("flip") for slug in opened)


def test_play_random_is_a_card(bot: BotHarness):
    answer = reply(bot.slash("/play", "random"))
    assert button(answer, "play_another").value


def test_no_match_says_so_and_suggests_categories_and_a_play(bot: BotHarness):
    answer = reply(bot.slash("/play", "qwxzv"))
    assert "No play matches `qwxzv`" in all_text(answer)
    assert "`blended-learning`" in all_text(answer)
    assert button(answer, "play_open").value


def test_punctuation_only_gets_a_hint_instead_of_a_search(bot: BotHarness):
    answer = reply(bot.slash("/play", "?!? ..."))
    assert "no words to search for" in answer["text"]


def test_oversized_text_is_answered_with_a_clear_limit(bot: BotHarness):
    answer = reply(bot.slash("/play", "rotation " * 1000))
    assert "characters long" in answer["text"] and "/play station rotation" in answer["text"]


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel> station rotation",
        "<!here|here> <!everyone> flipped",
        "<script>alert(1)</script> project",
        "<https://evil.example|click me> feedback",
        "<@U0OTHER> `code` *bold* ~strike~ qwxzv",
    ],
)
def test_hostile_text_is_answered_and_never_echoed_as_live_markup(bot: BotHarness, hostile: str):
    answer = reply(bot.slash("/play", hostile))
    rendered = all_text(answer)
    assert not BROADCAST.search(rendered)
    assert "<script>" not in rendered and "<https://evil.example" not in rendered and "<@U0OTHER>" not in rendered
    assert answer["blocks"], "still answered"


@pytest.mark.parametrize("words", ["日本語の授業", "урок математики", "🎒📚", "café différencié"])
def test_non_latin_text_is_answered(bot: BotHarness, words: str):
    answer = reply(bot.slash("/play", words))
    assert answer["blocks"]


def test_another_play_replaces_the_card_with_a_different_play(bot: BotHarness):
    first = reply(bot.slash("/play", "station rotation"))
    second = reply(bot.press(button(first, "play_another")))
    assert second["replace_original"] is True
    assert button(second, "play_share").value != "station-rotation-starter"


def test_open_shows_the_chosen_alternative(bot: BotHarness):
    first = reply(bot.slash("/play", "station rotation"))
    alternative = button(first, "play_open")
    opened = reply(bot.press(alternative))
    assert button(opened, "play_share").value == alternative.value


def test_share_posts_publicly_crediting_the_sharer_and_confirms_privately(bot: BotHarness):
    card = reply(bot.slash("/play", "station rotation"))
    exchange = bot.press(button(card, "play_share"))
    [post] = exchange.api("chat.postMessage")
    assert post.args["channel"] == bot.workspace.channel_id
    assert f"Shared by <@{bot.workspace.user_id}>" in all_text(post.args)
    assert not any(b["type"] == "actions" for b in post.args["blocks"]), "no private buttons on a public card"
    assert "You shared" in reply(exchange)["text"]


def test_share_where_the_bot_is_not_invited_explains_how_to_invite_it(bot: BotHarness):
    card = reply(bot.slash("/play", "station rotation"))
    bot.standin.inject("chat.postMessage", error="not_in_channel")
    answer = reply(bot.press(button(card, "play_share")))
    assert "/invite" in answer["text"] and answer["replace_original"] is False


def test_a_rate_limited_share_says_when_to_try_again_and_never_waits_on_a_reply_worker(bot: BotHarness):
    card = reply(bot.slash("/play", "station rotation"))
    bot.standin.inject("chat.postMessage", status=429, retry_after=7)
    exchange = bot.press(button(card, "play_share"))
    assert [c.status for c in exchange.api("chat.postMessage")] == [429], "no retry slept out on a reply worker"
    answer = reply(exchange)["text"]
    assert "Press Share again in 7 seconds" in answer and "ratelimited" not in answer
    assert "You shared" in reply(bot.press(button(card, "play_share")))["text"]


def test_a_failing_slack_is_reported_to_the_user_not_swallowed(bot: BotHarness):
    card = reply(bot.slash("/play", "station rotation"))
    bot.standin.inject("chat.postMessage", status=503, times=3)
    exchange = bot.press(button(card, "play_share"))
    assert [c.status for c in exchange.api("chat.postMessage")] == [503, 503, 503]
    assert "Please try again" in reply(exchange)["text"]


def test_command_is_acknowledged_before_the_slow_reply(bot: BotHarness):
    gate = bot.standin.hold("hooks")
    body, content_type = payloads.slash_command(bot.workspace, "/play", "flipped", bot.standin.new_response_url())
    signed = payloads.sign(body, bot.signing_secret, content_type)
    # Slack's 3-second window: the ack must come back while the reply is still stuck at Slack.
    result = bot.http("POST", "/slack/events", signed.body, signed.headers)
    assert result.status == 200
    assert gate.wait_arrived(10)
    gate.release()
    bot.executor.wait_idle()
    assert len(bot.standin.hooks()) == 1


def test_app_home_shows_the_play_of_the_week_and_how_to_use_the_bot(bot: BotHarness):
    exchange = bot.open_home()
    [publish] = exchange.api("views.publish")
    assert publish.args["user_id"] == bot.workspace.user_id
    view = publish.args["view"]
    assert view["type"] == "home" and "/play" in all_text(view)
    assert bot.open_home().api("views.publish")[0].args["view"] == view, "same play all week"


def test_app_home_another_play_republishes_with_a_different_play(bot: BotHarness):
    view = bot.open_home().api("views.publish")[0].args["view"]
    [home_button] = render_view(view).buttons
    exchange = bot.press(home_button, view_id="V-home")
    new_view = exchange.api("views.publish")[0].args["view"]
    assert render_view(new_view).buttons[0].value != home_button.value


def test_plchat_help_lists_every_command(bot: BotHarness):
    answer = reply(bot.slash("/plchat", "help"))
    for usage in ("/play", "/play list", "/plchat help"):
        assert f"`{usage}`" in answer["text"] + all_text(answer)


def test_plchat_unknown_subcommand_says_so_and_shows_help(bot: BotHarness):
    answer = reply(bot.slash("/plchat", "<!everyone> dance"))
    assert "I don't know" in answer["text"] and "<!everyone>" not in all_text(answer)
    assert "/plchat help" in all_text(answer)


def test_forged_signature_is_refused_and_nothing_is_posted(bot: BotHarness):
    body, content_type = payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url())
    exchange = bot.send(body, content_type, secret="not-the-signing-secret")
    assert exchange.status == 401 and exchange.calls == []


def test_stale_signature_is_refused(bot: BotHarness):
    body, content_type = payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url())
    exchange = bot.send(body, content_type, now=lambda: time.time() - 600)
    assert exchange.status == 401 and exchange.calls == []


def test_tampered_body_is_refused(bot: BotHarness):
    body, content_type = payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url())
    signed = payloads.sign(body, bot.signing_secret, content_type)
    result = bot.http("POST", "/slack/events", body.replace(b"U0TEACHER", b"U0ADMIN00"), signed.headers)
    assert result.status == 401


def test_healthz_checks_the_database(bot: BotHarness):
    result = bot.http("GET", "/healthz")
    assert result.status == 200 and json.loads(result.body) == {"status": "ok", "database": "ok"}


def test_unknown_paths_are_404(bot: BotHarness):
    assert bot.http("GET", "/slack/events").status == 404
    assert bot.http("GET", "/slack/install").status == 404, "no OAuth without a client id and secret"


def test_secrets_never_reach_the_logs_even_at_debug(bot: BotHarness, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    card = reply(bot.slash("/play", "station rotation"))
    bot.standin.inject("chat.postMessage", status=503, times=3)
    bot.press(button(card, "play_share"))
    bot.open_home()
    assert "chat.postMessage" in caplog.text, "slack_sdk's request logging was captured"
    assert SANDBOX_TOKEN not in caplog.text
    assert bot.signing_secret not in caplog.text


def test_every_slack_call_shares_one_verifying_tls_context():
    """urllib would build (and load the CA bundle into) a new context per HTTPS connection; Bolt deep-copies
    the client for each lazy listener, so the shared context must survive the copy."""
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1")
    client = create_web_client(settings, "xoxb-1")

    assert copy.deepcopy(client).ssl is client.ssl is create_web_client(settings).ssl
    assert client.ssl.verify_mode == ssl.CERT_REQUIRED and client.ssl.check_hostname
