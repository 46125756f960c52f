"""Token patterns in spaCy's Matcher syntax, found through an index on their first token.

spaCy's Matcher tries every pattern at every token and tests ``IN`` sets in
Python; with the codebook's few hundred pattern starts that costs nearly as
much as parsing. Suggestions only need to know where a pattern occurs in a
sentence, so here each pattern is filed under the values its first token may
take, and tried only at tokens that have one of them.

This covers the part of the syntax codebooks use: the attributes ``LEMMA``,
``LOWER``, ``TEXT``/``ORTH``, ``POS`` and ``TAG`` with a string or an ``{"IN":
[...]}`` set, the wildcard ``{}``, and the operators ``?``, ``*`` and ``+``,
with a first token that is required and names a word (``LEMMA``, ``LOWER`` or
``TEXT``). `compile_pattern` returns None for anything else, and the caller
hands that pattern to spaCy's Matcher. Tokens are rows of integers (one column
per attribute in `COLUMNS`, as `Doc.to_array` gives them), so no spaCy import
is needed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

COLUMNS = ("LEMMA", "LOWER", "ORTH", "POS", "TAG")
#: Columns that name a word, so can index a pattern's first token.
_WORD_COLUMNS = (0, 1, 2)
_ALIASES = {"TEXT": "ORTH"}
_REPEATS = {None: (1, 1), "?": (0, 1), "*": (0, float("inf")), "+": (1, float("inf"))}

Row = Sequence[int]
#: Turns an attribute name and a value into the integer `Doc.to_array` holds for it.
Encoder = Callable[[str, str], int]


@dataclass(frozen=True)
class TokenTest:
    """One position of a pattern: the values each tested column must have, and how often it repeats."""

    checks: tuple[tuple[int, frozenset[int]], ...]
    low: int
    high: float

    def accepts(self, row: Row) -> bool:
        return all(row[column] in values for column, values in self.checks)


def compile_pattern(pattern: list[dict], encode: Encoder) -> tuple[TokenTest, ...] | None:
    """The pattern as `TokenTest`s, or None when it uses syntax this module leaves to spaCy."""
    tests = []
    for token in pattern:
        test = _compile_token(token, encode)
        if test is None:
            return None
        tests.append(test)
    first = tests[0] if tests else None
    if first is None or first.low != 1 or not any(column in _WORD_COLUMNS for column, _ in first.checks):
        return None
    return tuple(tests)


def _compile_token(token: dict, encode: Encoder) -> TokenTest | None:
    op = token.get("OP")
    if op not in _REPEATS:
        return None
    checks = []
    for key, value in token.items():
        if key == "OP":
            continue
        name = _ALIASES.get(key, key)
        values = _values(value)
        if name not in COLUMNS or values is None:
            return None
        checks.append((COLUMNS.index(name), frozenset(encode(name, v) for v in values)))
    return TokenTest(tuple(checks), *_REPEATS[op])


def _values(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
        return list(value["IN"])
    return None


class TokenPatterns:
    """Labelled compiled patterns, indexed by the values their first token may take."""

    def __init__(self) -> None:
        self._index: dict[int, dict[int, list[tuple[object, tuple[TokenTest, ...]]]]] = {c: {} for c in _WORD_COLUMNS}
        self.size = 0

    def add(self, label: object, tests: tuple[TokenTest, ...]) -> None:
        column, values = next((c, v) for c, v in tests[0].checks if c in _WORD_COLUMNS)
        for value in values:
            self._index[column].setdefault(value, []).append((label, tests))
        self.size += 1

    def find(self, rows: Sequence[Row], sentences: Sequence[tuple[int, int]]) -> Iterator[tuple[object, int, int]]:
        """``(label, start, end)`` for each token where a pattern starts, its longest match kept inside the sentence."""
        for first, stop in sentences:
            for i in range(first, stop):
                row = rows[i]
                for column, index in self._index.items():
                    for label, tests in index.get(row[column], ()):
                        end = _match(tests, rows, i, stop)
                        if end is not None:
                            yield label, i, end


def _match(tests: tuple[TokenTest, ...], rows: Sequence[Row], i: int, stop: int) -> int | None:
    """Where a match of `tests` starting at token `i` ends (greedy, backtracking), or None."""
    if not tests:
        return i
    head, rest = tests[0], tests[1:]
    count = 0
    while count < head.high and i + count < stop and head.accepts(rows[i + count]):
        count += 1
    for taken in range(count, head.low - 1, -1):
        end = _match(rest, rows, i + taken, stop)
        if end is not None:
            return end
    return None
