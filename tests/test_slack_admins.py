"""Workspace admins and owners, as users.info says, asked over HTTP of the Slack stand-in and remembered a while."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import FIXED_NOW
from slack_sdk import WebClient

from bot.sandbox.chat_run import FakeClock
from bot.sandbox.slack_api import SlackStandIn
from bot.slack.admins import REMEMBER, WorkspaceAdmins

TEAM = "T0SANDBOX"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(team_id=TEAM) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FIXED_NOW)


@pytest.fixture
def admins(standin: SlackStandIn, clock: FakeClock) -> WorkspaceAdmins:
    client = WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[])
    return WorkspaceAdmins(lambda team: client if team == TEAM else None, clock)


@pytest.mark.parametrize(
    ("role", "moderates"),
    [("admin", True), ("owner", True), ("primary_owner", True), ("member", False), ("guest", False)],
)
def test_admins_and_owners_are_admins(
    standin: SlackStandIn, admins: WorkspaceAdmins, role: str, moderates: bool
) -> None:
    standin.set_user("U1", role=role)  # type: ignore[arg-type]

    assert admins.is_admin(TEAM, "U1") is moderates


def test_a_deactivated_admin_is_none(standin: SlackStandIn, admins: WorkspaceAdmins) -> None:
    standin.set_user("U1", role="admin", deleted=True)

    assert admins.is_admin(TEAM, "U1") is False


def test_an_answer_is_remembered_for_a_while_then_asked_again(
    standin: SlackStandIn, admins: WorkspaceAdmins, clock: FakeClock
) -> None:
    standin.set_user("U1", role="admin")
    assert all(admins.is_admin(TEAM, "U1") for _ in range(5))
    standin.set_user("U1", role="member")  # demoted

    clock.set(FIXED_NOW + REMEMBER - timedelta(seconds=1))
    assert admins.is_admin(TEAM, "U1") is True
    clock.set(FIXED_NOW + REMEMBER)
    assert admins.is_admin(TEAM, "U1") is False
    assert len(standin.calls_to("users.info")) == 2


def test_when_slack_cannot_be_asked_nobody_is_an_admin_until_it_answers(
    standin: SlackStandIn, admins: WorkspaceAdmins
) -> None:
    standin.set_user("U1", role="admin")
    standin.inject("users.info", status=500)

    assert admins.is_admin(TEAM, "U1") is False
    assert admins.is_admin(TEAM, "U1") is True, "a failure is not remembered"
    assert admins.is_admin("T0ELSEWHERE", "U1") is False, "no install there"


def test_a_person_slack_does_not_know_is_no_admin(standin: SlackStandIn, admins: WorkspaceAdmins) -> None:
    standin.inject("users.info", error="user_not_found")

    assert admins.is_admin(TEAM, "U9") is False
    assert admins.is_admin(TEAM, "U9") is False
    assert len(standin.calls_to("users.info")) == 1, "that is an answer, and remembered"
