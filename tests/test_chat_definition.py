"""Chat files and form fields: the contract example, every field's problems (with lines), round trips, hostile input."""

from __future__ import annotations

import itertools
import time
from datetime import date, datetime, timedelta

import pytest

from bot.chats.definition import (
    MAX_FILE_BYTES,
    chat_to_yaml,
    parse_chat_fields,
    parse_chat_file,
)
from bot.chats.spec import (
    DEFAULT_REMINDERS,
    MAX_QUESTIONS,
    X_MAX_CHARS,
    ChatSpec,
    ChatSpecError,
    FieldProblem,
    Question,
    x_question_text,
)
from bot.unicode_safe import ascii_int

DEFAULT_TZ = "America/Los_Angeles"

EXAMPLE = """\
title: "Feedback that moves learning"
hashtag: PLChat                 # without '#'
starts: 2026-12-01 17:00        # local time in `timezone`
timezone: America/Los_Angeles   # IANA; default PLCHAT_TIMEZONE
duration: 60                    # minutes
repeat: weekly                  # or: none
until: 2027-06-01               # last date a weekly chat may run
skip: [2026-12-22, 2026-12-29]
slack_channels: [C0PLCHAT]      # channel ids
post_to_x: true
reminders: [24h, 1h]            # before the start; default 24h and 1h
questions:                      # `at`: minutes after the start (decimals allowed); default cadence when left out
  - at: 5
    text: "How do your students give each other feedback?"
  - at: 15
    text: "Which tool made feedback faster this year?"
"""

MINIMAL = """\
title: Short chat
hashtag: PLChat
starts: 2026-12-01 17:00
duration: 60
slack_channels: [C0PLCHAT]
questions:
  - text: First?
"""


def parse(text: str) -> ChatSpec:
    return parse_chat_file(text, default_timezone=DEFAULT_TZ)


def problems(text: str) -> list[FieldProblem]:
    with pytest.raises(ChatSpecError) as caught:
        parse(text)
    return caught.value.problems


def field_problems(data: dict) -> list[FieldProblem]:
    with pytest.raises(ChatSpecError) as caught:
        parse_chat_fields(data, default_timezone=DEFAULT_TZ)
    return caught.value.problems


def one(found: list[FieldProblem]) -> FieldProblem:
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]


def replace_line(text: str, prefix: str, new: str) -> str:
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    lines[index] = new
    return "\n".join(lines) + "\n"


# --- the contract ---------------------------------------------------------------------------------


def test_the_contract_example_parses() -> None:
    spec = parse(EXAMPLE)
    assert spec == ChatSpec(
        title="Feedback that moves learning",
        hashtag="PLChat",
        starts=datetime(2026, 12, 1, 17, 0),
        timezone="America/Los_Angeles",
        duration=60,
        repeat="weekly",
        until=date(2027, 6, 1),
        skip=(date(2026, 12, 22), date(2026, 12, 29)),
        slack_channels=("C0PLCHAT",),
        post_to_x=True,
        reminders=(timedelta(hours=24), timedelta(hours=1)),
        questions=(
            Question(5, "How do your students give each other feedback?"),
            Question(15, "Which tool made feedback faster this year?"),
        ),
    )


def test_defaults_fill_in_what_is_left_out() -> None:
    spec = parse(MINIMAL)
    assert spec.timezone == DEFAULT_TZ
    assert spec.repeat == "none"
    assert spec.until is None
    assert spec.skip == ()
    assert spec.post_to_x is False
    assert spec.reminders == DEFAULT_REMINDERS
    assert spec.questions == (Question(30, "First?"),)


def test_the_default_timezone_must_itself_be_known() -> None:
    with pytest.raises(ChatSpecError) as caught:
        parse_chat_file(MINIMAL, default_timezone="Mars/Olympus")
    problem = one(caught.value.problems)
    assert problem.field == "timezone" and "Mars/Olympus" in problem.message


def test_lenient_spellings_are_normalised() -> None:
    text = MINIMAL.replace("hashtag: PLChat", 'hashtag: "#PLChat"').replace(
        "slack_channels: [C0PLCHAT]", "slack_channels: C0PLCHAT\nreminders: [30m, 1h30m, 2d, 1H ]"
    )
    spec = parse(text)
    assert spec.hashtag == "PLChat"
    assert spec.slack_channels == ("C0PLCHAT",)
    assert spec.reminders == (
        timedelta(days=2),
        timedelta(hours=1, minutes=30),
        timedelta(hours=1),
        timedelta(minutes=30),
    )


