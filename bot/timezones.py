"""The IANA time zone names this machine knows: the one check for a zone a person or a file names, so an odd
name (64 emoji, a path) is refused in plain words instead of reaching `ZoneInfo`'s file lookup."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())
