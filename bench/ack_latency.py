"""Slack acknowledgement latency: the PLChat app versus a bare Bolt app, under the same gunicorn.

What it measures: the time from sending a signed request -- by default the `/play station rotation`
slash command -- to POST /slack/events until the HTTP response arrives (the ack Slack waits for, at most
3 s), and acks per second, at several client concurrencies. Two servers run side by side, each in its own
child process under bot.web.GunicornServer with identical settings:

  plchat  the real app (bot.bootstrap.build_app + bot.web.create_wsgi_app) on a migrated, synced database;
  bare    a slack_bolt.App (default settings; `--bare-process-before-response` to ack on the request
          thread as PLChat does) whose listeners for the same commands and events only call ack(): the
          floor Bolt + gunicorn set.

`--command` picks the requests (repeat it, or separate with commas; each is measured in turn, in the order
given): a slash command with its text, such as `/tips exit tickets` or `/tip Exit tickets every Friday
#assessment`, or `reaction` -- a `reaction_added` event_callback (the tip reaction on a message), for which
PLChat reads the message with conversations.history, asks chat.getPermalink and answers with
chat.postEphemeral. `/tip` texts get " (bench N nN)" before their trailing tags, so every request saves a new
tip (no near-duplicate "held" replies) unless `--tip-text same` sends the identical text each time, when
only the first is saved and the rest are held. Reacted messages are always distinct. When `/tips` is
measured, 40 varied tips (a dozen about exit tickets) are first shared with `/tip` so the search has
something to find; tips saved by earlier `/tip` or `reaction` cells stay in the database too.

Every response_url points at a SlackStandIn in this process (it keeps channel messages, so the reaction's
conversations.history and chat.getPermalink work), so PLChat's follow-up replies land somewhere real. Every
request PLChat acks owes exactly one reply; one it refuses because its bounded reply pool is full says so in
its ack (slash commands) or answers HTTP 500 so that Slack retries it (events), and owes none. "replies"
counts them (response_url posts, chat.postEphemeral, chat.postMessage; bare never replies), "busy" the
refusals, "bad" the replies the stand-in refused, "lost" acked requests left without a reply, "dup"
response_urls posted to twice (slash commands only), "drain s" how long after the last request the owed
replies took to arrive, and "ans/s" the real answers (not busy) per second from the first request to the
last reply: the bot's reply capacity, which unlike acks per second is bounded by its reply pool. The replies'
kinds (their text up to the first colon) are listed per command. How to read it: the plchat/bare
ratios are the cost the bot adds on top of Bolt itself; absolute numbers depend on the machine (client,
stand-in and both servers share its cores), so compare ratios and runs on the same machine. By default
the bare app acks slash commands from Bolt's listener thread, which the request thread polls every 10 ms:
a ~10 ms floor at concurrency 1 that PLChat, acking on the request thread, does not pay (events are acked
before any listener runs either way). It prints figures and asserts nothing.

    .venv/bin/python bench/ack_latency.py [--requests N] [--concurrency 1,16,64] [--database-url URL]
                                          [--command '/play station rotation' ...] [--tip-text unique|same]
                                          [--bare-process-before-response]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import multiprocessing
import os
import platform
import re
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version

import bot
from bot.config import Settings
from bot.sandbox import payloads
from bot.sandbox.slack_api import RecordedCall, SlackStandIn

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
GUNICORN = {
    "workers": 1,
    "worker_class": "gthread",
    "threads": 8,
    "timeout": 30,
    "graceful_timeout": 5,
    "loglevel": "warning",
}
WARMUP = 50
WORKSPACE = payloads.Workspace()
DEFAULT_COMMAND = "/play station rotation"
REACTION = "reaction"
BUSY_ACK = b"very busy"  # bot.slack.deferred.BUSY, as a refused slash command's ack says it
TIP_REACTION = "bulb"  # PLCHAT_TIP_REACTION's default
COLLEAGUE = "U0COLLEAGUE"
REPLY_METHODS = ("chat.postEphemeral", "chat.postMessage")
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

SEED_OPENERS = (
    "Exit tickets with one question",
    "Exit tickets on sticky notes",
    "Two-question exit tickets",
    "Exit tickets sorted into three piles",
    "Digital exit tickets in a form",
    "Exit tickets that ask what was confusing",
    "Think-pair-share before independent work",
    "Cold call with wait time",
    "Mini whiteboards for every student",
    "Number the heads in each group",
)
SEED_CLOSERS = (
    "show who needs a reteach tomorrow",
    "take two minutes at the end of the lesson",
    "let quiet students ask questions privately",
    "make grouping for the next lesson quick",
)


# -- the servers (child processes) ------------------------------------------------------------


def plchat_app(database_url: str, api_url: str) -> WsgiApp:
    from bot.bootstrap import build_app, open_database
    from bot.web import create_wsgi_app

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
    )
    database = open_database(settings)
    return create_wsgi_app(build_app(settings, database), database.engine)


def bare_app(api_url: str, commands: list[str], before_response: bool) -> WsgiApp:
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=api_url),  # auth.test: stand-in
        process_before_response=before_response,
    )
    for command in commands:  # Bolt injects arguments by name: these listeners only ack
        app.command(command)(lambda ack: ack())
    app.event("reaction_added")(lambda ack: ack())
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return slack(environ, start_response)

    return wsgi


def serve(kind: str, port: int, database_url: str, api_url: str, commands: list[str], before_response: bool) -> None:
    """Child process: gunicorn; each worker builds its app after the fork, as `plchat web` does."""
    from bot.web import GunicornServer

    print(f"  {kind} server: bot from {os.path.dirname(bot.__file__)}", flush=True)
    load = (
        (lambda: plchat_app(database_url, api_url))
        if kind == "plchat"
        else (lambda: bare_app(api_url, commands, before_response))
    )
    GunicornServer(load, {**GUNICORN, "bind": f"127.0.0.1:{port}"}).run()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port: int, process: multiprocessing.process.BaseProcess, attempts: int = 150) -> None:
    for _ in range(attempts):
        if not process.is_alive():
            raise RuntimeError(f"server on port {port} exited with code {process.exitcode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {attempts} attempts")


def marker(serial: int) -> str:
    """Two words no other request has: enough to keep similar texts below the near-duplicate threshold."""
    return f" (bench {serial} n{serial})"


def is_reply(call: RecordedCall) -> bool:
    return call.kind == "hook" or (call.kind == "api" and call.method in REPLY_METHODS)


def is_bad(call: RecordedCall) -> bool:
    return call.status != 200


def reply_kind(call: RecordedCall) -> str:
    text = str(call.args.get("text") or "")
    text = re.sub(r"\(bench \d+ n\d+\)|\d+", "N", text)  # fold the per-request numbers
    return (text.split(":", 1)[0] if ":" in text[:60] else text[:60]).strip() or "(no text)"


# -- the requests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One kind of request: a slash command with its text, or the tip reaction."""

    label: str
    command: str | None  # None: the reaction event
    text: str = ""
    unique_text: bool = False

    @classmethod
    def parse(cls, spec: str, tip_text: str) -> Workload:
        spec = " ".join(spec.split())
        if spec.lower() in (REACTION, "reaction_added"):
            return cls(REACTION, None)
        if not spec.startswith("/"):
            raise argparse.ArgumentTypeError(f"--command {spec!r}: a slash command (e.g. /play list) or {REACTION!r}")
        command, _, text = spec.partition(" ")
        return cls(spec, command, text, unique_text=command == "/tip" and tip_text == "unique")

    def request(self, standin: SlackStandIn, serial: int) -> tuple[bytes, str]:
        if self.command is None:  # a colleague's distinct message, which the bot reads back to save it
            message = standin.seed_message(
                WORKSPACE.channel_id, COLLEAGUE, f"A colleague's exit tickets every Friday{marker(serial)} #assessment"
            )
            return payloads.event_callback(
                WORKSPACE, payloads.reaction_added(WORKSPACE, TIP_REACTION, message), bot_user_id=standin.bot_user_id
            )
        text = self.text
        if self.unique_text:  # before the trailing #tags, which the bot reads as the tip's tags
            body, tags = re.match(r"(.*?)((?:\s+#[\w-]+)*)\s*$", text, re.DOTALL).groups()
            text = f"{body}{marker(serial)}{tags}"
        return payloads.slash_command(WORKSPACE, self.command, text, standin.new_response_url())


