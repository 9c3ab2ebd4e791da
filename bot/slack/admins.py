"""Workspace admins and owners, as Slack's users.info says, remembered for a while: they moderate a workspace
until it has moderators (see `bot.tips.moderation`), and a moderation click should not cost an API call."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.services import Services
from bot.tips.moderation import Appointed, appointed

log = logging.getLogger(__name__)

REMEMBER = timedelta(minutes=10)  # how long an answer stands: an admin who is demoted stops moderating within this
MAX_REMEMBERED = 10_000


class WorkspaceAdmins:
    """`is_admin(team, user)`: an admin or owner (primary or not) of that workspace. When Slack can't be asked
    (no install, a network or server error), the answer is no, and it is asked again next time: moderating is
    never granted by default."""

    def __init__(self, client_for: Callable[[str], WebClient | None], clock: Callable[[], datetime]):
        self._client_for = client_for
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[bool, datetime]] = {}
        self._lock = threading.Lock()

    def is_admin(self, team_id: str, user_id: str) -> bool:
        now = self._clock()
        with self._lock:
            known = self._known.get((team_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        answer = self._ask(team_id, user_id)
        if answer is None:
            return False
        with self._lock:
            if len(self._known) >= MAX_REMEMBERED:
                self._known.clear()
            self._known[(team_id, user_id)] = (answer, now + REMEMBER)
        return answer

    def _ask(self, team_id: str, user_id: str) -> bool | None:
        """Slack's answer, or None when it gave none."""
        client = self._client_for(team_id)
        if client is None:
            return None
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            if exc.response.status_code >= 429:  # rate-limited or failing: no answer
                log.warning("Could not ask Slack whether %s is an admin of %s: %s", user_id, team_id, exc)
                return None
            return False  # user_not_found and the like: an answer
        except (SlackClientError, OSError) as exc:
            log.warning("Could not ask Slack whether %s is an admin of %s: %s", user_id, team_id, exc)
            return None
        return bool((user.get("is_admin") or user.get("is_owner")) and not user.get("deleted"))


def with_workspace_admins(services: Services, admins: WorkspaceAdmins) -> Services:
    """The services, with workspace admins standing in as moderators where a workspace has none."""
    who = appointed(services.moderators)
    return replace(services, moderators=Appointed(who.configured, who.is_admin or admins.is_admin))
