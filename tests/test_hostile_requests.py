"""Every entry point, over signed HTTP, with any text wherever a person could put it: slash commands, filters,
shortcuts, reactions, thread replies, every form (and Enter in the play form's Add another tip) and every button
(with junk values). Each request is answered with a 2xx, no listener fails, and nothing the bot sends carries
live markup from the text. A moderator sends them, so the moderators' paths are driven too.
`bench/fuzz_listeners.py` drives the same entry points with many more texts."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
from conftest import FIXED_NOW
from hypothesis import HealthCheck, given, settings
from test_hostile_text import hostile

from bot.bootstrap import Database
from bot.sandbox.harness import BotHarness
from bot.sandbox.hostile import ENTRY_POINTS, entry_points, problems, seed_question
from bot.slack.services import Services

pytestmark = pytest.mark.slow  # hypothesis over every entry point, on both backends

EXAMPLES = 15  # per entry point and database


@pytest.fixture(scope="module")
def driven(database: Database) -> Iterator[dict]:
    services = Services(
        database.sessions, clock=lambda: FIXED_NOW, rng=random.Random(12), moderators=frozenset({"U0TEACHER"})
    )
    with BotHarness(database, services=services) as harness:
        yield entry_points(harness, seed_question(harness, database.sessions, FIXED_NOW))


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_any_text_gets_an_answer_and_pings_nobody(driven: dict, name: str, caplog: pytest.LogCaptureFixture):
    drive = driven[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(text=hostile)
    def answered_safely(text: str) -> None:
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            exchange = drive(text)
        assert problems(exchange, text) == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    answered_safely()