@dataclass
class Run:
    command: str
    app: str
    concurrency: int
    latencies: list[float]
    errors: list[str]
    seconds: float
    refused: int = 0  # PLChat's reply pool was full: "very busy" in the ack (commands) or HTTP 500 (events)
    refused_latencies: list[float] = field(default_factory=list)  # how long those answers took
    hooks: list[str] = field(default_factory=list)  # response_url paths of the answered slash commands
    replies: int = 0
    bad_replies: int = 0
    lost: int = 0  # answered requests without a reply
    duplicated: int = 0  # response_urls posted to more than once
    drain: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def answers_per_second(self) -> float:
        """Replies other than "I'm very busy" per second, from the first request until the last reply."""
        useful = self.replies - sum(n for kind, n in self.kinds.items() if kind.startswith("I'm very busy"))
        return useful / (self.seconds + self.drain) if self.replies else 0.0


_serials = itertools.count(1)  # distinct tip texts and reacted messages across the whole run


def load(app: str, port: int, standin: SlackStandIn, workload: Workload, requests: int, concurrency: int) -> Run:
    """`requests` requests from `concurrency` threads, each on its own keep-alive connection."""
    start_line = threading.Barrier(concurrency)

    def client(index: int) -> tuple[list[float], list[str], list[str]]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies: list[float] = []
        errors: list[str] = []
        hooks: list[str] = []  # of the requests the server answered (200 or 5xx)
        refusals: list[float] = []
        try:
            connection.connect()
            start_line.wait(timeout=30)
            for _ in range(index, requests, concurrency):
                body, content_type = workload.request(standin, next(_serials))
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
                took = time.perf_counter() - started
                if response.status >= 500 or (response.status == 200 and BUSY_ACK in answer):
                    refusals.append(took)  # answered in the ack, or left for Slack to retry: owes no reply
                elif response.status == 200:
                    latencies.append(took)
                    hooks += re.findall(r"response_url=[^&]*%2Fhooks%2F(\d+)", body.decode("ascii", "replace"))
                if response.status != 200:
                    errors.append(f"HTTP {response.status} {answer[:60]!r}")
        finally:
            connection.close()
        return latencies, errors, hooks, refusals

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="client") as pool:
        results = list(pool.map(client, range(concurrency)))
    seconds = time.perf_counter() - began
    run = Run(
        workload.label,
        app,
        concurrency,
        [x for r in results for x in r[0]],
        [e for r in results for e in r[1]],
        seconds,
        hooks=[f"/hooks/{h}" for r in results for h in r[2]],
    )
    run.refused_latencies = [x for r in results for x in r[3]]
    run.refused = len(run.refused_latencies)
    return run


