"""Profiling the sender's work, which runs on its own threads (cProfile only sees the thread it is enabled on)."""

from __future__ import annotations

import cProfile
from typing import Any


def profile_sends(sender: Any) -> list[cProfile.Profile]:
    """Wrap each piece of the sender's per-channel work in its own profile; merge the list when saving."""
    profiles: list[cProfile.Profile] = []
    send_place = sender._send_place

    def profiled(rows: Any) -> Any:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            return send_place(rows)
        finally:
            profiler.disable()
            profiles.append(profiler)

    sender._send_place = profiled
    return profiles
