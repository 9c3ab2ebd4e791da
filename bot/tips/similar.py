"""Near-duplicates: is a new tip one the workspace already has, give or take a few words?"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import TipRecord
from bot.search_text import words
from bot.tips import engine
from bot.tips.records import Tip, text_hash

SIMILARITY = 0.8  # share of distinct words in common (Jaccard); short tips differing by one word are not duplicates
PROBE_WORDS = 12
CANDIDATES = 5


def find_similar(session: Session, team_id: str, text: str) -> Tip | None:
    """The existing visible tip most like `text`, if it is alike enough to ask before adding another."""
    same = session.scalar(
        select(TipRecord)
        .where(TipRecord.team_id == team_id, TipRecord.text_hash == text_hash(text), TipRecord.hidden.is_(False))
        .limit(1)
    )
    if same is not None:
        return Tip.from_record(same)
    mine = set(words(text))
    probe = sorted((w for w in mine if len(w) >= 4), key=len, reverse=True)[:PROBE_WORDS]
    if not probe:
        return None
    best: tuple[float, TipRecord] | None = None
    for record in engine.best_matches(session, team_id, probe, CANDIDATES):
        theirs = set(words(record.text))
        score = len(mine & theirs) / len(mine | theirs)
        if score >= SIMILARITY and (best is None or score > best[0]):
            best = (score, record)
    return Tip.from_record(best[1]) if best else None
