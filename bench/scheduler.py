"""The worker at scale: 10,000 scheduled chats of 10 questions each -- start and reconcile time, memory, and how
late posts fire on the real clock.

What it measures, on a database built for the run (`--chats` weekly chats, default 10,000, 10 questions each,
reminders 24 h and 1 h before, first starts spread over the coming week in six US time zones, round-robin over
`--workspaces` workspaces):

  reconcile  a worker in its own process (spawned, so its memory is its own): `bot.worker.Worker(...)`, then
             `plan()` until it has planned every chat that is due for it, then `deliver()` and
             `next_delivery()`. "cold": every chat was just created and never planned (`planned_through` =
             REPLAN, as after a bulk import); the plan job calls `plan()` again while a call comes back full,
             as here, and the number of calls is printed too. "warm": a second worker starting on the same,
             planned database (a restart): one `plan()`, `deliver()`, `next_delivery()`.
             Baseline: `SELECT count(*) FROM chats` plus starting and stopping an empty BackgroundScheduler,
             in the same process just before.
  memory     the worker process's resident set (VmRSS) after each reconcile, and its peak (VmHWM) over the
             whole run including the lateness window. Baseline: the same process with `bot` imported and the
             database opened, before any Worker exists.
  lateness   then `--due-now` more chats (default 200, the web process's path: `bot.chats.store.create_chat`)
             that start at the next whole minute at least 10 s away (starts are whole minutes), no reminders,
             their `--questions` questions spread evenly over the following `--window` seconds (each chat's
             offset by a fraction of the spacing, so questions arrive smoothly; all welcomes land together
             on the minute, like chats that all start at 17:00). The worker process runs the production jobs,
             `bot.scheduler.schedule_jobs` on a BackgroundScheduler, on the real clock, posting to a
             SlackStandIn (rate limits off) in this process. Lateness of a post = the stand-in's message ts
             (the wall clock when chat.postMessage arrived) minus the row's due_at. Baseline: probe jobs on the
             same scheduler, DateTriggers every 0.25 s over the window, each recording its own lateness --
             what APScheduler alone adds under the same load.

It prints a Markdown table with the targets beside the figures (reconcile <= 5 s, RSS < 300 MB, p99 lateness
< 1 s) and asserts nothing. About 2-3 minutes (of which up to a minute waiting for the whole minute).

    .venv/bin/python bench/scheduler.py
    .venv/bin/python bench/scheduler.py --chats 2000 --due-now 50 --window 30     # smoke run
    .venv/bin/python bench/scheduler.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/scheduler.py --profile                                 # cProfile the cold reconcile

`--database-url` defaults to a fresh SQLite file in a temp dir. For PostgreSQL the URL names a server and a
database to connect to: the bench creates its own database beside it (plchat_bench_sched_<random>), migrates it
and drops it afterwards (`--keep` keeps it), so the given database is never touched.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import math
import multiprocessing
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any
from zoneinfo import ZoneInfo

from bench_database import drop_database, fresh_database
from bench_profile import profile_sends
from sqlalchemy import func, select, text

SEED = 20261125
TOKEN = "xoxb-bench-scheduler"
TIMEZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
)
WINDOW_TZ = "America/Chicago"
CHANNELS_PER_TEAM = 40
TARGET_RECONCILE_S = 5.0
TARGET_RSS_MB = 300.0
TARGET_P99_MS = 1000.0
PROBE_EVERY = 0.25  # seconds between the baseline probe jobs
MIN_LEAD = 10.0  # seconds from starting the scheduler to the window chats' start, at least
DRAIN = 30.0  # seconds to wait after the last due post for stragglers

QUESTIONS = [
    "What is one routine that made station rotation work in your room?",
    "How do you decide who goes to the teacher-led station first?",
    "What do students do when they finish a station early?",
    "Which tool do you use to track progress across stations, and why?",
    "How do you keep the noise level productive during rotations?",
    "What does feedback look like at your independent station?",
    "How often do you change the groups, and what data do you use?",
    "What went wrong the first time you tried it, and what did you change?",
    "How do you explain station rotation to families?",
    "What is one thing you will try next week?",
]


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(p * 10) - 1]


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB; the peak from getrusage where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)
        return float("nan"), peak


# -- the worker (child process) ----------------------------------------------------------------------------


class Warnings(logging.Handler):
    """Counts the warnings the worker logs (APScheduler skipping a run, deliveries skipped or failed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()
        self.first: dict[str, float] = {}  # message -> when it was first logged (epoch seconds)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().replace("_schedule_worker.<locals>.", "")
        if message.startswith("Delivery "):  # fold the per-row keys and times
            message = "Delivery ... " + message.split(":")[0].rsplit(" ", 1)[-1]
        key = f"{record.name}: {message[:150]}"
        self.seen[key] += 1
        self.first.setdefault(key, record.created)


def worker_process(url: str, api_url: str, conn: Any, profile: bool) -> None:
    """The worker's side: baselines, cold and warm reconcile, then the scheduler on the real clock."""
    rss_interpreter = memory_mb()[0]
    began = time.perf_counter()
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    from bot.bootstrap import open_database
    from bot.chats import planner
    from bot.config import Settings
    from bot.models import ChatRecord
    from bot.scheduler import schedule_jobs
    from bot.slack.services import system_clock
    from bot.worker import Worker

    warnings = Warnings()
    logging.getLogger().addHandler(warnings)
    logging.getLogger().setLevel(logging.WARNING)
    import inspect

    limit = inspect.signature(planner.plan).parameters["limit"].default
    settings = Settings(_env_file=None, database_url=url, slack_bot_token=TOKEN, slack_api_url=api_url)
    database = open_database(settings)
    imports_s = time.perf_counter() - began
    stats: dict[str, Any] = {"imports_s": imports_s, "plan_limit": limit, "rss_interpreter": rss_interpreter}

    started = time.perf_counter()
    with database.sessions() as session:
        stats["chats"] = session.scalar(select(func.count()).select_from(ChatRecord))
    stats["count_s"] = time.perf_counter() - started
    started = time.perf_counter()
    empty = BackgroundScheduler(timezone="UTC")
    empty.start()
    empty.shutdown(wait=True)
    stats["empty_scheduler_s"] = time.perf_counter() - started
    stats["rss_base"] = memory_mb()[0]

    def reconcile(until_done: bool) -> dict[str, Any]:
        took: dict[str, Any] = {}
        t0 = time.perf_counter()
        worker = Worker(settings, database, system_clock)
        t1 = time.perf_counter()
        calls = planned = 0
        while True:
            n = worker.plan()
            calls, planned = calls + 1, planned + n
            if not until_done or n < limit:
                break
        t2 = time.perf_counter()
        report = worker.deliver()
        t3 = time.perf_counter()
        worker.next_delivery()
        t4 = time.perf_counter()
        worker.close()
        took.update(
            total_s=t4 - t0,
            construct_s=t1 - t0,
            plan_s=t2 - t1,
            deliver_s=t3 - t2,
            next_s=t4 - t3,
            plan_calls=calls,
            planned=planned,
            sent=report.sent,
            skipped=report.skipped,
            failed=report.failed,
            rss=memory_mb()[0],
        )
        return took

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    stats["cold"] = reconcile(until_done=True)
    if profiler:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        stats["profile"] = out.getvalue()
    with database.sessions() as session:
        stats["rows_after_cold"] = session.scalar(text("SELECT count(*) FROM deliveries"))
    stats["warm"] = reconcile(until_done=False)
    stats["warnings_reconcile"] = {key: (n, 0.0) for key, n in warnings.seen.items()}
    warnings.seen.clear()
    conn.send(("reconciled", stats))

    _, window_start, window_end = conn.recv()  # the parent created the chats due now
    worker, scheduler = Worker(settings, database, system_clock), BackgroundScheduler(timezone="UTC")
    probes: list[float] = []

    def probe(planned_at: float) -> None:
        probes.append(time.time() - planned_at)

    lane_profiles = profile_sends(worker.sender) if profile else []  # the sender's threads, merged when saved
    schedule_jobs(scheduler, database.sessions, system_clock, worker)
    first = time.time() + 1.0
    for index in range(int((window_end - first) / PROBE_EVERY)):
        at = first + index * PROBE_EVERY
        scheduler.add_job(
            probe,
            DateTrigger(run_date=datetime.fromtimestamp(at, UTC)),
            args=[at],
            id=f"probe-{index}",
            misfire_grace_time=None,
        )
    expected_probes = len(scheduler.get_jobs()) - 4  # purge, plan, collect-x, deliver
    scheduler.start()
    conn.send(("started", time.time()))
    conn.recv()  # stop
    scheduler.shutdown(wait=True)
    worker.close()
    rss, peak = memory_mb()
    lanes = ""
    if lane_profiles:
        out = io.StringIO()
        pstats.Stats(*lane_profiles, stream=out).sort_stats("tottime").print_stats(25)
        lanes = out.getvalue()
    conn.send(
        (
            "done",
            {
                "lane_profile": lanes,
                "probes": probes,
                "expected_probes": expected_probes,
                "rss_end": rss,
                "peak": peak,
                "warnings_window": {key: (n, warnings.first[key] - window_start) for key, n in warnings.seen.items()},
            },
        )
    )
    database.engine.dispose()


# -- the chats ---------------------------------------------------------------------------------------------


def background_specs(count: int, questions: int, now: datetime, rng: random.Random) -> list[Any]:
    from bot.chats.spec import DEFAULT_REMINDERS, ChatSpec, Question

    specs = []
    for index in range(count):
        zone = TIMEZONES[index % len(TIMEZONES)]
        start = now + timedelta(minutes=rng.randrange(5, 7 * 24 * 60))
        local = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)
        specs.append(
            ChatSpec(
                title=f"Station rotation chat {index}",
                hashtag=f"bench{index}",
                starts=local,
                timezone=zone,
                duration=60,
                repeat="weekly",
                until=None,
                skip=(),
                slack_channels=(),  # set per workspace below
                post_to_x=False,
                reminders=DEFAULT_REMINDERS,
                questions=tuple(Question(5.0 * (q + 1), QUESTIONS[q % len(QUESTIONS)]) for q in range(questions)),
            )
        )
    return specs


