"""Block Kit rendering: pure functions from domain objects to Slack message and view payloads."""

from __future__ import annotations

import re
from typing import Any

from bot import grades
from bot.plays import CategoryCount, Play, SearchResult
from bot.slack.markup import SLACK_USER, cut, escape, mention

Blocks = list[dict[str, Any]]

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
ECHO_LIMIT = 80  # how much of a user's query we repeat back to them

COMMAND_HELP = [
    ("/play", "a play to try this week"),
    ("/play station rotation", "the best match for your words, plus a couple of alternatives"),
    ("/play list", "the categories, with how many plays each has"),
    ("/play flipped classroom", "every play in a category"),
    ("/play feedback grade:6-8", "plays for a grade band (K-2, 3-5, K-5, 6-8 or 9-12), with that band's notes"),
    ("/play mine", "the plays your community made from your tips"),
    (
        "/play drafts",
        (
            "moderators: the community playbook's drafts to edit, publish or discard, and its published "
            "plays to edit or unpublish (`/play drafts WORDS` finds one)"
        ),
    ),
    ("/tip your tip #tag", "share what works in your classroom (no text opens a form)"),
    ("/tips words", "search the tips your colleagues shared; `/tips help` for more"),
    ("/digest subscribe", "the week's best tips, upcoming chats and a play, in your DMs every Monday at 7"),
    ("/plchat chats", "the hashtag chats coming up (moderators can edit, skip a date or cancel)"),
    ("/plchat schedule", "moderators: schedule a chat like #PLChat; the bot posts it on Slack, X, Bluesky or Mastodon"),
    ("/plchat help", "this help; moderators: `/plchat moderators add|remove|list @person`"),
]


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- inline pieces the chat and digest messages share ------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Escaped `text` on one line, at most `limit` characters."""
    return cut(escape(" ".join(text.split())), limit)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def hashtag(tag: str) -> str:
    return "#" + clip(tag.lstrip("#"), 100)


def person(author: str) -> str:
    """A Slack user id as a mention; anything else (a name, an X handle) as inert text."""
    return mention(author) if SLACK_USER.fullmatch(author) else clip(author, 60)


def url_button(label: str, action_id: str, url: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "url": url}


def echo(text: str) -> str:
    """A user's words, shortened and escaped, safe to quote back inside `code`."""
    return escape(truncate(" ".join(text.split()).replace("`", "'"), ECHO_LIMIT))


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": cut(text, SECTION_LIMIT)}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    primary: bool = False,
    danger: bool = False,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if primary or danger:
        element["style"] = "primary" if primary else "danger"
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "mrkdwn", "text": text},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": "Cancel"},
        "style": "danger",
    }


def message(text: str, blocks: Blocks | None = None) -> dict[str, Any]:
    """A message payload: `text` is the notification fallback, `blocks` what people see."""
    return {"text": text, "blocks": blocks if blocks is not None else [section(text)]}


def _markdown(text: str) -> str:
    """A play's Markdown text, escaped, with **bold** as Slack's *bold*."""
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", escape(text).strip())


def play_body(body: str) -> list[str]:
    """The play's Markdown, one mrkdwn chunk per `## Section`."""
    out = []
    for chunk in filter(str.strip, re.split(r"^## +", body, flags=re.MULTILINE)):
        heading, _, rest = chunk.partition("\n")
        out.append(f"*{escape(heading.strip())}*\n{_markdown(rest)}")
    return out


def play_meta(play: Play) -> str:
    parts = [play.category_label, f"⏱ {play.time_needed}"]
    if play.grades:
        parts.append("grades " + ", ".join(play.grades))
    meta = escape("  ·  ".join(parts))
    return f":seedling: _from your community_  ·  {meta}" if play.from_community else meta


def play_origin(play: Play) -> str:
    """Where a play comes from: the playbook's source, or the colleagues whose tips it was made from."""
    if not play.from_community:
        return f"From the playbook: {escape(play.source)}"
    if play.credits:
        return "From your community: made from tips by " + ", ".join(person(author) for author in play.credits)
    return f"From your community: {escape(play.source)}"


def play_value(play: Play, band: str | None) -> str:
    """A button's value naming the play, and the grade band asked for (so Open shows that band's note)."""
    return f"{play.slug}@{band}" if band else play.slug


def grade_note_blocks(play: Play, band: str | None) -> Blocks:
    note = play.grade_note(band)
    if note:
        return [section(f"*In grades {grades.note_band(band)}*\n{_markdown(note)}")]
    bands = [b for b in grades.NOTE_BANDS if play.grade_note(b)]
    if bands and band is None:
        return [context("Notes for " + ", ".join(bands) + f": add `grade:{bands[0]}` to `/play`.")]
    return []


