"""What the bot answers for `/play` and the community playbook: plain functions from Slack's request fields to
reply payloads and forms, so listeners stay a few lines each. `bot.plays` and `bot.community` do the work."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot import community, grades, plays
from bot.community import Draft, DraftRejected
from bot.db import transaction
from bot.slack import blocks, play_blocks
from bot.slack.services import Services
from bot.tips import moderation, search, store
from bot.tips.moderation import NotAllowed
from bot.tips.records import TipRejected
from bot.unicode_safe import MAX_ROW_ID

MAX_PLAY_QUERY = 300
_GRADE = re.compile(r"(?:^|\s)grades?:\s*(\S*)", re.IGNORECASE)
GONE_DRAFT = "That draft is gone: it was published or discarded. `/play drafts` lists the ones left."
GONE_PLAY = "That play is no longer in your community's playbook. `/play drafts` lists the ones there are."


def split_band(text: str) -> tuple[str, str | None, str | None]:
    """`/play words grade:6-8` -> (words, band, problem); the problem says what `grade:` takes."""
    found = _GRADE.search(text)
    if not found:
        return text, None, None
    rest = (text[: found.start()] + " " + text[found.end() :]).strip()
    band = grades.band(found.group(1))
    if band is None:
        return (
            rest,
            None,
            (
                f"`grade:{blocks.echo(found.group(1))}` isn't a grade band I know; use "
                f"{', '.join(f'`grade:{b}`' for b in grades.BANDS)}."
            ),
        )
    return rest, band, None


def answer_play(services: Services, team: str, user: str, text: str) -> dict[str, Any]:
    """`/play`, `random`, `list`, `mine`, `drafts`, a category or words, each optionally with `grade:K-5`."""
    text = text.strip()
    if len(text) > MAX_PLAY_QUERY:
        return blocks.problem(
            f"That search is {len(text)} characters long; I read up to {MAX_PLAY_QUERY}. "
            "A few key words work best, e.g. `/play station rotation`."
        )
    text, band, problem = split_band(text)
    if problem:
        return blocks.problem(problem)
    keyword = text.lower()
    with services.sessions() as session:
        if keyword == "mine":
            return play_blocks.my_plays(community.plays_crediting(session, team, user))
        if keyword == "drafts" or keyword.startswith("drafts "):
            if not moderation.is_moderator(session, team, user, services.moderators):
                return blocks.problem("Only moderators see the drafts. Plays made from your tips: `/play mine`.")
            words = text.strip()[len("drafts") :].strip()
            if words:
                return play_blocks.matching_plays(
                    words, community.own_plays(session, team, play_blocks.LISTED_PLAYS, words)
                )
            return play_blocks.drafts_list(
                community.drafts(session, team, play_blocks.LISTED_DRAFTS + 1),
                community.own_plays(session, team, play_blocks.LISTED_PLAYS + 1),
            )
        if keyword in ("", "random"):
            play = plays.random_play(session, services.rng, team=team, band=band)
            return blocks.play_card(play, band=band) if play else blocks.empty_playbook()
        if keyword in ("list", "categories"):
            return blocks.category_list(plays.category_counts(session, team=team))
        if category := plays.category_for(text):
            return blocks.category_plays(
                plays.CATEGORIES[category], plays.plays_in_category(session, category, team=team, band=band), band
            )
        result = plays.search_plays(session, text, team=team, band=band)
        if result.plays:
            return blocks.search_answer(result, text, band)
        if not result.terms:
            return blocks.problem(
                f"I found no words to search for in `{blocks.echo(text)}`. Try `/play feedback` or `/play list`."
            )
        return blocks.no_match(
            text,
            plays.category_counts(session, team=team),
            plays.random_play(session, services.rng, team=team, band=band),
        )


def play_value(value: str) -> tuple[str, str | None]:
    """A play button's value: (slug, grade band or None)."""
    slug, _, band = value.partition("@")
    return slug, grades.band(band) if band else None


# -- from a tip to a published play --------------------------------------------------------------------------------


def make_play_form(services: Services, team: str, user: str, tip_id: int) -> dict[str, Any]:
    """The `play_draft` form prefilled from a tip (a modal), or a problem to show instead."""
    with services.sessions() as session:
        if not moderation.is_moderator(session, team, user, services.moderators):
            return blocks.problem(
                "Only moderators can make plays from tips. A moderator can add you with `/plchat moderators add @you`."
            )
        tip = store.get_tip(session, team, tip_id)
        if tip is None or tip.hidden or tip.pending:
            return blocks.problem("That tip is gone or hidden, so it can't become a play.")
        return play_blocks.draft_form(community.from_tip(session, team, tip))


def edit_form(services: Services, team: str, user: str, draft_id: int) -> dict[str, Any]:
    with services.sessions() as session:
        if not moderation.is_moderator(session, team, user, services.moderators):
            return blocks.problem("Only moderators can edit drafts.")
        draft = community.get_draft(session, team, draft_id)
    return play_blocks.draft_form(draft) if draft else blocks.problem(GONE_DRAFT)


