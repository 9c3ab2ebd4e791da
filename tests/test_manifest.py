"""The app manifest: `plchat manifest` builds it from the declarations the listeners register (bot/slack/manifest.py),
manifest.yml is exactly its output, it is a valid Slack app manifest, and with --url it is complete for HTTP mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from bot.bootstrap import Database
from bot.cli import cli
from bot.config import Settings
from bot.sandbox import payloads
from bot.sandbox.harness import BotHarness
from bot.slack import manifest as app_manifest
from bot.slack.app import oauth_settings

MANIFEST_FILE = Path(__file__).resolve().parent.parent / "manifest.yml"
HOST = "https://plchat.example.org"
runner = CliRunner()


def printed(*args: str) -> str:
    result = runner.invoke(cli, ["manifest", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def socket_mode() -> dict[str, Any]:
    return yaml.safe_load(printed())


def http_mode() -> dict[str, Any]:
    return yaml.safe_load(printed("--url", HOST + "/"))


def test_manifest_yml_is_what_plchat_manifest_prints() -> None:
    assert MANIFEST_FILE.read_text(encoding="utf-8") == printed(), "regenerate it: plchat manifest > manifest.yml"


@pytest.mark.parametrize("build", [socket_mode, http_mode])
def test_the_manifest_has_the_fields_slack_requires(build) -> None:
    manifest = build()
    info = manifest["display_information"]
    assert info["name"] and len(info["description"]) <= 140 and 175 <= len(info["long_description"]) <= 4000
    assert manifest["features"]["bot_user"]["display_name"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    for command in manifest["features"]["slash_commands"]:
        assert command["command"].startswith("/") and len(command["command"]) <= 32
        assert 0 < len(command["description"]) <= 2000 and len(command["usage_hint"]) <= 1000
        assert isinstance(command["should_escape"], bool)
    for shortcut in manifest["features"]["shortcuts"]:
        assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150


def test_the_description_names_every_network_the_bot_posts_to() -> None:
    info = socket_mode()["display_information"]
    for network in ("Slack", "X", "Bluesky", "Mastodon"):
        assert network in info["description"] and network in info["long_description"]


def test_without_url_the_manifest_is_for_socket_mode_and_names_no_url() -> None:
    manifest = socket_mode()
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://" not in yaml.safe_dump(manifest), "Socket Mode needs no URL, and a placeholder would mislead"


def test_with_url_every_request_url_points_at_the_host() -> None:
    manifest = http_mode()
    events = HOST + app_manifest.EVENTS_PATH
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [events] * len(app_manifest.COMMANDS)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == events
    assert manifest["settings"]["interactivity"]["request_url"] == events
    assert manifest["oauth_config"]["redirect_urls"] == [HOST + app_manifest.OAUTH_REDIRECT_PATH]


def test_the_request_url_is_where_plchat_web_takes_slack_requests(bot: BotHarness) -> None:
    path = urlsplit(http_mode()["settings"]["event_subscriptions"]["request_url"]).path
    body, content_type = payloads.slash_command(bot.workspace, "/play", "", bot.standin.new_response_url())
    signed = payloads.sign(body, bot.signing_secret, content_type)

    assert bot.http("POST", path, signed.body, signed.headers).status == 200
    assert bot.http("POST", path + "-elsewhere", signed.body, signed.headers).status == 404


@pytest.mark.parametrize(
    "url", ["http://plchat.example.org", "plchat.example.org", "https://", "https://h/x", "https://h/?q=1", "ftp://h"]
)
def test_a_url_that_is_not_https_host_exits_2_saying_how_to_write_it(url: str) -> None:
    result = runner.invoke(cli, ["manifest", "--url", url])
    assert result.exit_code == 2 and "https://HOST" in result.stderr and not result.stdout
    assert "Traceback" not in result.output


def test_the_scopes_are_what_an_oauth_install_asks_for(database: Database) -> None:
    settings = Settings(_env_file=None, slack_client_id="1.2", slack_client_secret="secret")
    asked = oauth_settings(settings, database.engine).scopes
    assert sorted(socket_mode()["oauth_config"]["scopes"]["bot"]) == sorted(asked)


def test_every_manifest_command_is_answered_and_an_undeclared_one_is_not(bot: BotHarness) -> None:
    for command in socket_mode()["features"]["slash_commands"]:
        exchange = bot.slash(command["command"])
        answered = exchange.hooks() or exchange.api("views.open")  # /tip with no text opens its form
        assert exchange.status == 200 and answered, command["command"]
    assert bot.slash("/not-a-command").status == 404


def test_every_manifest_shortcut_is_answered(bot: BotHarness) -> None:
    shortcuts = {(s["type"], s["callback_id"]) for s in socket_mode()["features"]["shortcuts"]}
    assert shortcuts == {("global", "share_tip"), ("message", "save_tip")}
    assert bot.global_shortcut("share_tip").api("views.open")
    message = {"type": "message", "user": "U0COLLEAGUE", "text": "Cold-call with a name jar", "ts": "1700000000.000100"}
    assert bot.message_shortcut("save_tip", message).hooks()
    assert bot.global_shortcut("not_declared").status == 404


def test_the_manifest_subscribes_to_exactly_the_events_the_bot_listens_for() -> None:
    assert sorted(socket_mode()["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "app_uninstalled",
        "message.channels",
        "message.groups",
        "reaction_added",
        "tokens_revoked",
    ]


def test_a_declaration_without_a_listener_or_a_listener_without_one_stops_the_app_at_start() -> None:
    declared = (app_manifest.PLAY, app_manifest.TIP)
    assert list(app_manifest.bind(declared, {app_manifest.TIP: 2, app_manifest.PLAY: 1})) == [
        (app_manifest.PLAY, 1),
        (app_manifest.TIP, 2),
    ]
    with pytest.raises(LookupError, match="/tip"):
        app_manifest.bind(declared, {app_manifest.PLAY: 1})
    with pytest.raises(LookupError, match="/digest"):
        app_manifest.bind(declared, {app_manifest.PLAY: 1, app_manifest.TIP: 2, app_manifest.DIGEST: 3})
