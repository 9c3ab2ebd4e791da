"""Block Kit for tips: pure functions from tips and search pages to message, modal and Home payloads.

Every tip's text and author name is escaped (see `blocks.escape`): a tip can never ping a channel or a
group, nor carry a link or Slack markup it was not saved with as plain text.
"""

from __future__ import annotations

import json
from typing import Any

from bot import grades
from bot.slack.blocks import (
    Blocks,
    button,
    clip,
    confirm_dialog,
    context,
    echo,
    message,
    problem,
    section,
    truncate,
)
from bot.slack.markup import (
    escape,
    link,
    mention,
    plain_text,
)
from bot.tips.records import MAX_TEXT, Tip, TooShort
from bot.tips.search import TipPage

TIP_MODAL = "tip_modal"
TIP_TEXT_LIMIT = 2800  # leaves room in a 3,000-character section for the tip's other lines

TIPS_HELP = [
    ("/tip Exit tickets every Friday #assessment", "share a tip (no text opens a form)"),
    ("/tips station rotation", "search the tips your workspace has shared"),
    ("/tips #assessment from:@Ana since:2026-09-01 grade:3-5", "filter by tag, person, date or grade band"),
    ("/tips mine", "your tips, to edit or delete"),
    ("/tips export-mine", "a file of your tips, sent to you"),
    ("/tips delete-mine", "delete all your tips (asks first)"),
]


def author_label(tip: Tip) -> str:
    return mention(tip.author) if tip.author_is_slack_user else escape(tip.author)


def tip_meta(tip: Tip) -> str:
    parts = [f"by {author_label(tip)}"]
    if tip.tags:
        parts.append(" ".join(f"#{escape(t)}" for t in tip.tags))
    if tip.grade:
        parts.append(f"grades {tip.grade}")
    parts.append(tip.created_at.strftime("%b %d, %Y").replace(" 0", " "))
    if tip.helpful_count:
        parts.append(f"{tip.helpful_count} found it helpful")
    if tip.permalink:
        parts.append(link(tip.permalink, "original message"))
    if tip.hidden:
        parts.append(":no_entry_sign: hidden by a moderator")
    return "  ·  ".join(parts)


def tip_blocks(tip: Tip) -> Blocks:
    return [section(escape(truncate(tip.text, TIP_TEXT_LIMIT))), context(tip_meta(tip))]


def _preview(tip: Tip) -> str:
    return clip(tip.text, 80)


def tip_saved(tip: Tip) -> dict[str, Any]:
    blocks = [
        section(":bulb: *Saved your tip.* Others can find it with `/tips`."),
        *tip_blocks(tip),
        {"type": "actions", "block_id": f"saved:{tip.id}", "elements": [button("Undo", "tip_undo", str(tip.id))]},
    ]
    return message(f"Saved your tip: {_preview(tip)}", blocks)


def tip_already_saved(tip: Tip) -> dict[str, Any]:
    return message(
        f"That message is already a tip: {_preview(tip)}",
        [section(":bulb: That message is already saved as a tip, so I kept the one copy."), *tip_blocks(tip)],
    )


def tip_held(tip: Tip, similar: Tip) -> dict[str, Any]:
    blocks = [
        section(":eyes: *This looks like a tip someone already shared:*"),
        *tip_blocks(similar),
        section("Add yours anyway?"),
        {
            "type": "actions",
            "block_id": f"held:{tip.id}",
            "elements": [
                button("Add mine anyway", "tip_confirm", str(tip.id), primary=True),
                button("Don't add it", "tip_cancel", str(tip.id)),
            ],
        },
    ]
    return message(f"This looks like a tip already shared: {_preview(similar)}", blocks)


def tip_too_short(refused: TooShort, *, typed_here: bool) -> dict[str, Any]:
    """Why a short text isn't saved; what the person typed comes back to them, to add to and send again."""
    if not typed_here:
        return problem(f"That message is too short to save as a tip. {refused}")
    return message(
        str(refused),
        [
            section(f":warning: {refused} You wrote:"),
            section(f"```{escape(refused.text)}```"),
            context("Copy it, add a sentence, and send `/tip` with it again."),
        ],
    )


def make_play_button(tip: Tip) -> dict[str, Any]:
    """For moderators: shape this tip into a play of the community playbook (the `play_draft` form)."""
    return button("Make a play", "tip_to_play", str(tip.id))


