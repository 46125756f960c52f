"""The bundled corpus, imported through the real importer, reproduces the study's design (book, Annex 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.ingest.corpus import import_paths
from qualcode.analysis.overview import corpus_stats, transcript_table
from qualcode.project import init_project
from tests.conftest import REPO

#: Annex 1: schools, staff interviews and system informants per locality.
ANNEX = {
    "Eastern": {"schools": 11, "staff_interviews": 38, "system_informants": 4},
    "Western": {"schools": 14, "staff_interviews": 47, "system_informants": 5},
    "Northern": {"schools": 10, "staff_interviews": 37, "system_informants": 4},
    "Southern": {"schools": 12, "staff_interviews": 42, "system_informants": 3},
    "National": {"schools": 0, "staff_interviews": 0, "system_informants": 2},
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    project = init_project(tmp_path_factory.mktemp("bundled") / "study")
    report = import_paths(project, [REPO / "transcripts"])
    assert len(report.added) == 182
    return project


def test_totals_match_the_annex(study):
    stats = corpus_stats(study)
    assert (stats["transcripts"], stats["schools"], stats["system_informants"]) == (182, 47, 18)
    assert stats["participants"] == 182 and stats["localities"] == 5
    assert sum(row["staff_interviews"] for row in stats["per_locality"].values()) == 164


def test_per_locality_figures_match_the_annex(study):
    per_locality = corpus_stats(study)["per_locality"]
    for locality, expected in ANNEX.items():
        got = {key: per_locality[locality][key] for key in expected}
        assert got == expected, locality
        assert per_locality[locality]["words"] > 0


def test_phase_mix_and_grades(study):
    table = transcript_table(study, informants=False)
    schools = table.drop_duplicates("school").set_index("school")
    mix = schools.groupby(["locality", "phase"]).size().to_dict()
    assert mix[("Eastern", "primary")] == 6 and mix[("Eastern", "junior")] == 1 and mix[("Eastern", "secondary")] == 4
    assert mix[("Western", "primary")] == 8 and mix[("Western", "junior")] == 1 and mix[("Western", "secondary")] == 5
    assert mix[("Southern", "primary")] == 8 and mix[("Southern", "secondary")] == 4
    northern = schools[schools["locality"] == "Northern"]
    assert set(northern["ofsted"]) <= {"Good", "Outstanding"}
    assert (northern["phase"] == "special").sum() == 1


def test_every_school_has_its_head_interviewed_in_full(study):
    table = transcript_table(study, informants=False)
    per_school = table.groupby("school").size()
    assert per_school.between(1, 7).all()
    heads = table[table["transcript"].str.endswith("-HT")]
    assert sorted(heads["school"]) == sorted(per_school.index)
    assert set(heads["kind"]) == {"full"}
    informants = transcript_table(study, informants=True)
    assert set(informants["kind"]) == {"full"}
    assert len(informants) == 18


def test_stats_cli_shows_the_locality_table(run, study, tmp_path: Path):
    result = run("stats", "--project", str(study.root))
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Western" in line)
    assert [cell.strip() for cell in row.split("│")[2:5]] == ["14", "47", "5"]
