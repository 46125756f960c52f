"""End to end through the installed script: codebook commands, code, uncode, memo, codings, undo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture
def study(run, tmp_path: Path, corpus: Path) -> Path:
    assert run("init", "study").returncode == 0
    folder = tmp_path / "study"
    assert run("import", str(corpus), cwd=folder).returncode == 0
    loaded = run("codebook", "load", str(REPO / "codebooks/hierarchy-markets-networks.yaml"), "--coder", "setup", cwd=folder)
    assert loaded.returncode == 0, loaded.stderr
    assert "46 codes added, 0 updated, 0 unchanged" in loaded.stderr
    return folder


def codings(run, study: Path) -> list[dict]:
    result = run("codings", "--json", cwd=study)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_code_list_undo_round_trip(run, study: Path):
    result = run("code", "EAS-S02-HT", "3-4", "pupils", "competition/status", "--coder", "ann", "--memo", "x", cwd=study)
    assert result.returncode == 0, result.stderr
    assert "coded EAS-S02-HT lines 3-4 with markets/competition/pupils, markets/competition/status" in result.stderr
    assert run("code", "EAS-S02-HT", "--turn", "4", "pressure", "--coder", "ann", cwd=study).returncode == 0
    rows = codings(run, study)
    assert [set(row) for row in rows][0] == {"id", "transcript", "start", "end", "lines", "code", "coder", "origin", "text", "memo",
                                             "score", "evidence"}
    assert rows[0]["score"] is None and rows[0]["evidence"] is None  # a hand coding has neither
    assert [row["memo"] for row in rows] == ["x", "x", None]
    assert [(r["lines"], r["code"]) for r in rows] == [
        ("3-4", "markets/competition/pupils"),
        ("3-4", "markets/competition/status"),
        ("8", "networks/system-leaders/pressure"),
    ]
    assert rows[0]["text"].startswith("Fierce, frankly.") and rows[0]["text"].endswith("not forgotten it.")
    shown = run("show", "EAS-S02-HT", cwd=study).stdout
    assert "markets/competition/pupils, markets/competition/status" in shown
    undone = run("undo", "--coder", "ann", cwd=study)
    assert undone.returncode == 0 and "undone: code EAS-S02-HT 8 with networks/system-leaders/pressure" in undone.stderr
    assert len(codings(run, study)) == 2


def test_unknown_code_asks_then_creates_an_inductive_code(run, study: Path):
    refused = run("code", "EAS-S02-HT", "3", "year-seven-numbers", "--coder", "ann", cwd=study, input="n\n")
    assert refused.returncode == 1
    assert "no code 'year-seven-numbers'" in refused.stderr and "nothing was coded" in refused.stderr
    assert codings(run, study) == []
    accepted = run("code", "EAS-S02-HT", "3", "year-seven-numbers", "--coder", "ann", cwd=study, input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "created inductive code year-seven-numbers" in accepted.stderr
    direct = run("code", "EAS-S02-HT", "4", "markets/sixth-form", "--new", "--coder", "ann", cwd=study)
    assert "created inductive code markets/sixth-form" in direct.stderr
    tree = json.loads(run("codebook", "show", "--json", cwd=study).stdout)
    by_path = {row["path"]: row for row in tree}
    assert by_path["year-seven-numbers"]["codings"] == 1
    assert set(tree[0]) == {"path", "definition", "codings", "transcripts", "schools"}


def test_typo_suggests_and_bad_lines_explain(run, study: Path):
    typo = run("code", "EAS-S02-HT", "3", "markets/competiton/pupils", "--coder", "ann", cwd=study, input="n\n")
    assert "did you mean 'markets/competition/pupils'?" in typo.stderr
    bad = run("code", "EAS-S02-HT", "3-x", "pupils", "--coder", "ann", cwd=study)
    assert bad.returncode == 1
    assert "'3-x' is not a line range: use 12, 12-18 or 12:5-18:40 (line:column)" in bad.stderr


def test_codebook_edits_and_export(run, study: Path, tmp_path: Path):
    run("code", "EAS-S02-HT", "3", "status", "--coder", "ann", cwd=study)
    refused = run("codebook", "rm", "status", "--coder", "ann", cwd=study)
    assert refused.returncode == 1 and "has 1 codings" in refused.stderr
    assert run("codebook", "add", "markets/competition/sixth-form", "--definition", "Post-16", cwd=study).returncode == 0
    assert run("codebook", "rename", "sixth-form", "post-16", cwd=study).returncode == 0
    assert run("codebook", "move", "post-16", "markets", cwd=study).returncode == 0
    merged = run("codebook", "merge", "status", "markets/post-16", "--coder", "ann", cwd=study)
    assert "1 codings recoded" in merged.stderr
    assert [r["code"] for r in codings(run, study)] == ["markets/post-16"]
    out = tmp_path / "book.qdc"
    exported = run("codebook", "export", str(out), cwd=study)
    assert exported.returncode == 0 and out.read_text(encoding="utf-8").startswith("<?xml")


def test_uncode_and_memo(run, study: Path):
    run("code", "EAS-S02-HT", "3", "pupils", "status", "--coder", "ann", cwd=study)
    removed = run("uncode", "EAS-S02-HT", "3", "status", "--coder", "ann", cwd=study)
    assert removed.returncode == 0 and "removed 1 coding" in removed.stderr
    assert run("memo", "Competition is sharper here", "--school", "EAS-S02", cwd=study).returncode == 0
    both = run("memo", "x", "--school", "EAS-S02", "--code", "pupils", cwd=study)
    assert both.returncode == 2 and "a memo goes on one thing" in both.stderr
