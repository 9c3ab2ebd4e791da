"""The X adapter (tweepy) against the X stand-in over real HTTP, and the text of chat posts on X."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from bot.chats.spec import X_MAX_CHARS, ChatSpec, Question, x_question_text
from bot.config import Settings
from bot.delivery.errors import DeliveryError, Permanent, ReadDenied, RetryAfter, Transient
from bot.sandbox.x_api import XCredentials, XStandIn
from bot.social import chat_text
from bot.social.x import X_RULE, XAccount, XPost, x_length


def reminder_text(spec: ChatSpec, start: datetime, lead: timedelta) -> str:
    return chat_text.reminder(spec, start, lead, X_RULE).text


def welcome_text(spec: ChatSpec, start: datetime) -> str:
    return chat_text.welcome(spec, start, X_RULE).text


def question_text(spec: ChatSpec, number: int, _question: Question) -> str:
    return chat_text.question(spec, number, X_RULE).text


def wrapup_text(spec: ChatSpec, start: datetime) -> str:
    return chat_text.wrapup(spec, start, X_RULE).text


NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
CREDENTIALS = XCredentials(
    api_key="ck-public-1",
    api_secret="cs-SECRET-consumer-9f3",
    access_token="at-public-2",
    access_token_secret="ats-SECRET-access-77a",
    bearer_token="bt-SECRET-bearer-c41",
)
SECRETS = (CREDENTIALS.api_secret, CREDENTIALS.access_token_secret, CREDENTIALS.bearer_token)
LA = ZoneInfo("America/Los_Angeles")


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin(clock: Clock) -> Iterator[XStandIn]:
    with XStandIn(credentials=CREDENTIALS, clock=clock, username="plchat") as server:
        yield server


def _settings(standin: XStandIn, *, bearer: bool = True, **overrides: str) -> Settings:
    values = {
        "x_api_url": standin.base_url,
        "x_api_key": CREDENTIALS.api_key,
        "x_api_secret": CREDENTIALS.api_secret,
        "x_access_token": CREDENTIALS.access_token,
        "x_access_token_secret": CREDENTIALS.access_token_secret,
    }
    if bearer:
        values["x_bearer_token"] = CREDENTIALS.bearer_token or ""
    return Settings(**{**values, **overrides})


def _account(standin: XStandIn, clock: Clock, *, bearer: bool = True, timeout: float = 5.0, **overrides: str):
    account = XAccount.from_settings(_settings(standin, bearer=bearer, **overrides), clock=clock, timeout=timeout)
    assert account is not None
    return account


@pytest.fixture
def account(standin: XStandIn, clock: Clock) -> XAccount:
    return _account(standin, clock)


def _spec(title: str = "Feedback that moves learning", hashtag: str = "PLChat") -> ChatSpec:
    return ChatSpec(
        title=title,
        hashtag=hashtag,
        starts=datetime(2026, 10, 27, 17, 0),
        timezone="America/Los_Angeles",
        duration=60,
        repeat="weekly",
        until=date(2026, 12, 31),
        skip=(),
        slack_channels=("C0CHATS",),
        post_to_x=True,
        reminders=(timedelta(hours=24), timedelta(hours=1)),
        questions=(Question(at=5, text="What feedback changed your teaching?"), Question(at=15, text="How?")),
    )


def _assert_no_secrets(error: BaseException) -> None:
    shown = "".join(traceback.format_exception(error)) + repr(error) + str(getattr(error, "reason", ""))
    for secret in SECRETS:
        assert secret and secret not in shown


# -- configuration -----------------------------------------------------------------------------


def test_no_account_without_all_four_user_credentials(standin: XStandIn) -> None:
    assert XAccount.from_settings(Settings()) is None
    assert XAccount.from_settings(_settings(standin, x_access_token_secret="")) is None
    assert XAccount.from_settings(Settings(x_bearer_token="only-a-bearer")) is None
    account = XAccount.from_settings(_settings(standin, bearer=False))
    assert account is not None
    assert all(secret not in repr(account) for secret in SECRETS)


# -- posting ----------------------------------------------------------------------------------


def test_post_goes_to_x_api_url_signed_for_that_url(standin: XStandIn, account: XAccount) -> None:
    post_id = account.post("Q1 What feedback changed your teaching? #PLChat")

    [post] = standin.posts_by_me()
    assert (post.id, post.text, post.created_at) == (post_id, "Q1 What feedback changed your teaching? #PLChat", NOW)
    [call] = standin.calls_to("/2/tweets", "POST")
    # The stand-in checks the OAuth 1.0a signature: it would answer 401 to one made for api.twitter.com.
    assert (call.status, call.auth, call.body) == (201, "oauth1", {"text": post.text})


def test_reply_and_delete(standin: XStandIn, account: XAccount) -> None:
    answer = standin.add_post("teacher1", "A1 Specific, timely feedback #PLChat")
    reply_id = account.post("Thanks for sharing! #PLChat", reply_to=answer)
    assert standin.posts[-1].in_reply_to == answer

    account.delete(reply_id)
    account.delete(reply_id)  # already gone: fine

    assert standin.posts_by_me() == []
    assert [c.status for c in standin.calls_to("/2/tweets/:id", "DELETE")] == [200, 404]


def test_me_is_asked_once(standin: XStandIn, account: XAccount) -> None:
    assert account.me() == account.me()
    assert account.me().username == "plchat"
    assert len(standin.calls_to("/2/users/me")) == 1


def test_wrong_credentials_are_permanent(standin: XStandIn, clock: Clock) -> None:
    account = _account(standin, clock, x_access_token_secret="ats-SECRET-wrong-000")

    with pytest.raises(Permanent, match="X rejected the credentials") as caught:
        account.post("hello")

    _assert_no_secrets(caught.value)
    assert "ats-SECRET-wrong-000" not in str(caught.value)


# -- errors -----------------------------------------------------------------------------------


def test_rate_limit_waits_until_the_reset_header_by_the_injected_clock(
    standin: XStandIn, account: XAccount, clock: Clock
) -> None:
    standin.inject("POST /2/tweets", status=429, reset_in=900)
    clock_seen_by_adapter = Clock(NOW + timedelta(seconds=300))
    late_account = _account(standin, clock_seen_by_adapter)

    with pytest.raises(RetryAfter) as caught:
        account.post("first try")
    assert caught.value.seconds == 900

    standin.inject("POST /2/tweets", status=429, reset_in=900)
    with pytest.raises(RetryAfter) as later:
        late_account.post("first try")
    assert later.value.seconds == 600

    standin.inject("/2/tweets/search/recent", status=429, reset_in=-30)  # the reset already passed
    with pytest.raises(RetryAfter) as passed:
        account.search_recent("#PLChat", since_id=None, budget=10)
    assert passed.value.seconds == 1

    assert account.post("first try")  # the fault is used up
    assert [c.status for c in standin.calls_to("/2/tweets")] == [429, 429, 201]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(standin: XStandIn, account: XAccount, status: int) -> None:
    standin.inject("POST", status=status)
    with pytest.raises(Transient, match=str(status)):
        account.post("hello")


def test_timeouts_and_refused_connections_are_transient(standin: XStandIn, clock: Clock) -> None:
    slow = _account(standin, clock, timeout=0.2)
    standin.delay("/2/tweets", 2)
    with pytest.raises(Transient, match="did not answer in time"):
        slow.post("hello")

    with XStandIn() as gone:
        url = gone.base_url
    unreachable = _account(standin, clock, x_api_url=url)
    with pytest.raises(Transient, match="could not reach X"):
        unreachable.me()


def test_duplicate_content_is_permanent(standin: XStandIn, account: XAccount) -> None:
    account.post("Reminder: #PLChat is Tue Dec 1")
    with pytest.raises(Permanent) as caught:
        account.post("Reminder: #PLChat is Tue Dec 1")
    assert caught.value.reason == "duplicate content"
    assert len(standin.posts_by_me()) == 1


def test_reply_not_allowed_and_too_long_are_permanent(standin: XStandIn, account: XAccount) -> None:
    closed = standin.add_post("someone", "Not taking replies #PLChat", replies=False)
    with pytest.raises(Permanent, match="reply not allowed"):
        account.post("@someone hi", reply_to=closed)

    with pytest.raises(Permanent, match="X rejected the request") as caught:
        account.post("x" * 281)
    assert not isinstance(caught.value, (Transient, RetryAfter))
    assert standin.posts_by_me() == []


def test_no_read_access_is_read_denied_but_posting_works(standin: XStandIn, account: XAccount) -> None:
    standin.read_access = False

    with pytest.raises(ReadDenied, match="client-not-enrolled"):
        account.search_recent("#PLChat", since_id=None, budget=50)
    with pytest.raises(ReadDenied):
        account.own_posts_since(NOW - timedelta(hours=1))
    assert account.post("still allowed to post")


def test_secrets_never_in_errors_or_logs(
    standin: XStandIn, account: XAccount, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[DeliveryError] = []
    for status in (400, 429, 500):
        standin.inject("/2/tweets/search/recent", status=status)
        with pytest.raises(DeliveryError) as caught:
            account.search_recent("#PLChat", since_id=None, budget=10)
        errors.append(caught.value)
    standin.read_access = False
    with pytest.raises(ReadDenied) as denied:
        account.search_recent("#PLChat", since_id=None, budget=10)
    errors.append(denied.value)

    for error in errors:
        _assert_no_secrets(error)
    assert "Bearer ***" in caplog.text  # tweepy logs its headers at DEBUG; the token is masked
    assert all(secret not in caplog.text for secret in SECRETS)


# -- reading ----------------------------------------------------------------------------------


def test_search_paginates_after_since_id_and_stops_at_the_budget(
    standin: XStandIn, account: XAccount, clock: Clock
) -> None:
    old = standin.add_post("teacher0", "A0 before the chat #PLChat", NOW - timedelta(hours=2))
    for number in range(120):
        standin.add_post(f"teacher{number % 7}", f"A1 answer {number} #plchat")
        standin.add_post("someone", f"unrelated {number} #OtherChat")

    first = account.search_recent("#PLChat", since_id=old, budget=150)

    assert first.reads == 120 and len(first.posts) == 120 and not first.more
    assert old not in {post.id for post in first.posts}
    assert [int(post.id) for post in first.posts] == sorted((int(post.id) for post in first.posts), reverse=True)
    assert first.newest_id == first.posts[0].id
    newest = first.posts[0]
    assert newest == XPost(newest.id, "A1 answer 119 #plchat", newest.author_id, "teacher0", NOW)
    assert newest.url == f"https://x.com/teacher0/status/{newest.id}"
    searches = standin.calls_to("/2/tweets/search/recent")
    assert [c.query["max_results"] for c in searches] == ["100", "50"]
    assert "next_token" in searches[1].query
    assert {c.query["since_id"] for c in searches} == {old}
    assert searches[0].query["expansions"] == "author_id" and searches[0].auth == "bearer"

    standin.clear()
    limited = account.search_recent("#PLChat", since_id=old, budget=25)
    assert (limited.reads, limited.more, limited.newest_id) == (25, True, newest.id)
    assert [c.query["max_results"] for c in standin.calls] == ["25"]

    clock.now += timedelta(minutes=1)
    later = standin.add_post("teacher3", "A2 a late answer #PLChat")
    assert [p.id for p in account.search_recent("#PLChat", since_id=first.newest_id, budget=10).posts] == [later]
    nothing = account.search_recent("#PLChat", since_id=later, budget=10)
    assert (nothing.posts, nothing.newest_id, nothing.reads) == ([], None, 0)


def test_search_without_a_bearer_token_uses_user_context(standin: XStandIn, clock: Clock) -> None:
    standin.add_post("teacher1", "A1 hi #PLChat")
    account = _account(standin, clock, bearer=False)
    assert len(account.search_recent("#PLChat", since_id=None, budget=5).posts) == 1
    [call] = standin.calls_to("/2/tweets/search/recent")
    assert (call.auth, call.query["max_results"]) == ("oauth1", "10")  # X's smallest page


def test_own_posts_since_finds_a_post_that_went_out(standin: XStandIn, account: XAccount, clock: Clock) -> None:
    clock.now = NOW - timedelta(hours=3)
    account.post("last week's wrap-up")
    clock.now = NOW
    post_id = account.post("Q1 What feedback changed your teaching? #PLChat")
    standin.add_post("teacher1", "A1 not mine #PLChat")

    found = account.own_posts_since(NOW - timedelta(minutes=5))

    assert [(p.id, p.username, p.created_at) for p in found] == [(post_id, "plchat", NOW)]
    [call] = standin.calls_to("/2/users/:id/tweets")
    assert call.query["start_time"] == "2026-11-24T16:55:00Z"
    with pytest.raises(ValueError, match="since must be an aware datetime"):
        account.own_posts_since(datetime(2026, 11, 24))


# -- the stand-in itself ----------------------------------------------------------------------


def test_standin_answers_like_x_to_bad_requests(standin: XStandIn) -> None:
    assert requests.get(f"{standin.base_url}/2/users/me", timeout=5).status_code == 401
    bearer = {"Authorization": f"Bearer {CREDENTIALS.bearer_token}"}
    search = f"{standin.base_url}/2/tweets/search/recent"
    small = requests.get(search, params={"query": "#PLChat", "max_results": 5}, headers=bearer, timeout=5)
    assert small.status_code == 400 and "between 10 and 100" in small.text
    app_only = requests.post(f"{standin.base_url}/2/tweets", json={"text": "hi"}, headers=bearer, timeout=5)
    assert app_only.status_code == 403 and "Application-Only" in app_only.text
    standin.inject("/2/tweets/search/recent", status=429, reset_in=60)
    limited = requests.get(search, params={"query": "#PLChat"}, headers=bearer, timeout=5)
    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert limited.headers["x-rate-limit-reset"] == str(int(NOW.timestamp()) + 60)
    assert standin.wait_for(lambda calls: len(calls) == 4, timeout=1)[-1].status == 429


# -- text of chat posts -----------------------------------------------------------------------


def _start(year: int, month: int, day: int, hour: int = 17) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=LA)


def test_reminder_gives_the_date_and_times_in_pt_et_utc_across_the_dst_change() -> None:
    spec = _spec()
    before = reminder_text(spec, _start(2026, 10, 27), timedelta(hours=1))
    after = reminder_text(spec, _start(2026, 11, 3).astimezone(UTC), timedelta(hours=24))

    assert before == (
        "Reminder: #PLChat “Feedback that moves learning” is Tue Oct 27 at 5:00 PM PT / 8:00 PM ET / 00:00 UTC Wed "
        "(in 1 hour). Join us!"
    )
    assert "is Tue Nov 3 at 5:00 PM PT / 8:00 PM ET / 01:00 UTC Wed (in 24 hours)" in after
    assert "Tue Dec 1 at 5:00 PM PT / 8:00 PM ET / 01:00 UTC Wed" in reminder_text(
        spec, _start(2026, 12, 1), timedelta(hours=1)
    )
    assert reminder_text(spec, _start(2026, 12, 8), timedelta(hours=1)) != reminder_text(
        spec, _start(2026, 12, 1), timedelta(hours=1)
    )
    assert "(in 30 minutes)" in reminder_text(spec, _start(2026, 12, 1), timedelta(minutes=30))
    assert "9:30 AM PT / 12:30 PM ET / 17:30 UTC (" in reminder_text(
        spec, datetime(2026, 12, 1, 9, 30, tzinfo=LA), timedelta(hours=1)
    )


def test_a_time_on_another_day_names_its_own_day() -> None:
    spec = _spec()
    assert "is Sun Dec 6 at 8:24 PM PT / 11:24 PM ET / 04:24 UTC Mon (in 1 hour)" in reminder_text(
        spec, datetime(2026, 12, 6, 20, 24, tzinfo=LA), timedelta(hours=1)
    )
    assert "is Sun Dec 6 at 9:30 PM PT / 12:30 AM ET Mon / 05:30 UTC Mon (" in reminder_text(
        spec, datetime(2026, 12, 6, 21, 30, tzinfo=LA), timedelta(hours=1)
    )


_PRINTED = re.compile(r"(\d{1,2}):(\d{2})(?: ([AP]M))? (Z\d)(?: (Mon|Tue|Wed|Thu|Fri|Sat|Sun))?")


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()),
    st.lists(st.timezones(), min_size=1, max_size=4),
    st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_each_printed_time_names_its_own_local_day(start: datetime, zones: list, twelve_hour: list[bool]) -> None:
    """Each time a network text gives is right in its zone, and on the day it names: the first zone's day (the
    date the text names) unless it says another."""
    where = tuple(
        chat_text.Zone(zone, f"Z{n}", chat_text._clock if twelve else chat_text._clock24)
        for n, (zone, twelve) in enumerate(zip(zones, twelve_hour, strict=False))  # zones may be fewer
    )
    printed = chat_text.times(start, where).split(" / ")
    first = start.astimezone(zones[0])
    assert len(printed) == len(zones)
    for text, zone in zip(printed, where, strict=True):
        local = start.astimezone(zone.zone)
        hour, minute, half, label, day = _PRINTED.fullmatch(text).groups()
        assert label == zone.label and int(minute) == local.minute
        assert (int(hour) % 12 + (12 if half == "PM" else 0) if half else int(hour)) == local.hour
        assert (day or f"{first:%a}") == f"{local:%a}"
        assert (day is None) == (local.date() == first.date())


def test_welcome_question_and_wrapup() -> None:
    spec = _spec()
    start = _start(2026, 12, 1)

    welcome = welcome_text(spec, start)
    assert "#PLChat" in welcome and "A1, A2" in welcome and "Tue Dec 1" in welcome and spec.title in welcome
    assert question_text(spec, 2, spec.questions[1]) == x_question_text(2, "How?", "PLChat") == "Q2 How? #PLChat"
    wrapup = wrapup_text(spec, start)
    assert "Thank" in wrapup and "Tue Dec 1" in wrapup and "#PLChat" in wrapup


def test_long_titles_are_cut_to_fit_280() -> None:
    spec = _spec(title="Feedback " * 60, hashtag="PLChatLongHashtag")
    start = _start(2026, 12, 1)
    texts = [
        reminder_text(spec, start, timedelta(hours=24)),
        welcome_text(spec, start),
        wrapup_text(spec, start),
    ]
    for text in texts:
        assert x_length(text) <= X_MAX_CHARS and len(text) <= X_MAX_CHARS
        assert "…”" in text and "#PLChatLongHashtag" in text and "Dec 1" in text
    assert x_length("…") == 2 and x_length("“”") == 2  # as X weighs them

    with pytest.raises(ValueError, match="start must be an aware datetime"):
        reminder_text(spec, datetime(2026, 12, 1, 17), timedelta(hours=1))


def test_standin_enforces_the_same_limit(standin: XStandIn, account: XAccount) -> None:
    text = reminder_text(_spec(title="Feedback " * 60), _start(2026, 12, 1), timedelta(hours=1))
    assert account.post(text)
    with pytest.raises(Permanent):
        account.post("…" * 141)  # 141 characters, weighing 282


def test_a_failed_later_page_keeps_the_pages_before_it_and_the_cursor_where_it_was(
    standin: XStandIn, account: XAccount, clock: Clock
) -> None:
    """X answers newest first: after a failed second page the older posts are still unread, so the cursor stays
    and the next read gets them (the first page again too, which collection saves once)."""
    old = standin.add_post("teacher0", "A0 before the chat #PLChat", NOW - timedelta(hours=2))
    for number in range(120):
        standin.add_post(f"teacher{number % 7}", f"A1 answer {number} #plchat")
    standin.inject("/2/tweets/search/recent", delay=0.001)  # the first page as usual,
    standin.inject("/2/tweets/search/recent", status=503)  # the second fails

    page = account.read_tag("PLChat", cursor=old, since=NOW - timedelta(hours=1), until=NOW, budget=150)

    assert isinstance(page.error, Transient) and len(page.posts) == 100 and page.reads == 100
    assert page.cursor == old, "not moved past the posts the failed page held"
    again = account.read_tag("PLChat", cursor=page.cursor, since=NOW - timedelta(hours=1), until=NOW, budget=150)
    assert again.error is None and len(again.posts) == 120 and again.cursor == again.posts[0].ref
