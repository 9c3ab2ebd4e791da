"""manifest.yml is a valid Slack app manifest and declares exactly what the code answers."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.sandbox.harness import BotHarness
from bot.slack.app import BOT_SCOPES

MANIFEST = yaml.safe_load((Path(__file__).resolve().parent.parent / "manifest.yml").read_text())


def test_manifest_has_the_fields_slack_requires():
    assert MANIFEST["display_information"]["name"]
    assert len(MANIFEST["display_information"]["description"]) <= 140
    assert 175 <= len(MANIFEST["display_information"]["long_description"]) <= 4000
    assert MANIFEST["features"]["bot_user"]["display_name"]
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["command"].startswith("/") and len(command["command"]) <= 32
        assert 0 < len(command["description"]) <= 2000
        assert isinstance(command["should_escape"], bool)


def test_manifest_scopes_match_what_oauth_asks_for():
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_manifest_subscribes_to_the_events_the_bot_handles():
    assert sorted(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened", "app_uninstalled", "message.channels", "message.groups", "reaction_added",
        "tokens_revoked"]
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_every_manifest_command_is_answered_and_an_undeclared_one_is_not(bot: BotHarness):
    for command in MANIFEST["features"]["slash_commands"]:
        exchange = bot.slash(command["command"])
        answered = exchange.hooks() or exchange.api("views.open")  # /tip with no text opens its form
        assert exchange.status == 200 and answered, command["command"]
    assert bot.slash("/not-a-command").status == 404


def test_manifest_declares_the_tip_shortcuts():
    shortcuts = {(s["type"], s["callback_id"]) for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == {("global", "share_tip"), ("message", "save_tip")}
    for shortcut in MANIFEST["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
