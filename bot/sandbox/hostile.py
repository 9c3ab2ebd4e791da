"""Hostile text, and how to tell whether any of it came out live: shared by the property tests and
`bench/fuzz_listeners.py`.

A fragment names its targets with EVIL (a user U0EVIL, a group S0EVIL, a channel C0EVIL, evil.example), so a
live token carrying that word can only have come from the input.
"""

from __future__ import annotations

import random
import re
from typing import Any

from bot.slack.markup import live_markup

FRAGMENTS = (
    "<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<!subteam^S0EVIL|@teachers>", "<!subteam^S0EVIL>",
    "<@U0EVIL>", "<@U0EVIL|boss>", "<#C0EVIL>", "<#C0EVIL|general>", "<https://evil.example|click me>",
    "<https://evil.example>", "<mailto:evil@evil.example|mail>", "<!date^1^{date}^https://evil.example|soon>",
    "&lt;!channel&gt;", "&amp;lt;!here&amp;gt;", "&lt;@U0EVIL&gt;", "@channel", "@here", "@everyone", "＠evil",
    "<script>alert('evil')</script>", "<img src=x onerror=evil()>", "[click](https://evil.example)",
    "*bold* _it_ ~s~ `code` ```block```", "> quote", "=HYPERLINK(\"https://evil.example\")", "+1", "-2", "@SUM(1)",
    "NEAR(a b)", "title:evil", "\"unbalanced", "a* OR b", "'; DROP TABLE tips; --", "%_\\", "\x00", "\x07",
    "\u202eevil\u202c", "\u200b\u200d\ufeff", "\u2060", "\ue000", "\ue001", "\ud800", "\udfff", "🎉👩🏽‍🏫", "مرحبا",
    "\n\n", "\t", "  ", "A1", "Q2", "#PLChat", "#tag", "from:@U0EVIL", "since:<!channel>", "since:2026-13-45",
)
MARK = re.compile(r"evil", re.I)
_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam)|<!date\^[^|>]*\^[^|>]*\^|^@(channel|here|everyone)", re.I)


def hostile_text(rng: random.Random, *, max_pieces: int = 8) -> str:
    """A few fragments and random characters run together; now and then one very long text."""
    if rng.random() < 0.02:
        return (rng.choice(FRAGMENTS) + " ") * (40_000 // 20)
    pieces = [rng.choice(FRAGMENTS) if rng.random() < 0.7 else _random_chars(rng)
              for _ in range(rng.randint(1, max_pieces))]
    return rng.choice(("", " ", "\n")).join(pieces)


def _random_chars(rng: random.Random) -> str:
    return "".join(chr(rng.choice((rng.randint(0x20, 0x7e), rng.randint(0, 0x10ffff)))) for _ in range(rng.randint(1, 12)))


def smuggled(payload: Any, inputs: tuple[str, ...] = ()) -> list[str]:
    """The live markup in a payload (as sent) that the bot did not mean: any broadcast or group mention, a date
    token with a link, a token naming EVIL, or a token that stands in one of the `inputs` as typed."""
    return [token for token in live_markup(payload)
            if _BROADCAST.search(token) or MARK.search(token) or any(token in text for text in inputs)]
