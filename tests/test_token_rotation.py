"""OAuth installs as Slack makes them, through the web process, against the stand-in's oauth.v2.access: a bot
token that expires (token rotation) is refreshed through the installation store and used, a reinstall's new
token is used at once, and an org-wide (Enterprise Grid) install serves its workspaces' posts."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from typer.testing import CliRunner

from bot.bootstrap import Database, build_app
from bot.cli import cli
from bot.config import Settings
from bot.play_files import PLAYS_DIR
from bot.sandbox import payloads
from bot.sandbox.harness import LocalServer
from bot.sandbox.slack_api import SlackStandIn
from bot.slack.installs import client_factory
from bot.web import create_wsgi_app

CLIENT_ID = "111.222"


class Install:
    def __init__(self, database: Database, standin: SlackStandIn):
        self.database, self.standin = database, standin
        self.settings = Settings(
            _env_file=None,
            database_url=str(database.engine.url),
            slack_client_id=CLIENT_ID,
            slack_client_secret="client-secret",
            slack_signing_secret="signing-secret",
            slack_api_url=standin.api_url,
        )
        self.server = LocalServer(create_wsgi_app(build_app(self.settings, database), database.engine)).start()
        self.store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=database.engine)

    def install(self, code: str) -> None:
        """Someone presses Add to Slack and approves: Slack redirects back with `code`, and their browser
        sends back the state cookie the install page set."""
        with urllib.request.urlopen(self.server.url + "/slack/install") as page:
            link = re.search(r'href="([^"]+/oauth/v2/authorize[^"]+)"', page.read().decode()).group(1)
            cookies = "; ".join(cookie.split(";")[0] for cookie in page.headers.get_all("Set-Cookie") or [])
        state = parse_qs(urlparse(link.replace("&amp;", "&")).query)["state"][0]
        back = urllib.request.Request(
            f"{self.server.url}/slack/oauth_redirect?code={code}&state={state}", headers={"Cookie": cookies}
        )  # a Secure cookie, sent back as a browser would
        with urllib.request.urlopen(back) as done:
            assert done.status == 200

    def event(self, body: dict) -> int:
        signed = payloads.sign(json.dumps(body).encode(), "signing-secret", "application/json")
        request = urllib.request.Request(self.server.url + "/slack/events", data=signed.body, headers=signed.headers)
        with urllib.request.urlopen(request) as answer:
            return answer.status


@pytest.fixture
def oauth(database: Database) -> Iterator[Install]:
    with SlackStandIn() as standin:
        install = Install(database, standin)
        yield install
        install.server.stop()


def team() -> str:
    return f"T{uuid.uuid4().hex[:9].upper()}"


def post_token(oauth: Install, team_id: str) -> str | None:
    """The token the worker's client for `team_id` posts with (the stand-in records it)."""
    client = client_factory(oauth.settings, oauth.database.engine)(team_id)
    assert client is not None, "installed"
    client.chat_postMessage(channel="C0GENERAL", text="hello")
    return oauth.standin.calls_to("chat.postMessage")[-1].token


def test_an_expiring_token_is_refreshed_through_the_store_and_used(oauth: Install) -> None:
    school = team()
    oauth.standin.expect_install("code-rotating", team_id=school, expires_in=600)  # within the 2 h refresh margin
    oauth.install("code-rotating")
    installed = oauth.store.find_bot(enterprise_id=None, team_id=school)
    assert installed is not None and installed.bot_refresh_token and installed.bot_token.startswith("xoxe.xoxb-")

    used = post_token(oauth, school)

    refreshed = oauth.store.find_bot(enterprise_id=None, team_id=school)
    assert refreshed.bot_token != installed.bot_token and used == refreshed.bot_token
    assert [call.args.get("grant_type") for call in oauth.standin.calls_to("oauth.v2.access")][-1] == "refresh_token"
    assert oauth.standin.calls_to("chat.postMessage")[-1].status == 200
    assert post_token(oauth, school) == refreshed.bot_token, "fresh for 12 hours now: not refreshed again"


