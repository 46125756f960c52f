"""Which characters a `.qdpx` file's selection positions count, found from the file itself.

The standard counts Unicode code points, a CRLF being two of them. NVivo
counts UTF-16 code units (a character outside the BMP, such as an emoji, is
two; CRLF two; a BOM none); some ATLAS.ti versions count CRLF as one. qualcode
stores text with `\\n` line ends, so a position in the file is translated
onto that text by the convention the file uses. Which convention that is, a
file does not say: the one that puts the most selections on word boundaries
(and all of them inside their text) is taken, the standard's on a tie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    utf16: bool
    crlf_as_one: bool

    def describe(self) -> str:
        unit = "UTF-16 code units (NVivo)" if self.utf16 else "Unicode code points (the standard)"
        return f"{unit}, CRLF counted as {'1 (some ATLAS.ti versions)' if self.crlf_as_one else '2'}"


STANDARD = Convention(utf16=False, crlf_as_one=False)
CONVENTIONS = (STANDARD, Convention(True, False), Convention(False, True), Convention(True, True))


#: What the conventions count differently: line ends and characters outside the BMP.
SPECIAL = re.compile("\r\n?|[\U00010000-\U0010FFFF]")


def position_map(raw: str, convention: Convention) -> list[int]:
    """For each position the file may give (0..length), the offset into the stored text, or -1 between the halves of a character.

    `raw` is the source as stored in the file without its BOM; the stored text
    is `raw` with CRLF and CR read as `\\n`. Built a run of plain text at a time.
    """
    mapping: list[int] = []
    stored = last = 0
    for match in SPECIAL.finditer(raw):
        plain = match.start() - last
        mapping.extend(range(stored, stored + plain + 1))
        stored += plain + 1
        token = match.group()
        if (token == "\r\n" and not convention.crlf_as_one) or (token[0] != "\r" and convention.utf16):
            mapping.append(-1)
        last = match.end()
    mapping.extend(range(stored, stored + len(raw) - last + 1))
    return mapping


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "'’-"


def on_boundary(text: str, start: int, end: int) -> bool:
    """Whether a span starts and ends between words (not inside one)."""
    starts = start == 0 or not (_is_word(text[start - 1]) and _is_word(text[start]))
    ends = end >= len(text) or not (_is_word(text[end - 1]) and _is_word(text[end]))
    return starts and ends


def place(mapping: list[int], start: int, end: int) -> tuple[int, int] | None:
    """The stored offsets of a selection, or None if it is outside the text or splits a character."""
    if not 0 <= start <= end < len(mapping):
        return None
    begin, finish = mapping[start], mapping[end]
    return None if begin < 0 or finish < 0 else (begin, finish)


def choose(sources: list[tuple[str, str, list[tuple[int, int]]]]) -> tuple[Convention, bool]:
    """The convention of a file, from (raw text, stored text, selections) of each source; and whether it made a difference."""
    scores = {}
    for convention in CONVENTIONS:
        inside = boundary = 0
        for raw, stored, selections in sources:
            mapping = position_map(raw, convention)
            for start, end in selections:
                placed = place(mapping, start, end)
                if placed:
                    inside += 1
                    boundary += on_boundary(stored, *placed)
        scores[convention] = (inside, boundary)
    best = max(CONVENTIONS, key=lambda c: scores[c])  # max keeps the first (the standard) on a tie
    return best, len(set(scores.values())) > 1
