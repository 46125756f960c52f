"""End to end through the installed `qualcode` script: `qualcode key ...` and `qualcode anonymise scan|export`."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "anonymise"


@pytest.fixture
def study(run, tmp_path: Path) -> Path:
    """A project with the anonymisation fixture corpus imported and no key yet."""
    folder = tmp_path / "study"
    assert run("init", str(folder)).returncode == 0
    imported = run("import", str(FIXTURE), cwd=folder)
    assert imported.returncode == 0, imported.stderr
    return folder


def test_key_import_list_and_add(run, study: Path):
    imported = run("key", "import", str(FIXTURE / "identity-key.csv"), cwd=study)
    assert imported.returncode == 0 and "the key has 6 entries" in imported.stderr
    assert stat.S_IMODE((study / "identity-key.csv").stat().st_mode) == 0o600
    added = run("key", "add", "Tamsin Orme", "--kind", "person", "--variant", "Tam", cwd=study)
    assert added.returncode == 0 and "replaced by [person 1]" in added.stderr
    listed = json.loads(run("key", "list", "--json", cwd=study).stdout)
    assert listed[-1] == {"name": "Tamsin Orme", "kind": "person", "variants": "Tam", "replacement": "[person 1]", "refers_to": ""}
    assert "real names" in run("key", "list", cwd=study).stderr


def test_key_add_says_when_not_initials_keep_a_persons_initials_out(run, study: Path):
    """'RI' (Requires Improvement) is never taken for initials: the researcher is told which person that leaves
    unguarded, by replacement, never by name; someone whose initials are not in the list is not mentioned."""
    added = run("key", "add", "Rhiannon Iqbal", "--kind", "person", "--replacement", "[the deputy]", cwd=study)
    said = " ".join(added.stderr.split())
    assert added.returncode == 0 and "warning: [the deputy]: 'RI' is in [anonymise] not_initials" in said
    assert "Rhiannon" not in added.stderr
    assert "not_initials" not in run("key", "add", "Tamsin Orme", "--kind", "person", cwd=study).stderr


def test_key_add_refuses_an_unknown_kind(run, study: Path):
    failed = run("key", "add", "Oak", "--kind", "tree", cwd=study)
    assert failed.returncode == 1 and "'tree' is not a kind of name" in failed.stderr
    assert not (study / "identity-key.csv").exists()


def test_key_import_reports_bad_rows(run, study: Path, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\nOak School,shcool\n")
    failed = run("key", "import", str(bad), cwd=study)
    assert failed.returncode == 1
    assert f"{bad}:2: kind: 'shcool' is not one of" in failed.stderr


def test_scan_json_and_add(run, study: Path):
    run("key", "import", str(FIXTURE / "identity-key.csv"), cwd=study)
    scanned = run("anonymise", "scan", "--json", cwd=study)
    assert scanned.returncode == 0, scanned.stderr
    candidates = {c["text"]: c for c in json.loads(scanned.stdout)}
    assert candidates["Mrs Pendlebury"] == {"text": "Mrs Pendlebury", "label": "PERSON", "count": 1, "transcripts": ["EAS-S02-HT"]}
    assert "Kilnsey Bridge Academy" in candidates
    added = run("anonymise", "scan", "EAS-S02-HT", "--add", "--yes", cwd=study)
    assert added.returncode == 0 and "Pendlebury" in added.stdout
    again = json.loads(run("anonymise", "scan", "--json", cwd=study).stdout)
    assert not [c for c in again if "EAS-S02-HT" in c["transcripts"]]


def test_scan_unknown_transcript(run, study: Path):
    failed = run("anonymise", "scan", "EAS-S99-HT", cwd=study)
    assert failed.returncode == 1 and "no transcript EAS-S99-HT" in failed.stderr


def test_export_writes_pseudonymised_copies_and_a_report_without_names(run, study: Path, tmp_path: Path):
    run("key", "import", str(FIXTURE / "identity-key.csv"), cwd=study)
    out = tmp_path / "archive"
    exported = run("anonymise", "export", str(out), cwd=study)
    assert exported.returncode == 0, exported.stderr
    assert "wrote 4 transcripts" in exported.stderr
    forms = [form for row in csv.DictReader((FIXTURE / "identity-key.csv").open()) for form in [row["name"], *filter(None, row["variants"].split(";"))]]
    for path in [p for p in out.rglob("*") if p.is_file()]:
        text = path.read_text(encoding="utf-8").lower()
        assert not [form for form in forms if form.lower() in text], path.name
    with (out / "replacements.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == {"transcript", "start", "end", "replacement", "kind", "score"}
    assert "Hollis" in (FIXTURE / "eastern" / "EAS-S01-DH.md").read_text()
