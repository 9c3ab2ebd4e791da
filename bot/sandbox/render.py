"""Render Slack messages and views (Block Kit) as readable plain text for a console."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DIVIDER = "-" * 40

_LINK = re.compile(r"<([^<>]*)>")
_BROADCASTS = frozenset({"channel", "here", "everyone"})


@dataclass(frozen=True)
class Button:
    """A clickable button, numbered across the whole message from 1."""

    number: int
    label: str
    action_id: str
    value: str | None = None
    block_id: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Rendered:
    """Console text plus the buttons it shows as "[n] label"."""

    text: str
    buttons: list[Button] = field(default_factory=list)


def render_message(text: str | None, blocks: list[dict[str, Any]] | None) -> Rendered:
    """Render a message; without blocks, its (mrkdwn) text."""
    if not blocks:
        return Rendered(mrkdwn_to_text(text or ""))
    renderer = _BlockRenderer(fallback_text=text)
    return Rendered("\n".join(renderer.lines(blocks)), renderer.buttons)


def render_view(view: dict[str, Any]) -> Rendered:
    """Render a modal or App Home view: title, blocks, then its submit/close labels."""
    renderer = _BlockRenderer(fallback_text=None)
    lines = []
    title = _text(view.get("title"))
    if title:
        lines += _underline(title)
    lines += renderer.lines(view.get("blocks") or [])
    closers = [
        f"({role}: {label})"
        for role, label in (("submit", _text(view.get("submit"))), ("close", _text(view.get("close"))))
        if label
    ]
    if closers:
        lines.append("  ".join(closers))
    return Rendered("\n".join(lines), renderer.buttons)


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn as a reader sees it: mentions, channels and links resolved, entities unescaped."""
    resolved = _LINK.sub(_resolve_link, text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _resolve_link(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label or target[1:])
    if target.startswith("!"):
        name = target[1:]
        if name in _BROADCASTS:
            return "@" + name
        if name.startswith("subteam^"):
            return label or "@" + name.removeprefix("subteam^")
        return label or name
    if label and label != target:
        return f"{label} ({target})"
    return target


def _initial(element: dict[str, Any]) -> str:
    """What a form's input shows before anyone types: its initial value, option(s), date, time or channels."""
    if element.get("initial_value"):
        return str(element["initial_value"])
    if isinstance(element.get("initial_option"), dict):
        return _text(element["initial_option"].get("text"))
    if element.get("initial_options"):
        return ", ".join(_text(option.get("text")) for option in element["initial_options"])
    for name, prefix in (("initial_date", ""), ("initial_time", ""), ("initial_conversations", "#")):
        if element.get(name):
            found = element[name]
            return ", ".join(f"{prefix}{item}" for item in found) if isinstance(found, list) else str(found)
    return ""


def _text(text_object: dict[str, Any] | None) -> str:
    if not text_object:
        return ""
    text = text_object.get("text") or ""
    return mrkdwn_to_text(text) if text_object.get("type") == "mrkdwn" else text


def _underline(title: str) -> list[str]:
    return [title, "=" * len(title)]


class _BlockRenderer:
    """Renders blocks in order, numbering buttons as it meets them."""

    def __init__(self, fallback_text: str | None) -> None:
        self.fallback_text = fallback_text
        self.buttons: list[Button] = []

    def lines(self, blocks: list[dict[str, Any]]) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            lines += self._block(block)
        return lines

    def _block(self, block: dict[str, Any]) -> list[str]:
        kind = block.get("type")
        block_id = block.get("block_id")
        if kind == "header":
            return _underline(_text(block.get("text")))
        if kind == "section":
            lines = [_text(block["text"])] if block.get("text") else []
            lines += [_text(text) for text in block.get("fields") or []]
            if block.get("accessory"):
                lines.append(self._element(block["accessory"], block_id))
            return lines
        if kind == "context":
            return ["  " + "  ".join(self._element(e, block_id) for e in block.get("elements") or [])]
        if kind == "divider":
            return [DIVIDER]
        if kind == "actions":
            return ["  ".join(self._element(e, block_id) for e in block.get("elements") or [])]
        if kind == "image":
            return [_image(block)]
        if kind == "input":
            element = block.get("element") or {}
            shown = _initial(element).replace("\n", "\n    ") or self._element(element, block_id)
            return [f"{_text(block.get('label'))}: {shown}"]
        if kind == "rich_text":
            fallback, self.fallback_text = self.fallback_text, None  # the text stands for the whole message
            return [mrkdwn_to_text(fallback)] if fallback else []
        return [f"[{kind} block]"]

    def _element(self, element: dict[str, Any], block_id: str | None) -> str:
        kind = element.get("type")
        if kind == "button":
            button = Button(
                number=len(self.buttons) + 1,
                label=_text(element.get("text")),
                action_id=element.get("action_id") or "",
                value=element.get("value"),
                block_id=block_id,
                url=element.get("url"),
            )
            self.buttons.append(button)
            return f"[{button.number}] {button.label}"
        if kind == "image":
            return _image(element)
        if kind in ("plain_text", "mrkdwn"):
            return _text(element)
        return f"({_text(element.get('placeholder')) or kind})"


def _image(image: dict[str, Any]) -> str:
    return f"[image: {image.get('alt_text') or image.get('image_url') or 'image'}]"