def window_specs(count: int, questions: int, start_utc: datetime, window: float) -> list[Any]:
    from bot.chats.spec import ChatSpec, Question

    local = start_utc.astimezone(ZoneInfo(WINDOW_TZ)).replace(tzinfo=None)
    step = window / questions  # seconds between a chat's questions
    specs = []
    for index in range(count):
        phase = step * index / count
        specs.append(
            ChatSpec(
                title=f"Due-now chat {index}",
                hashtag=f"now{index}",
                starts=local,
                timezone=WINDOW_TZ,
                duration=15,
                repeat="none",
                until=None,
                skip=(),
                slack_channels=(),
                post_to_x=False,
                reminders=(),
                questions=tuple(
                    Question((phase + step * (q + 1)) / 60, QUESTIONS[q % len(QUESTIONS)]) for q in range(questions)
                ),
            )
        )
    return specs


def check_valid(spec: Any) -> None:
    """The specs are built directly; make sure a moderator could have written them."""
    from bot.chats.definition import chat_to_yaml, parse_chat_file

    parse_chat_file(chat_to_yaml(spec), default_timezone=spec.timezone)


def create(sessions: Any, specs: list[Any], teams: list[str], prefix: str, batch: int = 1000) -> list[int]:
    """Through `bot.chats.store.create_chat`, as the web process and `plchat chats` do, in batches."""
    from dataclasses import replace

    from bot.chats.store import create_chat
    from bot.db import transaction

    ids = []
    now = datetime.now(UTC)
    for first in range(0, len(specs), batch):
        with transaction(sessions) as session:
            for index in range(first, min(first + batch, len(specs))):
                team = teams[index % len(teams)]
                channel = f"C{prefix}{index % CHANNELS_PER_TEAM:02d}{team[-2:]}"
                spec = replace(specs[index], slack_channels=(channel,))
                if index == 0:
                    check_valid(spec)
                ids.append(create_chat(session, team, spec, "U0BENCH", now).id)
    return ids


