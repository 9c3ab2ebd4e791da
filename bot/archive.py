"""A chat's public archive: its recap as a Markdown document or a standalone HTML page.

Everything a participant wrote is escaped, so an answer cannot add links, headings or markup.
Slack members are not named unless the caller passes display names (`names`, Slack user id -> name).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlsplit

from bot.chats.recap import Recap, RecapAnswer
from bot.chats.spec import NETWORKS

SLACK_MEMBER = "a Slack member"
NO_ANSWERS = "No answers yet"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Escaped wherever they stand: code, emphasis, links and images, HTML and autolinks, strikethrough, entities.
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]<~]|&(?=#?[A-Za-z0-9]+;)")
# At the start of a block (a list item's text), these would open a heading, quote, list or rule.
_LIST_NUMBER = re.compile(r"\d{1,9}(?=[.)])")
_HEADING_CLOSER = re.compile(r"(^|\s)(#+)$")  # an ATX heading's closing #s, which Markdown would drop
_HANDLE = re.compile(r"@?([A-Za-z0-9_][A-Za-z0-9_.@-]{0,99})")  # x: ana; bluesky: ana.bsky.social; mastodon: ana@host
_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d1c1d; background: #fafafa; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta, .byline, .none { color: #616061; }
.answers { padding-left: 1.25rem; }
.answers li { margin-bottom: 1rem; }
blockquote { margin: 0; padding: 0.5rem 0.75rem; background: #fff; border-left: 3px solid #4a154b; }
""".strip()


def recap_markdown(recap: Recap, names: Mapping[str, str] = {}) -> str:
    """The archive as Markdown; user text is escaped so it renders as plain text."""
    out = [
        f"# {_md_heading(recap.title)}",
        "",
        f"**#{_md(recap.hashtag)}** · {_when(recap.starts)}",
        "",
        _people(recap),
    ]
    for question in recap.questions:
        out += ["", f"## Q{question.number}: {_md_heading(question.text)}", ""]
        if not question.answers:
            out.append(f"_{NO_ANSWERS}_")
            continue
        if question.answer_count > len(question.answers):
            out += [f"The most helpful of {question.answer_count} answers:", ""]
        for rank, answer in enumerate(question.answers, 1):
            byline = [_md(_author(answer, names)), _helpful(answer.helpful)]
            url = _safe_url(answer.link)
            if url:
                byline.append(f"[link](<{url}>)")
            out.append(f"{rank}. {_md_block(answer.text)}  ")
            out.append(f"   — {' · '.join(part for part in byline if part)}")
    return "\n".join(out) + "\n"


def recap_html(recap: Recap, names: Mapping[str, str] = {}) -> str:
    """The archive as a complete HTML page; user text is escaped with html.escape."""
    esc = html.escape
    page_title = f"#{recap.hashtag}: {recap.title}"
    body = [
        "<header>",
        f"<h1>{esc(recap.title)}</h1>",
        (
            f'<p class="meta"><strong>#{esc(recap.hashtag)}</strong> · '
            f'<time datetime="{esc(recap.starts.isoformat())}">{esc(_when(recap.starts))}</time></p>'
        ),
        f"<p>{esc(_people(recap))}</p>",
        "</header>",
    ]
    for question in recap.questions:
        body.append(f'<section id="q{question.number}">')
        body.append(f"<h2>Q{question.number}: {_html_text(question.text)}</h2>")
        if not question.answers:
            body.append(f'<p class="none">{NO_ANSWERS}</p>')
        else:
            if question.answer_count > len(question.answers):
                body.append(f"<p>The most helpful of {question.answer_count} answers:</p>")
            body.append('<ol class="answers">')
            for answer in question.answers:
                byline = [esc(_author(answer, names)), esc(_helpful(answer.helpful))]
                url = _safe_url(answer.link)
                if url:
                    byline.append(f'<a href="{esc(url)}" rel="nofollow ugc noopener">link</a>')
                body.append(
                    f"<li><blockquote>{_html_text(answer.text)}</blockquote>"
                    f'<p class="byline">— {" · ".join(part for part in byline if part)}</p></li>'
                )
            body.append("</ol>")
        body.append("</section>")
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            f"<title>{esc(page_title)}</title>",
            f"<style>\n{_CSS}\n</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _author(answer: RecapAnswer, names: Mapping[str, str]) -> str:
    if answer.via in NETWORKS:
        handle = _HANDLE.fullmatch(answer.author.strip())
        return f"@{handle.group(1)} on {NETWORKS[answer.via]}" if handle else f"someone on {NETWORKS[answer.via]}"
    name = names.get(answer.author, "").strip()
    return name or SLACK_MEMBER


def _helpful(count: int) -> str:
    if count <= 0:
        return ""
    return f"{count} found this helpful"


def _people(recap: Recap) -> str:
    people = "1 participant" if recap.participants == 1 else f"{recap.participants} participants"
    if recap.first_timers:
        firsts = "1 first-timer" if recap.first_timers == 1 else f"{recap.first_timers} first-timers"
        return f"{people}, {firsts}"
    return people


def _when(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    noon = "AM" if moment.hour < 12 else "PM"
    zone = moment.tzname() or ""
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}, {moment.year}, "
        f"{hour}:{moment.minute:02d} {noon} {zone}"
    ).strip()


def _safe_url(link: str | None) -> str | None:
    """Only http(s) links, with characters that could end a Markdown or HTML link percent-encoded."""
    if not link:
        return None
    link = link.strip()
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(link, safe=":/?#[]@!$&'*+,;=%~-._")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md(text: str) -> str:
    """User text for Markdown: one line, with what would be markup anywhere in a line escaped (and no more, so
    `Welcome!` stays `Welcome!`); where it starts a block or ends a heading, the callers escape that too."""
    return _INLINE_SPECIAL.sub(lambda found: "\\" + found.group(0), _one_line(text))


def _md_block(text: str) -> str:
    """User text starting a block (a list item's): what would open a heading, quote, list or rule is escaped."""
    escaped = _md(text)
    number = _LIST_NUMBER.match(escaped)
    if number:
        return f"{number.group(0)}\\{escaped[number.end() :]}"
    return "\\" + escaped if escaped[:1] in ("#", ">", "+", "-") else escaped


def _md_heading(text: str) -> str:
    """User text as a heading's: a closing run of # (which Markdown would drop) is escaped."""
    return _HEADING_CLOSER.sub(lambda found: f"{found.group(1)}\\{found.group(2)}", _md(text))


def _html_text(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.strip().splitlines())
