"""Moderators: who they are, hiding and restoring tips, reports, and the record of every such action.

A workspace's moderators are those the operator lists (PLCHAT_MODERATORS) and those added in Slack. Until it has
any, its Slack admins and owners moderate, so the first moderators can be added in Slack; admins and owners may
always add and remove moderators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.db import changed_rows
from bot.models import ModerationEntry, Moderator, TipRecord
from bot.tips.records import Tip
from bot.tips.store import ensure_workspace

AdminCheck = Callable[[str, str], bool]  # (team, user) -> an admin or owner of that Slack workspace


class NotAllowed(PermissionError):
    """The person may not do this; the message says why (shown to them)."""


@dataclass(frozen=True)
class Appointed:
    """Who moderates besides those added in Slack: the operator's list, and a way to ask whether someone is a
    workspace admin or owner (None where there is no Slack to ask, as in the worker)."""

    configured: frozenset[str] = frozenset()
    is_admin: AdminCheck | None = None

    def admin(self, team_id: str, user_id: str) -> bool:
        return self.is_admin is not None and self.is_admin(team_id, user_id)


Configured = Appointed | Iterable[str]  # a plain list of user ids is the operator's list alone


def appointed(who: Configured) -> Appointed:
    """`who` as Appointed."""
    return who if isinstance(who, Appointed) else Appointed(frozenset(who))


def moderators(session: Session, team_id: str, configured: Configured) -> set[str]:
    """Everyone named a moderator of this workspace: those configured (PLCHAT_MODERATORS) and those added in Slack
    (not the admins who stand in while there are none)."""
    added = session.scalars(select(Moderator.user_id).where(Moderator.team_id == team_id))
    return set(appointed(configured).configured) | set(added)


def is_moderator(session: Session, team_id: str, user_id: str, configured: Configured) -> bool:
    who = appointed(configured)
    if user_id in who.configured or session.get(Moderator, (team_id, user_id)) is not None:
        return True
    return not who.configured and not _any_added(session, team_id) and who.admin(team_id, user_id)


def _any_added(session: Session, team_id: str) -> bool:
    return bool(session.scalar(select(exists().where(Moderator.team_id == team_id))))


def require_moderator(session: Session, team_id: str, user_id: str, configured: Configured) -> None:
    if not is_moderator(session, team_id, user_id, configured):
        raise NotAllowed(
            "Only moderators can do that. A moderator or a workspace admin can add you with "
            "`/plchat moderators add @you`."
        )


def _require_moderator_or_admin(session: Session, team_id: str, user_id: str, who: Appointed) -> None:
    if not (is_moderator(session, team_id, user_id, who) or who.admin(team_id, user_id)):
        raise NotAllowed("Only moderators and workspace admins can change who moderates.")


def record(
    session: Session,
    team_id: str,
    actor: str,
    action: str,
    now: datetime,
    *,
    tip_id: int | None = None,
    detail: str = "",
) -> None:
    session.add(
        ModerationEntry(team_id=team_id, actor=actor, action=action, tip_id=tip_id, detail=detail[:300], at=now)
    )


def add_moderator(
    session: Session, team_id: str, actor: str, user_id: str, configured: Configured, now: datetime
) -> bool:
    """Add a moderator (a moderator or a workspace admin may); False when they already were one."""
    who = appointed(configured)
    _require_moderator_or_admin(session, team_id, actor, who)
    if user_id in who.configured or session.get(Moderator, (team_id, user_id)) is not None:
        return False
    ensure_workspace(session, team_id)
    session.add(Moderator(team_id=team_id, user_id=user_id, added_by=actor, added_at=now))
    record(session, team_id, actor, "moderator_add", now, detail=user_id)
    return True


def remove_moderator(
    session: Session, team_id: str, actor: str, user_id: str, configured: Configured, now: datetime
) -> bool:
    """Remove a moderator added in Slack (a moderator or a workspace admin may); those in PLCHAT_MODERATORS stay
    until the setting changes."""
    who = appointed(configured)
    _require_moderator_or_admin(session, team_id, actor, who)
    if user_id in who.configured:
        raise NotAllowed("That moderator comes from the PLCHAT_MODERATORS setting; an operator can remove them there.")
    removed = changed_rows(
        session.execute(delete(Moderator).where(Moderator.team_id == team_id, Moderator.user_id == user_id))
    )
    if removed:
        record(session, team_id, actor, "moderator_remove", now, detail=user_id)
    return bool(removed)


def set_hidden(
    session: Session, team_id: str, tip_id: int, actor: str, hidden: bool, configured: Configured, now: datetime
) -> Tip | None:
    """Hide a tip from search and App Home, or restore it. None when the tip is gone."""
    require_moderator(session, team_id, actor, configured)
    tip = session.get(TipRecord, tip_id)
    if tip is None or tip.team_id != team_id:
        return None
    tip.hidden = hidden
    record(session, team_id, actor, "hide" if hidden else "restore", now, tip_id=tip_id)
    return Tip.from_record(tip)


def report(
    session: Session, team_id: str, tip_id: int, reporter: str, configured: Configured, now: datetime
) -> tuple[Tip, set[str]] | None:
    """Record a report on a tip; returns the tip and the moderators to tell privately (none where the workspace
    has none yet: its admins find the report among the open ones, `open_reports`)."""
    tip = session.get(TipRecord, tip_id)
    if tip is None or tip.team_id != team_id:
        return None
    record(session, team_id, reporter, "report", now, tip_id=tip_id)
    return Tip.from_record(tip), moderators(session, team_id, configured)


def keep(session: Session, team_id: str, tip_id: int, actor: str, configured: Configured, now: datetime) -> Tip | None:
    """A moderator read the reports on a tip and keeps it as it is: they are no longer open. None when it is gone."""
    require_moderator(session, team_id, actor, configured)
    tip = session.get(TipRecord, tip_id)
    if tip is None or tip.team_id != team_id:
        return None
    record(session, team_id, actor, "keep", now, tip_id=tip_id)
    return Tip.from_record(tip)


SETTLED = ("hide", "restore", "keep")  # a moderator's look at a tip: reports made before it are settled


def _open_reports(team_id: str) -> Select[int | None, int, int]:
    """(tip id, reports, last report id) for each visible tip reported since a moderator last hid, restored or
    kept it."""
    report, settled = aliased(ModerationEntry), aliased(ModerationEntry)
    last_look = (
        select(func.max(settled.id))
        .where(settled.tip_id == report.tip_id, settled.team_id == team_id, settled.action.in_(SETTLED))
        .scalar_subquery()
    )
    return (
        select(report.tip_id, func.count().label("reports"), func.max(report.id).label("last"))
        .join(TipRecord, TipRecord.id == report.tip_id)
        .where(
            report.team_id == team_id,
            report.action == "report",
            TipRecord.team_id == team_id,
            TipRecord.hidden.is_(False),
            TipRecord.pending.is_(False),
            report.id > func.coalesce(last_look, 0),
        )
        .group_by(report.tip_id)
    )


def open_reports(session: Session, team_id: str, limit: int) -> tuple[int, list[tuple[Tip, int]]]:
    """How many tips have open reports, and the most recently reported of them with their number of reports, for
    moderators (App Home), so no report is lost however many moderators there were when it was made."""
    found = _open_reports(team_id).subquery()
    count = session.scalar(select(func.count()).select_from(found)) or 0
    rows = session.execute(
        select(TipRecord, found.c.reports)
        .join(found, found.c.tip_id == TipRecord.id)
        .order_by(found.c.last.desc())
        .limit(limit)
    ).all()
    return count, [(Tip.from_record(tip), reports) for tip, reports in rows]


def history(session: Session, team_id: str, limit: int = 20) -> list[ModerationEntry]:
    return list(
        session.scalars(
            select(ModerationEntry)
            .where(ModerationEntry.team_id == team_id)
            .order_by(ModerationEntry.at.desc(), ModerationEntry.id.desc())
            .limit(limit)
        )
    )
