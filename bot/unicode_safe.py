"""Text that can be stored and sent: a lone surrogate (JSON allows `"\\ud800"`, UTF-8 does not) becomes U+FFFD.

Slack payloads, X answers and JSON Lines files are parsed from JSON, so any string in them may hold one; the
databases refuse it (SQLite's driver raises `UnicodeEncodeError`). Each of those entry points scrubs what it
parsed once, before anything reads it.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def scrub(value: Any) -> Any:
    """`value` (a string, or dicts and lists of them) with every lone surrogate replaced by U+FFFD, in place
    for dicts and lists."""
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = scrub(item)
    elif isinstance(value, list):
        value[:] = [scrub(item) for item in value]
    return value


def _scrub_text(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer: a bigger id in a query fails rather than finding nothing


def ascii_int(text: str, maximum: int = MAX_ROW_ID) -> int | None:
    """A whole number written in ASCII digits, up to `maximum`; else None. `str.isdigit` also says yes to "¹"
    and "٣", which `int` refuses or reads, and to a thousand digits, which no column holds."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None


def junk_share(text: str) -> float:
    """The share of characters that are control or unassigned code points (newlines and tabs are fine)."""
    if not text or "".join(text.split()).isprintable():  # the usual case, checked at C speed
        return 0.0
    junk = sum(1 for ch in text if ch not in "\n\r\t" and unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    return junk / len(text)
