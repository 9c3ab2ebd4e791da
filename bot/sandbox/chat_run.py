"""Runs scheduled chats and digests against the Slack, X, Bluesky and Mastodon stand-ins on a clock the caller
moves, so a whole
chat (a day of reminders, an hour of questions, the recap) or next Monday's digest plays out in seconds: for
`plchat sandbox` and for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.chats import planner, store, timetable
from bot.chats.spec import NETWORKS, ChatSpec, Question
from bot.db import transaction
from bot.digests import planner as digest_planner
from bot.models import DeliveryRecord, DigestSubscriptionRecord
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.harness import SANDBOX_TOKEN, BotHarness
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.sandbox.payloads import COLLEAGUE
from bot.sandbox.render import Reader, render_message
from bot.sandbox.x_api import XStandIn
from bot.social.bluesky import BlueskyAccount
from bot.social.mastodon import MastodonAccount
from bot.social.network import Network
from bot.social.x import XAccount
from bot.worker import Worker

COLLECT_EVERY = timedelta(minutes=1)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime):
        self._now, self._lock = now, Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by


@dataclass(frozen=True)
class SandboxX:
    """Test credentials for the X stand-in (it checks signatures only when given credentials)."""

    api_key: str = "sandbox-key"
    api_secret: str = "sandbox-secret"
    access_token: str = "sandbox-token"
    access_token_secret: str = "sandbox-token-secret"


def sandbox_worker(
    harness: BotHarness,
    x: XStandIn | None,
    clock: FakeClock,
    *,
    bluesky: BlueskyStandIn | None = None,
    mastodon: MastodonStandIn | None = None,
    **settings: object,
) -> Worker:
    """The production worker, its Slack calls going to the harness's stand-in and each network's to its own."""
    config = harness.settings.model_copy(update=settings)
    networks: dict[str, Network] = {}
    if x is not None:
        keys = SandboxX()
        networks["x"] = XAccount(
            api_key=keys.api_key,
            api_secret=keys.api_secret,
            access_token=keys.access_token,
            access_token_secret=keys.access_token_secret,
            api_url=x.base_url,
            clock=clock,
            timeout=5,
        )
    if bluesky is not None:
        networks["bluesky"] = BlueskyAccount(
            handle=bluesky.handle,
            app_password=bluesky.password,
            service_url=bluesky.base_url,
            sessions=harness.database.sessions,
            clock=clock,
            timeout=5,
        )
    if mastodon is not None:
        networks["mastodon"] = MastodonAccount(
            base_url=mastodon.base_url, access_token=mastodon.token, clock=clock, timeout=5
        )
    client = WebClient(token=SANDBOX_TOKEN, base_url=harness.standin.api_url, timeout=5, retry_handlers=[])
    return Worker(config, harness.database, clock, slack_client_for=lambda _team: client, networks=networks)


def run_until(worker: Worker, clock: FakeClock, until: datetime) -> None:
    """Run the worker's jobs at every moment one of them has something to do, up to `until`: plan chats and
    digests, read the networks each minute while a chat is live, and send each post at its due time."""
    while True:
        worker.plan()
        worker.collect_answers()
        worker.deliver()
        now = clock()
        if now >= until:
            return
        with worker.database.sessions() as session:
            wakeups = [
                planner.next_plan(session),
                digest_planner.next_plan(session),
                worker.sender.next_wakeup(),
                until,
            ]
        if worker.live_on_networks():
            wakeups.append(now + COLLECT_EVERY)
        clock.set(max(now + timedelta(seconds=1), min(w for w in wakeups if w is not None)))


DEMO_QUESTIONS = (
    "How do your students give each other feedback?",
    "Which tool made feedback faster this year?",
    "What will you try next week?",
)


@dataclass(frozen=True)
class SandboxNetworks:
    """The networks' stand-ins a sandbox chat runs against."""

    x: XStandIn
    bluesky: BlueskyStandIn
    mastodon: MastodonStandIn