def play_card(
    play: Play, *, shared_by: str | None = None, buttons: bool = True, band: str | None = None
) -> dict[str, Any]:
    """A play as a card. Private cards carry buttons; a card shared in a channel credits the sharer. With a grade
    `band`, the play's note for that band is shown."""
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(play.title, HEADER_LIMIT)}},
        context(play_meta(play)),
        section(f"_{escape(play.summary)}_"),
        *(section(chunk) for chunk in play_body(play.main_body)),
        *grade_note_blocks(play, band),
        context(play_origin(play)),
    ]
    if shared_by:
        blocks.append(context(f"Shared by {mention(shared_by)} · try one yourself with `/play`"))
    elif buttons:
        value = play_value(play, band)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"play:{play.slug}",
                "elements": [
                    button("Another play", "play_another", value),
                    button("Share in channel", "play_share", value, primary=True),
                ],
            }
        )
    return message(f"{play.title}: {play.summary}", blocks)


def play_list(plays: list[Play], band: str | None = None) -> Blocks:
    """Each play on a line of its own, with an Open button (keeping the grade band asked)."""

    def line(p: Play) -> str:
        mark = "  ·  _from your community_" if p.from_community else ""
        return f"*{escape(p.title)}*{mark}\n{escape(p.summary)}"

    return [{**section(line(p)), "accessory": button("Open", "play_open", play_value(p, band))} for p in plays]


def search_answer(result: SearchResult, query: str, band: str | None = None) -> dict[str, Any]:
    best, *others = result.plays
    card = play_card(best, band=band)
    lead = f"Best match for `{echo(query)}`" + (" (closest words I could find)" if result.broadened else "")
    blocks = [context(lead), *card["blocks"]]
    if others:
        blocks += [{"type": "divider"}, section("*Also worth a look*"), *play_list(others, band)]
    return message(card["text"], blocks)


def no_match(query: str, counts: list[CategoryCount], suggestion: Play | None) -> dict[str, Any]:
    categories = ", ".join(f"`{c.slug}`" for c in counts if c.count)
    blocks = [section(f"No play matches `{echo(query)}`. Try other words, or a category: {categories}.")]
    if suggestion:
        blocks += [section("Meanwhile, here is one to try:"), *play_list([suggestion])]
    return message(f"No play matches {echo(query)}.", blocks)


def empty_playbook() -> dict[str, Any]:
    return message("The playbook is empty. An operator can load it with `plchat plays sync`.")


def category_list(counts: list[CategoryCount]) -> dict[str, Any]:
    lines = [f"• *{c.label}* (`{c.slug}`): {c.count} play{'s' if c.count != 1 else ''}" for c in counts]
    total = sum(c.count for c in counts)
    blocks = [
        section(f"*The playbook: {total} plays*\n" + "\n".join(lines)),
        context("Open a category with `/play &lt;category&gt;`, e.g. `/play flipped-classroom`."),
    ]
    return message(f"The playbook: {total} plays in {len(counts)} categories.", blocks)


def category_plays(label: str, plays: list[Play], band: str | None = None) -> dict[str, Any]:
    for_band = f" for grades {band}" if band else ""
    if not plays:
        return message(f"No plays in {label}{for_band} yet.")
    return message(f"{label}: {len(plays)} plays", [section(f"*{escape(label)}*{for_band}"), *play_list(plays, band)])


def _usage() -> str:
    return "\n".join(f"• `{usage}`: {what}" for usage, what in COMMAND_HELP)


def help_message() -> dict[str, Any]:
    blocks = [
        section("*PLChat Bot* serves short, practical plays from the personalized-learning playbook."),
        section(_usage()),
        context("Cards are private to you until you press *Share in channel*."),
    ]
    return message("PLChat Bot help: /play, /play <words>, /play list, /plchat help", blocks)


def problem(text: str) -> dict[str, Any]:
    """A short, private explanation of what went wrong and what to do instead."""
    return message(text, [section(f":warning: {text}")])


def home_view(play: Play | None, tips: Blocks | None = None) -> dict[str, Any]:
    """App Home: the play of the week, the workspace's tips (rendered by `tip_blocks.home_tips`), and help."""
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "PLChat Bot"}},
        section("Practical plays from the personalized-learning playbook, right here in Slack."),
    ]
    if play:
        card = play_card(play, buttons=False)["blocks"]
        blocks += [
            {"type": "divider"},
            section("*A play to try this week*"),
            *card,
            {"type": "actions", "elements": [button("Another play", "home_another_play", play.slug)]},
        ]
    blocks += [*(tips or []), {"type": "divider"}, section("*How to use me*\n" + _usage())]
    return {"type": "home", "blocks": blocks}
