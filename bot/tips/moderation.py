"""Moderators: who they are, hiding and restoring tips, reports, and the record of every such action."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import ModerationEntry, Moderator, TipRecord
from bot.tips.records import Tip
from bot.tips.store import ensure_workspace


class NotAllowed(PermissionError):
    """The person may not do this; the message says why (shown to them)."""


def moderators(session: Session, team_id: str, configured: Iterable[str]) -> set[str]:
    """Everyone who moderates this workspace: those configured (PLCHAT_MODERATORS) and those added in Slack."""
    added = session.scalars(select(Moderator.user_id).where(Moderator.team_id == team_id))
    return set(configured) | set(added)


def is_moderator(session: Session, team_id: str, user_id: str, configured: Iterable[str]) -> bool:
    return user_id in configured or session.get(Moderator, (team_id, user_id)) is not None


def require_moderator(session: Session, team_id: str, user_id: str, configured: Iterable[str]) -> None:
    if not is_moderator(session, team_id, user_id, configured):
        raise NotAllowed("Only moderators can do that. A moderator can add you with `/plchat moderators add @you`.")


def record(session: Session, team_id: str, actor: str, action: str, now: datetime, *, tip_id: int | None = None,
           detail: str = "") -> None:
    session.add(ModerationEntry(team_id=team_id, actor=actor, action=action, tip_id=tip_id, detail=detail[:300],
                                at=now))


def add_moderator(session: Session, team_id: str, actor: str, user_id: str, configured: Iterable[str],
                  now: datetime) -> bool:
    """Add a moderator (only a moderator may); False when they already were one."""
    configured = frozenset(configured)
    require_moderator(session, team_id, actor, configured)
    if is_moderator(session, team_id, user_id, configured):
        return False
    ensure_workspace(session, team_id)
    session.add(Moderator(team_id=team_id, user_id=user_id, added_by=actor, added_at=now))
    record(session, team_id, actor, "moderator_add", now, detail=user_id)
    return True


def remove_moderator(session: Session, team_id: str, actor: str, user_id: str, configured: Iterable[str],
                     now: datetime) -> bool:
    """Remove a moderator added in Slack; those in PLCHAT_MODERATORS stay until the setting changes."""
    configured = frozenset(configured)
    require_moderator(session, team_id, actor, configured)
    if user_id in configured:
        raise NotAllowed("That moderator comes from the PLCHAT_MODERATORS setting; an operator can remove them there.")
    removed = session.execute(delete(Moderator).where(Moderator.team_id == team_id,
                                                      Moderator.user_id == user_id)).rowcount
    if removed:
        record(session, team_id, actor, "moderator_remove", now, detail=user_id)
    return bool(removed)


def set_hidden(session: Session, team_id: str, tip_id: int, actor: str, hidden: bool, configured: Iterable[str],
               now: datetime) -> Tip | None:
    """Hide a tip from search and App Home, or restore it. None when the tip is gone."""
    configured = frozenset(configured)
    require_moderator(session, team_id, actor, configured)
    tip = session.get(TipRecord, tip_id)
    if tip is None or tip.team_id != team_id:
        return None
    tip.hidden = hidden
    record(session, team_id, actor, "hide" if hidden else "restore", now, tip_id=tip_id)
    return Tip.from_record(tip)


def report(session: Session, team_id: str, tip_id: int, reporter: str, configured: Iterable[str],
           now: datetime) -> tuple[Tip, set[str]] | None:
    """Record a report on a tip; returns the tip and the moderators to tell privately."""
    tip = session.get(TipRecord, tip_id)
    if tip is None or tip.team_id != team_id:
        return None
    record(session, team_id, reporter, "report", now, tip_id=tip_id)
    return Tip.from_record(tip), moderators(session, team_id, configured)


def history(session: Session, team_id: str, limit: int = 20) -> list[ModerationEntry]:
    return list(session.scalars(select(ModerationEntry).where(ModerationEntry.team_id == team_id)
                                .order_by(ModerationEntry.at.desc(), ModerationEntry.id.desc()).limit(limit)))
