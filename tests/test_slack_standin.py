"""The Slack stand-in, driven through the real slack_sdk clients."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack_api import HOOKS, RecordedCall, SlackStandIn

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Try this play*"}}


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as running:
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.api_url)


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "go", **extra}


# -- answers and recording -----------------------------------------------------------------


def test_post_message_is_answered_like_slack_and_recorded(standin: SlackStandIn, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C1", text="hello", blocks=[SECTION])

    assert response["ok"] is True
    assert response["channel"] == "C1"
    assert response["message"]["user"] == standin.bot_user_id
    assert response["message"]["blocks"] == [SECTION]
    assert standin.calls == [
        RecordedCall(
            kind="api",
            method="chat.postMessage",
            args={"channel": "C1", "text": "hello", "blocks": [SECTION]},
            token="xoxb-test",
            status=200,
        )
    ]


def test_message_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(3)]

    assert all(re.fullmatch(r"\d{10}\.\d{6}", ts) for ts in stamps)
    assert len(set(stamps)) == 3
    assert [float(ts) for ts in stamps] == sorted(float(ts) for ts in stamps)


def test_form_bodies_are_decoded_including_json_fields_and_a_token_field(
    standin: SlackStandIn,
) -> None:
    WebClient(base_url=standin.api_url).api_call(
        "chat.postMessage",
        data={"token": "xoxp-form", "channel": "C1", "blocks": json.dumps([SECTION])},
    )

    [call] = standin.calls_to("chat.postMessage")
    assert call.args == {"channel": "C1", "blocks": [SECTION]}
    assert call.token == "xoxp-form"


def test_views_publish_returns_the_view_with_an_id(standin: SlackStandIn, client: WebClient) -> None:
    view = {"type": "home", "blocks": [SECTION]}

    response = client.views_publish(user_id="U1", view=view)

    assert response["view"]["id"].startswith("V")
    assert response["view"]["blocks"] == [SECTION]
    [call] = standin.calls_to("views.publish")
    assert call.args == {"user_id": "U1", "view": view}


def test_views_update_keeps_the_view_id(client: WebClient) -> None:
    response = client.views_update(view_id="V123", view={"type": "modal", "blocks": []})

    assert response["view"]["id"] == "V123"


def test_auth_test_describes_the_sandbox_bot(standin: SlackStandIn, client: WebClient) -> None:
    response = client.auth_test()

    assert response["team"] == "Sandbox School"
    assert response["team_id"] == "T0SANDBOX"
    assert response["user_id"] == "U0PLCHATBOT"
    assert response["bot_id"] == "B0PLCHATBOT"
    assert standin.calls_to("auth.test")[0].token == "xoxb-test"


def test_other_methods_answer_like_slack(client: WebClient) -> None:
    assert client.users_info(user="U7")["user"]["tz"] == "America/Los_Angeles"
    assert client.conversations_info(channel="C9")["channel"] == {
        "id": "C9",
        "name": "general",
        "is_member": True,
    }
    assert client.conversations_join(channel="C9")["channel"]["id"] == "C9"
    assert client.chat_postEphemeral(channel="C1", user="U7", text="psst")["message_ts"]
    updated = client.chat_update(channel="C1", ts="1700000000.000100", text="edited")
    assert (updated["channel"], updated["ts"]) == ("C1", "1700000000.000100")
    deleted = client.chat_delete(channel="C1", ts="1700000000.000100")
    assert (deleted["channel"], deleted["ts"]) == ("C1", "1700000000.000100")


@pytest.mark.parametrize(
    ("make_client", "error"),
    [
        (lambda url: WebClient(base_url=url), "not_authed"),
        (lambda url: WebClient(token="not-a-slack-token", base_url=url), "invalid_auth"),
    ],
)
def test_bad_tokens_are_refused(standin: SlackStandIn, make_client: Any, error: str) -> None:
    client = make_client(standin.api_url)

    assert api_error(lambda: client.chat_postMessage(channel="C1", text="hi")).response["error"] == error
    assert standin.calls_to("chat.postMessage")[0].status == 200


def test_unknown_methods_are_refused(client: WebClient) -> None:
    assert api_error(lambda: client.api_call("plays.teleport")).response["error"] == "unknown_method"


def test_tokens_are_never_logged(client: WebClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.sandbox.slack_api")
    secret_client = WebClient(token="xoxb-very-secret", base_url=client.base_url)

    secret_client.chat_postMessage(channel="C1", text="hi")

    assert "chat.postMessage" in caplog.text
    assert "xoxb-very-secret" not in caplog.text


# -- Slack's validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"text": "hi"}, "channel_not_found"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C1", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [section("x")] * 51}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [{"text": {"type": "mrkdwn", "text": "typeless"}}]}, "invalid_blocks"),
        (
            {"channel": "C1", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            "invalid_blocks",
        ),
        (
            {"channel": "C1", "blocks": [{"type": "section", "text": {"type": "markdown", "text": "x"}}]},
            "invalid_blocks",
        ),
        ({"channel": "C1", "blocks": [{"type": "actions", "elements": [button("b" * 76)]}]}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [{"type": "actions", "elements": [button(value="v" * 2001)]}]}, "invalid_blocks"),
        (
            {"channel": "C1", "blocks": [{"type": "actions", "elements": [button(action_id="a" * 256)]}]},
            "invalid_blocks",
        ),
    ],
)
def test_messages_slack_would_refuse_are_refused(
    standin: SlackStandIn, client: WebClient, arguments: dict[str, Any], error: str
) -> None:
    refused = api_error(lambda: client.api_call("chat.postMessage", json=arguments))

    assert refused.response["error"] == error


def test_invalid_blocks_say_where_and_limits_themselves_are_accepted(client: WebClient) -> None:
    refused = api_error(lambda: client.chat_postMessage(channel="C1", text="long", blocks=[section("x" * 3001)]))

    assert refused.response["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    accepted = client.chat_postMessage(
        channel="C1",
        text="x" * 40_000,
        blocks=[section("x" * 3000), {"type": "actions", "elements": [button("b" * 75, value="v" * 2000)]}]
        + [{"type": "divider"}] * 48,
    )
    assert accepted["ok"] is True


def test_views_allow_100_blocks_but_not_101(client: WebClient) -> None:
    assert client.views_open(trigger_id="t", view={"type": "modal", "blocks": [SECTION] * 100})["ok"]

    refused = api_error(lambda: client.views_open(trigger_id="t", view={"type": "modal", "blocks": [SECTION] * 101}))
    assert refused.response["error"] == "invalid_blocks"


# -- fault injection ------------------------------------------------------------------------


def test_rate_limit_is_retried_by_the_sdk_retry_handler(standin: SlackStandIn) -> None:
    standin.inject("chat.postMessage", status=429, retry_after=1)
    client = WebClient(
        token="xoxb-test",
        base_url=standin.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [429, 200]


def test_rate_limit_without_a_retry_handler_surfaces_retry_after(standin: SlackStandIn, client: WebClient) -> None:
    standin.inject("chat.postMessage", status=429, retry_after=7)

    refused = api_error(lambda: client.chat_postMessage(channel="C1", text="hi"))

    assert refused.response.status_code == 429
    assert refused.response["error"] == "ratelimited"
    assert refused.response.headers["Retry-After"] == "7"


def test_server_error_is_retried_by_the_sdk_retry_handler(standin: SlackStandIn) -> None:
    standin.inject("chat.postMessage", status=500)
    client = WebClient(
        token="xoxb-test",
        base_url=standin.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=1,
                interval_calculator=FixedValueRetryIntervalCalculator(0.01),
            )
        ],
    )

    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in standin.calls_to("chat.postMessage")] == [500, 200]


def test_unavailable_answers_a_slack_style_json_error(standin: SlackStandIn, client: WebClient) -> None:
    standin.inject("chat.postMessage", status=503)

    refused = api_error(lambda: client.chat_postMessage(channel="C1", text="hi"))

    assert refused.response.status_code == 503
    assert refused.response["error"] == "service_unavailable"


def test_slack_errors_apply_to_the_next_n_requests_in_order(standin: SlackStandIn, client: WebClient) -> None:
    standin.inject("chat.postMessage", error="not_in_channel", times=2)
    standin.inject("chat.postMessage", error="is_archived")

    errors = [api_error(lambda: client.chat_postMessage(channel="C1", text="hi")).response["error"] for _ in range(3)]

    assert errors == ["not_in_channel", "not_in_channel", "is_archived"]
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert client.auth_test()["ok"] is True  # other methods were never affected


def test_inject_refuses_a_fault_that_does_nothing(standin: SlackStandIn) -> None:
    with pytest.raises(ValueError, match="needs a status, an error or a delay"):
        standin.inject("chat.postMessage")


def test_delayed_answers_wait_while_other_calls_go_through(standin: SlackStandIn) -> None:
    standin.inject("chat.update", delay=60)
    slow_client = WebClient(token="xoxb-test", base_url=standin.api_url, timeout=120)
    slow_answers: list[Any] = []
    slow = threading.Thread(
        target=lambda: slow_answers.append(slow_client.chat_update(channel="C1", ts="1.1", text="slow"))
    )
    slow.start()
    standin.wait_faults_taken("chat.update")  # the slow call is inside the server, waiting out its delay

    WebClient(token="xoxb-test", base_url=standin.api_url).chat_postMessage(channel="C1", text="fast")

    assert [c.method for c in standin.calls] == ["chat.postMessage"]
    standin.stop()  # stopping cuts the delay short, so the slow call is answered now
    slow.join(timeout=10)
    assert slow_answers and slow_answers[0]["ok"] is True
    assert [(c.method, c.status) for c in standin.calls] == [
        ("chat.postMessage", 200),
        ("chat.update", 200),
    ]


def test_held_requests_wait_for_release(standin: SlackStandIn, client: WebClient) -> None:
    gate = standin.hold("chat.postMessage")
    answers: list[Any] = []
    poster = threading.Thread(target=lambda: answers.append(client.chat_postMessage(channel="C1", text="later")))
    poster.start()

    assert gate.wait_arrived(timeout=5)
    assert standin.calls_to("chat.postMessage") == []
    assert answers == []
    gate.release()
    poster.join(timeout=5)

    assert answers and answers[0]["ok"] is True
    assert standin.calls_to("chat.postMessage")[0].args["text"] == "later"


def test_wait_arrived_is_false_when_nothing_came(standin: SlackStandIn) -> None:
    assert standin.hold("views.open").wait_arrived(timeout=0.01) is False


# -- synchronisation ------------------------------------------------------------------------


def test_wait_for_returns_once_another_thread_made_the_call(standin: SlackStandIn, client: WebClient) -> None:
    poster = threading.Thread(target=lambda: client.chat_postMessage(channel="C1", text="bg"))
    poster.start()

    calls = standin.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))

    poster.join(timeout=5)
    assert calls[-1].args["text"] == "bg"


def test_wait_for_times_out_listing_what_was_recorded(standin: SlackStandIn, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(TimeoutError, match=r"auth\.test"):
        standin.wait_for(lambda calls: len(calls) > 1, timeout=0.05)


def test_clear_forgets_recorded_calls(standin: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    standin.clear()

    assert standin.calls == []


# -- response_url hooks ---------------------------------------------------------------------


def test_response_url_posts_are_recorded_as_hooks(standin: SlackStandIn) -> None:
    url = standin.new_response_url()

    response = WebhookClient(url).send(text="Saved!", replace_original=True)

    assert (response.status_code, response.body) == (200, "ok")
    [hook] = standin.hooks()
    assert hook.method == url.removeprefix(standin.base_url)
    assert hook.args == {"text": "Saved!", "replace_original": True}
    assert standin.new_response_url() != url


def test_unknown_response_urls_get_404(standin: SlackStandIn) -> None:
    response = WebhookClient(standin.base_url + "/hooks/never-issued").send(text="hi")

    assert response.status_code == 404
    assert standin.hooks()[0].status == 404


def test_response_url_refuses_invalid_blocks(standin: SlackStandIn) -> None:
    response = WebhookClient(standin.new_response_url()).send(blocks=[section("x" * 3001)])

    assert (response.status_code, response.body) == (400, "invalid_blocks")


def test_faults_on_hooks_apply_to_every_response_url(standin: SlackStandIn) -> None:
    standin.inject(HOOKS, status=429, retry_after=3)

    limited = WebhookClient(standin.new_response_url()).send(text="one")
    fine = WebhookClient(standin.new_response_url()).send(text="two")

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert fine.status_code == 200


# -- message metadata and history paging ------------------------------------------------------

CHAT_METADATA = {"event_type": "plchat_question", "event_payload": {"chat_id": 7, "number": 2}}


@pytest.mark.parametrize("metadata", [CHAT_METADATA, json.dumps(CHAT_METADATA)])
def test_post_message_keeps_metadata_given_as_an_object_or_json_text(
    standin: SlackStandIn, client: WebClient, metadata: Any
) -> None:
    posted = client.api_call("chat.postMessage", json={"channel": "C1", "text": "Q2", "metadata": metadata})

    assert posted["message"]["metadata"] == CHAT_METADATA
    assert standin.messages_in("C1")[0]["metadata"] == CHAT_METADATA


def test_malformed_metadata_is_refused(client: WebClient) -> None:
    refused = api_error(
        lambda: client.api_call(
            "chat.postMessage", json={"channel": "C1", "text": "Q2", "metadata": {"event_payload": {}}}
        )
    )

    assert refused.response["error"] == "invalid_metadata_format"


def test_history_shows_metadata_only_when_asked(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="Q1", metadata=CHAT_METADATA)

    [plain] = client.conversations_history(channel="C1")["messages"]
    [full] = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]

    assert "metadata" not in plain
    assert full["metadata"] == CHAT_METADATA
    replies = client.conversations_replies(channel="C1", ts=full["ts"], include_all_metadata=True)
    assert replies["messages"][0]["metadata"] == CHAT_METADATA


def test_history_honours_oldest_latest_and_inclusive(standin: SlackStandIn, client: WebClient) -> None:
    stamps = [standin.seed_message("C1", "U1", f"m{n}")["ts"] for n in range(5)]

    between = client.conversations_history(channel="C1", oldest=stamps[1], latest=stamps[3])
    inclusive = client.conversations_history(channel="C1", oldest=stamps[1], latest=stamps[3], inclusive=True)

    assert [m["text"] for m in between["messages"]] == ["m2"]
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]


def test_history_pages_with_cursors_newest_first(standin: SlackStandIn, client: WebClient) -> None:
    for n in range(5):
        standin.seed_message("C1", "U1", f"m{n}")
    standin.seed_message("C1", "U2", "a reply", thread_ts=standin.messages_in("C1")[0]["ts"])

    pages, cursor = [], None
    while True:
        page = client.conversations_history(channel="C1", limit=2, cursor=cursor)
        pages.append([m["text"] for m in page["messages"]])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break

    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]
    refused = api_error(lambda: client.conversations_history(channel="C1", cursor="not-a-cursor"))
    assert refused.response["error"] == "invalid_cursor"


# -- per-workspace rate limits ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_answers_429_with_the_seconds_until_the_minute_frees() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        standin.rate_limit("chat.postMessage", per_minute=2)
        client = WebClient(token="xoxb-school-a", base_url=standin.api_url)
        client.chat_postMessage(channel="C1", text="1")
        clock.now += 20
        client.chat_postMessage(channel="C1", text="2")
        clock.now += 10.5

        refused = api_error(lambda: client.chat_postMessage(channel="C1", text="3"))

        assert refused.response.status_code == 429
        assert refused.response["error"] == "ratelimited"
        assert refused.response.headers["Retry-After"] == "30"  # 29.5 s until the first call is a minute old
        assert client.auth_test()["ok"] is True  # other methods are not limited
        clock.now += 29.5
        assert client.chat_postMessage(channel="C1", text="3")["ok"] is True
        assert [c.status for c in standin.calls_to("chat.postMessage")] == [200, 200, 429, 200]


def test_rate_limit_over_a_window_of_a_second() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        standin.rate_limit("chat.postMessage", 3, window=1)
        client = WebClient(token="xoxb-test", base_url=standin.api_url)
        for text in "123":
            client.chat_postMessage(channel="C1", text=text)

        refused = api_error(lambda: client.chat_postMessage(channel="C1", text="4"))

        assert refused.response.status_code == 429 and refused.response.headers["Retry-After"] == "1"
        clock.now += 1
        assert client.chat_postMessage(channel="C1", text="4")["ok"] is True


def test_rate_limit_counts_each_workspace_separately_and_can_be_lifted() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        standin.rate_limit("chat.postMessage", per_minute=1)
        school_a = WebClient(token="xoxb-school-a", base_url=standin.api_url)
        school_b = WebClient(token="xoxb-school-b", base_url=standin.api_url)

        assert school_a.chat_postMessage(channel="C1", text="a")["ok"] is True
        assert school_b.chat_postMessage(channel="C1", text="b")["ok"] is True
        refused = api_error(lambda: school_a.chat_postMessage(channel="C1", text="again"))
        assert refused.response.headers["Retry-After"] == "60"

        standin.rate_limit("chat.postMessage", None)
        assert school_a.chat_postMessage(channel="C1", text="again")["ok"] is True


def test_rate_limit_retry_after_is_at_least_one_second() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        standin.rate_limit("chat.postMessage", per_minute=1)
        client = WebClient(token="xoxb-test", base_url=standin.api_url)
        client.chat_postMessage(channel="C1", text="1")
        clock.now += 59.9

        refused = api_error(lambda: client.chat_postMessage(channel="C1", text="2"))

        assert refused.response.headers["Retry-After"] == "1"
    with pytest.raises(ValueError, match="per_minute must be at least 1"):
        standin.rate_limit("chat.postMessage", per_minute=0)


# -- failing channels and people ----------------------------------------------------------------


def test_fail_channel_refuses_posts_to_that_channel_only(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_channel("C2", "not_in_channel")

    refused = api_error(lambda: client.chat_postMessage(channel="C2", text="Q1"))

    assert refused.response["error"] == "not_in_channel"
    assert client.chat_postMessage(channel="C1", text="Q1")["ok"] is True
    assert standin.messages_in("C2") == []
    standin.fail_channel("C2", None)
    assert client.chat_postMessage(channel="C2", text="Q1")["ok"] is True


def test_users_have_a_settable_time_zone(standin: SlackStandIn, client: WebClient) -> None:
    standin.set_user("U7", tz="Europe/Berlin")

    user = client.users_info(user="U7")["user"]

    assert (user["tz"], user["deleted"]) == ("Europe/Berlin", False)
    assert client.users_info(user="U8")["user"]["tz"] == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("role", "flags"),
    [
        ("member", (False, False, False, False)),
        ("admin", (True, False, False, False)),
        ("owner", (True, True, False, False)),
        ("primary_owner", (True, True, True, False)),
        ("guest", (False, False, False, True)),
    ],
)
def test_users_info_says_who_is_an_admin_or_owner_as_slack_does(
    standin: SlackStandIn, client: WebClient, role: str, flags: tuple[bool, ...]
) -> None:
    standin.set_user("U7", role=role)  # type: ignore[arg-type]

    user = client.users_info(user="U7")["user"]

    assert (user["is_admin"], user["is_owner"], user["is_primary_owner"], user["is_restricted"]) == flags


def test_deleted_users_cannot_be_messaged(standin: SlackStandIn, client: WebClient) -> None:
    dm = client.conversations_open(users="U7")["channel"]["id"]
    standin.set_user("U7", tz="Europe/Berlin", deleted=True)

    assert client.users_info(user="U7")["user"]["deleted"] is True
    assert api_error(lambda: client.conversations_open(users="U7")).response["error"] == "user_disabled"
    assert api_error(lambda: client.chat_postMessage(channel=dm, text="hi")).response["error"] == "account_inactive"
    assert api_error(lambda: client.chat_postMessage(channel="U7", text="hi")).response["error"] == "account_inactive"
    assert client.conversations_open(users="U8")["ok"] is True


def test_views_update_refuses_a_hash_the_view_no_longer_has(standin: SlackStandIn, client: WebClient) -> None:
    form = {"type": "modal", "callback_id": "form", "title": {"type": "plain_text", "text": "Form"}, "blocks": []}
    opened = client.views_open(trigger_id="1.2.3", view=form)["view"]
    assert standin.shown_view("form") == opened and opened["hash"]

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=form)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = api_error(lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=form))
    assert stale.response["error"] == "hash_conflict"
    assert client.views_update(view_id=opened["id"], view=form)["ok"] is True  # no hash: the last update wins


def test_a_trigger_id_opens_one_view_within_three_seconds() -> None:
    moment = [50.0]
    form = {"type": "modal", "callback_id": "form", "title": {"type": "plain_text", "text": "Form"}, "blocks": []}
    with SlackStandIn(clock=lambda: moment[0]) as standin:
        client = WebClient(token="xoxb-test", base_url=standin.api_url)
        used, late = standin.new_trigger_id(), standin.new_trigger_id()
        assert client.views_open(trigger_id=used, view=form)["ok"] is True
        assert (
            api_error(lambda: client.views_open(trigger_id=used, view=form)).response["error"] == "exchanged_trigger_id"
        )
        moment[0] += 3.5
        assert (
            api_error(lambda: client.views_open(trigger_id=late, view=form)).response["error"] == "expired_trigger_id"
        )
        assert client.views_open(trigger_id="made-up.by.a.test", view=form)["ok"] is True  # not issued: unchecked


def test_apps_connections_open_answers_an_app_token_only_and_refuses_a_revoked_one(standin: SlackStandIn) -> None:
    """As Slack: a Socket Mode URL for an app-level token; a bot token is the wrong type; a revoked app token (or
    one of another app) is invalid_auth, while the bot token keeps working."""
    standin.socket_mode_url = "ws://127.0.0.1:9/socket"
    good, revoked = "xapp-1-A0PLCHAT-good", "xapp-1-A0PLCHAT-revoked"
    standin.revoke(revoked)

    opened = WebClient(base_url=standin.api_url).apps_connections_open(app_token=good)
    wrong_type = api_error(lambda: WebClient(base_url=standin.api_url).apps_connections_open(app_token="xoxb-test"))
    refused = api_error(lambda: WebClient(base_url=standin.api_url).apps_connections_open(app_token=revoked))

    assert opened["url"].startswith("ws://127.0.0.1:9/socket?ticket=")
    assert wrong_type.response["error"] == "not_allowed_token_type"
    assert refused.response["error"] == "invalid_auth"
    assert WebClient(token="xoxb-test", base_url=standin.api_url).auth_test()["ok"]


def test_a_revoked_bot_token_is_refused_as_slack_refuses_it(standin: SlackStandIn) -> None:
    standin.revoke("xoxb-revoked")

    refused = api_error(lambda: WebClient(token="xoxb-revoked", base_url=standin.api_url).auth_test())

    assert refused.response["error"] == "token_revoked"
