"""The public pages `plchat web` serves, as links for messages and calendars (when PLCHAT_PUBLIC_URL is set)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    link: Callable[[str], str | None] = lambda _path: None  # a path → its public URL, or None without one

    def calendar(self) -> str | None:
        return self.link("chats.ics")

    def archive(self, chat_id: int) -> str | None:
        return self.link(f"chats/{chat_id}")
