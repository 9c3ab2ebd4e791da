"""Block Kit for scheduled hashtag chats: reminders, the chat's own posts, its recap, the chat list and the
`/plchat schedule` form. Pure functions: no database, no I/O.

Every title, hashtag, question and answer goes through `blocks.escape`, in the notification text as much as in
the blocks: nothing a moderator or a participant typed can ping @channel/@here/@everyone, mention a group, or
become a link. Times are Slack date tokens (`<!date^…>`), so every reader sees them in their own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.chats.recap import Recap, RecapAnswer, RecapQuestion
from bot.chats.spec import NETWORKS, ChatSpec, FieldProblem, Question, ScheduledChat
from bot.slack.blocks import (
    SECTION_LIMIT,
    Blocks,
    button,
    clip,
    confirm_dialog,
    context,
    hashtag,
    message,
    person,
    plural,
    section,
    truncate,
    url_button,
)
from bot.slack.markup import (
    channel_mention,
    escape,
    link,
    safe_url,
    slack_date,
)
from bot.unicode_safe import ascii_int

SCHEDULE_MODAL = "chat_schedule"
MAX_MESSAGE_BLOCKS = 50
INPUT_LIMIT = 3000  # a plain_text_input's max_length, and so its initial_value's
ERROR_LIMIT = 150  # a view_submission error message
CONFIRM_TEXT_LIMIT = 300
LABEL_TITLE_LIMIT = 60  # how much of a title a confirm dialog or button quotes

FIELDS = (
    "title",
    "hashtag",
    "starts",
    "timezone",
    "duration",
    "repeat",
    "until",
    "skip",
    "slack_channels",
    "post_to_x",
    "reminders",
    "questions",
)
STARTS_FORMAT = "%Y-%m-%d %H:%M"
DEFAULT_DURATION = 60
NO_REMINDERS = ("none", "no", "off")

_QUESTION_AT = re.compile(r"\s*(\d{1,4}(?:\.\d+)?)\s*(?::|-|–|—)\s*(.*)")
_FIELD_BASE = re.compile(r"[a-z_]+")
_QUESTION_FIELD = re.compile(r"questions\[(\d+)\](?:\.(text|at))?")


# -- shared pieces ----------------------------------------------------------------------------------------------


def how_far_ahead(lead: timedelta) -> str:
    """ "in 1 hour", "in 90 minutes"-style wording for a reminder sent `lead` before the start ("now" under a
    minute)."""
    minutes = round(lead.total_seconds() / 60)
    if minutes < 1:
        return "now"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return {1: "tomorrow", 7: "in a week"}.get(days, f"in {days} days")
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"in {plural(rest, 'minute')}"
    return f"in {plural(hours, 'hour')}" + (f" {plural(rest, 'minute')}" if rest else "")


def _date_label(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


# -- the chat's own posts ---------------------------------------------------------------------------------------


def reminder_message(spec: ChatSpec, start: datetime, lead: timedelta, calendar_url: str | None) -> dict[str, Any]:
    """A reminder sent `lead` before `start` (what is really left when it goes out: `Post.lead_at`), with an "Add
    to calendar" button when there is a link."""
    when, ahead = slack_date(start), how_far_ahead(lead)
    title, tag = escape(spec.title), hashtag(spec.hashtag)
    text = f"{title} ({tag}) starts {ahead}: {when}"
    lines = [f":alarm_clock: *{title}* starts {ahead}", f"{when} · {tag} · {plural(spec.duration, 'minute')}"]
    if spec.questions:
        lines.append(f"{plural(len(spec.questions), 'question')}, posted right here. Answer in their threads.")
    lead_block = section("\n".join(lines))
    url = safe_url(calendar_url)
    if url:
        lead_block["accessory"] = url_button("Add to calendar", "chat_calendar", url)
    return message(text, [lead_block])


def welcome_message(spec: ChatSpec, start: datetime) -> dict[str, Any]:
    title, tag = escape(spec.title), hashtag(spec.hashtag)
    end = start.astimezone(UTC) + timedelta(minutes=spec.duration)
    count = plural(len(spec.questions), "question")
    text = f"Welcome to {title} ({tag})! It runs until {slack_date(end, '{time}')}."
    return message(
        text,
        [
            section(f":wave: *Welcome to {title}!* {tag}"),
            section(
                f"Over the next {plural(spec.duration, 'minute')} I'll post {count} here, one at a time. "
                f"Answer each in its thread, starting with A1, A2… to match Q1, Q2…"
            ),
            context(f"Started {slack_date(start)} · ends at {slack_date(end, '{time}')}"),
        ],
    )