def _tip_actions(tip: Tip, viewer: str, moderator: bool) -> dict[str, Any]:
    value = str(tip.id)
    elements = [button("Share in channel", "tip_share", value)]
    if viewer != tip.author:  # Helpful is what colleagues say (an author's own vote is refused)
        elements.append(button("Helpful", "tip_helpful", value))
    if tip.editable_by(viewer):  # its author alone: whoever saved a colleague's words may not change them
        elements.append(button("Edit", "tip_edit", value))
    if tip.deletable_by(viewer):
        elements.append(
            button(
                "Delete",
                "tip_delete",
                value,
                danger=True,
                confirm=confirm_dialog("Delete this tip?", "It will be gone for everyone.", "Delete"),
            )
        )
    else:
        elements.append(button("Report", "tip_report", value))
    if moderator:
        elements.append(button("Restore", "tip_restore", value) if tip.hidden else button("Hide", "tip_hide", value))
        if not tip.hidden:
            elements.append(make_play_button(tip))
    return {"type": "actions", "block_id": f"tip:{tip.id}", "elements": elements}


def page_value(raw_query: str, page: int) -> str:
    return json.dumps({"q": raw_query, "p": page})


def search_results(page: TipPage, raw_query: str, viewer: str, moderator: bool) -> dict[str, Any]:
    typed = plain_text(raw_query)  # as the person typed it: `from:@Ana`, not the <@U…|ana> Slack sent
    if not page.tips:
        if page.page:
            return message("No more tips for that search.")
        return message(
            f"No tips match {echo(typed)}.",
            [
                section(f"No tips match `{echo(typed)}` yet. Try fewer or other words, or share one with `/tip`."),
            ],
        )
    lead = f"Tips for `{echo(typed)}`" if typed.strip() else "The newest tips"
    if page.corrected:
        lead += f" (showing results for `{echo(page.corrected)}`)"
    elif page.broadened:
        lead += " (no tip has all your words; these have some)"
    blocks: Blocks = [context(f"{lead} · page {page.page + 1}")]
    for tip in page.tips:
        blocks += [*tip_blocks(tip), _tip_actions(tip, viewer, moderator), {"type": "divider"}]
    nav = []
    if page.page:
        nav.append(button("Previous", "tips_page", page_value(raw_query, page.page - 1)))
    if page.has_next:
        nav.append(button("Next", "tips_page", page_value(raw_query, page.page + 1)))
    if nav:
        blocks.append({"type": "actions", "block_id": "tips_nav", "elements": nav})
    count = f"{len(page.tips)} tip" + ("" if len(page.tips) == 1 else "s")
    return message(f"{count} for {echo(typed)}" if typed.strip() else f"The newest {count}", blocks)


def my_tips(tips: list[Tip], total: int, viewer: str) -> dict[str, Any]:
    if not tips:
        return message("You haven't shared any tips yet. Try `/tip` followed by something that works in your class.")
    blocks: Blocks = [section(f"*Your tips* ({total}). `/tips export-mine` sends you all of them as a file.")]
    for tip in tips:
        blocks += [*tip_blocks(tip), _tip_actions(tip, viewer, moderator=False)]
    if total > len(tips):
        blocks.append(context(f"Showing your {len(tips)} newest of {total}."))
    return message(f"Your tips ({total})", blocks)


def shared_tip(tip: Tip, shared_by: str) -> dict[str, Any]:
    blocks = [*tip_blocks(tip), context(f"Shared by {mention(shared_by)} · find more with `/tips`")]
    return message(f"A tip: {_preview(tip)}", blocks)


def _report_actions(tip: Tip) -> dict[str, Any]:
    """What a moderator does with a reported tip: hide it, or keep it as it is (either settles its reports)."""
    return {
        "type": "actions",
        "block_id": f"report:{tip.id}",
        "elements": [
            button("Hide it", "tip_hide", str(tip.id), danger=True),
            button("Keep it", "tip_keep", str(tip.id)),
        ],
    }


def report_notice(tip: Tip, reporter: str) -> dict[str, Any]:
    blocks = [
        section(f":triangular_flag_on_post: {mention(reporter)} reported this tip:"),
        *tip_blocks(tip),
        _report_actions(tip),
    ]
    return message(f"A tip was reported: {_preview(tip)}", blocks)