def replies_after(
    standin: SlackStandIn, mark: int, expected: int, timeout: float = 120.0, quiet: float = 0.0
) -> list[RecordedCall]:
    """Wait (bounded) until `expected` replies have arrived since call number `mark`, then until the stand-in
    has had no call for `quiet` seconds (so stragglers of this cell don't land in the next); return them."""
    deadline = time.monotonic() + timeout
    try:
        standin.wait_for(lambda calls: sum(map(is_reply, calls[mark:])) >= expected, timeout)
    except TimeoutError:
        pass
    seen = -1
    while quiet and seen != len(standin.calls) and time.monotonic() < deadline:
        seen = len(standin.calls)
        time.sleep(quiet)
    return [c for c in standin.calls[mark:] if is_reply(c)]


def measure(kind: str, port: int, standin: SlackStandIn, workload: Workload, requests: int, concurrency: int) -> Run:
    mark = len(standin.calls)
    run = load(kind, port, standin, workload, requests, concurrency)
    finished = time.perf_counter()
    # Each acked request owes one reply; a refused one was told it in its ack (or Slack retries an event).
    owed = len(run.latencies) if kind == "plchat" else 0
    replies_after(standin, mark, owed)
    run.drain = time.perf_counter() - finished if owed else 0.0
    replies = replies_after(standin, mark, owed, quiet=0.5)  # and no more: duplicates would show
    run.replies, run.bad_replies = len(replies), sum(map(is_bad, replies))
    run.lost = max(0, owed - run.replies)
    if run.hooks and owed:  # slash commands: check reply by reply
        posted = Counter(c.method for c in replies if c.kind == "hook")
        run.lost = sum(posted[h] == 0 for h in run.hooks)
        run.duplicated = sum(n > 1 for n in posted.values())
    run.kinds = Counter(map(reply_kind, replies))
    return run