def question_message(spec: ChatSpec, number: int, question: Question) -> dict[str, Any]:
    tag = hashtag(spec.hashtag)
    text = f"Q{number} {escape(question.text)} {tag}"
    return message(
        truncate(text, SECTION_LIMIT),
        [
            section(f"*Q{number}* {clip(question.text, SECTION_LIMIT - 200)} {tag}"),
            context(f"Reply in this thread with A{number} · {escape(spec.title)}"),
        ],
    )


def wrapup_message(spec: ChatSpec, start: datetime) -> dict[str, Any]:
    title, tag = escape(spec.title), hashtag(spec.hashtag)
    text = f"That's a wrap for {title} ({tag}). Thank you for joining!"
    return message(
        text,
        [
            section(f":tada: *That's a wrap for {title}!* Thank you for joining {tag}."),
            section("A recap with the most helpful answers will follow."),
            context(f"Started {slack_date(start)}"),
        ],
    )


# -- the recap --------------------------------------------------------------------------------------------------


def _author(answer: RecapAnswer) -> str:
    return person(answer.author) if answer.via == "slack" else clip(answer.author, 60)


def _answer_meta(answer: RecapAnswer) -> str:
    parts = [_author(answer) + (f" on {NETWORKS[answer.via]}" if answer.via in NETWORKS else "")]
    if answer.helpful:
        parts.append(f"{answer.helpful} found it helpful")
    view = link(answer.link, "view", 600)
    if view:
        parts.append(view)
    return " · ".join(parts)