def report_recorded(told: bool, moderated: bool) -> dict[str, Any]:
    """What the reporter hears: whether anyone was told now, and where a report waits when nobody could be."""
    if told:
        return message("Thanks. The moderators have been told, privately.")
    if moderated:  # the reporter is its only moderator
        return message(
            "Recorded. You are this workspace's only moderator, so nobody else was told: the tip waits "
            "among the reported tips on my App Home, to hide or keep."
        )
    return message(
        "Thanks. I've recorded your report. This workspace has no moderators yet, so nobody was told "
        "right away: its admins and owners moderate until it has some, and see open reports on my App "
        "Home. An admin or owner can add moderators, who hear of each report, with "
        "`/plchat moderators add @person`."
    )


def open_reports_blocks(count: int, reported: list[tuple[Tip, int]]) -> Blocks:
    """App Home, for moderators: tips reported since a moderator last looked at them, each to hide or keep."""
    if not count:
        return []
    blocks: Blocks = [{"type": "divider"}, section(f"*Reported tips* ({count} open)")]
    for tip, reports in reported:
        times = "once" if reports == 1 else f"{reports} times"
        blocks += [*tip_blocks(tip), context(f"Reported {times}"), _report_actions(tip)]
    if count > len(reported):
        blocks.append(
            context(f"Showing the {len(reported)} reported most recently; hide or keep them to see the rest.")
        )
    return blocks


def delete_mine_confirm(count: int) -> dict[str, Any]:
    if not count:
        return message("You have no tips to delete.")
    blocks = [
        section(
            f"Delete all *{count}* of your tips? This can't be undone. `/tips export-mine` first if you want a copy."
        ),
        {
            "type": "actions",
            "block_id": "delete_mine",
            "elements": [
                button(
                    f"Delete my {count} tips",
                    "tips_delete_mine",
                    str(count),
                    danger=True,
                    confirm=confirm_dialog("Delete all your tips?", "They will be gone for everyone.", "Delete them"),
                ),
                button("Keep them", "tips_keep_mine", "keep"),
            ],
        },
    ]
    return message(f"Delete all {count} of your tips?", blocks)


def tips_help() -> dict[str, Any]:
    lines = "\n".join(f"• `{usage}`: {what}" for usage, what in TIPS_HELP)
    return message("Tips: /tip to share, /tips to search", [section(f"*Tips from your colleagues*\n{lines}")])


def tip_modal(*, channel: str | None, tip: Tip | None = None) -> dict[str, Any]:
    """The form for a new tip (from /tip or the global shortcut), or for editing one's own tip."""
    metadata = json.dumps({"channel": channel, "edit": tip.id if tip else None})
    text_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": MAX_TEXT,
        "placeholder": {"type": "plain_text", "text": "What works in your classroom?"},
    }
    tags_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "tags",
        "max_length": 300,
        "placeholder": {"type": "plain_text", "text": "e.g. assessment, station-rotation"},
    }
    grade_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "grade",
        "options": [{"text": {"type": "plain_text", "text": g}, "value": g} for g in grades.BANDS],
    }
    if tip:
        text_input["initial_value"] = tip.text
        tags_input["initial_value"] = ", ".join(tip.tags)
        if tip.grade:
            grade_select["initial_option"] = {"text": {"type": "plain_text", "text": tip.grade}, "value": tip.grade}
    return {
        "type": "modal",
        "callback_id": TIP_MODAL,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Edit your tip" if tip else "Share a tip"},
        "submit": {"type": "plain_text", "text": "Save" if tip else "Share"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "Your tip"},
                "element": text_input,
            },
            {
                "type": "input",
                "block_id": "tags",
                "optional": True,
                "element": tags_input,
                "label": {"type": "plain_text", "text": "Tags"},
            },
            {
                "type": "input",
                "block_id": "grade",
                "optional": True,
                "element": grade_select,
                "label": {"type": "plain_text", "text": "Grade band"},
            },
        ],
    }


def home_tips(newest: list[Tip], helpful: list[Tip]) -> Blocks:
    """The App Home's tips: the newest and the most helpful of the workspace."""
    blocks: Blocks = [{"type": "divider"}, section("*Newest tips from your colleagues*")]
    if not newest:
        return blocks + [context("No tips yet. Share the first with `/tip`.")]
    for tip in newest:
        blocks += tip_blocks(tip)
    if helpful:
        blocks += [section("*Most helpful tips*")]
        for tip in helpful:
            blocks += tip_blocks(tip)
    return blocks
