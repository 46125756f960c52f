"""`make demo`'s job, end to end through the installed script on the bundled corpus.

The one slow test of the suite: it imports 182 transcripts, runs autocode over
636,000 words and writes every report. It checks what a newcomer would look
at: the reports exist, each passes `qualcode check`, none names anyone in the
identity key, and autocode's figures against the gold coding are recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualcode.privacy import pseudonyms
from qualcode.privacy.pseudonyms import IdentityKey, leaks
from qualcode.reports.check import Corpus
from qualcode.project import Project
from tests.conftest import REPO
from tests.test_anonymise import _output_text


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os
    import subprocess

    from tests.conftest import QUALCODE

    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALCODE_")}
    result = subprocess.run(
        [str(QUALCODE), "demo", "--project", str(folder / "project"), "--reports", str(folder / "reports")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder / "messages.txt").write_text(result.stderr, encoding="utf-8")
    return folder


def test_demo_ends_by_saying_where_to_look(run, demo: Path):
    ending = " ".join((demo / "messages.txt").read_text(encoding="utf-8").split()[-40:])
    assert f"Start with {demo / 'reports' / 'cases.html'}" in ending
    command = ending.split("try '")[1].split("'")[0].split()
    assert command[:2] == ["qualcode", "query"]
    matrix = run(*command[1:])
    assert matrix.returncode == 0 and "Eastern" in matrix.stdout


def test_demo_writes_every_report(demo: Path):
    names = sorted(p.name for p in (demo / "reports").iterdir())
    for locality in ("eastern", "northern", "southern", "western"):
        assert f"case-{locality}.html" in names
    for theme in ("equity", "hierarchy", "leadership", "markets", "networks"):
        assert f"quotes-{theme}.html" in names
    assert {"cases.html", "matrix-locality.xlsx", "matrix-locality.png", "corpus-stats.json",
            "autocode-evaluation.json"} <= set(names)
    assert not [n for n in names if n.startswith(".")], "no partial files are left behind"
    stats = json.loads((demo / "reports" / "corpus-stats.json").read_text())
    assert (stats["transcripts"], stats["schools"], stats["system_informants"]) == (182, 47, 18)
    assert stats["codings"] > 13000


def test_autocode_figures_are_recorded(demo: Path):
    evaluation = json.loads((demo / "reports" / "autocode-evaluation.json").read_text())
    assert set(evaluation["per_code"]) == {"equity", "hierarchy", "leadership", "markets", "networks"}
    for figures in [evaluation["overall"], *evaluation["per_code"].values()]:
        assert 0 < figures["precision"] <= 1 and 0 < figures["recall"] <= 1


def test_every_report_passes_qualcode_check(run, demo: Path):
    reports = sorted(str(p) for p in (demo / "reports").glob("*.html"))
    pages = sorted(str(p) for p in (demo / "reports" / "transcripts").glob("*.html"))
    assert len(pages) > 100, "the quote ids lead to the pages of the transcripts they quote"
    reports += pages
    result = run("check", *reports, "--project", str(demo / "project"), "--json")
    assert result.returncode == 0, result.stdout[-3000:]
    checked = json.loads(result.stdout)
    assert checked["quotes"] > 1000 and checked["findings"] == []


def test_no_output_names_anyone_in_the_identity_key(demo: Path):
    project = Project.open(demo / "project")
    truth = IdentityKey(None, settings=pseudonyms.anonymise_settings(project))
    truth.import_csv(REPO / "transcripts" / "identity-key.csv")
    outputs = [p for p in (demo / "reports").rglob("*") if p.is_file() and p.suffix != ".png"]
    assert len(outputs) >= 14
    corpus = Corpus(project)  # qualcode's own ids (SOU-S03-BM) are metadata, not someone's initials
    for path in outputs:
        text = corpus.mask_ids(_output_text(path))
        assert not leaks(project, text, truth), path.name


def test_the_identity_key_stays_private(demo: Path):
    key = demo / "project" / "identity-key.csv"
    assert key.stat().st_mode & 0o777 == 0o600
    assert "identity-key*" in (demo / "project" / ".gitignore").read_text()
