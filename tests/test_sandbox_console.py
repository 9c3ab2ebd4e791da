"""The sandbox console drives forms as a person does in Slack: it shows what each field holds and offers, presses
Enter where a field acts on it, and refuses in plain words what Slack would not send."""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections.abc import Iterator

import pytest
from conftest import FIXED_NOW

from bot.bootstrap import Database
from bot.community import drafts
from bot.sandbox.console import Console
from bot.sandbox.harness import BotHarness
from bot.slack.services import Services

TEACHER = "U0TEACHER"  # the sandbox's own user, a moderator here


@pytest.fixture
def unique(request) -> str:
    return "zq" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]


@pytest.fixture
def console(database: Database) -> Iterator[tuple[Console, io.StringIO, BotHarness]]:
    services = Services(
        database.sessions, clock=lambda: FIXED_NOW, rng=random.Random(5), moderators=frozenset({TEACHER})
    )
    with BotHarness(database, services=services) as harness:
        out = io.StringIO()
        yield Console(harness, out, clock=lambda: FIXED_NOW), out, harness


def typed(console: Console, out: io.StringIO, line: str) -> str:
    """What the console printed for one typed line."""
    out.seek(0)
    out.truncate()
    console.handle(line)
    return out.getvalue()


def test_make_a_play_in_the_console_adds_a_tip_on_enter_and_ticks_k5_as_two_boxes(console, database, unique):
    console, out, harness = console
    typed(console, out, f"/tip Traffic light {unique} cards on every desk show who needs help")
    typed(console, out, f"/tip Sand timers {unique} at every station keep groups moving")
    found = typed(console, out, f"/tips sand timers {unique}")
    form = typed(console, out, re.search(r"\[(\d+)\] Make a play", found).group(1))

    assert "Watch out for: (empty)\n" in form and "What it looks like: (empty, showing “A classroom" in form
    assert "Add another tip: (empty)" in form and "plain_text_input" not in form
    assert "Acting on Enter: play_draft_add_tip (`enter NAME=VALUE`)" in form
    assert "play_draft_add_tip" not in form.split("Fields: ", 1)[1].split(".", 1)[0], "not among submit's fields"

    refused = typed(console, out, f"submit play_draft_add_tip=traffic light {unique} | title=Sand timers")
    assert "play_draft_add_tip acts only when you press Enter in it" in refused and "Nothing was sent" in refused
    assert not harness.standin.calls_to("chat.postMessage"), "no draft saved"
    assert "types into a field that acts on Enter; this form's: play_draft_add_tip" in typed(
        console, out, "enter title=Sand timers"
    )

    changed = typed(console, out, f"enter play_draft_add_tip=traffic light {unique}")
    assert "── the form changes ──" in changed and f"Added a tip by @teacher: Traffic light {unique}" in changed
    assert f"Try this: Sand timers {unique} at every station keep groups moving\n    Traffic light {unique}" in changed

    assert "grades has no option 'K-6'. Choose any of, comma separated: K-2, 3-5, 6-8, 9-12, all." in typed(
        console, out, "submit grades=K-6"
    )
    saved = typed(
        console,
        out,
        "submit grades=K-5, 9-12 | looks_like=A sixth-grade class hangs timer cards at each "
        "table and groups move on their own. | watch_out=Timers that are too loud.",
    )
    assert "Saved the draft" in saved, saved
    with database.sessions() as session:
        [draft] = [d for d in drafts(session, harness.workspace.team_id) if unique in d.fields.steps]
    assert draft.fields.grades == ("K-2", "3-5", "9-12")
    assert f"Traffic light {unique}" in draft.fields.steps, "the tip added on Enter is in the saved draft"
