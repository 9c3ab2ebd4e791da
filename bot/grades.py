"""Grade bands: the one list that tips, plays, the forms, play files and searches all read.

A band stands for the grades it covers, counted in the four spans teachers name most: `K-5` is `K-2` and `3-5`
together and `all` is every span. Two bands match when they share a span, so a tip for K-5 is found by
`grade:K-2` and by `grade:3-5`, and a tip for K-2 by `grade:K-5`.
"""

from __future__ import annotations

SPANS = ("K-2", "3-5", "6-8", "9-12")
BANDS: dict[str, frozenset[str]] = {
    "K-2": frozenset({"K-2"}),
    "3-5": frozenset({"3-5"}),
    "K-5": frozenset({"K-2", "3-5"}),
    "6-8": frozenset({"6-8"}),
    "9-12": frozenset({"9-12"}),
    "all": frozenset(SPANS),
}
CHECKBOXES = (*SPANS, "all")  # a form that takes several bands offers these (K-5 is K-2 and 3-5 both ticked)
NOTE_BANDS = ("K-5", "6-8", "9-12")  # a play's grade-band notes are written for these


def band(value: str) -> str | None:
    """What a person typed ('k-5', 'K5', 'K–5', ' 9 - 12 ', 'ALL') as the band it names, or None."""
    wanted = "".join(value.split()).replace("–", "-").upper()
    for name in BANDS:
        if wanted in (name.upper(), name.upper().replace("-", "")):
            return name
    return None


def matching(name: str) -> tuple[str, ...]:
    """Every band sharing a grade with `name` (itself and `all` included): what a search for `name` finds."""
    return tuple(other for other, spans in BANDS.items() if spans & BANDS[name])


def note_band(name: str | None) -> str | None:
    """The band whose play notes speak for `name` (K-2 and 3-5 read the K-5 note); None for `all`."""
    if name is None:
        return None
    return next((note for note in NOTE_BANDS if BANDS[name] <= BANDS[note]), None)


def covering(names: tuple[str, ...]) -> tuple[str, ...]:
    """Bands as a several-band form ticks them: each as its spans, `all` kept as itself, in form order."""
    spans = {span for name in names for span in (BANDS[name] if name != "all" else {"all"})}
    return tuple(box for box in CHECKBOXES if box in spans)
