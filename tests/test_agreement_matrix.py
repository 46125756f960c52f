"""Coder x coder Krippendorff's alpha (`agreement --matrix`) on the two-coder fixture with a third coder, cat.

Turn units, markets and networks pooled, pairable units only (DH and NAT are missing for some):
ann-ben: 16 values, six 1s, two units (1, 0): alpha = 1 - (4/16) / (2*6*10/(16*15)) = 1/2.
ann-cat: seven 1s, one unit (1, 0) (S02 t4 markets): alpha = 1 - (2/16) / (2*7*9/240) = 16/21.
ben-cat: five 1s, one unit (0, 1) (HT t2 markets): alpha = 1 - (2/16) / (2*5*11/240) = 8/11.
"""

from __future__ import annotations

import json
import pytest

from qualcode.analysis import agreement
from qualcode.coding.manual import apply_codes
from qualcode.errors import QualcodeError
from qualcode.project import Project
from tests.test_agreement import make_two_coder_project, span

CAT = [
    ("EAS-S01-HT", "a two-form entry primary", "markets"),
    ("EAS-S02-HT", "Every September", "markets"),
    ("EAS-S01-HT", "The alliance matters most to us.", "networks"),
]


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from tests.conftest import FIXTURES
    import shutil

    root = tmp_path_factory.mktemp("matrix")
    corpus = shutil.copytree(FIXTURES / "corpus", root / "corpus")
    project = make_two_coder_project(root / "team", corpus)
    for transcript, words, code in CAT:
        apply_codes(project, transcript, [code], "cat", span=span(project, transcript, words, words))
    return project


def test_each_cell_is_the_pairs_alpha_worked_out_by_hand(three: Project) -> None:
    matrix = agreement.agreement_matrix(three, ["ann", "ben", "cat"])
    assert matrix.alpha("ann", "ben") == pytest.approx(1 / 2)
    assert matrix.alpha("ann", "cat") == pytest.approx(16 / 21) == matrix.alpha("cat", "ann")
    assert matrix.alpha("ben", "cat") == pytest.approx(8 / 11)
    assert matrix.alpha("ann", "ann") is None  # a coder is not compared with themselves
    assert matrix.pairs["ann", "cat"][1] == 8  # judgements both made: 4 turns x 2 codes
    data = json.loads(json.dumps(matrix.as_json()))  # what --json prints
    assert data["krippendorff_alpha"]["cat"]["ben"] == pytest.approx(8 / 11) and data["krippendorff_alpha"]["ann"]["ann"] is None
    assert {"coders": ["ann", "ben"], "krippendorff_alpha": 0.5, "units": 8} in data["pairs"]


@pytest.mark.parametrize("unit", ["segment", "sentence", "character"])
def test_each_cell_is_what_agreement_gives_that_pair(three: Project, unit: str) -> None:
    """For segments the pair's own stretches count, not the third coder's: a cell never depends on who else is in it."""
    matrix = agreement.agreement_matrix(three, ["ann", "ben", "cat"], unit=unit)
    for first, second in (("ann", "ben"), ("ann", "cat"), ("ben", "cat")):
        expected = agreement.agreement(three, [first, second], unit=unit).overall["krippendorff_alpha"]
        assert matrix.alpha(first, second) == pytest.approx(expected)


def test_the_command_prints_the_matrix(three: Project, run) -> None:
    table = run("agreement", "--coders", "ann,ben,cat", "--matrix", "--project", str(three.root))
    assert table.returncode == 0, table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.startswith("│")}
    assert "cat has not coded 2 of 4 transcripts (EAS-S01-DH, NAT-I01)" in table.stderr
    assert "0.500" in rows["ben"] and "0.762" in rows["cat"] and "0.727" in rows["cat"] and "–" in rows["ann"]
    both = run("agreement", "--coders", "ann,ben", "--matrix", "--disagreements", "--project", str(three.root))
    assert both.returncode == 2 and "ask for one at a time" in both.stderr


def test_one_coder_is_not_a_matrix(three: Project) -> None:
    with pytest.raises(QualcodeError, match="at least two coders"):
        agreement.agreement_matrix(three, ["ann"])
