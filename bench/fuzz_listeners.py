"""Bounded fuzz of every listener over signed HTTP: hostile texts (Slack markup and its escaped forms, broadcasts,
HTML, Markdown, FTS and SQL syntax, control, RTL and zero-width characters, lone surrogates, 40 KB) sent to every
entry point (`bot.sandbox.hostile.ENTRY_POINTS`: slash commands and their filters, the message shortcut, the
reaction, thread replies, every form, every button with junk values), as a moderator. Prints how many
inputs and requests were tried, and the non-2xx answers, tracebacks and live mentions found: each must be 0.

    .venv/bin/python bench/fuzz_listeners.py
    .venv/bin/python bench/fuzz_listeners.py --texts 200 --seed 7
    .venv/bin/python bench/fuzz_listeners.py --database-url postgresql://postgres@127.0.0.1:5432/plchat_bench
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_database import bench_database

from bot.sandbox.harness import BotHarness
from bot.sandbox.hostile import ENTRY_POINTS, entry_points, hostile_text, problems, seed_question
from bot.slack.services import Services

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


class Tracebacks(logging.Handler):
    """Counts what the bot logged with a traceback (a listener that raised)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.found.append(f"{record.name}: {record.getMessage()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=604, help="hostile texts, each sent to every entry point")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--seconds", type=float, default=900, help="stop after this long, whatever is left")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    texts = [hostile_text(rng) for _ in range(args.texts)]
    tracebacks = Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    logging.getLogger().setLevel(logging.WARNING)
    found: Counter[str] = Counter()
    examples: dict[str, str] = {}
    requests = 0
    deadline = time.monotonic() + args.seconds
    with bench_database(args.database_url) as database:
        services = Services(
            database.sessions, clock=lambda: NOW, rng=random.Random(args.seed), moderators=frozenset({"U0TEACHER"})
        )
        with BotHarness(database, services=services) as harness:
            drive = entry_points(harness, seed_question(harness, database.sessions, NOW))
            print(
                f"PLChat fuzz: {len(texts)} texts x {len(ENTRY_POINTS)} entry points, {database.engine.dialect.name}",
                flush=True,
            )
            for number, text in enumerate(texts, 1):
                if time.monotonic() > deadline:
                    print(f"stopped after {args.seconds:.0f} s, at text {number}")
                    break
                for name in ENTRY_POINTS:
                    before = len(tracebacks.found)
                    exchange = drive[name](text)
                    requests += 1
                    for problem in problems(exchange, text):
                        kind = "non-2xx" if problem.startswith("HTTP") else "live" if " live " in problem else "failed"
                        found[kind] += 1
                        examples.setdefault(f"{kind} {name}", f"{problem} for {text[:80]!r}")
                    if len(tracebacks.found) > before:
                        found["tracebacks"] += len(tracebacks.found) - before
                        examples.setdefault(f"traceback {name}", f"{tracebacks.found[-1]} for {text[:80]!r}")
                if number % 100 == 0:
                    print(f"  {number} texts, {requests} requests", flush=True)
    print(f"inputs tried        {len(texts)}")
    print(f"requests sent       {requests}")
    print(f"non-2xx answers     {found['non-2xx']}")
    print(f"tracebacks          {found['tracebacks']} (listeners that failed: {found['failed']})")
    print(f"live mentions       {found['live']}")
    for what, example in sorted(examples.items()):
        print(f"  {what}: {example}")
    return 0 if not any(found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