def _recap_question(question: RecapQuestion) -> str:
    """One question and its top answers, within a section's 3,000 characters."""
    head = f"*Q{question.number}* {clip(question.text, 600)}"
    more = question.answer_count - len(question.answers)
    foot = f"_{plural(question.answer_count, 'answer')} in all_" if more > 0 else ""
    if not question.answers:
        return head + "\n_No answers this time._"
    metas = [_answer_meta(a) for a in question.answers]
    room = SECTION_LIMIT - len(head) - len(foot) - sum(len(m) + 8 for m in metas) - 4
    each = max(room // len(metas), 40)
    lines = [head, *(f"• {clip(a.text, each)} — {meta}" for a, meta in zip(question.answers, metas, strict=True))]
    if foot:
        lines.append(foot)
    return "\n".join(lines)


def recap_message(recap: Recap, archive_url: str | None) -> dict[str, Any]:
    """Each question with its most helpful answers, who took part, and the archive: at most 50 blocks."""
    title, tag = escape(recap.title), hashtag(recap.hashtag)
    people = f"{recap.participants} {'person' if recap.participants == 1 else 'people'} took part"
    if recap.first_timers:
        people += f", {recap.first_timers} of them for the first time :seedling:"
    archive = link(archive_url, "the full archive")
    head: Blocks = [section(f":memo: *Recap: {title}* {tag}"), context(f"{slack_date(recap.starts)} · {people}")]
    tail: Blocks = [context(f"Every question and answer is in {archive}.")] if archive else []
    room = MAX_MESSAGE_BLOCKS - len(head) - len(tail)
    questions = list(recap.questions)
    shown = questions if len(questions) <= room else questions[: room - 1]
    body = [section(_recap_question(q)) for q in shown]
    if len(shown) < len(questions):
        body.append(
            context(
                f"…and {plural(len(questions) - len(shown), 'more question')}"
                + (" in the archive." if archive else ".")
            )
        )
    text = f"Recap of {title} ({tag}): {plural(len(questions), 'question')}, {people}."
    return message(text, head + body + tail)


# -- the chat list ----------------------------------------------------------------------------------------------


def _local_start(chat: ScheduledChat) -> datetime | None:
    if chat.next_start is None:
        return None
    try:
        zone = ZoneInfo(chat.spec.timezone)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return chat.next_start.astimezone(UTC).astimezone(zone)


def _channels(channels: Iterable[str]) -> str:
    return ", ".join(channel_mention(c) for c in channels)


def _chat_summary(chat: ScheduledChat) -> str:
    spec = chat.spec
    lines = [f"*{clip(spec.title, 300)}* {hashtag(spec.hashtag)}"]
    if chat.cancelled:
        lines.append("_Cancelled_")
    elif chat.next_start is None:
        lines.append("_No dates left_")
    else:
        lines.append(f"Next: {slack_date(chat.next_start)} · {plural(spec.duration, 'minute')}")
    repeat = "Weekly" if spec.repeat == "weekly" else "Once"
    if spec.repeat == "weekly" and spec.until:
        repeat += f" until {_date_label(spec.until)}"
    networks = ", ".join(NETWORKS[name] for name in spec.networks)
    details = [repeat, f"{plural(len(spec.questions), 'question')}", f"on {networks}" if networks else "Slack only"]
    if spec.slack_channels:
        details.insert(
            1,
            "in "
            + _channels(spec.slack_channels[:10])
            + (f" and {len(spec.slack_channels) - 10} more" if len(spec.slack_channels) > 10 else ""),
        )
    lines.append(" · ".join(details))
    return "\n".join(lines)


def _chat_actions(chat: ScheduledChat) -> dict[str, Any]:
    quoted = clip(chat.spec.title, LABEL_TITLE_LIMIT)
    elements = [button("Edit", "chat_edit", str(chat.id))]
    local = _local_start(chat)
    if local is not None:
        day = local.date()
        elements.append(
            button(
                "Skip next",
                "chat_skip",
                f"{chat.id}:{day.isoformat()}",
                confirm=confirm_dialog(
                    "Skip the next chat?",
                    truncate(f"*{quoted}* will not run on {_date_label(day)}. Later dates stay.", CONFIRM_TEXT_LIMIT),
                    "Skip it",
                ),
            )
        )
    elements.append(
        button(
            "Cancel",
            "chat_cancel",
            str(chat.id),
            danger=True,
            confirm=confirm_dialog(
                "Cancel this chat?",
                truncate(f"*{quoted}* and every later date will be called off.", CONFIRM_TEXT_LIMIT),
                "Cancel the chat",
            ),
        )
    )
    return {"type": "actions", "block_id": f"chat:{chat.id}", "elements": elements}


def chats_list_message(chats: list[ScheduledChat], *, moderator: bool) -> dict[str, Any]:
    """The workspace's chats, soonest first as given; moderators get Edit, Skip next and Cancel on each."""
    if not chats:
        hint = (
            "Schedule one with `/plchat schedule`."
            if moderator
            else "Moderators can schedule one with `/plchat schedule`."
        )
        return message(f"No chats are scheduled yet. {hint}")
    per_chat = 2 if moderator else 1
    room = (MAX_MESSAGE_BLOCKS - 2) // per_chat
    shown = chats[:room]
    blocks: Blocks = [section(f"*Upcoming chats* ({len(chats)})")]
    for chat in shown:
        blocks.append(section(_chat_summary(chat)))
        if moderator and not chat.cancelled:
            blocks.append(_chat_actions(chat))
    if len(shown) < len(chats):
        blocks.append(context(f"…and {plural(len(chats) - len(shown), 'more chat')}."))
    elif moderator:
        blocks.append(context("Schedule another with `/plchat schedule`."))
    return message(f"Upcoming chats ({len(chats)})", blocks)


# -- the schedule form ------------------------------------------------------------------------------------------


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _text_input(
    name: str, initial: str | None, *, max_length: int, placeholder: str = "", multiline: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": name,
        "max_length": min(INPUT_LIMIT, max(max_length, len(initial or ""))),
    }
    if multiline:
        element["multiline"] = True
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    if initial:
        element["initial_value"] = initial[:INPUT_LIMIT]
    return element


def _input(
    name: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str = "",
    block_id: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id or name, "label": _plain(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = _plain(hint)
    return block


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def reminder_text(lead: timedelta) -> str:
    """A reminder lead as the form writes it: "24h", "1h", "90m"."""
    minutes = round(lead.total_seconds() / 60)
    return f"{minutes // 60}h" if minutes and minutes % 60 == 0 else f"{minutes}m"


def _question_chunks(questions: Iterable[Question]) -> list[str]:
    """ "5: text" lines, split into inputs of at most 3,000 characters each."""
    chunks: list[str] = [""]
    for question in questions:
        line = f"{_number(question.at)}: {' '.join(question.text.split())}"[:INPUT_LIMIT]
        joined = f"{chunks[-1]}\n{line}" if chunks[-1] else line
        if len(joined) <= INPUT_LIMIT:
            chunks[-1] = joined
        else:
            chunks.append(line)
    return chunks


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


REPEAT_OPTIONS = {"weekly": _option("weekly", "Every week"), "none": _option("none", "Just once")}
NETWORK_OPTIONS = {name: _option(f"post_to_{name}", label) for name, label in NETWORKS.items()}


def schedule_modal(
    *, default_timezone: str, chat: ScheduledChat | None = None, problems: dict[str, str] | None = None
) -> dict[str, Any]:
    """The `/plchat schedule` form, empty or filled in from `chat` for editing.

    Each input's block_id and action_id is its field name; questions that do not fit one input's 3,000
    characters continue in "questions_2", "questions_3"… (`schedule_fields` joins them back). `problems`
    (block_id → message) are shown above the form, for when the form is rebuilt rather than answered with
    `response_action="errors"`.
    """
    spec = chat.spec if chat else None
    repeat = REPEAT_OPTIONS[spec.repeat if spec else "weekly"]
    channels: dict[str, Any] = {
        "type": "multi_conversations_select",
        "action_id": "slack_channels",
        "placeholder": _plain("Where to post the questions"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if spec and spec.slack_channels:
        channels["initial_conversations"] = list(spec.slack_channels)
    elif not spec:
        channels["default_to_current_conversation"] = True
    until: dict[str, Any] = {"type": "datepicker", "action_id": "until"}
    if spec and spec.until:
        until["initial_date"] = spec.until.isoformat()
    # One group of checkboxes for the networks; its block keeps the name the X checkbox had.
    networks: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "post_to_x",
        "options": list(NETWORK_OPTIONS.values()),
    }
    if spec and spec.networks:
        networks["initial_options"] = [NETWORK_OPTIONS[name] for name in spec.networks]
    if spec is None:
        reminders = None
    else:
        reminders = ", ".join(reminder_text(lead) for lead in spec.reminders) or NO_REMINDERS[0]
    chunks = _question_chunks(spec.questions) if spec else [""]

    blocks: list[dict[str, Any]] = []
    if problems:
        lines = "\n".join(f"• {escape(field)}: {escape(text)}" for field, text in problems.items())
        blocks.append(section(f":warning: *Please fix:*\n{lines}"))
    blocks += [
        _input(
            "title",
            "Title",
            _text_input(
                "title",
                spec.title if spec else None,
                max_length=150,
                placeholder="e.g. Station rotation in middle school",
            ),
        ),
        _input(
            "hashtag",
            "Hashtag",
            _text_input("hashtag", spec.hashtag if spec else None, max_length=100, placeholder="e.g. PLChat"),
        ),
        _input(
            "starts",
            "Starts",
            _text_input(
                "starts",
                spec.starts.strftime(STARTS_FORMAT) if spec else None,
                max_length=40,
                placeholder="YYYY-MM-DD HH:MM",
            ),
            hint="The date and wall-clock time of the first chat, in the time zone below.",
        ),
        _input(
            "timezone",
            "Time zone",
            _text_input(
                "timezone",
                spec.timezone if spec else default_timezone,
                max_length=64,
                placeholder="e.g. America/Chicago",
            ),
        ),
        _input(
            "duration",
            "Length in minutes",
            _text_input("duration", str(spec.duration if spec else DEFAULT_DURATION), max_length=6),
        ),
        _input(
            "repeat",
            "Repeat",
            {
                "type": "static_select",
                "action_id": "repeat",
                "options": list(REPEAT_OPTIONS.values()),
                "initial_option": repeat,
            },
        ),
        _input("until", "Last date", until, optional=True, hint="A weekly chat stops after this date."),
        _input(
            "skip",
            "Dates to skip",
            _text_input(
                "skip",
                ", ".join(day.isoformat() for day in spec.skip) if spec else None,
                max_length=1000,
                placeholder="e.g. 2026-11-26, 2026-12-24",
            ),
            optional=True,
        ),
        _input("slack_channels", "Slack channels", channels, optional=True),
        _input(
            "post_to_x",
            "Also post on",
            networks,
            optional=True,
            hint="Each network needs its account connected by whoever runs the bot.",
        ),
        _input(
            "reminders",
            "Reminders",
            _text_input("reminders", reminders, max_length=200, placeholder="24h, 1h"),
            optional=True,
            hint='How long before the start to remind people; blank for 24h and 1h, "none" for none.',
        ),
        _input(
            "questions",
            "Questions",
            _text_input(
                "questions",
                chunks[0],
                max_length=INPUT_LIMIT,
                multiline=True,
                placeholder="0: What brought you here today?",
            ),
            hint='One per line. Start a line with minutes after the start ("5: …") to set its time.',
        ),
    ]
    for number, chunk in enumerate(chunks[1:], start=2):
        name = f"questions_{number}"
        blocks.append(
            _input(
                name,
                "More questions",
                _text_input(name, chunk, max_length=INPUT_LIMIT, multiline=True),
                optional=True,
                block_id=name,
            )
        )
    return {
        "type": "modal",
        "callback_id": SCHEDULE_MODAL,
        "private_metadata": str(chat.id) if chat else "",
        "title": _plain("Edit chat" if chat else "Schedule a chat"),
        "submit": _plain("Save" if chat else "Schedule"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _value(values: dict[str, Any], name: str) -> dict[str, Any]:
    return (values.get(name) or {}).get(name) or {}


def _text(values: dict[str, Any], name: str) -> str:
    return (_value(values, name).get("value") or "").strip()


def _list(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]


def parse_questions(text: str) -> list[dict[str, Any]]:
    """One question per non-blank line; "5: text" or "5.5 - text" sets its minute."""
    questions: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        timed = _QUESTION_AT.fullmatch(line)
        if timed and timed.group(2).strip():
            questions.append({"at": float(timed.group(1)), "text": timed.group(2).strip()})
        else:
            questions.append({"at": None, "text": line.strip()})
    return questions


def _question_blocks(values: dict[str, Any]) -> list[str]:
    extra = sorted(
        (int(name.removeprefix("questions_")), name) for name in values if re.fullmatch(r"questions_\d+", name)
    )
    return ["questions", *(name for _, name in extra)]


def schedule_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The schedule form's `view["state"]["values"]` as the fields `parse_chat_fields` checks."""
    duration = _text(values, "duration")
    minutes = ascii_int(duration, 10**6)
    repeat = (_value(values, "repeat").get("selected_option") or {}).get("value") or "weekly"
    fields: dict[str, Any] = {
        "title": _text(values, "title"),
        "hashtag": _text(values, "hashtag"),
        "starts": _text(values, "starts"),
        "timezone": _text(values, "timezone"),
        "duration": duration if minutes is None else minutes,
        "repeat": repeat,
        "until": _value(values, "until").get("selected_date") or None,
        "skip": _list(_text(values, "skip")),
        "slack_channels": list(_value(values, "slack_channels").get("selected_conversations") or []),
        "questions": [q for name in _question_blocks(values) for q in parse_questions(_text(values, name))],
    }
    chosen = {option.get("value") for option in _value(values, "post_to_x").get("selected_options") or []}
    fields.update({f"post_to_{name}": f"post_to_{name}" in chosen for name in NETWORKS})
    reminders = _text(values, "reminders")
    if reminders:
        fields["reminders"] = [] if reminders.lower() in NO_REMINDERS else _list(reminders)
    return fields


def _error_label(field: str) -> str:
    """How a problem's field reads under its input: questions[3].text (1-based, as the parser counts) is Q3."""
    question = _QUESTION_FIELD.fullmatch(field)
    if question is None:
        return field
    number, part = question.groups()
    return f"Q{number}'s minute" if part == "at" else f"Q{number}"


def field_errors(problems: Iterable[FieldProblem]) -> dict[str, str]:
    """`ack(response_action="errors", errors=…)` for the schedule form: each problem on its input, at most 150
    characters a field (several problems of one field joined with "; "). A problem that names no input of the
    form goes on the title."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        match = _FIELD_BASE.match(problem.field)
        base = match.group(0) if match else ""
        block = "post_to_x" if base.startswith("post_to_") else base if base in FIELDS else "title"
        text = problem.message if problem.field == block else f"{_error_label(problem.field)}: {problem.message}"
        grouped.setdefault(block, []).append(" ".join(text.split()))
    return {block: truncate("; ".join(texts), ERROR_LIMIT) for block, texts in grouped.items()}