def demo_spec(channel: str, start: datetime, timezone_name: str) -> ChatSpec:
    local = start.astimezone(ZoneInfo(timezone_name)).replace(tzinfo=None, second=0, microsecond=0)
    return ChatSpec(
        title="Feedback that moves learning",
        hashtag="PLChat",
        starts=local,
        timezone=timezone_name,
        duration=30,
        repeat="none",
        until=None,
        skip=(),
        slack_channels=(channel,),
        post_to_x=True,
        reminders=(timedelta(hours=24), timedelta(hours=1)),
        questions=tuple(Question(at, text) for at, text in zip((5, 12, 20), DEMO_QUESTIONS, strict=True)),
        post_to_bluesky=True,
        post_to_mastodon=True,
    )


@dataclass(frozen=True)
class Answer:
    """Someone's answer to a chat question, as they posted it."""

    at: datetime
    where: str
    who: str
    text: str


def run_demo_chat(
    harness: BotHarness, networks: SandboxNetworks, clock: FakeClock, spec: ChatSpec, reader: Reader = Reader()
) -> list[str]:
    """Schedule `spec`, run it from now to its recap in accelerated time with a colleague answering Q1 in Slack
    and teachers answering on each network it posts to, then cancel what is left of it (the sandbox keeps its
    data). Returns every post in the order it went out, the answers and the recap included, as `reader` would
    read each when it arrived: lines of text."""
    team = harness.workspace.team_id
    with transaction(harness.database.sessions) as session:
        chat = store.create_chat(session, team, spec, harness.workspace.user_id, clock())
    if chat.next_start is None:
        return ["That chat has no date left to run."]
    start = chat.next_start
    worker = sandbox_worker(
        harness,
        networks.x,
        clock,
        bluesky=networks.bluesky,
        mastodon=networks.mastodon,
        plchat_public_url=harness.settings.plchat_public_url or "http://localhost:3000",
    )
    try:
        first_question = start + timedelta(minutes=spec.questions[0].at)
        run_until(worker, clock, first_question + timedelta(seconds=1))
        answers = _answer_first_question(harness, networks, clock, chat.id, spec)
        run_until(
            worker, clock, start + timedelta(minutes=spec.duration) + timetable.RECAP_AFTER + timedelta(seconds=1)
        )
    finally:
        worker.close()
        with transaction(harness.database.sessions) as session:
            store.cancel_chat(session, chat.id, clock())
    with harness.database.sessions() as session:
        sent = session.scalars(
            select(DeliveryRecord)
            .where(DeliveryRecord.subject == store.subject(chat.id), DeliveryRecord.state != "pending")
            .order_by(DeliveryRecord.finished_at, DeliveryRecord.id)
        ).all()
    posts = [_post(row, harness, networks, reader) for row in sent]
    return _timeline(posts + [(a.at, f"answer on {a.where}", a.who, a.text) for a in answers], reader)


