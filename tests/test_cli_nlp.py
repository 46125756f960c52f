"""End to end through the installed script: autocode, suggest, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_clusters import ROOF, SWIMMING, TOPICS
from tests.test_nlp import PLANTED


@pytest.fixture
def study(run, tmp_path: Path, corpus: Path) -> Path:
    for name, text in PLANTED.items():
        (corpus / "eastern" / name).write_text(text, encoding="utf-8")
    assert run("init", "study").returncode == 0
    folder = tmp_path / "study"
    assert run("import", str(corpus), cwd=folder).returncode == 0
    loaded = run("codebook", "load", str(REPO / "codebooks/hierarchy-markets-networks.yaml"), "--coder", "setup", cwd=folder)
    assert loaded.returncode == 0, loaded.stderr
    return folder


def codings(run, study: Path, *options: str) -> list[dict]:
    result = run("codings", "--json", *options, cwd=study)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_autocode_then_a_cached_rerun_then_undo(run, study: Path):
    first = run("autocode", cwd=study)
    assert first.returncode == 0, first.stderr
    assert "6 parsed, 0 from the cache" in first.stderr and "markets/competition/pupils" in first.stdout
    suggested = codings(run, study, "--origin", "suggested")
    assert suggested and {row["coder"] for row in suggested} == {"autocode"}
    again = run("autocode", cwd=study)
    assert "0 parsed, 6 from the cache" in again.stderr and f"{len(suggested)} earlier suggestions replaced" in again.stderr
    assert run("undo", "--coder", "autocode", cwd=study).returncode == 0
    assert codings(run, study) == suggested


def test_autocode_options(run, study: Path):
    result = run("autocode", "--codes", "markets", "--transcript", "EAS-S02-HT", "--transcript", "EAS-S01-HT",
                 "--accept", "--min-score", "0.3", "--coder", "machine", cwd=study)
    assert result.returncode == 0, result.stderr
    rows = codings(run, study)
    assert rows and {(r["origin"], r["coder"]) for r in rows} == {("accepted", "machine")}
    assert {r["transcript"] for r in rows} <= {"EAS-S02-HT", "EAS-S01-HT"} and all(r["code"].startswith("markets") for r in rows)
    unknown = run("autocode", "--codes", "nonsense", cwd=study)
    assert unknown.returncode == 1 and "no codes matching 'nonsense'" in unknown.stderr
    missing = run("autocode", "--transcript", "EAS-S09-HT", cwd=study)
    assert missing.returncode == 1 and "no transcript 'EAS-S09-HT'" in missing.stderr


def test_evaluate_prints_a_table_and_json(run, study: Path, tmp_path: Path):
    coded = run("code", "EAS-S02-HT", "3", "markets/competition/pupils", "--coder", "autocode", cwd=study)
    assert coded.returncode == 0
    row = codings(run, study)[0]
    gold = tmp_path / "gold.csv"
    gold.write_text(f"transcript,start,end,code\nEAS-S02-HT,{row['start']},{row['end']},markets\n", encoding="utf-8")
    assert run("evaluate", "--gold", str(gold), cwd=study).stdout.count("0.000") >= 3  # a manual coding is no suggestion
    run("autocode", "--codes", "markets", cwd=study)
    table = run("evaluate", "--gold", str(gold), cwd=study)
    assert table.returncode == 0 and "overall" in table.stdout and "markets" in table.stdout
    result = json.loads(run("evaluate", "--gold", str(gold), "--json", cwd=study).stdout)
    assert set(result["overall"]) >= {"precision", "recall", "f1"} and result["per_code"]["markets"]["recall"] == 1.0


def test_suggest_lists_and_creates_candidates(run, study: Path):
    listed = run("suggest", "--top", "50", "--json", cwd=study)
    assert listed.returncode == 0, listed.stderr
    island = next(c for c in json.loads(listed.stdout) if c["phrase"] == "lonely island")
    assert island["frequency"] == 4 and len(island["examples"]) == 3
    grouped = run("suggest", "--by", "role", "--top", "3", cwd=study)
    assert grouped.returncode == 0 and "role=" in grouped.stdout and "G2" in grouped.stdout
    bad = run("suggest", "--by", "colour", cwd=study)
    assert bad.returncode == 1 and "--by must be one of: locality, phase, role" in bad.stderr
    created = run("suggest", "--create", "lonely island", "--as", "equity/isolated-schools/lonely-island", "--coder", "ann", cwd=study)
    assert created.returncode == 0, created.stderr
    assert "created inductive code equity/isolated-schools/lonely-island with 3 suggested passages" in created.stderr
    assert len(codings(run, study, "--code", "lonely-island")) == 3
    assert run("suggest", "--create", "lonely island", cwd=study).returncode == 2  # --as is required


def test_suggest_lists_clusters_of_uncoded_passages_and_creates_a_code_from_one(run, tmp_path: Path, corpus: Path):
    for name, text in TOPICS.items():
        (corpus / "eastern" / name).write_text(text, encoding="utf-8")
    assert run("init", "study").returncode == 0
    study = tmp_path / "study"
    assert run("import", str(corpus), cwd=study).returncode == 0
    assert run("codebook", "load", str(REPO / "codebooks/hierarchy-markets-networks.yaml"), cwd=study).returncode == 0
    assert run("autocode", cwd=study).returncode == 0
    listed = run("suggest", "--top", "3", "--json", cwd=study)
    assert listed.returncode == 0, listed.stderr
    found = [c for c in json.loads(listed.stdout) if c["kind"] == "cluster"]
    examples = [{(e["transcript"], e["lines"]) for e in c["examples"]} for c in found]
    assert SWIMMING in examples and ROOF in examples
    roof = found[examples.index(ROOF)]
    assert (roof["frequency"], roof["transcripts"], roof["schools"]) == (3, 2, 2)
    table = run("suggest", "--top", "3", cwd=study)
    assert table.returncode == 0 and roof["phrase"] in table.stdout and "cluster" in table.stdout
    assert not [c for c in json.loads(run("suggest", "--clusters", "0", "--json", cwd=study).stdout) if c["kind"] == "cluster"]
    created = run("suggest", "--create", roof["phrase"], "--as", "school-life/roof", "--coder", "ann", cwd=study)
    assert created.returncode == 0, created.stderr
    assert "created inductive code school-life/roof with 3 suggested passages" in created.stderr
    assert {(r["transcript"], r["lines"]) for r in codings(run, study, "--code", "school-life/roof")} == ROOF
