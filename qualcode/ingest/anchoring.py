"""Re-anchoring codings when a transcript's text changes.

Researchers correct transcripts after coding has started. A coding stores the
words it covered (`quote`), so after a re-import we look for those words in
the new text: exactly first (nearest the old position when they occur more
than once), then by fuzzy alignment. A coding that cannot be placed is never
dropped: it keeps its old offsets and is flagged ``unplaced`` for a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

#: Minimum rapidfuzz partial-ratio score (0-100) for a fuzzy placement.
FUZZY_CUTOFF = 85.0


@dataclass(frozen=True)
class Placement:
    start: int
    end: int
    #: "exact", "fuzzy" or "unplaced"
    anchor: str
    score: float = 100.0


def place(quote: str, old_start: int, old_length: int, new_text: str) -> Placement:
    """Where `quote`, once at `old_start` in a text of `old_length` characters, is in `new_text`."""
    if not quote.strip():
        return Placement(old_start, old_start + len(quote), "unplaced", 0.0)
    expected = round(old_start * len(new_text) / max(old_length, 1))
    found = _exact(quote, new_text, expected)
    if found is not None:
        return Placement(found, found + len(quote), "exact")
    alignment = fuzz.partial_ratio_alignment(quote, new_text, score_cutoff=FUZZY_CUTOFF)
    if alignment is not None and alignment.dest_end > alignment.dest_start:
        start, end = _snap_to_words(new_text, alignment.dest_start, alignment.dest_end, quote)
        return Placement(start, end, "fuzzy", round(alignment.score, 1))
    return Placement(old_start, old_start + len(quote), "unplaced", 0.0)


def _exact(quote: str, text: str, expected: int) -> int | None:
    """The occurrence of `quote` in `text` nearest to `expected`, if any."""
    best = None
    position = text.find(quote)
    while position != -1:
        if best is None or abs(position - expected) < abs(best - expected):
            best = position
        position = text.find(quote, position + 1)
    return best


def _snap_to_words(text: str, start: int, end: int, quote: str) -> tuple[int, int]:
    """Widen an alignment that cuts a word in two to whole words (and the quote's final punctuation)."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    if end < len(text) and not quote[-1].isalnum() and text[end] == quote[-1]:
        end += 1
    return start, end
