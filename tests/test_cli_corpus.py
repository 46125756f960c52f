"""End to end through the installed `qualcode` script: init, import, transcripts, show, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

COMMANDS = ["init", "import", "transcripts", "show", "stats", "demo", "sample-corpus"]


def test_version_and_help_list_every_command(run):
    from qualcode import __version__

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"qualcode {__version__}"
    help_text = run("--help").stdout
    for command in COMMANDS:
        assert f" {command} " in help_text, command


@pytest.fixture
def study(run, tmp_path: Path, corpus: Path) -> Path:
    result = run("init", "study")
    assert result.returncode == 0, result.stderr
    result = run("import", str(corpus), cwd=tmp_path / "study")
    assert result.returncode == 0, result.stderr
    assert "imported 4 new, 0 changed, 0 unchanged transcripts" in result.stderr
    return tmp_path / "study"


def test_stats_json(run, study: Path):
    stats = json.loads(run("stats", "--json", cwd=study).stdout)
    assert {k: stats[k] for k in ("transcripts", "schools", "participants", "system_informants", "localities")} == {
        "transcripts": 4, "schools": 2, "participants": 4, "system_informants": 1, "localities": 2,
    }
    assert stats["per_locality"]["Eastern"] == {
        "schools": 2, "staff_interviews": 3, "system_informants": 0,
        "words": stats["per_locality"]["Eastern"]["words"],
    }
    assert stats["per_locality"]["National"]["system_informants"] == 1
    assert stats["words"] == sum(row["words"] for row in stats["per_locality"].values()) > 200
    assert stats["codings"] == 0


def test_stats_tables(run, study: Path):
    out = run("stats", cwd=study).stdout
    assert "per locality" in out and "Eastern" in out and "Deputy headteacher" in out


def test_transcripts_filters(run, study: Path, tmp_path: Path):
    def ids(*args: str) -> list[str]:
        result = run("transcripts", "--json", *args, cwd=tmp_path, env={"QUALCODE_PROJECT": str(study)})
        assert result.returncode == 0, result.stderr
        return [row["transcript"] for row in json.loads(result.stdout)]

    assert ids() == ["EAS-S01-DH", "EAS-S01-HT", "EAS-S02-HT", "NAT-I01"]
    assert ids("--phase", "secondary") == ["EAS-S02-HT"]
    assert ids("--ofsted", "good") == ["EAS-S01-DH", "EAS-S01-HT"]
    assert ids("--role", "Deputy head") == ["EAS-S01-DH"]
    assert ids("--informants") == ["NAT-I01"]
    assert ids("--staff", "--locality", "Eastern", "--school-type", "converter academy") == ["EAS-S02-HT"]
    table = run("transcripts", "--project", str(study), cwd=tmp_path).stdout
    assert "4 transcripts" in table and "NCTL (informant)" in table


def test_bad_filter_value_suggests(run, study: Path):
    result = run("transcripts", "--ofsted", "Outstandng", cwd=study)
    assert result.returncode == 1
    assert "--ofsted: 'Outstandng' is not a known grade; did you mean 'Outstanding'?" in result.stderr


def test_show_numbers_lines(run, study: Path):
    result = run("show", "EAS-S01-HT", cwd=study)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["1", "1", "Interviewer", "·", "interviewer"]
    assert any(line.split()[:6] == ["3", "2", "Headteacher", "·", "participant", "Headteacher:"] for line in lines)
    missing = run("show", "EAS-S01-HX", cwd=study)
    assert missing.returncode == 1 and "no transcript 'EAS-S01-HX'; did you mean" in missing.stderr


def test_failed_import_exits_1_lists_problems_and_writes_nothing(run, study: Path, corpus: Path):
    path = corpus / "eastern/EAS-S02-HT.md"
    path.write_text(path.read_text().replace("kind: full", "kind: ful"), encoding="utf-8")
    (corpus / "national/NAT-I02.md").write_text("---\nid: NAT-I02\ninformant_kind: RCS\nlocality: National\n"
                                                "kind: full\n---\nInterviewee: hi\n")
    before = run("stats", "--json", cwd=study).stdout
    result = run("import", str(corpus), cwd=study)
    assert result.returncode == 1
    assert f"{path}:6: kind: 'ful' is not a known transcript kind; did you mean 'full'?" in result.stderr
    assert "NAT-I02.md:3: informant_kind: 'RCS' is not a known informant kind; did you mean 'RSC'?" in result.stderr
    assert "2 problems; nothing was imported" in result.stderr
    assert run("stats", "--json", cwd=study).stdout == before


def test_dry_run(run, tmp_path: Path, corpus: Path):
    run("init", "study")
    result = run("import", "--dry-run", str(corpus), cwd=tmp_path / "study")
    assert result.returncode == 0 and "would import 4 new" in result.stderr
    assert json.loads(run("stats", "--json", cwd=tmp_path / "study").stdout)["transcripts"] == 0


def test_windows_1252_import_is_reported(run, study: Path, tmp_path: Path):
    path = tmp_path / "NAT-I03.txt"
    path.write_bytes(
        "---\nid: NAT-I03\ninformant_kind: Ofsted\nlocality: National\nkind: full\n---\n"
        "Interviewee: It\u2019s a \u2018good\u2019 system.\n".encode("cp1252")
    )
    result = run("import", str(path), cwd=study)
    assert result.returncode == 0, result.stderr
    assert "NAT-I03.txt: converted from windows-1252 to UTF-8" in result.stderr
    assert "It\u2019s a \u2018good\u2019 system." in run("show", "NAT-I03", cwd=study).stdout


def test_commands_outside_a_project_explain(run, tmp_path: Path):
    result = run("stats", cwd=tmp_path)
    assert result.returncode == 1
    assert "no qualcode project in" in result.stderr and "qualcode init" in result.stderr
