"""The reliability coefficients against the published worked examples, the reference package and a direct count."""

from __future__ import annotations

import math
from collections import Counter

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.analysis.reliability import (
    Section,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    ratings_of,
    section_distance,
    sections,
    unitizing_terms,
)

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", the nominal example: 4 observers,
# 12 units, missing values as None.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Cohen (1960: 45), the table of 200 units in three categories: rows coder A, columns coder B.
COHEN_1960 = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]

# Fleiss (1971: 379), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses.
FLEISS_1971 = (
    "444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 "
    "144444 124444 222333 144444 224445 333335 111455 111112 224444 133555 "
    "555555 244444 224555 114444 144445 222224 111155 224444 133333 555555"
).split()

# The worked example on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters, counts per category,
# kappa 0.210. Often credited to Fleiss (1971), but it is not his: his paper's example is the 30 x 6
# table above, kappa .430 (as dkpro-statistics' Fleiss1971Test reproduces it from p. 379).
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def table_ratings(table: list[list[int]]) -> Counter:
    return Counter({(a + 1, b + 1): n for a, row in enumerate(table) for b, n in enumerate(row)})


def test_krippendorff_2011_nominal_example() -> None:
    assert krippendorff_alpha(ratings_of(zip(*KRIPPENDORFF_2011))) == pytest.approx(0.743, abs=5e-4)


def test_cohen_1960_example() -> None:
    ratings = table_ratings(COHEN_1960)
    assert percent_agreement(ratings) == pytest.approx(0.70)
    assert cohen_kappa(ratings) == pytest.approx(0.492, abs=5e-4)


def test_fleiss_1971_example() -> None:
    ratings = ratings_of(tuple(map(int, unit)) for unit in FLEISS_1971)
    assert percent_agreement(ratings) == pytest.approx(0.5556, abs=5e-5)
    assert fleiss_kappa(ratings) == pytest.approx(0.430, abs=5e-4)
    assert cohen_kappa(ratings) is None


def test_fleiss_kappa_on_wikipedias_worked_example() -> None:
    units = [tuple(value for value, n in enumerate(row) for _ in range(n)) for row in FLEISS_WIKIPEDIA]
    assert fleiss_kappa(ratings_of(units)) == pytest.approx(0.210, abs=5e-4)


def test_brennan_prediger_1981_examples() -> None:
    """Brennan & Prediger (1981: 689, 691): the same observed agreement, other marginals, one kappa_n."""
    first = table_ratings([[50, 0, 0], [10, 10, 10], [20, 0, 0]])
    second = table_ratings([[50, 0, 10], [0, 10, 10], [10, 10, 0]])
    for ratings, kappa in ((first, 0.27), (second, 0.29)):
        assert cohen_kappa(ratings) == pytest.approx(kappa, abs=5e-3)
        assert brennan_prediger(ratings, 3) == pytest.approx(0.40)


def krippendorff_2004(category: str) -> list[dict[int, list[tuple[int, int]]]]:
    """Krippendorff (2004: 254): two coders on a continuum from 150 to 450, categories c and k."""
    units = {
        "c": ([(225, 70), (370, 30)], [(220, 80), (355, 20), (400, 20)]),
        "k": ([(180, 60), (300, 50)], [(180, 60), (300, 50)]),
    }[category]
    return [{0: [(begin - 150, begin - 150 + length) for begin, length in coder]} for coder in units]


def test_krippendorff_2004_unitizing_example() -> None:
    c = unitizing_terms([300], krippendorff_2004("c"))
    k = unitizing_terms([300], krippendorff_2004("k"))
    assert (round(c.observed, 4), round(c.expected, 4), round(c.alpha, 4)) == (0.0144, 0.0532, 0.7286)
    assert (round(k.observed, 4), round(k.expected, 4), k.alpha) == (0.0, 0.0490, 1.0)
    overall = 1 - (c.observed + k.observed) / (c.expected + k.expected)
    # Krippendorff's 0.8591 is worked from the rounded disagreements: 1 - 0.0144 / (0.0532 + 0.0490).
    assert overall == pytest.approx(0.8591, abs=5e-4)
    assert 1 - round(c.observed, 4) / (round(c.expected, 4) + round(k.expected, 4)) == pytest.approx(0.8591, abs=5e-5)


