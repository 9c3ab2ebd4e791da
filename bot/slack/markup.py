"""The one safe path for what the bot sends to Slack: its own markup is marked, and everything else is inert.

Slack turns `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`, `<#C…>` and `<url|label>` in any
mrkdwn string, a message's fallback `text` included, into live notifications and links. The bot writes its own
markup only through the helpers here (`mention`, `channel_mention`, `link`, `slack_date`), which put a key this
process drew at random in front of each token. `guard` runs on every payload where it leaves the bot (every
Web API call, every `respond`; see `bot.slack.client`): in each mrkdwn string it keeps the marked tokens and
escapes every other `<` and `>`. So nothing a person typed can become markup, whichever renderer placed it and
whether or not that renderer remembered to escape it; nobody can forge the key, which never leaves the process.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

KEY = "\ue000" + secrets.token_hex(8) + "\ue001"
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{2,}")
_SAFE_URL = re.compile(r"https?://[^\s<>|\ue000\ue001]+", re.IGNORECASE)
LINK_LIMIT = 3000
_MARKED = re.compile(re.escape(KEY) + r"(<[^<>\ue000\ue001]*>)")
_STRAY = re.compile("[\ue000\ue001]")  # what is left of a key cut short (or typed): dropped
_BROADCAST = re.compile(r"([@!])(channel|here|everyone)\b", re.IGNORECASE)
# Payload fields holding mrkdwn or blocks, as the Web API and response_url take them.
_PAYLOAD_FIELDS = ("text", "blocks", "attachments", "view", "initial_comment")


def escape(text: str) -> str:
    """User text for a mrkdwn string, shown as typed: `&`, `<` and `>` as entities (so `a < b` reads right),
    and a word joiner after the @ of a bare "@here". Safety does not rest on this: `guard` makes any markup
    that was not marked inert."""
    text = _STRAY.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("\\1\u2060\\2", text)


def _token(markup: str) -> str:
    return KEY + markup


def mention(user_id: str) -> str:
    """A live mention of a Slack user the bot means to credit or tell (`<@U…>`)."""
    if not SLACK_USER.fullmatch(user_id):
        return escape(user_id)
    return _token(f"<@{user_id}>")


def channel_mention(channel_id: str) -> str:
    """A link to a channel by id (`<#C…>`); anything that is not a channel id stays text."""
    return _token(f"<#{channel_id}>") if SLACK_CHANNEL.fullmatch(channel_id) else escape(channel_id)


def safe_url(url: str | None, max_length: int = LINK_LIMIT) -> str | None:
    """An http(s) URL fit for `<url|label>` or a url button, or None (nothing else may become a link)."""
    return url if url and len(url) <= max_length and _SAFE_URL.fullmatch(url) else None


def link(url: str | None, label: str, max_length: int = LINK_LIMIT) -> str:
    """`<url|label>` for an http(s) URL (the label shown as text), or "" when the URL is not one."""
    safe = safe_url(url, max_length)
    return _token(f"<{safe.replace('&', '&amp;')}|{escape(label)}>") if safe else ""


def slack_date(moment: datetime, token: str = "{date_long_pretty} at {time}") -> str:  # noqa: S107 - a date token
    """A Slack date token: each reader sees `moment` in their own time zone; the fallback is UTC."""
    at = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    fallback = f"{at:%A, %B} {at.day}, {at.year} at {at:%H:%M} UTC"
    return _token(f"<!date^{int(at.timestamp())}^{token}|{fallback}>")


def cut(text: str, limit: int) -> str:
    """Mrkdwn cut to `limit` characters with "…", never inside an `&…;` entity or a marked token."""
    if len(text) <= limit:
        return text
    short = text[: max(limit - 1, 0)]
    amp = short.rfind("&")
    if amp != -1 and ";" not in short[amp:]:
        short = short[:amp]
    marked = short.rfind("\ue000")
    if marked != -1 and ">" not in short[marked:]:
        short = short[:marked]
    return short + "…"


# -- the guard --------------------------------------------------------------------------------------------------


def safe_mrkdwn(text: str) -> str:
    """A mrkdwn string as Slack may receive it: marked tokens live, every other `<`, `>` and broadcast inert."""
    pieces, last = [], 0
    for found in _MARKED.finditer(text):
        pieces += [_inert(text[last : found.start()]), found.group(1)]
        last = found.end()
    pieces.append(_inert(text[last:]))
    return "".join(pieces)


def _inert(text: str) -> str:
    text = _STRAY.sub("", text).replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("\\1\u2060\\2", text)


def unmarked(text: str) -> str:
    """A string Slack shows as it is (plain_text, values, URLs): only the keys come off."""
    return text.replace(KEY, "") if "\ue000" in text else text


def guard(node: Any, *, mrkdwn: bool = True) -> Any:
    """A copy of a payload (message, view, attachment, or any part of one) with every mrkdwn string made safe.

    A `text` is mrkdwn unless its object says `"type": "plain_text"`; so are attachments' `pretext`, `fallback`
    and `footer`. Every other string only loses its keys."""
    if isinstance(node, dict):
        plain = node.get("type") == "plain_text"
        return {key: _field(key, value, plain) for key, value in node.items()}
    if isinstance(node, list):
        return [guard(item, mrkdwn=mrkdwn) for item in node]
    if isinstance(node, str):
        return safe_mrkdwn(node) if mrkdwn else unmarked(node)
    return node


def _field(key: str, value: Any, plain: bool) -> Any:
    if isinstance(value, str):
        is_mrkdwn = key in ("text", "pretext", "fallback", "footer", "initial_comment") and not plain
        return safe_mrkdwn(value) if is_mrkdwn else unmarked(value)
    return guard(value, mrkdwn=False)


def guard_arguments(arguments: dict[str, Any] | None) -> dict[str, Any] | None:
    """Web API arguments with their message fields guarded; `blocks` or `view` sent as JSON text too."""
    if not arguments:
        return arguments
    guarded = dict(arguments)
    for name in _PAYLOAD_FIELDS:
        value = guarded.get(name)
        if name in ("blocks", "attachments", "view") and isinstance(value, str):
            try:
                guarded[name] = json.dumps(guard(json.loads(value), mrkdwn=False))
            except ValueError:
                guarded[name] = unmarked(value)
        elif name in ("text", "initial_comment") and isinstance(value, str):
            guarded[name] = safe_mrkdwn(value)
        elif value is not None:
            guarded[name] = guard(value, mrkdwn=False)
    return guarded


# -- reading a payload as Slack will ----------------------------------------------------------------------------

_TOKEN = re.compile(r"<[^<>]*>")
_BARE_BROADCAST = re.compile(r"(?<![\w\u2060])@(channel|here|everyone)\b", re.IGNORECASE)


def live_markup(payload: Any) -> list[str]:
    """Every piece of markup Slack would act on in a payload as sent (after `guard`): the `<…>` tokens of its
    mrkdwn strings, and any bare @channel/@here/@everyone there. For tests, the fuzz bench and the sandbox."""
    found: list[str] = []

    def walk(node: Any, mrkdwn: bool) -> None:
        if isinstance(node, dict):
            plain = node.get("type") == "plain_text"
            for key, value in node.items():
                if isinstance(value, str):
                    if key in ("text", "pretext", "fallback", "footer", "initial_comment") and not plain:
                        found.extend(_TOKEN.findall(value) + [m.group(0) for m in _BARE_BROADCAST.finditer(value)])
                else:
                    walk(value, False)
        elif isinstance(node, list):
            for item in node:
                walk(item, mrkdwn)

    walk(payload, True)
    return found


# One pass over a message's markup and Slack's three entities, so that a decoded `&lt;` is never read as markup.
_MARKUP = re.compile(r"<([^<>]*)>|&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def plain_text(slack_text: str) -> str:
    """A Slack message's mrkdwn as the plain text a person typed: links become "label (url)", mentions "@name",
    a date its fallback text, and `&lt;` `&gt;` `&amp;` the characters they stand for. What comes out is text:
    a `<!channel>` someone typed stays those characters, made inert wherever it is shown."""
    return _MARKUP.sub(lambda m: _ENTITIES[m.group(2)] if m.group(2) else _token_text(m.group(1)), slack_text)


def _token_text(token: str) -> str:
    """`@U1|ana` -> "@ana", `#C1|general` -> "#general", `!here` -> "@here", `!subteam^S1|@team` -> "@team",
    `!date^…|Dec 1` -> "Dec 1", `https://x|label` -> "label (https://x)"."""
    target, _, label = token.partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label or target[1:]).lstrip("@#")
    if target.startswith("!"):
        if target.startswith("!date^"):
            return label
        return "@" + (label or target[1:].split("^")[0]).lstrip("@")
    return f"{label} ({target})" if label else target