def test_skip_dates_are_deduplicated_and_sorted() -> None:
    text = replace_line(EXAMPLE, "skip:", "skip: [2026-12-29, 2026-12-22, 2026-12-29]")
    assert parse(text).skip == (date(2026, 12, 22), date(2026, 12, 29))


def test_yaml_datetime_values_are_accepted_for_starts() -> None:
    text = replace_line(MINIMAL, "starts:", "starts: 2026-12-01 17:00:00")
    assert parse(text).starts == datetime(2026, 12, 1, 17, 0)


# --- one bad field at a time: the problem names the field and its line --------------------------------

BAD_FIELDS = [
    # (line prefix to replace, replacement, field, words in the message)
    ("title:", 'title: ""', "title", "empty"),
    ("title:", f'title: "{"x" * 151}"', "title", "151 characters"),
    ("title:", 'title: "Tab\\there"', "title", "control character"),
    ("hashtag:", "hashtag: #PLChat", "hashtag", "comment"),
    ("hashtag:", "hashtag: PL-Chat", "hashtag", "letters, digits and underscores"),
    ("hashtag:", f"hashtag: {'a' * 51}", "hashtag", "1 to 50"),
    ("hashtag:", "hashtag: '2026'", "hashtag", "letter"),
    ("starts:", "starts: 2026-12-01", "starts", "time as well"),
    ("starts:", "starts: 2026-02-30 17:00", "starts", "not a real date"),
    ("starts:", "starts: tomorrow at five", "starts", "2026-12-01 17:00"),
    ("starts:", "starts: 2026-12-01T17:00:00Z", "starts", "without a UTC offset"),
    ("timezone:", "timezone: Pacific Time", "timezone", "not a known time zone"),
    ("timezone:", "timezone: america/los_angeles", "timezone", "did you mean America/Los_Angeles"),
    ("duration:", "duration: 10", "duration", "15 to 240"),
    ("duration:", "duration: 241", "duration", "15 to 240"),
    ("duration:", "duration: an hour", "duration", "whole number"),
    ("duration:", "duration: 45.5", "duration", "whole number"),
    ("repeat:", "repeat: daily", "repeat", "weekly or none"),
    ("until:", "until: 2026-11-24", "until", "must be after starts"),
    ("until:", "until: soon", "until", "date like"),
    ("skip:", "skip: [2026-12-23]", "skip[1]", "Wednesday; this chat runs on Tuesdays"),
    ("skip:", "skip: [2026-11-24]", "skip[1]", "before the first chat"),
    ("skip:", "skip: [2027-06-08]", "skip[1]", "after until"),
    ("slack_channels:", "slack_channels: ['#general']", "slack_channels[1]", "Channel ID"),
    ("slack_channels:", "slack_channels: [general]", "slack_channels[1]", "channel id"),
    ("post_to_x:", "post_to_x: sometimes", "post_to_x", "true or false"),
    ("reminders:", "reminders: [24h, 2m]", "reminders[2]", "5 minutes to 7 days"),
    ("reminders:", "reminders: [8d]", "reminders[1]", "5 minutes to 7 days"),
    ("reminders:", "reminders: [1h, 60m]", "reminders[2]", "same time as reminders[1]"),
    ("reminders:", "reminders: [90]", "reminders[1]", "add a unit"),
    ("reminders:", "reminders: [an hour before]", "reminders[1]", "24h, 1h, 30m"),
]


@pytest.mark.parametrize(("prefix", "replacement", "field", "words"), BAD_FIELDS)
def test_a_bad_field_names_its_field_and_line(prefix: str, replacement: str, field: str, words: str) -> None:
    text = replace_line(EXAMPLE, prefix, replacement)
    expected_line = next(n for n, line in enumerate(text.splitlines(), 1) if line == replacement)
    found = problems(text)
    problem = next((p for p in found if p.field == field), None)
    assert problem is not None, [str(p) for p in found]
    assert words in problem.message
    assert problem.line == expected_line
    assert str(problem).startswith(f"line {expected_line}: {field}: ")