# -- the database ------------------------------------------------------------------------------------------


def describe(engine: Any) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return f"SQLite {connection.exec_driver_sql('select sqlite_version()').scalar()}"
        return connection.exec_driver_sql("select version()").scalar().split(" on ")[0]


# -- report ------------------------------------------------------------------------------------------------


def verdict(ours: float, target: float) -> str:
    if math.isnan(ours):
        return "n/a"
    return "PASS" if ours <= target else "MISS"


def report(
    label: str,
    args: argparse.Namespace,
    built_s: float,
    stats: dict[str, Any],
    done: dict[str, Any],
    posts: list[tuple[str, str, float | None]],
    expected: int,
    other_sent: int,
) -> None:
    cold, warm = stats["cold"], stats["warm"]
    late = [ms for _, state, ms in posts if state == "sent" and ms is not None]
    probes = [p * 1000 for p in done["probes"]]
    baseline_reconcile = stats["count_s"] + stats["empty_scheduler_s"]
    sent = sum(state == "sent" for _, state, _ in posts)
    rows = [
        (
            f"cold start + reconcile, s ({stats['chats']:,} chats never planned; {cold['plan_calls']} plan() calls)",
            f"{cold['total_s']:.2f}",
            f"{baseline_reconcile:.3f}",
            f"≤ {TARGET_RECONCILE_S:.0f}",
            verdict(cold["total_s"], TARGET_RECONCILE_S),
        ),
        (
            "warm restart + reconcile, s (the same chats, planned)",
            f"{warm['total_s']:.2f}",
            f"{baseline_reconcile:.3f}",
            f"≤ {TARGET_RECONCILE_S:.0f}",
            verdict(warm["total_s"], TARGET_RECONCILE_S),
        ),
        (
            "worker RSS after cold reconcile, MB",
            f"{cold['rss']:.0f}",
            f"{stats['rss_base']:.0f}",
            f"< {TARGET_RSS_MB:.0f}",
            verdict(cold["rss"], TARGET_RSS_MB),
        ),
        (
            "worker peak RSS over the run (VmHWM), MB",
            f"{done['peak']:.0f}",
            f"{stats['rss_base']:.0f}",
            f"< {TARGET_RSS_MB:.0f}",
            verdict(done["peak"], TARGET_RSS_MB),
        ),
        ("lateness p50, ms", f"{percentile(late, 50):.0f}", f"{percentile(probes, 50):.1f}", "", ""),
        (
            "lateness p99, ms",
            f"{percentile(late, 99):.0f}",
            f"{percentile(probes, 99):.1f}",
            f"< {TARGET_P99_MS:.0f}",
            verdict(percentile(late, 99) if len(late) == expected else math.inf, TARGET_P99_MS),
        ),
        (
            "lateness max, ms",
            f"{max(late, default=float('nan')):.0f}",
            f"{max(probes, default=float('nan')):.1f}",
            "",
            "",
        ),
        (
            "posts sent / due in the window (probe jobs fired / planned)",
            f"{sent:,} / {expected:,}",
            f"{len(probes)} / {done['expected_probes']}",
            "all",
            "PASS" if sent == expected else "MISS",
        ),
    ]
    print(
        f"\n### Worker at scale ({label}; {stats['chats']:,} weekly chats × {args.questions} questions over "
        f"{args.workspaces} workspace(s); {args.due_now} more due now; Slack answers after "
        f"{args.slack_latency:g} ms)\n"
    )
    print("| measure | ours | baseline | target | result |")
    print("|---|---:|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    print(
        f"\nBaselines: reconcile = `SELECT count(*) FROM chats` ({stats['count_s'] * 1000:.1f} ms) + an empty "
        f"BackgroundScheduler started and shut down ({stats['empty_scheduler_s'] * 1000:.1f} ms); RSS = the worker "
        f"process with `bot` imported and the database open, before any Worker (interpreter alone "
        f"{stats['rss_interpreter']:.0f} MB; imports + engine {stats['imports_s']:.2f} s, not counted above); "
        f"lateness = {len(probes)} DateTrigger probe jobs on the same scheduler, every {PROBE_EVERY} s over the "
        f"window. Building the database (not timed above) took {built_s:.1f} s."
    )

    print(
        "\n| reconcile | total s | Worker() s | plan() s | plan() calls | chats planned | deliver() s | sent "
        "| skipped | next_delivery() s | RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in (("cold", cold), ("warm", warm)):
        print(
            f"| {name} | {r['total_s']:.2f} | {r['construct_s']:.3f} | {r['plan_s']:.2f} | {r['plan_calls']} "
            f"| {r['planned']:,} | {r['deliver_s']:.2f} | {r['sent']} | {r['skipped']} | {r['next_s']:.3f} "
            f"| {r['rss']:.0f} |"
        )
    print(
        f"\nAfter the cold reconcile the outbox held {stats['rows_after_cold']:,} rows. plan() takes at most "
        f"{stats['plan_limit']:,} chats per call; the worker's plan job (bot.scheduler) calls it again at once "
        "while a call comes back full, as this reconcile did."
    )

    print("\n| lateness by post, ms | posts | sent | p50 | p90 | p99 | max |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    kinds = {
        "welcome (all on the minute)": [p for p in posts if p[0] == "welcome"],
        "questions (spread)": [p for p in posts if p[0].startswith("q")],
        "all": posts,
    }
    for name, chosen in kinds.items():
        ms = [m for _, state, m in chosen if state == "sent" and m is not None]
        print(
            f"| {name} | {len(chosen):,} | {len(ms):,} | {percentile(ms, 50):.0f} | {percentile(ms, 90):.0f} "
            f"| {percentile(ms, 99):.0f} | {max(ms, default=float('nan')):.0f} |"
        )
    states = Counter(state for _, state, _ in posts)
    print(
        f"\nWindow posts by state: {dict(states)}; other chats' posts sent meanwhile: {other_sent}. "
        f"Worker RSS at the end {done['rss_end']:.0f} MB"
        + (" (--profile keeps a profile per lane run, which inflates it)." if args.profile else ".")
    )
    for phase, seen in (("reconcile", stats["warnings_reconcile"]), ("window", done["warnings_window"])):
        for message, (n, at) in sorted(seen.items(), key=lambda item: -item[1][0])[:8]:
            when = f", first {at:+.1f} s from the due-now chats' start" if phase == "window" else ""
            print(f"  warning during {phase} x{n}{when}: {message}")
    if "profile" in stats:
        print("\ncProfile of the cold reconcile (cumulative):\n```")
        print("\n".join(stats["profile"].splitlines()[:45]))
        print("```")
    if done.get("lane_profile"):
        print("\ncProfile of the sending lanes during the window (own time):\n```")
        print("\n".join(done["lane_profile"].splitlines()[:45]))
        print("```")


# -- main --------------------------------------------------------------------------------------------------


def window_posts(
    sessions: Any, ids: list[int], until: datetime, latency: float
) -> tuple[list[tuple[str, str, float | None]], int]:
    """(post slug, state, lateness ms) of the due-now chats' rows due by `until`, and how many other rows were
    sent. The stand-in stamps a message after its injected `latency` (s): taken off, the ts is its arrival."""
    from bot.models import DeliveryRecord

    subjects = {f"chat:{i}" for i in ids}
    posts, other = [], 0
    with sessions() as session:
        for row in session.scalars(select(DeliveryRecord).where(DeliveryRecord.due_at <= until)):
            if row.subject not in subjects:
                continue
            late = (float(row.sent_ref) - latency - row.due_at.timestamp()) * 1000 if row.sent_ref else None
            posts.append((row.payload["post"], row.state, late))
        other = session.scalar(
            select(func.count())
            .select_from(DeliveryRecord)
            .where(DeliveryRecord.state == "sent", DeliveryRecord.subject.not_in(subjects))
        )
    return posts, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000, help="weekly chats, first starts over the next week")
    parser.add_argument("--questions", type=int, default=10, help="questions per chat")
    parser.add_argument("--due-now", type=int, default=200, help="more chats whose posts fall due in the window")
    parser.add_argument(
        "--window",
        type=float,
        default=60.0,
        help="seconds after their start over which the due-now chats' questions are spread",
    )
    parser.add_argument("--workspaces", type=int, default=4, help="Slack workspaces the chats are spread over")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir; PostgreSQL: a server "
        "(and database to connect through) on which a database of the bench's own is created",
    )
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="the stand-in answers chat.postMessage this much later (real Slack: ~100-300 ms)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the cold reconcile and the sending lanes in the window; print the tops",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    import bot
    from bot.bootstrap import open_database
    from bot.config import Settings
    from bot.db import upgrade
    from bot.sandbox.slack_api import SlackStandIn

    teams = [f"T0SCHED{i:02d}" for i in range(args.workspaces)]
    standin = SlackStandIn(team_id=teams[0])
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="plchat-bench-") as tmp:
        url, admin_url = fresh_database(args.database_url, tmp, file_name="scheduler.db", prefix="plchat_bench_sched_")
        child = None
        try:
            upgrade(url)
            database = open_database(Settings(_env_file=None, database_url=url))
            label = describe(database.engine)
            print(
                f"Python {platform.python_version()}, {label}, APScheduler {version('apscheduler')}, "
                f"{os.cpu_count()} CPUs; bot from {os.path.dirname(bot.__file__)}",
                flush=True,
            )
            started = time.perf_counter()
            now = datetime.now(UTC)
            specs = background_specs(args.chats, args.questions, now, random.Random(args.seed))
            create(database.sessions, specs, teams, "BG")
            del specs
            if database.engine.dialect.name == "postgresql":  # what autovacuum would have done by now
                with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("ANALYZE")
            built_s = time.perf_counter() - started
            print(f"  created {args.chats:,} chats in {built_s:.1f}s", file=sys.stderr, flush=True)

            standin.start()
            if args.slack_latency > 0:
                standin.inject("chat.postMessage", delay=args.slack_latency / 1000, times=10**9)
            ours, theirs = context.Pipe()
            child = context.Process(target=worker_process, args=(url, standin.api_url, theirs, args.profile))
            child.start()
            if not ours.poll(600):
                raise RuntimeError("the worker did not reconcile within 10 minutes")
            _, stats = ours.recv()
            print(
                f"  cold reconcile {stats['cold']['total_s']:.2f}s, warm {stats['warm']['total_s']:.2f}s",
                file=sys.stderr,
                flush=True,
            )

            ready = time.time() + MIN_LEAD
            start_utc = datetime.fromtimestamp(math.ceil(ready / 60) * 60, UTC)
            window = window_specs(args.due_now, args.questions, start_utc, args.window)
            ids = create(database.sessions, window, teams, "NOW")
            # the last question of the chat offset most is due a spacing after `window`
            last_due = start_utc + timedelta(seconds=args.window * (1 + 1 / args.questions) + 1)
            ours.send(("go", start_utc.timestamp(), last_due.timestamp()))
            ours.recv()
            print(
                f"  scheduler started; the due-now chats start at {start_utc:%H:%M:%S} UTC, "
                f"{start_utc.timestamp() - time.time():.0f}s from now",
                file=sys.stderr,
                flush=True,
            )
            expected = args.due_now * (1 + args.questions)
            time.sleep(max(0.0, last_due.timestamp() - time.time()))
            deadline = time.monotonic() + DRAIN  # stragglers: every due post, or give up
            while len(standin.calls_to("chat.postMessage")) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            ours.send(("stop",))
            _, done = ours.recv()
            child.join(30)
            posts, other = window_posts(database.sessions, ids, last_due, args.slack_latency / 1000)
            database.engine.dispose()
        finally:
            if child is not None and child.is_alive():
                child.kill()
            standin.stop()
            if admin_url and not args.keep:
                drop_database(url, admin_url)
    report(label, args, built_s, stats, done, posts, expected, other)


if __name__ == "__main__":
    main()
