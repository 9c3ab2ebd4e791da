"""Weekly digests at scale: how much of Slack's per-workspace rate limit the sender uses, and whether a worker
killed mid-run and restarted sends every digest exactly once.

What it measures, on a database built for the run: `--subscribers` DM subscriptions (default 3,000), spread
evenly over `--workspaces` workspaces (default 10), all due at the same moment, plus a few tips per workspace
and the synced playbook, so every digest has content (top tips, a play). One SlackStandIn in this process plays
every workspace: each has its own bot token (`xoxb-<team>`), and the stand-in allows `--rate` chat.postMessage
calls per rolling minute per token (default 180), answering HTTP 429 with Retry-After beyond that.

  PLChat    a worker in its own (spawned) process: `bot.worker.Worker(...)` with a `slack_client_for` giving
            each workspace its WebClient (no retry handlers, as in production), `plan()` once, then
            `deliver()` in a loop, sleeping until `next_delivery()` -- the real clock throughout. Once every
            workspace has finished its measured windows (below) it is killed with SIGKILL mid-send, and a
            second worker process takes over at once (the first one's claims died with it); it runs until
            the outbox holds no open digest row.
  baseline  a bare loop per workspace, one thread each, posting the same digest (text, blocks, metadata) with
            slack_sdk's WebClient to a channel of its own, sleeping Retry-After on a 429: the best a client that
            honours Retry-After can do against the same limit, measured in the same run, before PLChat, with
            tokens of its own (so its calls never count against PLChat's allowance).

Achieved rate, allowed rate: the stand-in's limit is a rolling minute, so a client may send a whole minute's
allowance at once and then waits until the first of those leaves the window. Posts per second over the whole run
would reward that burst (1,000 posts at 600 a minute take 60 s and a bit, "167/s" against 10/s allowed), so the
rate is measured over whole windows: for each workspace, k = (posts it sent before the kill - 1) // rate
windows, from its first accepted post to its (k x rate + 1)-th, which a client posting the instant the limit
allows reaches exactly k minutes after the first. Achieved rate = the sum over workspaces of k x rate / that
time; allowed = workspaces x rate / 60; fraction = achieved / allowed (target >= 0.9; a sender slower than the
limit scores its own speed over the limit). Times are the stand-in's message timestamps (the wall clock when it
accepted each post). "burst/s" is the posts per second of the first window (every workspace sending its first
`rate` posts at once): the sender's own speed, which must be at least the allowed rate to keep up.

Duplicates and misses: after both workers, each subscriber's DM is counted in the stand-in (the messages it
accepted for that user id, or for the DM channel conversations.open gives): duplicates = subscribers with more
than one digest, misses = with none (targets 0 and 0). Outbox states are listed too.

It prints Markdown tables and asserts nothing. About 3 minutes at the defaults (a minute of baseline, a minute
and a bit of PLChat, the restart); 10,000 subscribers at 600 a minute is about as long.

    .venv/bin/python bench/digest_fanout.py
    .venv/bin/python bench/digest_fanout.py --subscribers 10000 --rate 600
    .venv/bin/python bench/digest_fanout.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/digest_fanout.py --kill-at 0.4 --profile
    .venv/bin/python bench/digest_fanout.py --slack-latency 200    # Slack's own answer time, roughly

`--database-url` defaults to a fresh SQLite file in a temp dir, deleted afterwards. For PostgreSQL the URL names
a server and a database to connect to: the bench creates its own database beside it
(plchat_bench_digest_<random>), migrates it and drops it afterwards (`--keep` keeps it), so the given database
is never touched. `--kill-at F` kills the first worker once F of all digests are out instead (the rate is then
measured over the whole windows it finished; none if it finished none).
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import os
import platform
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

from bench_database import drop_database, fresh_database
from bench_profile import profile_sends
from sqlalchemy import insert, make_url

POST = "chat.postMessage"
TARGET_FRACTION = 0.9
TIPS_PER_WORKSPACE = 6
TIMEZONE = "America/New_York"
POLL = 0.05  # seconds between looks at the stand-in's calls while a worker runs
CHILD_TIMEOUT = 900.0  # seconds the second worker may take before it is given up on


def team_of(index: int) -> str:
    return f"T0BENCH{index:02d}"


def user_of(team_index: int, index: int) -> str:
    return f"U{team_index:02d}B{index:06d}"


def product_token(team: str) -> str:
    return f"xoxb-{team}"


def baseline_token(team: str) -> str:
    return f"xoxb-baseline-{team}"


def baseline_channel(team: str) -> str:
    return f"C0BASE{team[-2:]}"


# -- the database ----------------------------------------------------------------------------------------------


def build(database: Any, teams: list[str], per_team: list[int], now: datetime) -> None:
    """Workspaces, their DM subscriptions (all due now) and a few tips from the past week."""
    from bot.db import transaction
    from bot.models import DigestSubscriptionRecord
    from bot.tips.records import NewTip
    from bot.tips.store import ensure_workspace, save_tip

    due = now - timedelta(seconds=1)
    with transaction(database.sessions) as session:
        for t, team in enumerate(teams):
            ensure_workspace(session, team)
            for n in range(TIPS_PER_WORKSPACE):
                save_tip(
                    session,
                    NewTip(
                        team,
                        f"U{t:02d}AUTHOR{n}",
                        f"U{t:02d}AUTHOR{n}",
                        f"Tip {n} for {team}: start the lesson with a two-minute retrieval quiz "
                        f"on last week's topic number {n}, then swap papers to mark.",
                        "slack",
                        tags=("retrieval",),
                        source_ref=f"bench-{team}-{n}",
                    ),
                    now - timedelta(days=1, minutes=n),
                    check_similar=False,
                )
        session.flush()
        rows = [
            dict(
                team_id=team,
                user_id=user_of(t, i),
                channel=user_of(t, i),
                weekday=due.weekday(),
                send_time="07:00",
                timezone=TIMEZONE,
                quiet_weeks="note",
                active=True,
                paused=False,
                reason="",
                next_send=due,
                created_at=now,
                updated_at=now,
            )
            for t, team in enumerate(teams)
            for i in range(per_team[t])
        ]
        for start in range(0, len(rows), 2000):
            session.execute(insert(DigestSubscriptionRecord), rows[start : start + 2000])


def sample_message(database: Any, team: str, now: datetime) -> dict[str, Any]:
    """A digest as the worker renders it (before planning, so without its play): the baseline posts this."""
    from sqlalchemy import select

    from bot.delivery.outbox import Outgoing
    from bot.delivery.render import Renderers
    from bot.digests.planner import period_of
    from bot.links import Links
    from bot.models import DigestSubscriptionRecord
    from bot.slack import delivery

    with database.sessions() as session:
        record = session.scalars(
            select(DigestSubscriptionRecord).where(DigestSubscriptionRecord.team_id == team).limit(1)
        ).one()
        outgoing = Outgoing(
            0,
            "digest:sample",
            team,
            f"digest:{record.id}",
            "slack",
            record.channel,
            now,
            None,
            {"subscription_id": record.id, "period": period_of(now.date())},
            1,
            None,
        )
        renderers = Renderers()
        delivery.register(renderers, Links(), lambda: now)
        message = renderers(session, outgoing)
    assert isinstance(message, dict), message
    return message


# -- the worker (child process) --------------------------------------------------------------------------------


def worker_process(url: str, api_url: str, label: str, profile_path: str | None, conn: Any) -> None:
    """Plan, then deliver until no digest row is open."""
    logging.basicConfig(level=logging.WARNING, format=f"  [{label}] %(levelname)s %(name)s: %(message)s")
    from slack_sdk import WebClient

    from bot.bootstrap import open_database
    from bot.config import Settings
    from bot.delivery import outbox
    from bot.worker import Worker

    settings = Settings(_env_file=None, database_url=url, slack_api_url=api_url)
    database = open_database(settings)
    clients: dict[str, WebClient] = {}
    lock = threading.Lock()

    def client_for(team: str) -> WebClient:
        with lock:
            if team not in clients:
                clients[team] = WebClient(token=product_token(team), base_url=api_url, timeout=10, retry_handlers=[])
            return clients[team]

    worker = Worker(settings, database, lambda: datetime.now(UTC), slack_client_for=client_for)
    lane_profiles = profile_sends(worker.sender) if profile_path else []  # the sender's threads, merged when saved

    def save_profile() -> None:
        if profile_path and lane_profiles:
            stats = pstats.Stats(lane_profiles[0])
            for more in lane_profiles[1:]:
                stats.add(more)
            stats.dump_stats(profile_path + ".tmp")
            os.replace(profile_path + ".tmp", profile_path)

    started = time.monotonic()
    planned = worker.plan()
    conn.send(("planned", planned, time.monotonic() - started))
    runs, saved = 0, time.monotonic()
    while True:
        worker.deliver("digest:")
        runs += 1
        if profile_path and time.monotonic() - saved > 5:
            save_profile()
            saved = time.monotonic()
        with database.sessions() as session:
            now_open = digest_states(session)
        if not sum(now_open.get(state, 0) for state in (*outbox.OPEN_STATES, "stuck")):
            break
        wait = (worker.next_delivery() - worker.clock()).total_seconds()
        if wait > 0:
            time.sleep(wait)
    save_profile()
    conn.send(("done", runs))
    worker.close()
    database.engine.dispose()


def digest_states(session: Any) -> dict[str, int]:
    """How many digest rows are in each state (`stuck`: claimed by a sender that is gone)."""
    from bot.delivery import outbox
    from bot.delivery.lease import live_senders

    total: Counter[str] = Counter()
    for (_team, state), n in outbox.counts(session, live_senders(session, datetime.now(UTC)), "digest:").items():
        total[state] += n
    return dict(sorted(total.items()))


# -- the baseline ----------------------------------------------------------------------------------------------


def baseline(api_url: str, teams: list[str], posts: int, message: dict[str, Any]) -> dict[str, int]:
    """Each workspace posts `posts` times as fast as the limit lets it, sleeping Retry-After on a 429."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    rate_limited: Counter[str] = Counter()

    def loop(team: str) -> None:
        client = WebClient(token=baseline_token(team), base_url=api_url, timeout=10, retry_handlers=[])
        sent = 0
        while sent < posts:
            try:
                client.chat_postMessage(
                    channel=baseline_channel(team),
                    text=message["text"],
                    blocks=message.get("blocks"),
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": "plchat_post", "event_payload": {"key": f"baseline:{team}:{sent}"}},
                )
                sent += 1
            except SlackApiError as exc:
                if exc.response.status_code != 429:
                    raise
                rate_limited[team] += 1
                time.sleep(float(exc.response.headers.get("Retry-After", 1)))

    threads = [threading.Thread(target=loop, args=(team,), name=f"baseline-{team}") for team in teams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(rate_limited)


# -- the measures ----------------------------------------------------------------------------------------------


@dataclass
class Rate:
    windows: list[int]  # k per workspace
    achieved: float  # posts/s over whole windows, summed over workspaces
    allowed: float
    burst: float  # posts/s over the first window, all workspaces together
    per_lane: list[float]  # each workspace's fraction

    @property
    def fraction(self) -> float:
        return self.achieved / self.allowed if self.allowed else float("nan")


def rate_over_windows(lanes: list[list[float]], rate: int) -> Rate:
    """`lanes`: each workspace's accepted post times (s), oldest first, counting only what the measured client
    sent. See the module docstring."""
    windows, achieved, per_lane, first_window = [], 0.0, [], []
    for times in lanes:
        k = (len(times) - 1) // rate if times else 0
        windows.append(k)
        if k:
            took = times[k * rate] - times[0]
            achieved += k * rate / took
            per_lane.append(k * rate / took / (rate / 60))
        first_window.extend(times[:rate])
    allowed = len(lanes) * rate / 60 if all(windows) else 0.0
    burst = (len(first_window) - 1) / (max(first_window) - min(first_window)) if len(first_window) > 1 else 0.0
    return Rate(windows, achieved if all(windows) else float("nan"), allowed, burst, per_lane)


def accepted(standin: Any, channel: str) -> set[str]:
    """The ts of the messages the stand-in accepted for `channel`; for a user id, those filed under the id and
    under the DM channel conversations.open gives (a message's ts is unique, so none is counted twice)."""
    from bot.sandbox.slack_api import _dm_id

    places = {channel, _dm_id(channel)} if channel.startswith(("U", "W")) else {channel}
    return {m["ts"] for place in places for m in standin.messages_in(place)}


def post_times(standin: Any, channels: list[str]) -> list[float]:
    return sorted(float(ts) for channel in channels for ts in accepted(standin, channel))


def dm_counts(standin: Any, users: list[str]) -> Counter[str]:
    """How many messages the stand-in accepted for each user's DM."""
    return Counter({user: len(accepted(standin, user)) for user in users})


class PostWatch:
    """Counts the accepted chat.postMessage calls per token, incrementally, from the stand-in's record."""

    def __init__(self, standin: Any):
        self.standin, self.seen = standin, 0
        self.ok: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def update(self) -> None:
        calls = self.standin.calls
        for call in calls[self.seen :]:
            if call.kind == "api" and call.method == POST:
                (self.ok if call.status == 200 else self.refused)[call.token or ""] += 1
        self.seen = len(calls)


def profile_text(path: str) -> str:
    if not os.path.exists(path):
        return "(no profile: the worker saved none)"
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(25)
    return out.getvalue()


# -- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=3000, help="DM subscriptions, spread over the workspaces")
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument(
        "--rate",
        type=int,
        default=180,
        metavar="PER_MINUTE",
        help="chat.postMessage calls each workspace may make per rolling minute",
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=None,
        metavar="FRACTION",
        help="kill the first worker once this fraction of the digests is out (default: once every "
        "workspace has finished its whole windows)",
    )
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir; PostgreSQL: a server "
        "(the bench creates and drops its own database there)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="the stand-in answers chat.postMessage, conversations.open and conversations.history "
        "this much later (real Slack: ~100-300 ms)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the first worker's sending lanes and print the top functions"
    )
    args = parser.parse_args()
    if args.subscribers < args.workspaces or args.rate < 1:
        parser.error("need at least one subscriber per workspace and a rate of at least 1")

    from bot import db
    from bot.bootstrap import open_database, sync_playbook
    from bot.config import Settings
    from bot.sandbox.slack_api import SlackStandIn

    teams = [team_of(t) for t in range(args.workspaces)]
    per_team = [
        args.subscribers // args.workspaces + (t < args.subscribers % args.workspaces) for t in range(args.workspaces)
    ]
    users = {team: [user_of(t, i) for i in range(per_team[t])] for t, team in enumerate(teams)}
    windows_wanted = [(n - 1) // args.rate for n in per_team]
    if args.kill_at is None and not all(windows_wanted):
        print(
            f"note: {min(per_team)} subscribers in a workspace is not more than --rate {args.rate}: the limit "
            "never binds, so there is no rate to measure; killing at 40 % instead."
        )
        args.kill_at = 0.4
    kill_after = (
        {product_token(team): k * args.rate + 1 for team, k in zip(teams, windows_wanted, strict=True)}
        if args.kill_at is None
        else None
    )

    tmp = tempfile.mkdtemp(prefix="plchat-digest-bench-")
    url, admin_url = fresh_database(args.database_url, tmp, file_name="digests.db", prefix="plchat_bench_digest_")
    spawn = multiprocessing.get_context("spawn")
    standin = SlackStandIn(team_id="T0BENCH")
    standin.start()
    try:
        built_at = time.monotonic()
        db.upgrade(url)
        database = open_database(Settings(_env_file=None, database_url=url))
        sync_playbook(database)
        now = datetime.now(UTC)
        build(database, teams, per_team, now)
        built_s = time.monotonic() - built_at
        message = sample_message(database, teams[0], now)
        with database.engine.connect() as connection:
            engine_name = (
                f"SQLite {connection.exec_driver_sql('select sqlite_version()').scalar()}"
                if database.engine.dialect.name == "sqlite"
                else connection.exec_driver_sql("show server_version").scalar()
            )
        print(
            f"digest_fanout: {args.subscribers:,} DM subscribers over {args.workspaces} workspaces, "
            f"{args.rate}/min chat.postMessage per workspace; Slack answers after {args.slack_latency:g} ms; "
            f"{engine_name} "
            f"({make_url(url).render_as_string()}); Python {platform.python_version()}, slack_sdk "
            f"{version('slack_sdk')}, SQLAlchemy {version('sqlalchemy')}, {os.cpu_count()} CPU(s); bot from "
            f"{os.path.dirname(sys.modules['bot'].__file__ or '')}. Database built in {built_s:.1f} s. "
            f"A digest is {len(message.get('blocks') or [])} blocks.\n",
            flush=True,
        )

        if args.slack_latency > 0:
            for method in (POST, "conversations.open", "conversations.history"):
                standin.inject(method, delay=args.slack_latency / 1000, times=10**9)
        # The baseline: the same number of posts as PLChat's measured windows, per workspace.
        standin.rate_limit(POST, args.rate)
        base_posts = max(1, min(k * args.rate + 1 for k in windows_wanted)) if all(windows_wanted) else min(per_team)
        print(f"baseline: {base_posts} posts per workspace, bare WebClient loops ...", flush=True)
        base_started = time.monotonic()
        base_429 = baseline(standin.api_url, teams, base_posts, message)
        base_s = time.monotonic() - base_started
        base_rate = rate_over_windows([post_times(standin, [baseline_channel(team)]) for team in teams], args.rate)

        # PLChat: the first worker, killed mid-send; the second, a minute ahead, finishes.
        standin.rate_limit(POST, args.rate)  # fresh windows (the baseline's tokens are its own anyway)
        profile_path = os.path.join(tmp, "worker1.prof") if args.profile else None
        print("PLChat: first worker ...", flush=True)
        watch = PostWatch(standin)
        parent_end, child_end = spawn.Pipe()
        first = spawn.Process(
            target=worker_process,
            name="digest-worker-1",
            args=(url, standin.api_url, "worker 1", profile_path, child_end),
        )
        first.start()
        planned, plan_s, killed_at, finished_early = 0, 0.0, None, False
        while True:
            if parent_end.poll():
                kind, *rest = parent_end.recv()
                if kind == "planned":
                    planned, plan_s = rest
                elif kind == "done":
                    finished_early = True
            watch.update()
            ready = (
                all(watch.ok[token] >= n for token, n in kill_after.items())
                if kill_after is not None
                else sum(watch.ok[product_token(team)] for team in teams) >= args.kill_at * args.subscribers
            )
            if ready or finished_early or not first.is_alive():
                break
            time.sleep(POLL)
        if first.is_alive() and not finished_early:
            first.kill()  # SIGKILL: no cleanup, no finally
            killed_at = time.time()
        first.join()
        watch.update()
        by_first = sum(watch.ok[product_token(team)] for team in teams)
        lanes = []
        for team in teams:
            times = post_times(standin, users[team])
            lanes.append([t for t in times if killed_at is None or t <= killed_at])
        product_rate = rate_over_windows(lanes, args.rate)
        with database.sessions() as session:
            at_kill = digest_states(session)
        print(
            f"  killed after {by_first:,} of {args.subscribers:,} posts; outbox then {at_kill}"
            if killed_at
            else f"  the first worker finished before it could be killed (exit code {first.exitcode})",
            flush=True,
        )

        second_s, calls_before = 0.0, len(standin.calls)
        if killed_at is not None:
            print("PLChat: second worker ...", flush=True)
            parent_end, child_end = spawn.Pipe()
            second = spawn.Process(
                target=worker_process, name="digest-worker-2", args=(url, standin.api_url, "worker 2", None, child_end)
            )
            second_started = time.monotonic()
            second.start()
            second.join(CHILD_TIMEOUT)
            if second.is_alive():
                print(f"  the second worker was still running after {CHILD_TIMEOUT:.0f} s: killed", flush=True)
                second.kill()
                second.join()
            second_s = time.monotonic() - second_started
        after = standin.calls[calls_before:]
        resumed_checks = sum(1 for c in after if c.kind == "api" and c.method == "conversations.history")

        counts = Counter()
        for team in teams:
            counts.update(dm_counts(standin, users[team]))
        duplicates = sum(1 for n in counts.values() if n > 1)
        extra = sum(n - 1 for n in counts.values() if n > 1)
        misses = sum(1 for n in counts.values() if n == 0)
        with database.sessions() as session:
            final = digest_states(session)
        watch.update()
        refused = sum(watch.refused[product_token(team)] for team in teams)

        print(
            f"\n| {args.subscribers:,} subscribers, {args.workspaces} workspaces, {args.rate}/min each "
            f"| windows | allowed posts/s | achieved posts/s | fraction (target ≥ {TARGET_FRACTION}) | burst/s "
            "| duplicates (target 0) | misses (target 0) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, r, dup, miss in (
            ("PLChat worker (killed, restarted)", product_rate, str(duplicates), str(misses)),
            ("bare WebClient loop (baseline)", base_rate, "-", "-"),
        ):
            k = f"{min(r.windows)}" if min(r.windows) == max(r.windows) else f"{min(r.windows)}-{max(r.windows)}"
            print(
                f"| {name} | {k} | {r.allowed:.1f} | {r.achieved:.1f} | {r.fraction:.3f} | {r.burst:.0f} "
                f"| {dup} | {miss} |"
            )
        ratio = product_rate.fraction / base_rate.fraction if base_rate.fraction else float("nan")
        spread = (
            f"{min(product_rate.per_lane):.3f}-{max(product_rate.per_lane):.3f}" if product_rate.per_lane else "n/a"
        )
        print(
            f"\nPLChat/baseline fraction: {ratio:.3f}. Per-workspace fractions: PLChat {spread}, baseline "
            + (f"{min(base_rate.per_lane):.3f}-{max(base_rate.per_lane):.3f}" if base_rate.per_lane else "n/a")
            + f". The first worker planned {planned:,} digests in {plan_s:.2f} s (not timed above) and had "
            f"{by_first:,} posts accepted before the kill; the second took {second_s:.1f} s (start-up included) "
            f"for the rest, checking {resumed_checks} DM histories (conversations.history) for posts the first "
            f"may have sent. Outbox at the end: {final}. 429s answered to PLChat: {refused:,}; to the baseline: "
            f"{sum(base_429.values()):,} over {base_s:.1f} s."
        )
        if duplicates or misses:
            print(f"\n{duplicates} subscriber(s) got {extra} extra digest(s); {misses} got none.")
            worst = [user for user, n in counts.most_common(5) if n > 1]
            if worst:
                print(f"  e.g. {', '.join(f'{u} x{counts[u]}' for u in worst)}")
        if profile_path:
            print("\ncProfile of the first worker's sending lanes (to its last save, every 5 s):\n```")
            print("\n".join(line for line in profile_text(profile_path).splitlines() if line.strip())[:12000])
            print("```")
        database.engine.dispose()
    finally:
        standin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if admin_url is not None and not args.keep:
            drop_database(url, admin_url)
        elif admin_url is not None:
            print(f"kept {make_url(url).render_as_string()}")


if __name__ == "__main__":
    main()