def _answer_first_question(
    harness: BotHarness, networks: SandboxNetworks, clock: FakeClock, chat_id: int, spec: ChatSpec
) -> list[Answer]:
    channel = spec.slack_channels[0] if spec.slack_channels else None
    with harness.database.sessions() as session:
        sent = {
            row.target: row.sent_ref
            for row in session.scalars(
                select(DeliveryRecord).where(
                    DeliveryRecord.subject == store.subject(chat_id), DeliveryRecord.key.contains(":q1:")
                )
            )
        }
    answers: list[Answer] = []
    if channel is not None and sent.get("slack"):
        text = "A1 Peer review with a two-star rubric"
        reply = harness.standin.seed_message(channel, COLLEAGUE.user_id, text, thread_ts=sent["slack"])
        harness.event(
            {
                "type": "message",
                "channel": channel,
                "user": COLLEAGUE.user_id,
                "text": reply["text"],
                "ts": reply["ts"],
                "thread_ts": sent["slack"],
                "channel_type": "channel",
            }
        )
        answers.append(Answer(clock(), "Slack, in the thread of Q1", f"@{COLLEAGUE.display_name}", text))
    if spec.post_to_x:
        text = f"A1 Exit tickets: one glow, one grow #{spec.hashtag}"
        networks.x.add_post("msfrizzle", text, created_at=clock())
        answers.append(Answer(clock(), "X", "@msfrizzle", text))
    if spec.post_to_bluesky and sent.get("bluesky"):
        text = "Sticky-note gallery walks, then a class rubric"
        networks.bluesky.add_post(
            "mrsvaughan.bsky.social",
            text,
            clock(),
            reply_to=f"at://{networks.bluesky.did}/app.bsky.feed.post/{sent['bluesky']}",
        )
        answers.append(Answer(clock(), "Bluesky, replying to Q1", "@mrsvaughan.bsky.social", text))
    if spec.post_to_mastodon:
        text = f"A1 Two stars and a wish, every Friday #{spec.hashtag}"
        networks.mastodon.add_status("mrdiaz@edutooters.net", text, clock())
        answers.append(Answer(clock(), "Mastodon", "@mrdiaz@edutooters.net", text))
    return answers


def _post(
    row: DeliveryRecord, harness: BotHarness, networks: SandboxNetworks, reader: Reader
) -> tuple[datetime, str, str, str]:
    """A post the bot made (or could not make): when, what, where, and its text as `reader` saw it then."""
    post = row.key.split(":")[3]
    where = NETWORKS.get(row.target) or f"Slack #{reader.channels.get(row.channel or '', row.channel)}"
    assert row.finished_at is not None  # the run is over: every row it lists has finished
    if row.state != "sent":
        return row.finished_at, post, where, f"[{row.state}: {row.reason}]"
    if row.target == "x":
        text = next((p.text for p in networks.x.posts_by_me() if p.id == row.sent_ref), "")
    elif row.target == "bluesky":
        text = next((p.text for p in networks.bluesky.posts_by_me() if p.rkey == row.sent_ref), "")
    elif row.target == "mastodon":
        text = next((p.text for p in networks.mastodon.statuses_by_me() if str(p.id) == row.sent_ref), "")
    else:
        message = next((m for m in harness.standin.messages_in(row.channel) if m["ts"] == row.sent_ref), {})
        text = render_message(message.get("text"), message.get("blocks"), reader.at(row.finished_at)).text
    return row.finished_at, post, where, text


def _timeline(entries: list[tuple[datetime, str, str, str]], reader: Reader) -> list[str]:
    """Entries in time order, each as a heading line and its text indented; the same post with the same text on
    several networks at once is listed once, naming them all."""
    merged: list[list] = []
    for at, what, where, text in sorted(entries, key=lambda entry: entry[0]):
        if merged and merged[-1][0] == at and merged[-1][1] == what and merged[-1][3] == text:
            merged[-1][2] += f", {where}"
        else:
            merged.append([at, what, where, text])
    lines: list[str] = []
    for at, what, where, text in merged:
        lines.append(f"{reader.local(at)}  {what}  {where}")
        lines += ["    " + line for line in text.splitlines()]
    return lines


def run_next_digests(harness: BotHarness, clock: FakeClock) -> datetime | None:
    """Run the worker from now until the workspace's next digests are due and sent; returns when that was
    (None when nobody is subscribed)."""
    with harness.database.sessions() as session:
        due = session.scalar(
            select(func.min(DigestSubscriptionRecord.next_send)).where(
                DigestSubscriptionRecord.team_id == harness.workspace.team_id
            )
        )
    if due is None:
        return None
    worker = sandbox_worker(harness, None, clock)
    try:
        run_until(worker, clock, max(due, clock()) + timedelta(seconds=1))
    finally:
        worker.close()
    return due
