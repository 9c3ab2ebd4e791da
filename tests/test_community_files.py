"""`plchat plays export` and `import` through typer's CliRunner on SQLite and PostgreSQL: a workspace's plays round
trip unchanged (into another workspace, or back), exported files pass `plchat plays check`, and bad files are
refused by name with the good ones kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXED_NOW, new_team
from hypothesis import event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from bot import community, grades, plays
from bot.bootstrap import Database
from bot.cli import cli
from bot.db import transaction
from bot.play_files import PLAYS_DIR, PlayFile, load_play_dir, parse_play_file, play_markdown
from bot.slack import blocks, play_blocks
from bot.slack.installs import remember_workspace
from bot.slack.markup import guard, live_markup
from bot.tips import store
from bot.tips.records import NewTip

runner = CliRunner()
MODERATOR = "U0MOD"
STEPS = "Hand each group a card with three roles.\nSwap the roles every Friday."
LOOKS_LIKE = (
    "In a seventh-grade science lab the recorder, the materials lead and the timekeeper change each "
    "week, so every student practises each job before the unit ends."
)


def invoke(*args: str) -> Result:
    return runner.invoke(cli, list(args))


@pytest.fixture
def url(database: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    url = database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def installed(database: Database) -> str:
    """A new workspace the app is installed in: `--team` may name it."""
    team = new_team()
    remember_workspace(database.sessions, team)
    return team


def publish(database: Database, team: str, title: str, author: str = "U0ANA") -> plays.Play:
    with transaction(database.sessions) as session:
        tip = store.save_tip(
            session,
            NewTip(team, author, author, f"{title}: roles that rotate weekly.", "command"),
            FIXED_NOW,
            check_similar=False,
        ).tip
        fields = community.DraftFields(
            title,
            "project-based",
            "Rotating roles give every student each job in a group project.",
            STEPS,
            LOOKS_LIKE,
            "Roles nobody explains.\nSkipping the swap.",
            ("6-8", "9-12"),
            "Five minutes a week",
            "group roles, projects",
        )
        saved = community.save_draft(
            session, team, MODERATOR, {MODERATOR}, community.Draft(None, fields, (tip.id,), (tip.author,)), FIXED_NOW
        )
        done = community.publish(session, team, MODERATOR, {MODERATOR}, saved.id, FIXED_NOW)
    assert done is not None
    return done.play


def own_plays(database: Database, team: str) -> dict[str, str]:
    with database.sessions() as session:
        return {
            p.slug: play_markdown(p)
            for p in plays.plays_in_category(session, "project-based", team=team)
            if p.from_community
        }


def test_export_then_import_round_trips_into_another_workspace_and_back(
    url: str, database: Database, tmp_path: Path
) -> None:
    team, other = new_team(), installed(database)
    first = publish(database, team, "Rotating group roles")
    second = publish(database, team, "Rotating group roles", author="x:ben")  # same title: a slug of its own
    assert second.slug != first.slug
    out = tmp_path / "export"
    exported = invoke("plays", "export", "--team", team, "--output", str(out))
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in out.glob("*.md")) == sorted([f"{first.slug}.md", f"{second.slug}.md"])
    assert invoke("plays", "check", "--dir", str(out)).exit_code == 0

    imported = invoke("plays", "import", str(out), "--team", other)
    assert imported.exit_code == 0, imported.output
    assert "2 added" in imported.output
    assert own_plays(database, other) == own_plays(database, team)
    with database.sessions() as session:
        assert plays.get_play(session, first.slug, team=other).credits == ("U0ANA",)

    again = invoke("plays", "import", str(out), "--team", team)
    assert again.exit_code == 0 and "2 unchanged" in again.output
    edited = out / f"{first.slug}.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("Five minutes a week", "Ten minutes a week"), encoding="utf-8"
    )
    changed = invoke("plays", "import", str(out), "--team", team)
    assert changed.exit_code == 0 and "1 updated" in changed.output and "1 unchanged" in changed.output
    with database.sessions() as session:
        assert community.ready_tips(session, team, limit=10, votes=0) == [], (
            "re-importing keeps which tips the plays were made from, so they are not suggested again"
        )
    assert own_plays(database, team) == {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.md")}


GOOD = (Path(__file__).parent.parent / "plays" / "station-rotation-starter.md").read_text(encoding="utf-8")


def variant(slug: str) -> str:
    return GOOD.replace("slug: station-rotation-starter", f"slug: {slug}")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("not-utf8.md", b"---\nslug: not-utf8\n---\n\xff\xfe", "not UTF-8"),
        ("no-front.md", "## Try this\nNothing above me.", "front matter"),
        (
            "hostile-title.md",
            variant("hostile-title").replace(
                "title: Start a three-station rotation", "title: <!channel> Start a three-station rotation"
            ),
            "title",
        ),
        (
            "control-body.md",
            variant("control-body").replace("## Watch out for", "## Watch out for\n\x07\x1b[31m"),
            "control characters",
        ),
        (
            "missing-section.md",
            variant("missing-section").replace("## What it looks like", "## Something else"),
            "sections",
        ),
        ("station-rotation-starter.md", GOOD, "shared playbook"),
        (
            "bad-notes.md",
            variant("bad-notes") + "\n## Grade-band notes\n### college\nNot a band at all, really.\n",
            "Grade-band notes",
        ),
    ],
)
def test_bad_files_are_refused_by_name_and_the_good_ones_kept(
    url: str, database: Database, tmp_path: Path, name: str, content: str | bytes, says: str
) -> None:
    team = installed(database)
    folder = tmp_path / "in"
    folder.mkdir()
    bad = folder / name
    bad.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (folder / "our-rotation.md").write_text(variant("our-rotation"), encoding="utf-8")
    result = invoke("plays", "import", str(folder), "--team", team)
    assert result.exit_code == 1, result.output
    assert f"refused {bad}" in result.stderr and says in result.stderr
    assert "1 added" in result.stdout and "1 refused" in result.stdout
    with database.sessions() as session:
        assert plays.get_play(session, "our-rotation", team=team).from_community
        assert plays.get_play(session, "our-rotation", team=new_team()) is None


def test_a_refused_file_names_every_problem_and_counts_once(url: str, database: Database, tmp_path: Path) -> None:
    team = installed(database)
    folder = tmp_path / "in"
    folder.mkdir()
    bad = folder / "two-faults.md"
    bad.write_text(
        variant("two-faults")
        .replace("title: Start a three-station rotation", "title: A & B")
        .replace("grades: [K-5, 6-8]", "grades: [K-5, grade 7]"),
        encoding="utf-8",
    )
    (folder / "our-rotation.md").write_text(variant("our-rotation"), encoding="utf-8")

    result = invoke("plays", "import", str(folder), "--team", team)

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"refused {bad}: line 3: title: must not contain <, > or & or a line break",
        f"refused {bad}: line 7: grades[2]: 'grade 7' isn't a grade band; use K-2, 3-5, K-5, 6-8, 9-12 or all",
    ]
    assert "1 added, 0 updated, 0 unchanged, 1 refused." in result.stdout


def test_an_unreadable_folder_exits_2_and_imports_nothing(url: str, database: Database, tmp_path: Path) -> None:
    team = installed(database)
    assert invoke("plays", "import", str(tmp_path / "missing"), "--team", team).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("plays", "import", str(empty), "--team", team)
    assert result.exit_code == 2 and "no *.md" in result.stderr
    file = tmp_path / "file.md"
    file.write_text("x", encoding="utf-8")
    assert invoke("plays", "export", "--team", team, "--output", str(file)).exit_code == 2


def test_every_shared_play_opens_in_the_edit_form_and_publishes_back_the_same() -> None:
    """The shared playbook is a real corpus of files in the format workspaces import: each must come back from the
    form as it was (an imported play a moderator edits changes only what they change)."""
    files, errors = load_play_dir(PLAYS_DIR)
    assert files and not errors
    for file in files:
        front = file.front
        play = plays.Play(
            front.slug,
            front.title,
            front.category,
            front.summary,
            tuple(front.tags),
            tuple(front.grades),
            front.time,
            front.source,
            file.body,
            "T0TEAM",
            (),
        )
        fields = community.fields_of(play)
        assert community.check(fields) == {}, front.slug
        assert community.body(fields) == play.body, front.slug
        spans = [{span for grade in chosen for span in grades.BANDS[grade]} for chosen in (fields.grades, front.grades)]
        assert spans[0] == spans[1] and ("all" in fields.grades) == ("all" in front.grades), front.slug
        shown = play_blocks.draft_form(community.Draft(None, fields, (), (), 1))
        [boxes] = [b["element"] for b in shown["blocks"] if b["block_id"].startswith("grades~")]
        assert [o["value"] for o in boxes.get("initial_options", [])] == list(fields.grades), front.slug


# Text a teacher might type, and text meant to break things: markup, headings, entities, control characters.
TYPED = st.lists(
    st.sampled_from([*"ab c.\n#*_-<>&!@|`:\x07é", "<!channel>", "## ", "1. ", "\n- ", "<@U0EVIL>", "👩‍🏫"]), max_size=60
).map("".join)


@settings(max_examples=300, deadline=None)
@given(title=TYPED, summary=TYPED, steps=TYPED, looks_like=TYPED, watch_out=TYPED, credit=TYPED, note=TYPED)
def test_whatever_the_form_holds_is_refused_or_round_trips_and_pings_nobody(
    tmp_path_factory, title, summary, steps, looks_like, watch_out, credit, note
) -> None:
    fields = community.DraftFields(
        f"Play {title}"[:80],
        "project-based",
        f"{summary} A summary long enough."[:200],
        f"{steps}\nPlan the week.",
        f"{looks_like} " + LOOKS_LIKE,
        watch_out or "-",
        (),
        "One lesson",
        "projects",
        (("6-8", f"{note} Teams pick their roles."),) if note else (),
    )
    if community.check(fields):
        event("refused")
        return  # refused, with a message for the field
    event("accepted")
    credits = (community.plain_line(credit, 120) or "ana",)
    made = community.compose(fields, "typed-play", credits)
    play = plays.Play(
        "typed-play",
        made.front.title,
        made.front.category,
        made.front.summary,
        tuple(made.front.tags),
        tuple(made.front.grades),
        made.front.time,
        made.front.source,
        made.body,
        "T0TEAM",
        tuple(made.front.credits),
    )
    path = tmp_path_factory.mktemp("typed") / "typed-play.md"
    path.write_text(play_markdown(play), encoding="utf-8")
    parsed = parse_play_file(path)
    assert isinstance(parsed, PlayFile), parsed
    assert parsed.front == made.front and parsed.body == made.body.strip()
    back = community.fields_of(play)  # Edit opens a published play in the form: what it shows publishes the same
    assert community.check(back) == {} and community.body(back) == made.body
    assert (back.title, back.summary, back.tags) == (made.front.title, made.front.summary, "projects")
    assert live_markup(guard(blocks.play_card(play))) == []


@pytest.mark.parametrize("command", [("export", "--output", "{out}"), ("import", "{folder}"), ("search", "roles")])
def test_a_workspace_the_bot_does_not_know_is_refused_not_started(
    url: str, database: Database, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """`--team TOTHER` (a typo, or a workspace the app was never installed in) is bad input: exit 2 naming the
    workspaces the bot knows, and no new workspace appears."""
    team = installed(database)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "our-rotation.md").write_text(variant("our-rotation"), encoding="utf-8")

    result = invoke(
        "plays", *(part.format(out=tmp_path / "out", folder=folder) for part in command), "--team", "TOTHER"
    )

    assert result.exit_code == 2, result.output
    assert "doesn't know workspace TOTHER" in result.stderr and team in result.stderr
    assert "no plays of its own" not in result.output
    with database.sessions() as session:
        assert "TOTHER" not in store.known_teams(session)
