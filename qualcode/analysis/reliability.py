"""Reliability coefficients: how far coders agree beyond what chance would give.

Every coding-unit measure here reads `Ratings`: how many units show each
*pattern* of values, one value per coder (``None`` where a coder gave none).
Counting patterns rather than listing units is what lets qualcode judge
every character of a corpus (millions of units per code) in memory and time
that do not grow with the text: every coefficient below is a sum over units,
so a pattern seen a thousand times weighs a thousand. Values may be any
hashable category, so the published worked examples (three to five
categories) run through the same functions as a code's present/absent.

`unitizing_alpha` is different: it needs no units at all, only where each
coder's spans of a category begin and end (Krippendorff 1995, 2004).

Each function returns ``None`` where the coefficient is not defined (no units,
or chance agreement already perfect), never a made-up 0 or 1.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

#: One value per coder; ``None``: that coder gave no value for the unit (missing data).
Pattern = tuple[Hashable | None, ...]
#: How many units (or characters) show each pattern.
Ratings = Mapping[Pattern, float]


def ratings_of(units: Iterable[Sequence[Hashable | None]]) -> Counter[Pattern]:
    """Ratings from a list of units, each a sequence of one value per coder."""
    return Counter(tuple(unit) for unit in units)


def complete(ratings: Ratings) -> dict[Pattern, float]:
    """The units every coder rated: what percent agreement and the kappas are computed on."""
    return {pattern: n for pattern, n in ratings.items() if n and None not in pattern}


def _pair_agreement(pattern: Pattern) -> float:
    """Share of this unit's coder pairs that gave the same value (Fleiss' P_i)."""
    values = [value for value in pattern if value is not None]
    raters = len(values)
    same = sum(k * (k - 1) for k in Counter(values).values())
    return same / (raters * (raters - 1))


def percent_agreement(ratings: Ratings) -> float | None:
    """Observed agreement on the complete units: for two coders the share of units they agree on,
    for more the mean share of agreeing coder pairs per unit (Fleiss' P-bar)."""
    rated = complete(ratings)
    total = sum(rated.values())
    if not total or len(next(iter(rated))) < 2:
        return None
    return sum(n * _pair_agreement(pattern) for pattern, n in rated.items()) / total


def cohen_kappa(ratings: Ratings) -> float | None:
    """Cohen's (1960) kappa: two coders, chance from each coder's own marginals. ``None`` for more coders."""
    rated = complete(ratings)
    total = sum(rated.values())
    if not total or len(next(iter(rated))) != 2:
        return None
    observed = sum(n for (first, second), n in rated.items() if first == second) / total
    firsts, seconds = Counter(), Counter()
    for (first, second), n in rated.items():
        firsts[first] += n
        seconds[second] += n
    expected = sum(firsts[value] * seconds[value] for value in firsts) / total**2
    return _chance_corrected(observed, expected)


def fleiss_kappa(ratings: Ratings) -> float | None:
    """Fleiss' (1971) kappa: any number of coders, chance from the pooled marginals (Scott's pi for two)."""
    rated = complete(ratings)
    total = sum(rated.values())
    if not total or len(next(iter(rated))) < 2:
        return None
    observed = sum(n * _pair_agreement(pattern) for pattern, n in rated.items()) / total
    pooled = Counter()
    for pattern, n in rated.items():
        for value in pattern:
            pooled[value] += n
    judgements = sum(pooled.values())
    expected = sum((count / judgements) ** 2 for count in pooled.values())
    return _chance_corrected(observed, expected)


def brennan_prediger(ratings: Ratings, categories: int) -> float | None:
    """Brennan & Prediger's (1981) kappa: chance is 1/q for q possible categories, whatever the marginals.

    MAXQDA's choice for segments, where there are no units both coders left
    uncoded and the marginals say little about chance.
    """
    observed = percent_agreement(ratings)
    if observed is None or categories < 2:
        return None
    return _chance_corrected(observed, 1 / categories)


def krippendorff_alpha(ratings: Ratings) -> float | None:
    """Krippendorff's nominal alpha: any number of coders, missing values allowed (Krippendorff 2011).

    Built from the coincidence matrix: every unit with at least two values
    contributes each ordered pair of its values, weighted 1/(m_u - 1).
    """
    coincidences: defaultdict[tuple, float] = defaultdict(float)
    for pattern, n in ratings.items():
        values = [value for value in pattern if value is not None]
        if len(values) < 2 or not n:
            continue
        counts = Counter(values)
        for first, a in counts.items():
            for second, b in counts.items():
                pairs = a * (a - 1) if first == second else a * b
                coincidences[first, second] += n * pairs / (len(values) - 1)
    marginals: defaultdict[Hashable, float] = defaultdict(float)
    for (first, _), count in coincidences.items():
        marginals[first] += count
    total = sum(marginals.values())
    if total <= 1:
        return None
    observed = sum(count for (first, second), count in coincidences.items() if first != second)
    expected = (total**2 - sum(count**2 for count in marginals.values())) / (total - 1)
    if expected == 0:
        return None
    return 1 - observed / expected


def _chance_corrected(observed: float, expected: float) -> float | None:
    return None if expected >= 1 else (observed - expected) / (1 - expected)


# Unitizing: Krippendorff's alpha-u on spans of a continuum


@dataclass(frozen=True)
class Section:
    """A stretch of one coder's continuum: a unit of the category (`marked`) or the gap between units."""

    start: int
    end: int
    marked: bool

    @property
    def length(self) -> int:
        return self.end - self.start


def sections(length: int, spans: Iterable[tuple[int, int]]) -> list[Section]:
    """One coder's continuum of `length` cut into units and gaps.

    Overlapping spans are merged first: alpha-u takes a coder's units of one
    category to be disjoint, and two overlapping codings of the same code by
    the same coder mark one stretch of text, not two.
    """
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    result, position = [], 0
    for start, end in merged:
        if start > position:
            result.append(Section(position, start, False))
        result.append(Section(start, end, True))
        position = end
    if position < length:
        result.append(Section(position, length, False))
    return result


def section_distance(g: Section, h: Section) -> int:
    """Krippendorff's squared distance between two coders' sections (2004: 252).

    Two overlapping units: the squared differences of their starts and of
    their ends. A unit lying wholly inside the other coder's gap: its squared
    length. Anything else (gaps, units that miss each other, a unit only
    partly in a gap) agrees: 0.
    """
    if g.marked and h.marked:
        if g.start < h.end and h.start < g.end:
            return (g.start - h.start) ** 2 + (g.end - h.end) ** 2
        return 0
    if g.marked and h.start <= g.start and g.end <= h.end:
        return g.length**2
    if h.marked and g.start <= h.start and h.end <= g.end:
        return h.length**2
    return 0


def _pair_distance(first: list[Section], second: list[Section]) -> int:
    """Sum of the distances of every overlapping pair of sections of two coders' continua (a merge walk)."""
    total, i, j = 0, 0, 0
    while i < len(first) and j < len(second):
        total += section_distance(first[i], second[j])
        if first[i].end <= second[j].end:
            i += 1
        else:
            j += 1
    return total


@dataclass(frozen=True)
class UnitizingTerms:
    """Observed and expected disagreement of one category: alpha-u is 1 - observed/expected,
    and over several categories 1 - sum(observed)/sum(expected) (Krippendorff 2004: 254)."""

    observed: float
    expected: float

    @property
    def alpha(self) -> float | None:
        return None if self.expected == 0 else 1 - self.observed / self.expected


def unitizing_terms(lengths: Sequence[int], spans: Sequence[Mapping[int, Iterable[tuple[int, int]]]]) -> UnitizingTerms:
    """Disagreements of one category over continua of `lengths`: ``spans[coder][continuum]`` lists the
    (start, end) of that coder's units there (a continuum not listed: the coder marked nothing in it).

    Several continua (the transcripts of a corpus) are one continuum of their
    total length L whose gaps end at each boundary, so that chance never
    places a unit across two transcripts. With m coders, observed disagreement sums
    every pair of coders: D_o = 2 Σ_{i<j} Σ δ² / (m(m-1) L²); expected
    disagreement is Krippendorff's (2004: 253) over every unit and gap of every coder.
    """
    coders = len(spans)
    total = sum(lengths)
    if coders < 2 or not total:
        return UnitizingTerms(0.0, 0.0)
    cut = [[sections(length, coder.get(index, ())) for index, length in enumerate(lengths)] for coder in spans]
    observed = sum(
        _pair_distance(cut[i][c], cut[j][c])
        for i in range(coders) for j in range(i + 1, coders) for c in range(len(lengths))
    )
    every = [section for coder in cut for continuum in coder for section in continuum]
    units = [s.length for s in every if s.marked]
    gaps = sorted(s.length for s in every if not s.marked)
    return UnitizingTerms(
        2 * observed / (coders * (coders - 1) * total**2),
        _expected_disagreement(units, gaps, coders, total),
    )


def _expected_disagreement(units: list[int], gaps: list[int], coders: int, total: int) -> float:
    """Krippendorff's (2004: 253) expected disagreement: each unit paired with every other unit and
    placed at every position inside every gap long enough to hold it (`gaps` sorted)."""
    if not units:
        return 0.0
    after = list(accumulate(reversed(gaps)))[::-1] + [0]  # after[k]: total length of gaps[k:]

    def in_gaps(length: int) -> int:
        """Σ (gap - length + 1) over the gaps at least `length` long: the positions it fits in."""
        first = bisect_left(gaps, length)
        return after[first] - (length - 1) * (len(gaps) - first)

    numerator = sum(
        (len(units) - 1) * (2 * l**3 - 3 * l**2 + l) / 3 + l**2 * in_gaps(l) for l in units
    )
    denominator = coders * total * (coders * total - 1) - sum(l * (l - 1) for l in units)
    return 2 / total * numerator / denominator
