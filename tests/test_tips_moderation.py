"""Moderators: who they are, hiding and restoring tips, reports, and the log of every such action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from conftest import FIXED_NOW as NOW
from conftest import new_team
from sqlalchemy.orm import Session

from bot.models import ModerationEntry
from bot.tips import moderation, store
from bot.tips.moderation import NotAllowed
from bot.tips.records import NewTip, Tip
from bot.tips.search import parse_query, search_tips

CONFIGURED = frozenset({"UCONF"})  # PLCHAT_MODERATORS
TEACHER = "UTEACH"


@pytest.fixture
def tip(session: Session, team: str) -> Tip:
    new = NewTip(team, "UANA", "UANA", "Use a talking stick for circle time", "command")
    return store.save_tip(session, new, NOW).tip


def found(session: Session, team: str, words: str) -> list[int]:
    return [t.id for t in search_tips(session, team, parse_query(words), now=NOW).tips]


def log(session: Session, team: str) -> list[tuple[str, str, int | None, str, datetime]]:
    """The workspace's moderation log, oldest first: (actor, action, tip_id, detail, at)."""
    return [(e.actor, e.action, e.tip_id, e.detail, as_utc(e.at)) for e in reversed(moderation.history(session, team))]


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


# -- who moderates -------------------------------------------------------------------------


class Admins:
    """Who Slack says is a workspace admin or owner, counting the questions."""

    def __init__(self, *admins: str):
        self.admins, self.asked = set(admins), 0

    def __call__(self, team_id: str, user_id: str) -> bool:
        self.asked += 1
        return user_id in self.admins


def test_admins_moderate_a_workspace_until_it_has_moderators(session: Session, team: str, tip: Tip) -> None:
    admins = Admins("UADMIN")
    who = moderation.Appointed(is_admin=admins)

    assert moderation.is_moderator(session, team, "UADMIN", who)
    assert not moderation.is_moderator(session, team, TEACHER, who)
    assert moderation.set_hidden(session, team, tip.id, "UADMIN", True, who, at(1)).hidden is True
    assert moderation.add_moderator(session, team, "UADMIN", "UBEN", who, at(2)) is True

    assert not moderation.is_moderator(session, team, "UADMIN", who), "once someone is added, admins step back"
    with pytest.raises(NotAllowed, match="Only moderators"):
        moderation.set_hidden(session, team, tip.id, "UADMIN", False, who, at(3))
    assert moderation.add_moderator(session, team, "UADMIN", "UCARA", who, at(4)) is True, "admins still add"
    assert moderation.remove_moderator(session, team, "UADMIN", "UBEN", who, at(5)) is True
    assert moderation.moderators(session, team, who) == {"UCARA"}
    with pytest.raises(NotAllowed, match="workspace admins"):
        moderation.add_moderator(session, team, TEACHER, "UDAN", who, at(6))


def test_with_moderators_configured_admins_neither_moderate_nor_are_asked(session: Session, team: str) -> None:
    admins = Admins("UADMIN")

    assert not moderation.is_moderator(session, team, "UADMIN", moderation.Appointed(CONFIGURED, admins))
    assert admins.asked == 0
    assert not moderation.is_moderator(session, team, "UADMIN", CONFIGURED), "without Slack to ask, nobody is"


def test_configured_moderator_adds_a_moderator_who_can_then_moderate(session: Session, team: str, tip) -> None:
    assert moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(1)) is True

    assert moderation.is_moderator(session, team, "UBEN", CONFIGURED)
    assert moderation.moderators(session, team, CONFIGURED) == {"UCONF", "UBEN"}
    assert moderation.set_hidden(session, team, tip.id, "UBEN", True, CONFIGURED, at(2)).hidden is True
    assert moderation.add_moderator(session, team, "UBEN", "UCARA", CONFIGURED, at(3)) is True
    assert moderation.moderators(session, team, CONFIGURED) == {"UCONF", "UBEN", "UCARA"}


def test_adding_someone_who_already_moderates_changes_nothing(session: Session, team: str) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(1))

    assert moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(2)) is False
    assert moderation.add_moderator(session, team, "UBEN", "UCONF", CONFIGURED, at(3)) is False
    assert [entry[1] for entry in log(session, team)] == ["moderator_add"]


ACTIONS: dict[str, Callable[[Session, str, int], object]] = {
    "add moderator": lambda s, team, tip_id: moderation.add_moderator(s, team, TEACHER, "UCARA", CONFIGURED, NOW),
    "remove moderator": lambda s, team, tip_id: moderation.remove_moderator(s, team, TEACHER, "UBEN", CONFIGURED, NOW),
    "hide": lambda s, team, tip_id: moderation.set_hidden(s, team, tip_id, TEACHER, True, CONFIGURED, NOW),
    "restore": lambda s, team, tip_id: moderation.set_hidden(s, team, tip_id, TEACHER, False, CONFIGURED, NOW),
    "keep": lambda s, team, tip_id: moderation.keep(s, team, tip_id, TEACHER, CONFIGURED, NOW),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_teacher_may_not_moderate(session: Session, team: str, tip, action: str) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, NOW)
    moderation.set_hidden(session, team, tip.id, "UBEN", action == "restore", CONFIGURED, NOW)
    before = log(session, team)

    with pytest.raises(NotAllowed, match="Only moderators"):
        ACTIONS[action](session, team, tip.id)

    assert log(session, team) == before
    assert moderation.moderators(session, team, CONFIGURED) == {"UCONF", "UBEN"}
    assert store.get_tip(session, team, tip.id).hidden is (action == "restore")