def edit_play_form(services: Services, team: str, user: str, slug: str) -> dict[str, Any]:
    """The `play_draft` form holding a published play (or the edit of it already begun)."""
    try:
        with services.sessions() as session:
            draft = community.edit_play(session, team, user, services.moderators, slug)
    except NotAllowed:
        return blocks.problem("Only moderators can edit the community's plays.")
    return play_blocks.draft_form(draft) if draft else blocks.problem(GONE_PLAY)


def _draft_in(view: dict) -> tuple[Draft, int]:
    """The draft as the form holds it now (what is typed, and the tips and credits it carries), and the form's
    version."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    metadata = metadata if isinstance(metadata, dict) else {}

    def row_id(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID else None

    def listed(name: str) -> list[Any]:
        return metadata[name] if isinstance(metadata.get(name), list) else []

    tips = tuple(t for t in listed("tips") if row_id(t))[: community.MAX_CREDITS * 2]
    credits = tuple(c[:120] for c in listed("credits") if isinstance(c, str))[: community.MAX_CREDITS]
    version = row_id(metadata.get("v")) or 0
    draft_id, play_id = row_id(metadata.get("draft")), row_id(metadata.get("play"))
    fields = play_blocks.draft_fields((view.get("state") or {}).get("values") or {})
    return Draft(draft_id, fields, tips, credits, play_id), version


def form_errors(view: dict) -> dict[str, str]:
    """What is wrong with the submitted form, by block id (checked before the ack, so Slack shows it)."""
    draft, version = _draft_in(view)
    return play_blocks.form_errors(community.check(draft.fields), version)


def add_tip(services: Services, team: str, user: str, view: dict, words: str) -> dict[str, Any]:
    """The form again, with the best-matching tip for `words` added to its steps and credits (or a note saying
    why none was)."""
    draft, version = _draft_in(view)
    note = None
    try:
        query = search.parse_query(words)
    except TipRejected as refused:
        query, note = None, str(refused)
    with services.sessions() as session:
        if not moderation.is_moderator(session, team, user, services.moderators):
            note = "Only moderators can make plays from tips."
        elif query is not None:
            found = search.search_tips(session, team, query, now=services.clock())
            fresh = [tip for tip in found.tips if tip.id not in draft.tip_ids]
            if fresh:
                draft = community.add_tip(draft, fresh[0])
                note = f"Added a tip by {blocks.person(fresh[0].author)}: {blocks.clip(fresh[0].text, 120)}"
            else:
                note = f"No other tip matches `{blocks.echo(words)}`."
    return play_blocks.draft_form(draft, version=version + 1, note=note)


def save_form(services: Services, team: str, user: str, view: dict) -> dict[str, Any]:
    draft, _version = _draft_in(view)
    try:
        with transaction(services.sessions) as session:
            saved = community.save_draft(session, team, user, services.moderators, draft, services.clock())
    except (NotAllowed, DraftRejected) as refused:
        return blocks.problem(str(refused))
    return play_blocks.draft_saved(saved)


def publish(services: Services, team: str, user: str, draft_id: int) -> dict[str, Any]:
    try:
        with transaction(services.sessions) as session:
            done = community.publish(session, team, user, services.moderators, draft_id, services.clock())
    except NotAllowed as refused:
        return blocks.problem(str(refused))
    except DraftRejected as refused:
        return blocks.problem(f"The draft can't be published yet: {refused} Press *Edit* to fix it.")
    if done is None:
        return blocks.problem(GONE_DRAFT)
    return play_blocks.published(done.play, done.told, done.edited, done.credits_you)


def discard(services: Services, team: str, user: str, draft_id: int) -> dict[str, Any]:
    return _as_moderator(
        services,
        lambda session: community.discard(session, team, user, services.moderators, draft_id, services.clock()),
        GONE_DRAFT,
        lambda gone: blocks.message(
            f"Discarded the draft “{blocks.clip(gone.fields.title, 80)}”. Its tips are still there."
        ),
    )


def unpublish(services: Services, team: str, user: str, slug: str) -> dict[str, Any]:
    return _as_moderator(
        services,
        lambda session: community.unpublish(session, team, user, services.moderators, slug, services.clock()),
        GONE_PLAY,
        lambda kept: blocks.message(
            f"Unpublished “{blocks.clip(kept.fields.title, 80)}”: it is a draft "
            "again, with its tips and credits. `/play drafts` to edit or "
            "publish it."
        ),
    )


def _as_moderator(
    services: Services, step: Callable[[Session], Draft | None], gone: str, answer: Callable[[Draft], dict[str, Any]]
) -> dict[str, Any]:
    """A moderator's step on a draft or play, in one transaction: its answer, or why it could not be done."""
    try:
        with transaction(services.sessions) as session:
            done = step(session)
    except NotAllowed as refused:
        return blocks.problem(str(refused))
    return blocks.problem(gone) if done is None else answer(done)