def test_krippendorff_2004_distances() -> None:
    """The section distances of the same example (2004: 252), as dkpro-statistics checks them."""
    assert section_distance(Section(225, 295, True), Section(220, 300, True)) == 50
    assert section_distance(Section(370, 400, True), Section(355, 375, True)) == 850
    assert section_distance(Section(400, 450, False), Section(400, 420, True)) == 400
    assert section_distance(Section(370, 400, True), Section(375, 400, False)) == 0


def test_krippendorff_1995_observed_disagreements() -> None:
    """Krippendorff (1995: 57): four pairs of coders on 24 time points, touching units kept apart."""
    pairs = {
        "A": ([(2, 8), (14, 6)], [(4, 4), (15, 2)], 0.03125),
        "B": ([(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)], 2.26736),
        "C": ([(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)], 0.02778),
        "D": ([(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)], [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)], 0.38715),
    }
    for first, second, observed in pairs.values():
        coders = [{0: [(b, b + n) for b, n in coder]} for coder in (first, second)]
        assert unitizing_terms([24], coders).observed == pytest.approx(observed, abs=5e-6)


def test_unitizing_alpha_is_one_for_identical_coders_and_undefined_without_units() -> None:
    same = [{0: [(3, 9)], 1: [(0, 2)]}, {0: [(3, 9)], 1: [(0, 2)]}]
    assert unitizing_terms([20, 10], same).alpha == 1.0
    assert unitizing_terms([20, 10], [{}, {}]).alpha is None


def test_a_coders_overlapping_spans_are_one_unit() -> None:
    assert sections(10, [(2, 5), (4, 7), (7, 8)]) == [
        Section(0, 2, False), Section(2, 7, True), Section(7, 8, True), Section(8, 10, False),
    ]


def test_undefined_measures_are_none() -> None:
    everyone_absent = Counter({(0, 0): 10})
    assert percent_agreement(everyone_absent) == 1.0
    assert cohen_kappa(everyone_absent) is None
    assert fleiss_kappa(everyone_absent) is None
    assert krippendorff_alpha(everyone_absent) is None
    assert brennan_prediger(everyone_absent, 2) == 1.0
    assert percent_agreement(Counter({(1, None): 3})) is None


values = st.one_of(st.none(), st.integers(0, 3))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=200, deadline=None)
@given(st.integers(2, 4).flatmap(lambda coders: st.lists(st.lists(values, min_size=coders, max_size=coders),
                                                         min_size=1, max_size=40)))
def test_nominal_alpha_matches_the_krippendorff_package(units: list[list[int | None]]) -> None:
    ours = krippendorff_alpha(ratings_of(units))
    data = np.array([[np.nan if v is None else v for v in unit] for unit in units], dtype=float).T
    try:
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except ValueError:  # fewer than two values in the data: alpha is undefined
        theirs = math.nan
    if ours is None:  # no pairable values, or only one value: the package says nan (or refuses)
        assert math.isnan(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_percent_agreement_and_cohen_kappa_match_a_direct_count(units: list[tuple[bool, bool]]) -> None:
    n = len(units)
    agree = sum(a == b for a, b in units) / n
    first, second = sum(a for a, _ in units) / n, sum(b for _, b in units) / n
    chance = first * second + (1 - first) * (1 - second)
    ratings = ratings_of(units)
    assert percent_agreement(ratings) == pytest.approx(agree)
    if chance == 1:
        assert cohen_kappa(ratings) is None
    else:
        assert cohen_kappa(ratings) == pytest.approx((agree - chance) / (1 - chance))