def test_a_moderator_in_one_workspace_is_a_teacher_in_another(session: Session, team: str) -> None:
    elsewhere = new_team()
    theirs = store.save_tip(
        session, NewTip(elsewhere, "UANA", "UANA", "Hand signals for questions", "command"), NOW
    ).tip
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, NOW)

    assert not moderation.is_moderator(session, elsewhere, "UBEN", CONFIGURED)
    with pytest.raises(NotAllowed):
        moderation.set_hidden(session, elsewhere, theirs.id, "UBEN", True, CONFIGURED, NOW)


def test_added_moderator_is_removed_and_loses_the_power(session: Session, team: str, tip) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(1))
    moderation.add_moderator(session, team, "UCONF", "UCARA", CONFIGURED, at(2))

    assert moderation.remove_moderator(session, team, "UCARA", "UBEN", CONFIGURED, at(3)) is True
    assert moderation.remove_moderator(session, team, "UCARA", "UBEN", CONFIGURED, at(4)) is False

    assert moderation.moderators(session, team, CONFIGURED) == {"UCONF", "UCARA"}
    with pytest.raises(NotAllowed):
        moderation.set_hidden(session, team, tip.id, "UBEN", True, CONFIGURED, at(5))
    assert [entry[1] for entry in log(session, team)] == ["moderator_add", "moderator_add", "moderator_remove"]


def test_configured_moderators_cannot_be_removed_in_slack(session: Session, team: str) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, NOW)

    with pytest.raises(NotAllowed, match="PLCHAT_MODERATORS"):
        moderation.remove_moderator(session, team, "UBEN", "UCONF", CONFIGURED, NOW)

    assert moderation.is_moderator(session, team, "UCONF", CONFIGURED)
    assert [entry[1] for entry in log(session, team)] == ["moderator_add"]


# -- hiding, restoring, reporting ----------------------------------------------------------


def test_hidden_tip_leaves_search_and_restored_tip_returns(session: Session, team: str, tip) -> None:
    assert found(session, team, "talking stick") == [tip.id]

    hidden = moderation.set_hidden(session, team, tip.id, "UCONF", True, CONFIGURED, at(1))

    assert hidden is not None and hidden.hidden is True
    assert found(session, team, "talking stick") == []
    assert [t.id for t in store.newest(session, team)] == []

    restored = moderation.set_hidden(session, team, tip.id, "UCONF", False, CONFIGURED, at(2))

    assert restored is not None and restored.hidden is False
    assert found(session, team, "talking stick") == [tip.id]


def test_every_action_is_logged(session: Session, team: str, tip) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(1))
    moderation.set_hidden(session, team, tip.id, "UBEN", True, CONFIGURED, at(2))
    moderation.report(session, team, tip.id, TEACHER, CONFIGURED, at(3))
    moderation.set_hidden(session, team, tip.id, "UCONF", False, CONFIGURED, at(4))
    moderation.remove_moderator(session, team, "UCONF", "UBEN", CONFIGURED, at(5))

    assert log(session, team) == [
        ("UCONF", "moderator_add", None, "UBEN", at(1)),
        ("UBEN", "hide", tip.id, "", at(2)),
        (TEACHER, "report", tip.id, "", at(3)),
        ("UCONF", "restore", tip.id, "", at(4)),
        ("UCONF", "moderator_remove", None, "UBEN", at(5)),
    ]
    assert [e.action for e in moderation.history(session, team, limit=2)] == ["moderator_remove", "restore"]


def test_report_names_the_moderators_to_tell(session: Session, team: str, tip) -> None:
    moderation.add_moderator(session, team, "UCONF", "UBEN", CONFIGURED, NOW)

    reported = moderation.report(session, team, tip.id, TEACHER, CONFIGURED, at(1))

    assert reported is not None
    reported_tip, notify = reported
    assert reported_tip.id == tip.id
    assert notify == {"UCONF", "UBEN"}
    assert log(session, team)[-1] == (TEACHER, "report", tip.id, "", at(1))
    assert store.get_tip(session, team, tip.id).hidden is False  # a report alone hides nothing


def test_another_workspaces_tip_is_none_and_nothing_is_logged(session: Session, team: str, tip) -> None:
    elsewhere = new_team()
    store.ensure_workspace(session, elsewhere)
    moderation.add_moderator(session, elsewhere, "UCONF", "UBEN", CONFIGURED, NOW)

    assert moderation.set_hidden(session, elsewhere, tip.id, "UBEN", True, CONFIGURED, NOW) is None
    assert moderation.set_hidden(session, elsewhere, tip.id, "UCONF", True, CONFIGURED, NOW) is None
    assert moderation.report(session, elsewhere, tip.id, TEACHER, CONFIGURED, NOW) is None
    assert moderation.set_hidden(session, team, tip.id + 10_000, "UCONF", True, CONFIGURED, NOW) is None

    assert [entry[1] for entry in log(session, elsewhere)] == ["moderator_add"]
    assert log(session, team) == []
    assert store.get_tip(session, team, tip.id).hidden is False


def test_log_belongs_to_its_workspace(session: Session, team: str, tip) -> None:
    elsewhere = new_team()
    store.ensure_workspace(session, elsewhere)
    moderation.set_hidden(session, team, tip.id, "UCONF", True, CONFIGURED, NOW)

    assert moderation.history(session, elsewhere) == []
    assert all(isinstance(e, ModerationEntry) and e.team_id == team for e in moderation.history(session, team))