def seed_tips(port: int, standin: SlackStandIn) -> Counter[str]:
    """Share varied tips through /tip, so /tips has some to find."""
    texts = [f"{opener} {closer} #assessment" for opener in SEED_OPENERS for closer in SEED_CLOSERS]
    mark = len(standin.calls)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for text in texts:
            body, content_type = payloads.slash_command(WORKSPACE, "/tip", text, standin.new_response_url())
            signed = payloads.sign(body, SECRET, content_type)
            connection.request("POST", "/slack/events", signed.body, signed.headers)
            connection.getresponse().read()
    finally:
        connection.close()
    return Counter(map(reply_kind, replies_after(standin, mark, len(texts), quiet=0.5)))


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per (command, app, concurrency) cell")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated client concurrencies")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument(
        "--command",
        action="append",
        metavar="SPEC",
        help=f"slash command with text, or {REACTION!r}; repeat or comma-separate (default: {DEFAULT_COMMAND!r})",
    )
    parser.add_argument(
        "--tip-text",
        choices=("unique", "same"),
        default="unique",
        help="/tip: a distinct text per request (saved), or the same each time (held)",
    )
    parser.add_argument(
        "--bare-process-before-response",
        action="store_true",
        help="bare acks on the request thread, as PLChat does, instead of Bolt's default",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    specs = [s for value in (args.command or [DEFAULT_COMMAND]) for s in value.split(",") if s.strip()]
    workloads = list({w.label: w for w in (Workload.parse(s, args.tip_text) for s in specs)}.values())
    slash = sorted({w.command for w in workloads if w.command} | {"/tip"})
    print(
        f"Python {platform.python_version()}, slack-bolt {version('slack-bolt')}, gunicorn {version('gunicorn')}, "
        f"{os.cpu_count()} CPUs; gunicorn {GUNICORN}\nbot from {os.path.dirname(bot.__file__)}; "
        f"commands {[w.label for w in workloads]}; /tip text {args.tip_text}; "
        f"bare process_before_response={args.bare_process_before_response}",
        flush=True,
    )
    from bot.bootstrap import prepare_embedded

    context = multiprocessing.get_context("spawn")
    standin = SlackStandIn(team_id=WORKSPACE.team_id)
    servers: dict[str, tuple[int, multiprocessing.process.BaseProcess]] = {}
    runs: list[Run] = []
    seeded: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="plchat-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        standin.start()
        try:
            settings = Settings(
                _env_file=None,
                database_url=database_url,
                slack_bot_token=TOKEN,
                slack_signing_secret=SECRET,
                slack_api_url=standin.api_url,
            )
            prepare_embedded(settings).engine.dispose()
            for kind in ("bare", "plchat"):
                port = free_port()
                process = context.Process(
                    target=serve,
                    args=(kind, port, database_url, standin.api_url, slash, args.bare_process_before_response),
                )
                process.start()
                servers[kind] = (port, process)
            for port, process in servers.values():
                wait_ready(port, process)
            if any(w.command == "/tips" for w in workloads):
                seeded = seed_tips(servers["plchat"][0], standin)
            for workload in workloads:
                for kind, (port, _) in servers.items():
                    measure(kind, port, standin, workload, WARMUP, 8)
                for concurrency in levels:
                    for kind, (port, _) in servers.items():
                        run = measure(kind, port, standin, workload, args.requests, concurrency)
                        runs.append(run)
                        print(
                            f"  {workload.label[:40]:40} {kind:6} c={concurrency:<3} done in {run.seconds:.1f}s",
                            flush=True,
                        )
        finally:
            for _port, process in servers.values():
                process.terminate()  # gunicorn's graceful stop, bounded by graceful_timeout
                process.join(15)
                if process.is_alive():
                    process.kill()
            standin.stop()

    for workload in workloads:
        mine = [r for r in runs if r.command == workload.label]
        print(f"\n{workload.label}")
        print(
            f"{'app':8}{'conc':>5}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>7}"
            f"{'replies':>8}{'busy':>6}{'bad':>5}{'lost':>5}{'dup':>5}{'drain s':>8}{'ans/s':>7}"
        )
        for r in mine:
            busy = r.refused
            print(
                f"{r.app:8}{r.concurrency:>5}{len(r.latencies) + len(r.errors):>9}{r.percentile(50):>9.1f}"
                f"{r.percentile(99):>9.1f}{r.per_second:>9.1f}{len(r.errors):>7}{r.replies:>8}{busy:>6}"
                f"{r.bad_replies:>5}{r.lost:>5}{r.duplicated:>5}{r.drain:>8.1f}{r.answers_per_second:>7.1f}"
            )
        print(f"{'plchat/bare':11}{'p50':>7}{'p99':>7}{'req/s':>7}")
        for concurrency in levels:
            plchat, bare = (
                next(r for r in mine if (r.app, r.concurrency) == (a, concurrency)) for a in ("plchat", "bare")
            )
            ratios = [
                (x / y if y else float("nan"))
                for x, y in (
                    (plchat.percentile(50), bare.percentile(50)),
                    (plchat.percentile(99), bare.percentile(99)),
                    (plchat.per_second, bare.per_second),
                )
            ]
            print(f"  c={concurrency:<3}    " + "".join(f"{r:7.2f}" for r in ratios))
        kinds = sum((r.kinds for r in mine if r.app == "plchat"), Counter())
        print("  plchat replies: " + "; ".join(f"{k!r} x{n}" for k, n in kinds.most_common(6)))
        for r in mine:
            for error in sorted(set(r.errors)):
                print(f"  error {r.app} c={r.concurrency}: {error} x{r.errors.count(error)}")
            if r.refused_latencies:
                print(
                    f"    (those refusals took {statistics.median(r.refused_latencies) * 1000:.0f} ms median, "
                    f"{max(r.refused_latencies) * 1000:.0f} ms at most)"
                )
    if seeded:
        print("\nseed /tip replies: " + "; ".join(f"{k!r} x{n}" for k, n in seeded.most_common(4)))


if __name__ == "__main__":
    main()