def test_unknown_keys_suggest_the_closest_known_one() -> None:
    text = EXAMPLE.replace("duration: 60", "duraton: 60")
    found = problems(text)
    assert {p.field for p in found} == {"duraton", "duration"}
    unknown = next(p for p in found if p.field == "duraton")
    assert "did you mean `duration`" in unknown.message and unknown.line == 5
    assert next(p for p in found if p.field == "duration").line is None  # missing: no line to point at


def test_unknown_question_keys_are_refused_with_a_suggestion() -> None:
    text = EXAMPLE.replace("  - at: 15\n", "  - time: 15\n")
    found = problems(text)
    assert [(p.field, p.line) for p in found] == [("questions[2].time", 15), ("questions[2].at", 15)]
    assert "is not a field of a question" in found[0].message
    assert "other questions have `at`" in found[1].message


def test_questions_must_be_a_list() -> None:
    text = MINIMAL.replace("questions:\n  - text: First?\n", "questions: What is feedback?\n")
    problem = one(problems(text))
    assert (problem.field, problem.line) == ("questions", 6)
    assert "list of questions" in problem.message


def test_a_key_written_twice_is_refused() -> None:
    problem = one(problems(EXAMPLE + 'title: "Again"\n'))
    assert problem.field == "title" and "twice" in problem.message and problem.line == 17


def test_question_problems_point_at_the_question_line() -> None:
    text = EXAMPLE.replace("  - at: 15\n", "  - at: 60\n")
    problem = one(problems(text))
    assert (problem.field, problem.line) == ("questions[2].at", 15)
    assert "before the chat ends" in problem.message

    text = EXAMPLE.replace("  - at: 15\n", "  - at: 4.5\n")
    problem = one(problems(text))
    assert (problem.field, problem.line) == ("questions[2].at", 15)
    assert "not after Q1" in problem.message

    text = EXAMPLE.replace('    text: "Which tool made feedback faster this year?"\n', '    text: ""\n')
    problem = one(problems(text))
    assert (problem.field, problem.line) == ("questions[2].text", 16)

    text = EXAMPLE.replace("  - at: 15\n", "  - at: -1\n")
    assert one(problems(text)).field == "questions[2].at"
    text = EXAMPLE.replace("  - at: 15\n", "  - at: soon\n")
    assert "number of minutes" in one(problems(text)).message


def test_missing_fields_are_each_reported() -> None:
    found = problems("title: Only a title\n")
    assert {p.field for p in found} == {"hashtag", "starts", "duration", "slack_channels", "questions"}


def test_several_problems_are_reported_at_once_in_line_order() -> None:
    text = """\
title: ""
hashtag: PL-Chat
starts: 2026-12-01 17:00
timezone: Nowhere/Special
duration: 500
repeat: weekly
skip: [2026-12-23]
slack_channels: ['#plchat']
reminders: [1m]
questions:
  - at: 5
    text: One
  - text: Two
"""
    found = problems(text)
    assert [(p.line, p.field) for p in found] == [
        (1, "title"),
        (2, "hashtag"),
        (4, "timezone"),
        (5, "duration"),
        (7, "skip[1]"),
        (8, "slack_channels[1]"),
        (9, "reminders[1]"),
        (13, "questions[2].at"),
    ]
    assert "give `at` for every question, or for none" in found[-1].message


def test_somewhere_to_post_is_required() -> None:
    text = MINIMAL.replace("slack_channels: [C0PLCHAT]", "slack_channels: []\npost_to_x: false")
    problem = one(problems(text))
    assert problem.field == "slack_channels" and "post_to_x" in problem.message and problem.line == 5
    spec = parse(text.replace("post_to_x: false", "post_to_x: true"))
    assert spec.slack_channels == () and spec.post_to_x


def test_until_and_one_off_skips() -> None:
    one_off = replace_line(EXAMPLE, "repeat:", "repeat: none")
    found = problems(one_off)
    assert {p.field for p in found} == {"until", "skip[1]", "skip[2]"}
    assert "only applies to weekly" in next(p for p in found if p.field == "until").message
    assert "runs only on 2026-12-01" in next(p for p in found if p.field == "skip[1]").message

    skip_the_day = replace_line(one_off, "until:", "").replace("[2026-12-22, 2026-12-29]", "[2026-12-01]")
    assert parse(skip_the_day).skip == (date(2026, 12, 1),)

    same_day = replace_line(EXAMPLE, "until:", "until: 2026-12-01").replace("skip: [2026-12-22, 2026-12-29]", "")
    assert parse(same_day).until == date(2026, 12, 1)


