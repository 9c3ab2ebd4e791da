"""Multi-workspace mode: with a client id and secret, installs go through OAuth and state lives in the database."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from bot.bootstrap import build_app
from bot.config import Settings
from bot.sandbox.harness import LocalServer
from bot.sandbox.slack_api import SlackStandIn
from bot.web import create_wsgi_app


@pytest.fixture
def oauth_server(database):
    with SlackStandIn() as standin:
        settings = Settings(
            _env_file=None,
            database_url=str(database.engine.url),
            slack_client_id="111.222",
            slack_client_secret="client-secret",
            slack_signing_secret="signing-secret",
            slack_api_url=standin.api_url,
        )
        server = LocalServer(create_wsgi_app(build_app(settings, database), database.engine)).start()
        yield server
        server.stop()


def test_install_page_links_to_slack_with_our_scopes_and_a_stored_state(oauth_server, database):
    with urllib.request.urlopen(oauth_server.url + "/slack/install") as response:
        page = response.read().decode()
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["client_id"] == ["111.222"]
    assert set(query["scope"][0].split(",")) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "reactions:read",
        "channels:history",
        "groups:history",
        "im:write",
        "im:history",
        "users:read",
        "files:write",
    }
    with database.sessions() as session:
        stored = session.execute(
            text("SELECT count(*) FROM slack_oauth_states WHERE state = :s"), {"s": query["state"][0]}
        ).scalar_one()
    assert stored == 1


def test_callback_with_a_forged_state_is_refused(oauth_server):

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(oauth_server.url + "/slack/oauth_redirect?code=abc&state=forged")
    assert refused.value.code == 400
