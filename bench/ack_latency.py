"""Slack acknowledgement latency: the PLChat app versus a bare Bolt app, under the same gunicorn.

What it measures: the time from sending a signed `/play station rotation` slash command
(POST /slack/events) until the HTTP response -- the ack Slack waits for, at most 3 s -- arrives,
and acks per second, at several client concurrencies. Two servers run side by side, each in its own
child process under bot.web.GunicornServer with identical settings:

  plchat  the real app (bot.bootstrap.build_app + bot.web.create_wsgi_app) on a migrated, synced database;
  bare    a slack_bolt.App whose only `/play` listener calls ack(): the floor Bolt + gunicorn set.

Every response_url points at a SlackStandIn in this process, so PLChat's follow-up replies land somewhere
real; "replies" counts them (bare never replies). How to read it: the plchat/bare ratios are the cost the
bot adds on top of Bolt itself; absolute numbers depend on the machine (client, stand-in and both servers
share its cores), so compare ratios and runs on the same machine. A ~10 ms floor at concurrency 1 is Bolt's
own: its listener runner polls for ack() every 10 ms. It prints figures and asserts nothing.

    .venv/bin/python bench/ack_latency.py [--requests N] [--concurrency 1,16,64] [--database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from typing import Callable, Iterable

from bot.config import Settings
from bot.sandbox import payloads
from bot.sandbox.slack_api import SlackStandIn

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
GUNICORN = {"workers": 1, "worker_class": "gthread", "threads": 8, "timeout": 30, "graceful_timeout": 5,
            "loglevel": "warning"}
WARMUP = 50
WORKSPACE = payloads.Workspace()
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def plchat_app(database_url: str, api_url: str) -> WsgiApp:
    from bot.bootstrap import build_app, open_database
    from bot.web import create_wsgi_app

    settings = Settings(_env_file=None, database_url=database_url, slack_bot_token=TOKEN,
                        slack_signing_secret=SECRET, slack_api_url=api_url)
    database = open_database(settings)
    return create_wsgi_app(build_app(settings, database), database.engine)


def bare_app(api_url: str) -> WsgiApp:
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=api_url))  # auth.test: stand-in
    app.command("/play")(lambda ack: ack())  # Bolt injects arguments by name: this listener only acks
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return slack(environ, start_response)

    return wsgi


def serve(kind: str, port: int, database_url: str, api_url: str) -> None:
    """Child process: gunicorn; each worker builds its app after the fork, as `plchat web` does."""
    from bot.web import GunicornServer

    load = (lambda: plchat_app(database_url, api_url)) if kind == "plchat" else (lambda: bare_app(api_url))
    GunicornServer(load, {**GUNICORN, "bind": f"127.0.0.1:{port}"}).run()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port: int, process: multiprocessing.process.BaseProcess, attempts: int = 150) -> None:
    for _ in range(attempts):
        if not process.is_alive():
            raise RuntimeError(f"server on port {port} exited with code {process.exitcode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {attempts} attempts")


@dataclass
class Run:
    app: str
    concurrency: int
    latencies: list[float]
    errors: list[str]
    seconds: float
    replies: int = 0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def load(app: str, port: int, standin: SlackStandIn, requests: int, concurrency: int) -> Run:
    """`requests` slash commands from `concurrency` threads, each on its own keep-alive connection."""
    start_line = threading.Barrier(concurrency)

    def client(index: int) -> tuple[list[float], list[str]]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies: list[float] = []
        errors: list[str] = []
        try:
            connection.connect()
            start_line.wait(timeout=30)
            for _ in range(index, requests, concurrency):
                body, content_type = payloads.slash_command(WORKSPACE, "/play", "station rotation",
                                                            standin.new_response_url())
                signed = payloads.sign(body, SECRET, content_type)
                started = time.perf_counter()
                try:
                    connection.request("POST", "/slack/events", signed.body, signed.headers)
                    response = connection.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()  # http.client reconnects on the next request
                    errors.append(type(exc).__name__)
                    continue
                if response.status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors.append(f"HTTP {response.status} {answer[:60]!r}")
        finally:
            connection.close()
        return latencies, errors

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="client") as pool:
        results = list(pool.map(client, range(concurrency)))
    seconds = time.perf_counter() - began
    return Run(app, concurrency, [x for r in results for x in r[0]], [e for r in results for e in r[1]], seconds)


def replies_after(standin: SlackStandIn, expected: int, timeout: float = 60.0) -> int:
    """Wait (bounded) until `expected` response_url posts have arrived in all; return how many have."""
    try:
        standin.wait_for(lambda calls: sum(c.kind == "hook" for c in calls) >= expected, timeout)
    except TimeoutError:
        pass
    return len(standin.hooks())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per (app, concurrency) cell")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated client concurrencies")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"Python {platform.python_version()}, slack-bolt {version('slack-bolt')}, gunicorn {version('gunicorn')}, "
          f"{os.cpu_count()} CPUs; gunicorn {GUNICORN}")
    from bot.bootstrap import prepare_embedded

    context = multiprocessing.get_context("spawn")
    standin = SlackStandIn(team_id=WORKSPACE.team_id)
    servers: dict[str, tuple[int, multiprocessing.process.BaseProcess]] = {}
    with tempfile.TemporaryDirectory(prefix="plchat-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        standin.start()
        try:
            settings = Settings(_env_file=None, database_url=database_url, slack_bot_token=TOKEN,
                                slack_signing_secret=SECRET, slack_api_url=standin.api_url)
            prepare_embedded(settings).engine.dispose()
            for kind in ("bare", "plchat"):
                port = free_port()
                process = context.Process(target=serve, args=(kind, port, database_url, standin.api_url))
                process.start()
                servers[kind] = (port, process)
            sent = 0  # acked /play requests to plchat, each owing one reply
            for kind, (port, process) in servers.items():
                wait_ready(port, process)
                warm = load(kind, port, standin, WARMUP, 8)
                sent += len(warm.latencies) if kind == "plchat" else 0
            replies_after(standin, sent)
            runs: list[Run] = []
            for concurrency in levels:
                for kind, (port, _) in servers.items():
                    before = len(standin.hooks())
                    run = load(kind, port, standin, args.requests, concurrency)
                    if kind == "plchat":
                        sent += len(run.latencies)
                    run.replies = replies_after(standin, sent) - before
                    runs.append(run)
                    print(f"  {kind:6} c={concurrency:<3} done in {run.seconds:.1f}s", flush=True)
        finally:
            for port, process in servers.values():
                process.terminate()  # gunicorn's graceful stop, bounded by graceful_timeout
                process.join(15)
                if process.is_alive():
                    process.kill()
            standin.stop()

    print(f"\n{'app':8}{'conc':>5}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>7}{'replies':>8}")
    for r in runs:
        print(f"{r.app:8}{r.concurrency:>5}{len(r.latencies) + len(r.errors):>9}{r.percentile(50):>9.1f}"
              f"{r.percentile(99):>9.1f}{r.per_second:>9.1f}{len(r.errors):>7}{r.replies:>8}")
    print(f"\n{'plchat/bare':11}{'p50':>7}{'p99':>7}{'req/s':>7}")
    for concurrency in levels:
        plchat, bare = (next(r for r in runs if (r.app, r.concurrency) == (a, concurrency)) for a in ("plchat", "bare"))
        ratios = [(x / y if y else float("nan")) for x, y in ((plchat.percentile(50), bare.percentile(50)),
                  (plchat.percentile(99), bare.percentile(99)), (plchat.per_second, bare.per_second))]
        print(f"  c={concurrency:<3}    " + "".join(f"{r:7.2f}" for r in ratios))
    for r in runs:
        for error in sorted(set(r.errors)):
            print(f"error {r.app} c={r.concurrency}: {error} x{r.errors.count(error)}")


if __name__ == "__main__":
    main()
