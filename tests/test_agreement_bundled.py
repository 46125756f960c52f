"""The worked example of the README: two coders of the bundled corpus, at full size.

'gold' is the corpus's gold coding; 'second' is a reproducible perturbation of
it (`second_coder`, seed 16): a tenth of the codings dropped, a sixth cut short
by a third, one in twenty moved to another code. Run with ``-s`` to print
the figures the README quotes.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from qualcode.analysis.agreement import agreement
from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.exchange.coding_tables import import_codings
from qualcode.project import init_project
from tests.conftest import REPO

GOLD = REPO / "transcripts" / "gold-codings.csv"


def second_coder(gold: Path, target: Path, seed: int = 16) -> Path:
    """A second coder's codings: the gold coding with a fixed share of its codings dropped, shortened or recoded."""
    chance = random.Random(seed)
    with gold.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = sorted({row["code"] for row in rows})
    kept = []
    for row in rows:
        draw = chance.random()
        start, end = int(row["start"]), int(row["end"])
        if draw < 0.10:
            continue
        if draw < 0.27 and end - start > 30:
            row = {**row, "end": str(start + (end - start) * 2 // 3)}
        elif draw < 0.32:
            row = {**row, "code": chance.choice(codes)}
        kept.append(row)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["transcript", "start", "end", "code"])
        writer.writeheader()
        writer.writerows(kept)
    return target


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    root = tmp_path_factory.mktemp("team")
    project = init_project(root / "team")
    import_paths(project, [REPO / "transcripts"])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "tester")
    import_codings(project, GOLD, "gold")
    import_codings(project, second_coder(GOLD, root / "second.csv"), "second")
    return project


@pytest.mark.parametrize("unit", ["turn", "segment", "character"])
def test_the_bundled_corpus_shows_the_absent_inflation(team, unit: str) -> None:
    report = agreement(team, ["gold", "second"], unit=unit)
    overall = report.overall
    print(unit, json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in overall.items()}))
    assert report.missing == {}
    # alpha-u needs no units: the same whatever the unit; near the character-level alpha.
    assert 0.5 < overall["unitizing_alpha"] < 1
    if unit == "segment":
        # Segments are what someone coded: no agreement on 'absent', so the marginals leave kappa and
        # alpha below zero; Brennan & Prediger's fixed chance (1/2) stays positive.
        assert overall["absent_share"] == 0
        assert overall["krippendorff_alpha"] < 0 < overall["brennan_prediger"] < overall["percent_agreement"]
    else:
        # Most text is coded with most codes by nobody: percent agreement sits far above kappa and alpha.
        assert overall["absent_share"] > 0.9
        assert overall["percent_agreement"] > 0.9 > overall["cohen_kappa"] > 0.5