def test_a_reinstalls_new_token_is_used_at_once(oauth: Install) -> None:
    school = team()
    oauth.standin.expect_install("code-first", team_id=school)
    oauth.install("code-first")
    first = post_token(oauth, school)
    oauth.standin.expect_install("code-again", team_id=school)
    oauth.install("code-again")

    again = post_token(oauth, school)

    assert first and again and again != first
    assert again == oauth.store.find_bot(enterprise_id=None, team_id=school).bot_token


def test_an_org_wide_install_serves_its_workspaces(oauth: Install) -> None:
    district, member = f"E{uuid.uuid4().hex[:9].upper()}", team()
    oauth.standin.expect_install("code-org", team_id=None, enterprise_id=district, org_wide=True)
    oauth.install("code-org")
    assert client_factory(oauth.settings, oauth.database.engine)(member) is None, "not known as a member yet"

    status = oauth.event(
        {  # the first request from a workspace of the enterprise
            "token": "unused",
            "team_id": member,
            "enterprise_id": district,
            "api_app_id": "A0PLCHAT",
            "type": "event_callback",
            "event_id": "Ev0ORG",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": "U0TEACHER", "channel": "D0HOME", "tab": "messages"},
            "authorizations": [
                {
                    "enterprise_id": district,
                    "team_id": None,
                    "user_id": "U0PLCHATBOT",
                    "is_bot": True,
                    "is_enterprise_install": True,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )

    assert status == 200
    org_bot = oauth.store.find_bot(enterprise_id=district, team_id=None, is_enterprise_install=True)
    assert post_token(oauth, member) == org_bot.bot_token


def test_the_web_process_refreshes_an_expiring_token_through_the_store_too(oauth: Install) -> None:
    school = team()
    oauth.standin.expect_install("code-web", team_id=school, expires_in=600)
    oauth.install("code-web")
    installed = oauth.store.find_bot(enterprise_id=None, team_id=school)

    status = oauth.event(
        {
            "token": "unused",
            "team_id": school,
            "api_app_id": "A0PLCHAT",
            "type": "event_callback",
            "event_id": "Ev0WEB",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": "U0TEACHER", "channel": "D0HOME", "tab": "home"},
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": school,
                    "user_id": "U0PLCHATBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )

    assert status == 200
    refreshed = oauth.store.find_bot(enterprise_id=None, team_id=school)
    assert refreshed.bot_token != installed.bot_token
    [published] = oauth.standin.wait_for(lambda calls: any(c.method == "views.publish" for c in calls)) and [
        call for call in oauth.standin.calls if call.method == "views.publish"
    ]
    assert published.token == refreshed.bot_token and published.status == 200


def test_a_workspace_is_known_to_plchat_the_moment_it_installs_the_app(
    oauth: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--team` must name a workspace the bot knows (a typo would otherwise start a new one); one that installed
    through OAuth is known at once, before anyone there has used the bot, so a play can be imported into it."""
    school = team()
    monkeypatch.setenv("DATABASE_URL", oauth.database.engine.url.render_as_string(hide_password=False))
    folder = tmp_path / "plays"
    folder.mkdir()
    shipped = (PLAYS_DIR / "audit-apps-against-goals.md").read_text(encoding="utf-8")
    (folder / "our-app-audit.md").write_text(
        shipped.replace("slug: audit-apps-against-goals", "slug: our-app-audit"), encoding="utf-8"
    )
    assert CliRunner().invoke(cli, ["plays", "import", str(folder), "--team", school]).exit_code == 2, "not yet"
    oauth.standin.expect_install("code-known", team_id=school)

    oauth.install("code-known")
    result = CliRunner().invoke(cli, ["plays", "import", str(folder), "--team", school])

    assert result.exit_code == 0, result.output
    assert "1 added" in result.stdout