def test_too_many_questions() -> None:
    items = "".join(f"  - text: Question {n}?\n" for n in range(MAX_QUESTIONS + 1))
    text = MINIMAL.replace("  - text: First?\n", items)
    problem = one(problems(text))
    assert problem.field == "questions" and str(MAX_QUESTIONS) in problem.message and problem.line == 6
    assert one(problems(MINIMAL.replace("  - text: First?\n", "").replace("questions:", "questions: []")))


# --- default cadence ---------------------------------------------------------------------------------


def test_default_cadence_spreads_questions_evenly_to_half_minutes() -> None:
    items = "".join(f"  - text: Question {n}?\n" for n in range(1, 6))
    spec = parse(MINIMAL.replace("  - text: First?\n", items))
    assert [q.at for q in spec.questions] == [10, 20, 30, 40, 50]

    spec = parse(MINIMAL.replace("  - text: First?\n", items).replace("duration: 60", "duration: 45"))
    assert [q.at for q in spec.questions] == [7.5, 15, 22.5, 30, 37.5]

    items = "".join(f"  - text: Q{n}?\n" for n in range(1, 4))
    spec = parse(MINIMAL.replace("  - text: First?\n", items).replace("duration: 60", "duration: 50"))
    assert [q.at for q in spec.questions] == [12.5, 25, 37.5]


def test_default_cadence_stays_increasing_and_inside_the_chat_with_the_most_questions() -> None:
    items = "".join(f"  - text: Q{n}?\n" for n in range(1, MAX_QUESTIONS + 1))
    spec = parse(MINIMAL.replace("  - text: First?\n", items).replace("duration: 60", "duration: 15"))
    ats = [q.at for q in spec.questions]
    assert all(a < b for a, b in itertools.pairwise(ats))
    assert ats[0] > 0 and ats[-1] < 15
    assert all((a * 2).is_integer() for a in ats)


def test_plain_strings_are_questions_without_at() -> None:
    spec = parse(MINIMAL.replace("  - text: First?\n", "  - First?\n  - Second?\n"))
    assert spec.questions == (Question(20, "First?"), Question(40, "Second?"))


def test_decimal_at_is_kept() -> None:
    spec = parse(EXAMPLE.replace("  - at: 15\n", "  - at: 12.25\n"))
    assert spec.questions[1].at == 12.25


# --- the 280-character check -------------------------------------------------------------------------


def test_a_question_too_long_for_x_says_how_many_characters_over() -> None:
    room = X_MAX_CHARS - len(x_question_text(2, "", "PLChat"))
    fits = "a" * room
    assert len(x_question_text(2, fits, "PLChat")) == X_MAX_CHARS
    assert parse(EXAMPLE.replace("Which tool made feedback faster this year?", fits)).questions[1].text == fits

    problem = one(problems(EXAMPLE.replace("Which tool made feedback faster this year?", fits + "bcd")))
    assert problem.field == "questions[2].text" and problem.line == 16
    assert "3 characters over" in problem.message and str(X_MAX_CHARS + 3) in problem.message


def test_a_longer_hashtag_counts_against_every_question() -> None:
    room = X_MAX_CHARS - len(x_question_text(1, "", "PLChat"))
    text = EXAMPLE.replace("How do your students give each other feedback?", "b" * room)
    assert parse(text)
    problem = one(problems(text.replace("hashtag: PLChat", "hashtag: PLChatLonger")))
    assert problem.field == "questions[1].text" and "6 characters over" in problem.message


# --- daylight saving time ----------------------------------------------------------------------------


def test_a_start_in_the_spring_forward_gap_is_refused() -> None:
    text = replace_line(MINIMAL, "starts:", "starts: 2027-03-14 02:30")
    problem = one(problems(text))
    assert problem.field == "starts" and problem.line == 3
    assert "does not exist in America/Los_Angeles" in problem.message
    assert "2027-03-14 02:30" in problem.message

    assert parse(replace_line(MINIMAL, "starts:", "starts: 2027-03-14 03:30")).starts.hour == 3
    # The fall-back hour happens (twice); it is allowed.
    assert parse(replace_line(MINIMAL, "starts:", "starts: 2026-11-01 01:30")).starts.hour == 1


