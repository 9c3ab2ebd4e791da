"""Kill -9 a sender at random points, under rate limits, and rerun `plchat digest send` at once: every digest must
go out exactly once.

Each run subscribes `--subscribers` people (over two workspaces, due now), starts the worker's sender in its own
process, kills it with SIGKILL once the Slack stand-in has accepted a random number of digests (0 to all but
one), then runs `plchat digest send` (a real subprocess, as an operator would) straight away. The stand-in
answers each post after `--latency` ms and answers HTTP 429 (Retry-After: 1) once a run at a random point, so
the kill lands in sends, in claimed-but-waiting rows and in rate-limited lanes. After each run it counts, per
subscriber, the digests their DM got. Prints runs, digests owed, lost (none arrived) and duplicated (more than
one), rows the rerun took over from the killed sender, and the rerun's time: lost and duplicated must be 0.

    .venv/bin/python bench/kill_senders.py
    .venv/bin/python bench/kill_senders.py --runs 100 --subscribers 40
    .venv/bin/python bench/kill_senders.py --database-url postgresql://postgres@127.0.0.1:5432/plchat_bench
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_database import bench_database

from bot.sandbox.crash_run import POST, posted, start_sender, subscribe, wait_for_posts
from bot.sandbox.harness import SANDBOX_TOKEN
from bot.sandbox.slack_api import SlackStandIn

PLCHAT = str(Path(sys.executable).with_name("plchat"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--subscribers", type=int, default=24, help="per run, over two workspaces")
    parser.add_argument("--latency", type=float, default=30, help="ms the stand-in takes to answer a post")
    parser.add_argument(
        "--history-per-minute",
        type=int,
        default=50,
        help="SLACK_HISTORY_PER_MINUTE for the rerun's crash checks (50: an internal app's Tier 3; "
        "1, a distributed app's, makes each rerun take a minute per check)",
    )
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    owed = lost = duplicated = taken_over = 0
    rerun_seconds: list[float] = []
    with bench_database(args.database_url, prefix="plchat_bench_kill_") as database, SlackStandIn() as slack:
        url = database.engine.url.render_as_string(hide_password=False)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
            "SLACK_API_URL": slack.api_url,
            "SLACK_HISTORY_PER_MINUTE": str(args.history_per_minute),
        }
        print(
            f"PLChat kill -9: {args.runs} runs of {args.subscribers} digests, {database.engine.dialect.name}",
            flush=True,
        )
        for run in range(1, args.runs + 1):
            teams = tuple(f"T{uuid.uuid4().hex[:8].upper()}" for _ in range(2))
            users = subscribe(database.sessions, teams, args.subscribers // 2, datetime.now(UTC))
            slack.clear()
            slack.clear_faults()
            slack.inject(POST, delay=args.latency / 1000, times=rng.randint(1, len(users)))
            slack.inject(POST, status=429, retry_after=1)
            slack.inject(POST, delay=args.latency / 1000, times=10**9)
            process, started = start_sender(url, slack.api_url, SANDBOX_TOKEN)
            started.wait(60)
            kill_at = rng.randint(0, len(users) - 1)
            wait_for_posts(slack, users, kill_at)
            process.kill()
            process.join()
            before = sum(posted(slack, users).values())
            began = time.monotonic()
            rerun = subprocess.run(
                [PLCHAT, "digest", "send"], env=env, capture_output=True, text=True, timeout=300, check=False
            )  # its exit code is part of what the bench reports
            rerun_seconds.append(time.monotonic() - began)
            got = posted(slack, users)
            run_lost = sum(1 for count in got.values() if count == 0)
            run_dup = sum(1 for count in got.values() if count > 1)
            recovered = re.search(r"Recovered (\d+)", rerun.stdout)
            owed, lost, duplicated = owed + len(users), lost + run_lost, duplicated + run_dup
            taken_over += int(recovered.group(1)) if recovered else 0
            if rerun.returncode or run_lost or run_dup:
                print(
                    f"  run {run}: killed after {before}, rerun exit {rerun.returncode}, lost {run_lost}, "
                    f"duplicated {run_dup}\n{rerun.stdout}{rerun.stderr}",
                    flush=True,
                )
            elif run % 10 == 0:
                print(f"  {run} runs", flush=True)
    rerun_seconds.sort()
    print(f"runs                {args.runs}")
    print(f"digests owed        {owed}")
    print(f"lost                {lost}")
    print(f"duplicated          {duplicated}")
    print(f"taken over by rerun {taken_over} rows a killed sender had claimed")
    print(f"rerun, s            p50 {rerun_seconds[len(rerun_seconds) // 2]:.2f}, max {rerun_seconds[-1]:.2f}")
    return 0 if not (lost or duplicated) else 1


if __name__ == "__main__":
    sys.exit(main())
