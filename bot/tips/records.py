"""What a tip is, and the rules its text, tags and grade band must follow before anything is saved."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot import grades
from bot.models import TipRecord
from bot.unicode_safe import junk_share

MAX_TEXT = 3000
# The shortest tip: three words ("Exit tickets daily") or fifteen characters ("Think-pair-share"), so "hi", "test" or
# "+1" are not saved, and the shortest real advice is. An answer in a chat may be shorter ("Gallery walks"): its
# question says what it is about, and nobody can be asked to say more.
MIN_WORDS, MIN_CHARACTERS = 3, 15
MIN_ANSWER_WORDS, MIN_ANSWER_CHARACTERS = 2, 10
ANSWER_SOURCES = ("chat", "x", "bluesky", "mastodon")
MAX_TAGS = 10
MAX_TAG_LENGTH = 30
SOURCES = ("command", "modal", "shortcut", "reaction", "import", "chat", "x", "bluesky", "mastodon")

_TAG = re.compile(r"(?<![\w&/])#([^\W_][\w-]{0,60})")
_TRAILING_TAGS = re.compile(r"(\s+#[^\W_][\w-]*)+\s*$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class TipRejected(ValueError):
    """The tip can't be saved as given; the message says why and what to do instead (shown to the person)."""


class TooShort(TipRejected):
    """The text is too short to help anyone; `text` is what was typed, so the reply can hand it back."""

    def __init__(self, text: str):
        super().__init__(
            f"A tip needs at least {MIN_WORDS} words or {MIN_CHARACTERS} characters, so a colleague "
            "can try it: say what you do and how."
        )
        self.text = text


@dataclass(frozen=True)
class Tip:
    id: int
    team_id: str
    author: str
    shared_by: str
    text: str
    tags: tuple[str, ...]
    grade: str
    source: str
    source_ref: str | None
    permalink: str | None
    created_at: datetime
    helpful_count: int
    hidden: bool
    pending: bool

    def editable_by(self, user_id: str) -> bool:
        return may_edit(user_id, self.author)

    def deletable_by(self, user_id: str) -> bool:
        return may_delete(user_id, self.author, self.shared_by)

    @property
    def author_is_slack_user(self) -> bool:
        return is_slack_user(self.author)

    @classmethod
    def from_record(cls, record: TipRecord) -> Tip:
        return cls(
            record.id,
            record.team_id,
            record.author,
            record.shared_by,
            record.text,
            tuple(record.tags.split()),
            record.grade,
            record.source,
            record.source_ref,
            record.permalink,
            record.created_at,
            record.helpful_count,
            record.hidden,
            record.pending,
        )


@dataclass(frozen=True)
class NewTip:
    """A tip about to be saved. `source_ref` names where it came from (a Slack message, an import row)."""

    team_id: str
    author: str
    shared_by: str
    text: str
    source: str
    tags: tuple[str, ...] = ()
    grade: str = ""
    source_ref: str | None = None
    permalink: str | None = None
    created_at: datetime | None = None


def is_slack_user(author: str) -> bool:
    """A Slack user id (to mention, or to tell in a DM), not a name from an import or a network handle."""
    return bool(_SLACK_USER.match(author))


def may_edit(user_id: str, author: str) -> bool:
    """Only a tip's author may change its words: whoever saved a colleague's message may not put words in their
    mouth."""
    return user_id == author


def may_delete(user_id: str, author: str, shared_by: str) -> bool:
    """A tip's author, or whoever saved it (taking back their own save), may delete it; moderators hide."""
    return user_id in (author, shared_by)


def clean_text(raw: str, *, answer: bool = False) -> str:
    """The tip's text (or a chat `answer`'s), tidied; refuse empty, too short, oversized and binary text with a
    message a teacher understands."""
    if "\x00" in raw or junk_share(raw) > 0.1:
        raise TipRejected(
            "That doesn't look like text I can save (it has binary or control characters). Paste the tip as plain text."
        )
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").strip()
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    if not text:
        raise TipRejected("A tip needs some text, e.g. `/tip Start with a two-minute warm-up question #routines`.")
    words, characters = (MIN_ANSWER_WORDS, MIN_ANSWER_CHARACTERS) if answer else (MIN_WORDS, MIN_CHARACTERS)
    if len(text.split()) < words and len(text) < characters:
        raise TooShort(text)
    if len(text) > MAX_TEXT:
        raise TipRejected(
            f"That tip is {len(text):,} characters; tips can be up to {MAX_TEXT:,}. "
            "Trim it, or share the longer piece as a file or link."
        )
    return text


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Lower case, '#' dropped, spaces and underscores as hyphens, duplicates removed, at most 10."""
    seen: dict[str, None] = {}
    for given in tags:
        hyphenated = re.sub(r"[\s_]+", "-", given.strip().lstrip("#").lower())
        tag = re.sub(r"[^\w-]", "", hyphenated).strip("-")[:MAX_TAG_LENGTH]
        if tag:
            seen.setdefault(tag)
    return tuple(seen)[:MAX_TAGS]


def split_tags(text: str) -> tuple[str, tuple[str, ...]]:
    """`/tip text #a #b`: every #word is a tag; a run of tags at the end is taken off the text."""
    tags = normalise_tags(_TAG.findall(text))
    return _TRAILING_TAGS.sub("", text).strip() or text.strip(), tags


def parse_tag_list(value: str) -> tuple[str, ...]:
    """Tags typed into a field or a file column: separated by commas, semicolons or spaces."""
    return normalise_tags(re.split(r"[,;\s]+", value))


def clean_grade(value: str) -> str:
    """The grade band as stored ('k5' → 'K-5'), '' for none; TipRejected naming the bands for anything else."""
    if not value.strip():
        return ""
    if found := grades.band(value):
        return found
    raise TipRejected(f"Grade band {value.strip()[:20]!r} isn't one I know; use one of {', '.join(grades.BANDS)}.")


def text_hash(text: str) -> str:
    """Equal for texts that differ only in case, spacing and punctuation."""
    return hashlib.sha256(" ".join(re.findall(r"[^\W_]+", text.lower())).encode()).hexdigest()


def stored_tags(tags: Iterable[str]) -> str:
    """Tags as stored: space-padded, so `LIKE '% tag %'` finds exactly one tag."""
    return f" {' '.join(tags)} "