def test_a_weekly_chat_that_would_land_in_the_gap_is_refused_unless_skipped() -> None:
    text = """\
title: Late night chat
hashtag: NightOwls
starts: 2027-03-07 02:30
timezone: America/New_York
duration: 30
repeat: weekly
until: 2027-04-01
slack_channels: [C0PLCHAT]
questions:
  - text: Awake?
"""
    problem = one(problems(text))
    assert problem.field == "starts" and "2027-03-14" in problem.message and "skip" in problem.message
    assert parse(text + "skip: [2027-03-14]\n").skip == (date(2027, 3, 14),)


# --- round trip ------------------------------------------------------------------------------------


def test_chat_to_yaml_round_trips_the_example() -> None:
    spec = parse(EXAMPLE)
    assert parse(chat_to_yaml(spec)) == spec
    assert parse_chat_file(chat_to_yaml(spec), default_timezone="UTC") == spec


def test_chat_to_yaml_round_trips_awkward_values() -> None:
    spec = ChatSpec(
        title="Quotes \"and\" 'apostrophes' # not a comment: [x] {y} & *z* — ümlauts 🎉 \\ backslash",
        hashtag="Ed_Chat2026",
        starts=datetime(2027, 1, 5, 6, 5),
        timezone="Europe/London",
        duration=240,
        repeat="weekly",
        until=None,
        skip=(date(2027, 1, 12),),
        slack_channels=("C0PLCHAT", "G01ABCDEF"),
        post_to_x=False,
        reminders=(timedelta(days=7), timedelta(hours=24), timedelta(hours=1, minutes=30), timedelta(minutes=5)),
        questions=(
            Question(0, "yes"),
            Question(0.25, "null"),
            Question(7.125, "line one\nline two: with colon"),
            Question(100, "- starts with a dash"),
            Question(239.5, "2026-12-01"),
        ),
    )
    text = chat_to_yaml(spec)
    assert parse(text) == spec
    assert parse(chat_to_yaml(parse(text))) == spec


def test_chat_to_yaml_round_trips_a_one_off_without_reminders() -> None:
    spec = parse(MINIMAL.replace("questions:", "reminders: []\npost_to_x: true\nquestions:"))
    assert spec.reminders == ()
    assert parse(chat_to_yaml(spec)) == spec


# --- the form's fields -------------------------------------------------------------------------------


def form(**changes: object) -> dict:
    data: dict = {
        "title": "Feedback that moves learning",
        "hashtag": "#PLChat",
        "starts": "2026-12-01 17:00",
        "timezone": "America/Los_Angeles",
        "duration": 60,
        "repeat": "weekly",
        "until": "2027-06-01",
        "skip": ["2026-12-29", "2026-12-22"],
        "slack_channels": ["C0PLCHAT"],
        "post_to_x": True,
        "reminders": ["24h", "1h"],
        "questions": [
            {"at": 5, "text": "How do your students give each other feedback?"},
            {"at": 15, "text": "Which tool made feedback faster this year?"},
        ],
    }
    data.update(changes)
    return data


def test_form_fields_give_the_same_spec_as_the_file() -> None:
    assert parse_chat_fields(form(), default_timezone=DEFAULT_TZ) == parse(EXAMPLE)


def test_form_fields_report_problems_without_lines() -> None:
    found = field_problems(form(starts="2026-12-01", duration=5, questions=[{"at": None, "text": "x"}, {"text": ""}]))
    assert all(p.line is None for p in found)
    assert {p.field for p in found} == {"starts", "duration", "questions[2].text"}


def test_form_questions_without_at_get_the_default_cadence() -> None:
    spec = parse_chat_fields(
        form(questions=[{"at": None, "text": "One?"}, {"at": None, "text": "Two?"}, {"text": "Three?"}]),
        default_timezone=DEFAULT_TZ,
    )
    assert [q.at for q in spec.questions] == [15, 30, 45]


def test_form_refuses_mixed_at() -> None:
    problem = one(field_problems(form(questions=[{"at": 5, "text": "One?"}, {"at": None, "text": "Two?"}])))
    assert problem.field == "questions[2].at" and "every question, or for none" in problem.message


def test_form_blank_fields_count_as_not_given() -> None:
    spec = parse_chat_fields(form(timezone="", until=None, skip=[], reminders=[]), default_timezone="Europe/London")
    assert spec.timezone == "Europe/London" and spec.reminders == ()
    found = field_problems(form(hashtag="  ", title=""))
    assert {p.field for p in found} == {"hashtag", "title"}
    assert all("comment" not in p.message for p in found)


