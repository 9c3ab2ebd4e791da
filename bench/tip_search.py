"""Tips at scale: bulk import throughput, and `/tips` search latency against the raw full-text engine.

What it measures, on one database built for the run (default: 1,000,000 tips):

  import   tips per second through `bot.tips.transfer.import_tips` -- the path `plchat tips import` takes:
           row checks, source hashes, batched INSERT ... ON CONFLICT DO NOTHING, the full-text index (FTS5
           triggers / the generated tsvector and its GIN index) and the spelling word list. The rows are
           generated in memory beforehand (seeded, so runs are comparable); no file is written or read.
  domain   p50/p95 of `bot.tips.search.search_tips` (session opened per query, as the Slack handler does),
           per query kind: one word, several words, #tag-filtered, misspelt (no match, then spelling
           correction from the workspace's word list, then the corrected search).
  raw      the same queries' words, quoted, straight at the engine with its own ranking and no workspace,
           thesaurus, tag, visibility or spelling logic:
             SQLite      SELECT rowid FROM tips_fts WHERE tips_fts MATCH '"w1" "w2"' ORDER BY rank LIMIT 5
             PostgreSQL  SELECT id FROM tips WHERE search_vector @@ plainto_tsquery('english', :q)
                         ORDER BY ts_rank_cd(search_vector, plainto_tsquery('english', :q)) DESC LIMIT 5
           domain/raw is what the bot adds on top of "just ask the engine". It is not a like-for-like floor:
           raw ranks every match (cost grows with how common the words are), while the domain ranks a
           bounded set of newest candidates; so for common words the ratio can be below 1.
  LIKE     for comparison, a few queries as a table scan: every tip of the workspace whose text contains
           each word (`LIKE '%word%'`, ILIKE on PostgreSQL), counted -- what ranking without an index needs.

Tips are 15-60 words drawn Zipf-wise from common words, an education vocabulary and a long tail of rare
words; 0-3 of 40 tags, a grade band, one of 5,000 authors, created over the last three years; 90% in one
workspace and the rest spread over nine others, so the searches' workspace filtering has work to do.
It prints markdown tables (targets beside the figures) and asserts nothing.

    .venv/bin/python bench/tip_search.py                  # 1,000,000 tips, fresh SQLite file in a temp dir
    .venv/bin/python bench/tip_search.py --tips 20000     # smoke run, seconds
    .venv/bin/python bench/tip_search.py --database-url postgresql://postgres@127.0.0.1:5432/plchat_bench
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import string
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import create_db_engine, create_session_factory, normalize_url, upgrade
from bot.search_text import words
from bot.tips.engine import CANDIDATES
from bot.tips.search import parse_query, search_tips
from bot.tips.transfer import import_tips

SEED = 20261201
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MAIN_TEAM = "T0BENCH00"
OTHER_TEAMS = [f"T0BENCH{i:02d}" for i in range(1, 10)]
MAIN_SHARE = 0.9
AUTHORS = 5000
TARGET_IMPORT = 20_000  # tips/s, SQLite
TARGET_P95_MS = 20.0  # domain search p95, SQLite at 1M tips
TARGET_RATIO = 1.5  # domain / raw

COMMON = [
    "the",
    "a",
    "to",
    "and",
    "of",
    "in",
    "for",
    "with",
    "on",
    "my",
    "your",
    "each",
    "every",
    "it",
    "is",
    "they",
    "them",
    "I",
    "we",
    "at",
    "before",
    "after",
    "during",
    "when",
    "start",
    "end",
    "day",
    "week",
    "minutes",
    "time",
    "first",
    "then",
    "use",
    "try",
    "give",
    "make",
    "keep",
    "ask",
    "have",
    "get",
    "works",
    "helps",
    "really",
    "quick",
    "simple",
    "short",
    "great",
    "easy",
    "better",
    "more",
    "less",
    "all",
    "one",
    "two",
    "three",
    "five",
    "ten",
    "new",
    "next",
    "last",
    "group",
    "class",
    "room",
    "board",
    "list",
    "note",
    "notes",
    "question",
    "answer",
    "work",
    "check",
    "share",
    "write",
    "read",
    "show",
    "post",
    "set",
    "plan",
    "track",
    "move",
    "change",
    "feel",
    "know",
    "see",
    "find",
    "let",
    "love",
    "own",
    "back",
    "up",
    "out",
    "so",
    "this",
    "that",
    "if",
    "can",
    "will",
    "just",
    "what",
    "how",
    "who",
    "also",
    "even",
    "because",
    "their",
    "our",
    "about",
    "from",
    "by",
    "into",
    "over",
    "while",
    "until",
    "instead",
    "without",
    "always",
    "never",
    "often",
    "sometimes",
    "most",
    "some",
    "other",
    "same",
    "only",
    "still",
    "again",
]

EDUCATION = """students;feedback;exit tickets;station rotation;blended learning;rubric;parents;small groups;
flipped classroom;families;assessment;mastery;playlists;devices;lesson;teacher;kids;learners;practice;
project-based learning;reading;writing;math;science;vocabulary;discussion;partners;routines;engagement;
formative assessment;warm-up;do now;learning targets;goal setting;choice boards;student voice;conferences;
peer review;self-assessment;reflection;transitions;classroom management;differentiation;personalized learning;
competency-based;data;dashboard;unit;homework;video;screencast;google classroom;slides;anchor charts;norms;
timer;rotation;centers;independent work;collaboration;questions;mini-lesson;checklist;pathway;portfolio;
grading;grades;standards;intervention;enrichment;SEL;wellbeing;attendance;newsletter;email;coach;principal;
PLC;colleagues;lesson plan;seating chart;bell ringer;brain break;read aloud;think-pair-share;jigsaw;
gallery walk;sticky notes;whiteboards;exit slip;chromebooks;laptops;tablets;quiz;retakes;reteach;
mastery check;learning menu;tutoring;co-teaching;scaffolds;sentence stems;graphic organizer;rubrics;
projects;caregivers;conferring;comments;objectives;pacing;accommodations;family night;phone calls""".replace(
    "\n", ""
).split(";")

TAGS = [
    "assessment",
    "station-rotation",
    "blended-learning",
    "flipped-classroom",
    "exit-tickets",
    "feedback",
    "rubrics",
    "parents",
    "families",
    "pbl",
    "mastery",
    "playlists",
    "devices",
    "sel",
    "routines",
    "classroom-management",
    "differentiation",
    "math",
    "literacy",
    "science",
    "ela",
    "social-studies",
    "homework",
    "engagement",
    "edtech",
    "grading",
    "small-groups",
    "data",
    "goals",
    "choice",
    "video",
    "collaboration",
    "discussion",
    "vocabulary",
    "reading",
    "writing",
    "sped",
    "ell",
    "coaching",
    "pd",
]
GRADES = ("K-2", "3-5", "6-8", "9-12", "all", "")

# (kind, what a teacher types after /tips). Misspelt ones match nothing as typed; the bot corrects them.
QUERIES = [
    ("one word", "feedback"),
    ("one word", "rubric"),
    ("one word", "playlists"),
    ("one word", "jigsaw"),
    ("one word", "chromebooks"),
    ("several words", "exit tickets"),
    ("several words", "station rotation"),
    ("several words", "blended learning"),
    ("several words", "flipped classroom homework"),
    ("several words", "small groups math"),
    ("#tag", "#assessment"),
    ("#tag", "rubric #assessment"),
    ("#tag", "exit tickets #assessment"),
    ("#tag", "newsletter #parents"),
    ("misspelt", "blnded lerning"),
    ("misspelt", "fedback"),
    ("misspelt", "exit tikets"),
    ("misspelt", "playlsts"),
    ("misspelt", "grafic organizer"),
]
KINDS = list(dict.fromkeys(kind for kind, _ in QUERIES))
LIKE_QUERIES = ["rubric", "exit tickets", "blnded lerning"]
LIKE_REPEATS = 3


# --- tips -------------------------------------------------------------------------------------------------


def _zipf(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1 / (rank + 1) ** s for rank in range(n)))


def _tail_words(rng: random.Random, n: int) -> list[str]:
    """Rare words (names, jargon, typos in the tips themselves): pronounceable nonsense, all distinct."""
    onsets, vowels, codas = (
        [
            "b",
            "c",
            "d",
            "f",
            "g",
            "h",
            "j",
            "k",
            "l",
            "m",
            "n",
            "p",
            "r",
            "s",
            "t",
            "v",
            "w",
            "z",
            "br",
            "cl",
            "dr",
            "gr",
            "pl",
            "st",
            "tr",
        ],
        "aeiou",
        "nrstlmk",
    )
    found: dict[str, None] = {}
    while len(found) < n:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        found.setdefault(word + rng.choice(codas) if rng.random() < 0.5 else word)
    return list(found)


def generate(count: int, seed: int = SEED) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Import rows per workspace, each workspace's rows oldest first (tips accumulate over time)."""
    rng = random.Random(seed)
    tail = _tail_words(rng, 20_000)
    pools = [(COMMON, _zipf(len(COMMON))), (EDUCATION, _zipf(len(EDUCATION), 0.9)), (tail, _zipf(len(tail)))]
    pool_weights = list(itertools.accumulate((0.62, 0.30, 0.08)))
    authors = ["U" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=10)) for _ in range(AUTHORS)]
    author_weights = _zipf(AUTHORS, 0.8)
    tag_weights = _zipf(len(TAGS), 0.7)
    span = 3 * 365 * 86400
    teams: dict[str, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    for _ in range(count):
        length = rng.randint(15, 60)
        picks = rng.choices(range(3), cum_weights=pool_weights, k=length)
        draws = {
            p: iter(rng.choices(pools[p][0], cum_weights=pools[p][1], k=picks.count(p))) for p in sorted(set(picks))
        }
        body = " ".join(next(draws[p]) for p in picks)
        sentences = [s.strip() for s in _split_sentences(rng, body)]
        tip_text = " ".join(s[:1].upper() + s[1:] + rng.choice((".", ".", ".", "!", "?")) for s in sentences if s)
        created = NOW - timedelta(seconds=rng.randrange(span))
        row = {
            "text": tip_text,
            "author": rng.choices(authors, cum_weights=author_weights)[0],
            "tags": list(dict.fromkeys(rng.choices(TAGS, cum_weights=tag_weights, k=rng.choice((0, 1, 1, 2, 3))))),
            "grade": rng.choice(GRADES),
            "created_at": created.isoformat(),
        }
        team = MAIN_TEAM if rng.random() < MAIN_SHARE else rng.choice(OTHER_TEAMS)
        teams[team].append((created, row))
    out = {}
    for team in [MAIN_TEAM, *OTHER_TEAMS]:
        rows = sorted(teams.get(team, []), key=lambda pair: pair[0])
        out[team] = [(line, row) for line, (_, row) in enumerate(rows, start=2)]  # line 1: a file's header
    return out


def _split_sentences(rng: random.Random, body: str) -> list[str]:
    parts = body.split(" ")
    out, start = [], 0
    while start < len(parts):
        end = start + rng.randint(6, 16)
        out.append(" ".join(parts[start:end]))
        start = end
    return out


# --- database ---------------------------------------------------------------------------------------------


def fresh_postgres(url: str) -> None:
    """Drop and re-create the bench database (refused unless its name says bench), then migrate it."""
    target = make_url(normalize_url(url))
    name = target.database or ""
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: use a throwaway database whose name contains 'bench'")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def fresh_sqlite(url: str) -> None:
    """Start from an empty file: an existing one is deleted (refused unless its name says bench)."""
    path = make_url(url).database or ""
    if path and os.path.exists(path):
        if "bench" not in os.path.basename(path):
            sys.exit(f"refusing to delete {path!r}: use a throwaway file whose name contains 'bench'")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def describe(engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return f"SQLite {connection.exec_driver_sql('select sqlite_version()').scalar()}"
        return connection.exec_driver_sql("select version()").scalar().split(" on ")[0]


# --- import -----------------------------------------------------------------------------------------------


@dataclass
class Imported:
    rows: int = 0
    added: int = 0
    existing: int = 0
    skipped: int = 0
    seconds: float = 0.0
    per_team: dict[str, int] = field(default_factory=dict)


def run_import(sessions: sessionmaker[Session], teams: dict[str, list], rounds: int = 20) -> Imported:
    """Each workspace's rows in `rounds` imports, the workspaces taking turns, so their tips interleave in the
    table as they would in a live database (one workspace's tips all newest would flatter or punish plans)."""
    result = Imported()
    for round_ in range(rounds):
        for team, rows in teams.items():
            size = -(-len(rows) // rounds)
            chunk = rows[round_ * size : (round_ + 1) * size]
            if not chunk:
                continue
            started = time.perf_counter()
            report = import_tips(sessions, team, chunk, NOW)
            result.seconds += time.perf_counter() - started
            result.rows += len(chunk)
            result.added += report.added
            result.existing += report.existing
            result.skipped += len(report.skipped)
            result.per_team[team] = result.per_team.get(team, 0) + report.added
        print(
            f"  round {round_ + 1}/{rounds}: {result.rows:,} rows, {result.rows / result.seconds:,.0f}/s",
            file=sys.stderr,
            flush=True,
        )
    return result


# --- searches ---------------------------------------------------------------------------------------------


def raw_statement(dialect: str, query: str) -> tuple[Any, dict[str, Any]]:
    terms = words(query)
    if dialect == "sqlite":
        return (
            text("SELECT rowid FROM tips_fts WHERE tips_fts MATCH :q ORDER BY rank LIMIT 5"),
            {"q": " ".join(f'"{t}"' for t in terms)},
        )
    return (
        text(
            "SELECT id FROM tips WHERE search_vector @@ plainto_tsquery('english', :q) "
            "ORDER BY ts_rank_cd(search_vector, plainto_tsquery('english', :q)) DESC LIMIT 5"
        ),
        {"q": " ".join(terms)},
    )


def like_statement(dialect: str, query: str) -> tuple[Any, dict[str, Any]]:
    terms = words(query)
    operator = "LIKE" if dialect == "sqlite" else "ILIKE"
    where = " AND ".join(f"text {operator} :w{i}" for i in range(len(terms)))
    return (
        text(f"SELECT count(*) FROM tips WHERE team_id = :team AND {where}"),
        {"team": MAIN_TEAM, **{f"w{i}": f"%{t}%" for i, t in enumerate(terms)}},
    )


@dataclass
class Outcome:
    """What one query found, from its first (untimed) run."""

    kind: str
    query: str
    tips: int = 0
    corrected: str | None = None
    broadened: bool = False
    raw_hits: int = 0
    domain: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)


def domain_search(sessions: sessionmaker[Session], query: str):
    with sessions() as session:
        return search_tips(session, MAIN_TEAM, parse_query(query), now=NOW)


def raw_search(sessions: sessionmaker[Session], dialect: str, query: str) -> int:
    statement, params = raw_statement(dialect, query)
    with sessions() as session:
        return len(session.execute(statement, params).all())


def run_searches(sessions: sessionmaker[Session], dialect: str, count: int) -> list[Outcome]:
    """One untimed pass (warm-up, and what each query finds), then `count` timed queries of each path,
    round-robin over the query mix; domain and raw alternate on the same query so they see the same cache."""
    outcomes = []
    for kind, query in QUERIES:
        page = domain_search(sessions, query)
        outcomes.append(
            Outcome(kind, query, len(page.tips), page.corrected, page.broadened, raw_search(sessions, dialect, query))
        )
    clock = time.perf_counter
    for index in range(count):
        outcome = outcomes[index % len(outcomes)]
        started = clock()
        domain_search(sessions, outcome.query)
        outcome.domain.append(clock() - started)
        started = clock()
        raw_search(sessions, dialect, outcome.query)
        outcome.raw.append(clock() - started)
    return outcomes


def run_likes(sessions: sessionmaker[Session], dialect: str) -> list[tuple[str, int, float]]:
    results = []
    for query in LIKE_QUERIES:
        statement, params = like_statement(dialect, query)
        timings, hits = [], 0
        for _ in range(LIKE_REPEATS):
            started = time.perf_counter()
            with sessions() as session:
                hits = session.execute(statement, params).scalar()
            timings.append(time.perf_counter() - started)
        results.append((query, hits, statistics.median(timings)))
    return results


# --- report -----------------------------------------------------------------------------------------------


def percentile(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0] * 1000 if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] * 1000


def ratio(x: float, y: float) -> float:
    return x / y if y else float("nan")


def report(
    label: str,
    imported: Imported,
    generated_s: float,
    outcomes: list[Outcome],
    likes: list[tuple[str, int, float]],
    sqlite: bool,
) -> None:
    rate = imported.added / imported.seconds if imported.seconds else float("nan")
    target = f"≥ {TARGET_IMPORT:,}/s" if sqlite else f"(≥ {TARGET_IMPORT:,}/s is the SQLite target)"
    print(f"\n### Import ({label})\n")
    print("| rows | added | existing | skipped | seconds | tips/s | target |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {imported.rows:,} | {imported.added:,} | {imported.existing:,} | {imported.skipped:,} "
        f"| {imported.seconds:.1f} | {rate:,.0f} | {target} |"
    )
    print(
        f"\nGenerating the rows in memory (not timed above) took {generated_s:.1f} s. "
        f"Workspace {MAIN_TEAM} holds {imported.per_team.get(MAIN_TEAM, 0):,} tips, the other nine "
        f"{sum(v for k, v in imported.per_team.items() if k != MAIN_TEAM):,}."
    )

    p95_target = f"≤ {TARGET_P95_MS:.0f}" if sqlite else f"(≤ {TARGET_P95_MS:.0f} on SQLite)"
    print(f"\n### Search latency, ms ({label}; searches in {MAIN_TEAM})\n")
    print(
        "| kind | queries | domain p50 | domain p95 | p95 target | raw p50 | raw p95 | domain/raw p50 "
        "| domain/raw p95 | ratio target |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
    groups = {kind: [o for o in outcomes if o.kind == kind] for kind in KINDS}
    groups["all but misspelt"] = [o for o in outcomes if o.kind != "misspelt"]
    groups["all"] = outcomes
    for kind, chosen in groups.items():
        domain = [t for o in chosen for t in o.domain]
        raw = [t for o in chosen for t in o.raw]
        d50, d95, r50, r95 = percentile(domain, 50), percentile(domain, 95), percentile(raw, 50), percentile(raw, 95)
        name = f"**{kind}**" if kind.startswith("all") else kind
        print(
            f"| {name} | {len(domain)} | {d50:.1f} | {d95:.1f} | {p95_target} | {r50:.1f} | {r95:.1f} "
            f"| {ratio(d50, r50):.2f} | {ratio(d95, r95):.2f} | ≤ {TARGET_RATIO} |"
        )

    print(f"\n### Per query ({label})\n")
    print("| kind | query | tips shown | searched as | raw hits | domain p50 | domain p95 | raw p50 | raw p95 |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for o in outcomes:
        searched = o.corrected or ("any of the words" if o.broadened else "as typed")
        print(
            f"| {o.kind} | `{o.query}` | {o.tips} | {searched} | {o.raw_hits} | {percentile(o.domain, 50):.1f} "
            f"| {percentile(o.domain, 95):.1f} | {percentile(o.raw, 50):.1f} | {percentile(o.raw, 95):.1f} |"
        )

    print(f"\n### LIKE scan for comparison ({label}; every {MAIN_TEAM} tip containing each word, counted)\n")
    print("| query | matches | ms (median of 3) | domain p50 ms | LIKE/domain |")
    print("|---|---:|---:|---:|---:|")
    by_query = {o.query: o for o in outcomes}
    for query, hits, seconds in likes:
        domain = percentile(by_query[query].domain, 50) if query in by_query else float("nan")
        print(
            f"| `{query}` | {hits:,} | {seconds * 1000:,.0f} | {domain:.1f} | {ratio(seconds * 1000, domain):,.0f}× |"
        )

    if sqlite:
        raw_sql = (
            'SELECT rowid FROM tips_fts WHERE tips_fts MATCH \'"w1" "w2"\' ORDER BY rank LIMIT 5 '
            "(FTS5 bm25 over every match)"
        )
    else:
        raw_sql = (
            "SELECT id FROM tips WHERE search_vector @@ plainto_tsquery('english', :q) ORDER BY "
            "ts_rank_cd(search_vector, plainto_tsquery('english', :q)) DESC LIMIT 5 (ranks every match)"
        )
    print(
        f"\nRaw baseline: {raw_sql}; no workspace filter, thesaurus, tags, visibility, spelling correction or "
        f"row fetch. Domain: search_tips (parse, candidates newest-first bounded at {CANDIDATES}, rank, fetch 5 rows; "
        "misspelt queries also run the correction and a second search). Session per query for both. "
        "Raw searches misspelt words as typed and finds nothing (raw hits 0), so the misspelt ratio compares "
        'the bot\'s correction and second search with one empty lookup; "all but misspelt" is the overhead '
        "figure."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000, help="tips to generate and import")
    parser.add_argument(
        "--queries",
        type=int,
        default=760,
        help=f"timed searches per path (domain, raw), round-robin over {len(QUERIES)} queries",
    )
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir, deleted afterwards; "
        "a database given here is dropped and re-created (SQLite file deleted first), so its name "
        "must contain 'bench', and is kept afterwards",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="plchat-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/tips.db"
        sqlite = make_url(normalize_url(url)).get_backend_name() == "sqlite"
        fresh_sqlite(url) if sqlite else fresh_postgres(url)
        upgrade(url)
        engine = create_db_engine(url)
        sessions = create_session_factory(engine)
        label = describe(engine)
        print(
            f"Python {platform.python_version()}, {label}, {os.cpu_count()} CPUs; {args.tips:,} tips, "
            f"seed {args.seed}, {args.queries} timed searches per path",
            flush=True,
        )

        started = time.perf_counter()
        teams = generate(args.tips, args.seed)
        generated_s = time.perf_counter() - started
        print(f"  generated {args.tips:,} rows in {generated_s:.1f}s", file=sys.stderr, flush=True)
        imported = run_import(sessions, teams)
        del teams
        print(f"  imported in {imported.seconds:.1f}s", file=sys.stderr, flush=True)
        if not sqlite:  # what autovacuum would have done by the time anyone searches
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE tips")
                connection.exec_driver_sql("VACUUM ANALYZE search_words")
        if sqlite:
            size = os.path.getsize(make_url(url).database or "")
            print(f"  database file {size / 2**20:,.0f} MiB", file=sys.stderr, flush=True)

        outcomes = run_searches(sessions, engine.dialect.name, args.queries)
        print("  searches done", file=sys.stderr, flush=True)
        likes = run_likes(sessions, engine.dialect.name)
        engine.dispose()
    report(label, imported, generated_s, outcomes, likes, sqlite)


if __name__ == "__main__":
    main()
