"""What a row becomes on its channel, looked up by the kind of thing it belongs to (`chat`, `digest`) and where it
goes (`slack`, `x`, ...). Features register their renderers here; delivery itself knows none of them. Rows carry
what is needed to render them, not the text, so they are rendered when sent: an edit made after planning, or the
answers a recap gathers, are always current."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot.delivery.outbox import Outgoing


class Skip(str):
    """What a renderer returns instead of a message when the post should not go out; says why."""


Render = Callable[[Session, Outgoing], "dict[str, Any] | Skip"]


class Renderers:
    def __init__(self) -> None:
        self._by_kind: dict[tuple[str, str], Render] = {}

    def register(self, kind: str, target: str, render: Render) -> None:
        """`render` makes the message for rows of subjects `kind:…` sent to `target`."""
        self._by_kind[(kind, target)] = render

    def __call__(self, session: Session, outgoing: Outgoing) -> dict[str, Any] | Skip:
        if "text" in outgoing.payload:  # a notice written out in full
            return {"text": outgoing.payload["text"]}
        render = self._by_kind.get((outgoing.subject.split(":", 1)[0], outgoing.target))
        if render is None:
            return Skip(f"nothing renders {outgoing.subject} for {outgoing.target}")
        return render(session, outgoing)