def test_form_must_be_a_mapping() -> None:
    with pytest.raises(ChatSpecError):
        parse_chat_fields(["title"], default_timezone=DEFAULT_TZ)  # type: ignore[arg-type]


# --- hostile input ------------------------------------------------------------------------------------


def test_a_huge_file_is_refused_before_parsing() -> None:
    huge = EXAMPLE + "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    problem = one(problems(huge))
    assert problem.field == "file" and str(MAX_FILE_BYTES) in problem.message
    problem = one(problems("x" * 50_000_000))
    assert problem.field == "file"
    with pytest.raises(ChatSpecError):
        parse_chat_file(huge.encode(), default_timezone=DEFAULT_TZ)


def test_binary_junk_is_refused() -> None:
    problem = one(problems("title: x\n\x00\x01\x02\xff\xfe"))
    assert problem.field == "file" and "binary" in problem.message and problem.line == 2
    with pytest.raises(ChatSpecError) as caught:
        parse_chat_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", default_timezone=DEFAULT_TZ)
    assert one(caught.value.problems).field == "file"


def test_bytes_in_utf8_are_read() -> None:
    assert parse_chat_file(EXAMPLE.encode("utf-8"), default_timezone=DEFAULT_TZ) == parse(EXAMPLE)
    assert parse("\ufeff" + EXAMPLE) == parse(EXAMPLE)


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "# only a comment\n", "- a\n- list\n", "just a string\n", "42\n", "null\n", "--- {}\n--- {}\n"],
)
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    found = problems(text)
    assert found and found[0].field in ("file", "title")


def test_an_empty_mapping_reports_the_missing_fields() -> None:
    assert {p.field for p in problems("{}\n")} >= {"title", "hashtag", "starts", "questions"}


def test_a_yaml_syntax_error_gives_its_line() -> None:
    text = EXAMPLE.replace("post_to_x: true", "post_to_x: [true")
    problem = one(problems(text))
    assert problem.field == "file" and "not valid YAML" in problem.message
    assert problem.line is not None and problem.line >= 10

    problem = one(problems("title: Feedback: what works\nhashtag: x\n"))
    assert (problem.field, problem.line) == ("file", 1)


def test_aliases_and_billion_laughs_are_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{', '.join(['*' + chr(ord('a') + i)] * 9)}]\n" for i in range(8)
    )
    started = time.monotonic()
    problem = one(problems(bomb))
    assert time.monotonic() - started < 1
    assert problem.field == "file" and "alias" in problem.message and problem.line == 2

    alias = EXAMPLE.replace("title:", "anchor: &t Feedback\ntitle: *t\n#")
    assert "alias" in one(problems(alias)).message


def test_merge_keys_are_refused() -> None:
    text = "base: &base {duration: 60}\n<<: *base\n" + MINIMAL
    assert "alias" in one(problems(text)).message


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object:builtins.object {}",
        "!custom thing",
    ],
)
def test_arbitrary_objects_cannot_be_built(tag: str) -> None:
    problem = one(problems(EXAMPLE.replace('"Feedback that moves learning"', tag)))
    assert problem.field == "file" and problem.line == 1


def test_deep_nesting_is_refused() -> None:
    problem = one(problems("title: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert problem.field == "file" and "nested too deeply" in problem.message


def test_complex_and_odd_keys_do_not_crash() -> None:
    found = problems(MINIMAL + "? [a, b]\n: c\n")
    assert found and found[0].field == "file"  # unhashable key: YAML cannot build it
    found = problems(MINIMAL + "1: one\n~: nothing\n")
    assert {p.field for p in found} == {"1", "None"}


@pytest.mark.parametrize("typed", ["¹", "٣٠", "9" * 5000, " 30x", "-5"])
def test_a_duration_of_digits_that_are_not_ascii_is_refused_not_a_crash(typed: str) -> None:
    """`str.isdigit` says yes to "¹" (which `int` refuses) and to 5,000 digits (over Python's limit)."""
    assert ascii_int(typed) is None
    with pytest.raises(ChatSpecError, match="duration"):
        parse_chat_fields(
            {
                "title": "Feedback chat",
                "hashtag": "PLChat",
                "starts": "2026-12-01 17:00",
                "timezone": "America/Los_Angeles",
                "duration": typed,
                "slack_channels": ["C0PLCHAT"],
            },
            default_timezone="America/Los_Angeles",
        )
