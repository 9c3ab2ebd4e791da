"""Block Kit for the community playbook: the `play_draft` form, drafts and published plays with their buttons,
what a moderator sees on publishing, and the note an author gets. Pure functions; user text is escaped (and
`markup.guard` makes any markup left unmarked inert)."""

from __future__ import annotations

import json
from typing import Any

from bot import grades
from bot.community import Draft, DraftFields, note_field
from bot.play_files import NOTE_LIMIT
from bot.plays import CATEGORIES, Play
from bot.slack.blocks import (
    Blocks,
    button,
    clip,
    confirm_dialog,
    context,
    echo,
    message,
    person,
    play_card,
    play_list,
    section,
)
from bot.slack.markup import escape
from bot.slack.tip_blocks import make_play_button
from bot.tips.records import Tip

PLAY_DRAFT = "play_draft"
ADD_TIP = "play_draft_add_tip"


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def _text_input(
    name: str,
    label: str,
    value: str,
    *,
    max_length: int,
    multiline: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": name,
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value[:max_length]
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    block: dict[str, Any] = {"type": "input", "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def credits_line(credits: tuple[str, ...]) -> str:
    return "Made from tips by " + ", ".join(person(author) for author in credits) if credits else ""


def draft_form(draft: Draft, *, version: int = 0, note: str | None = None) -> dict[str, Any]:
    """The form a moderator shapes a play in. Block ids carry `version`, so that when a tip is added (the form
    updated with longer steps), Slack shows the new values rather than keeping what was typed before."""
    f = draft.fields
    category: dict[str, Any] = {
        "type": "static_select",
        "action_id": "category",
        "options": [_option(label, slug) for slug, label in CATEGORIES.items()],
    }
    if f.category in CATEGORIES:
        category["initial_option"] = _option(CATEGORIES[f.category], f.category)
    grade_boxes: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "grades",
        "options": [_option(grade, grade) for grade in grades.CHECKBOXES],
    }
    if chosen := [_option(grade, grade) for grade in grades.CHECKBOXES if grade in f.grades]:
        grade_boxes["initial_options"] = chosen
    add_tip = _text_input(
        ADD_TIP,
        "Add another tip",
        "",
        max_length=300,
        hint="Words from another tip of this workspace; press Enter to add its text to the steps.",
    )
    add_tip.update(optional=True, dispatch_action=True)
    add_tip["element"]["dispatch_action_config"] = {"trigger_actions_on": ["on_enter_pressed"]}
    inputs = [
        ("title", _text_input("title", "Title", f.title, max_length=80)),
        ("category", {"type": "input", "label": {"type": "plain_text", "text": "Category"}, "element": category}),
        (
            "summary",
            _text_input(
                "summary",
                "Summary",
                f.summary,
                max_length=200,
                multiline=True,
                hint="One or two sentences: what the play is and why it works.",
            ),
        ),
        ("steps", _text_input("steps", "Try this", f.steps, max_length=2000, multiline=True, hint="One step a line.")),
        (
            "looks_like",
            _text_input(
                "looks_like",
                "What it looks like",
                f.looks_like,
                max_length=1200,
                multiline=True,
                placeholder="A classroom where it works, in a few sentences.",
            ),
        ),
        (
            "watch_out",
            _text_input(
                "watch_out", "Watch out for", f.watch_out, max_length=800, multiline=True, hint="One pitfall a line."
            ),
        ),
        (
            "grades",
            {
                "type": "input",
                "optional": True,
                "label": {"type": "plain_text", "text": "Grades"},
                "element": grade_boxes,
            },
        ),
        (
            "time_needed",
            _text_input("time_needed", "Time", f.time_needed, max_length=60, placeholder="e.g. 20 minutes a week"),
        ),
        ("tags", _text_input("tags", "Tags", f.tags, max_length=250, hint="1 to 6, separated by commas.")),
        *(
            (
                note_field(band),
                {
                    **_text_input(
                        note_field(band),
                        f"Note for grades {band}",
                        dict(f.grade_notes).get(band, ""),
                        max_length=NOTE_LIMIT,
                        multiline=True,
                        hint=f"Optional, 20 to {NOTE_LIMIT} characters: what works differently "
                        f"there. /play with grade:{band} shows it on the card.",
                    ),
                    "optional": True,
                },
            )
            for band in grades.NOTE_BANDS
        ),
        (ADD_TIP, add_tip),
    ]
    blocks: Blocks = []
    if line := credits_line(draft.credits):
        blocks.append(context(line))
    if note:
        blocks.append(context(note))
    blocks += [{**block, "block_id": f"{name}~{version}"} for name, block in inputs]
    metadata = {
        "draft": draft.id,
        "play": draft.play_id,
        "tips": list(draft.tip_ids),
        "credits": list(draft.credits),
        "v": version,
    }
    title = "Edit the play" if draft.play_id else "Edit the draft" if draft.id else "Make a play"
    return {
        "type": "modal",
        "callback_id": PLAY_DRAFT,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save draft"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def form_values(values: dict[str, Any]) -> dict[str, Any]:
    """Slack's view.state.values by field name (block ids are `name~version`)."""
    found: dict[str, Any] = {}
    for block_id, actions in (values or {}).items():
        if isinstance(actions, dict):
            for element in actions.values():
                if isinstance(element, dict):
                    found[str(block_id).split("~", 1)[0]] = element
    return found


def draft_fields(values: dict[str, Any]) -> DraftFields:
    by_name = form_values(values)

    def text(name: str) -> str:
        return str((by_name.get(name) or {}).get("value") or "")

    category = ((by_name.get("category") or {}).get("selected_option") or {}).get("value") or ""
    chosen = [
        str(option.get("value"))
        for option in (by_name.get("grades") or {}).get("selected_options") or []
        if isinstance(option, dict)
    ]
    notes = tuple((band, note) for band in grades.NOTE_BANDS if (note := text(note_field(band)).strip()))
    return DraftFields(
        text("title").strip(),
        str(category),
        text("summary").strip(),
        text("steps"),
        text("looks_like"),
        text("watch_out"),
        tuple(g for g in grades.CHECKBOXES if g in chosen),
        text("time_needed").strip(),
        text("tags").strip(),
        notes,
    )


def form_errors(errors: dict[str, str], version: int) -> dict[str, str]:
    """Errors by field, as Slack wants them: by block id (each block is named for its field), at most 150
    characters each."""
    return {f"{name}~{version}": text[:150] for name, text in errors.items()}


LISTED_DRAFTS, LISTED_PLAYS = 10, 12  # two blocks each: with the headings, within Slack's 50 a message
NO_DRAFTS = "No drafts yet. Press *Make a play* on a tip (in `/tips` or on App Home) to start one."


def _headline(title: str, category: str, summary: str, notes: list[str]) -> dict[str, Any]:
    lines = [
        f"*{escape(title)}*  ·  {escape(CATEGORIES.get(category, category))}",
        escape(summary),
        *(f"_{note}_" for note in notes if note),
    ]
    return section("\n".join(lines))


def _draft_summary(draft: Draft) -> Blocks:
    f, value = draft.fields, str(draft.id)
    edits = "An edit of a published play: publishing it replaces the play" if draft.play_id else ""
    return [
        _headline(f.title, f.category, f.summary, [credits_line(draft.credits), edits]),
        {
            "type": "actions",
            "block_id": f"draft:{draft.id}",
            "elements": [
                button("Publish", "play_draft_publish", value, primary=True),
                button("Edit", "play_draft_edit", value),
                button(
                    "Discard",
                    "play_draft_discard",
                    value,
                    danger=True,
                    confirm=confirm_dialog("Discard this draft?", "The tips stay; only the draft goes.", "Discard"),
                ),
            ],
        },
    ]


def _published_summary(play: Play) -> Blocks:
    return [
        _headline(play.title, play.category, play.summary, [credits_line(play.credits)]),
        {
            "type": "actions",
            "block_id": f"play:{play.slug}",
            "elements": [
                button("Edit", "play_edit", play.slug),
                button(
                    "Unpublish",
                    "play_unpublish",
                    play.slug,
                    danger=True,
                    confirm=confirm_dialog(
                        "Unpublish this play?",
                        "It leaves the playbook and comes back to "
                        "the drafts, with its tips and credits, to publish again later.",
                        "Unpublish",
                    ),
                ),
            ],
        },
    ]


def draft_saved(draft: Draft) -> dict[str, Any]:
    blocks = [
        section(":memo: *Saved the draft.* Publish it to put it in your community's playbook."),
        *_draft_summary(draft),
    ]
    return message(f"Saved the draft: {clip(draft.fields.title, 80)}", blocks)


def drafts_list(drafts: list[Draft], own: list[Play]) -> dict[str, Any]:
    """`/play drafts`: the newest drafts, then the newest plays the community published (to edit or unpublish);
    pass one more of each than is listed, to say that older ones are not shown."""
    if not drafts and not own:
        return message(NO_DRAFTS)
    blocks: Blocks = [section(f"*Drafts for your community's playbook*\n{'' if drafts else NO_DRAFTS}")]
    for draft in drafts[:LISTED_DRAFTS]:
        blocks += _draft_summary(draft)
    if len(drafts) > LISTED_DRAFTS:
        blocks.append(context(f"The {LISTED_DRAFTS} newest are shown; publish or discard some to see older ones."))
    if own:
        blocks.append(section("*Published by your community*"))
        for play in own[:LISTED_PLAYS]:
            blocks += _published_summary(play)
        if len(own) > LISTED_PLAYS:
            blocks.append(context(f"The {LISTED_PLAYS} newest are shown; `/play drafts WORDS` finds any other."))
    return message("Drafts and published plays of your community's playbook", blocks)


def matching_plays(words: str, own: list[Play]) -> dict[str, Any]:
    """`/play drafts WORDS`: the community's published plays that best match, to edit or unpublish."""
    if not own:
        return message(f"None of your community's plays matches `{echo(words)}`. `/play drafts` lists the newest.")
    blocks: Blocks = [section(f"*Your community's plays matching* `{echo(words)}`")]
    for play in own:
        blocks += _published_summary(play)
    return message(f"{len(own)} of your community's plays match", blocks)


def published(play: Play, told: tuple[str, ...], edited: bool = False, credits_you: bool = False) -> dict[str, Any]:
    """What the moderator who published sees: who else is being told (never themselves, credited or not)."""
    card = play_card(play, buttons=False)
    lead = (
        ":pencil2: *Updated.* `/play` shows the new version from now on."
        if edited
        else ":tada: *Published.* Everyone in this workspace can find it with `/play`."
    )
    if credits_you:
        lead += " It credits you for your tip."
    if told:
        lead += " I'm letting " + ", ".join(person(author) for author in told) + " know."
    return message(f"Published {play.title}", [section(lead), *card["blocks"]])


def credit_notice(play: Play) -> dict[str, Any]:
    """The DM a tip's author gets when a play made from their tip is published."""
    card = play_card(play, buttons=False)
    lead = (
        ":seedling: Your tip is now part of your community's playbook, in a play everyone here can find with "
        "`/play`. Thank you for sharing it!"
    )
    return message(
        f"Your tip became a play: {play.title}",
        [section(lead), *card["blocks"], context("See every play made from your tips: `/play mine`")],
    )


def my_plays(plays: list[Play]) -> dict[str, Any]:
    if not plays:
        return message(
            "No play has been made from your tips yet. Tips colleagues mark *Helpful* are the ones "
            "moderators see first."
        )
    return message(
        f"{len(plays)} plays made from your tips",
        [section(f"*Plays made from your tips* ({len(plays)})"), *play_list(plays)],
    )


def ready_blocks(tips: list[Tip], drafts: int) -> Blocks:
    """App Home, for moderators: tips colleagues found most helpful, ready to become a play."""
    if not tips and not drafts:
        return []
    blocks: Blocks = [{"type": "divider"}, section("*Ready to become a play*")]
    for tip in tips:
        blocks.append(
            {
                **section(f"{clip(tip.text, 280)}\n_{tip.helpful_count} found it helpful · by {person(tip.author)}_"),
                "accessory": make_play_button(tip),
            }
        )
    if drafts:
        blocks.append(context(f"{drafts} draft{'s' if drafts != 1 else ''} waiting: `/play drafts`."))
    return blocks
