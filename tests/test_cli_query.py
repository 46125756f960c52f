"""`qualcode query ...` through the installed script."""

from __future__ import annotations

import json

import pytest

from tests.coded_fixture import make_coded_project


@pytest.fixture
def coded(tmp_path, corpus):
    return make_coded_project(tmp_path / "coded", corpus)


def test_matrix_json_csv_xlsx_and_plot(run, coded, tmp_path):
    result = run("query", "matrix", "--project", str(coded.root), "--rollup", "--json",
                 "--csv", str(tmp_path / "m.csv"), "--xlsx", str(tmp_path / "m.xlsx"), "--plot", str(tmp_path / "m.png"))
    assert result.returncode == 0, result.stderr
    rows = {row["code"]: row for row in json.loads(result.stdout)}
    assert rows["markets"]["Eastern"] == 4 and rows["networks"]["National"] == 1
    assert (tmp_path / "m.csv").read_text().startswith("code,Eastern,National")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in result.stderr


def test_matrix_table_and_did_you_mean(run, coded):
    table = run("query", "matrix", "--project", str(coded.root), "--by", "ofsted", "--where", "locality=Eastern")
    assert table.returncode == 0 and "Outstanding" in table.stdout and "markets/competition" in table.stdout
    typo = run("query", "matrix", "--project", str(coded.root), "--where", "ofsted=Outstandng")
    assert typo.returncode == 1 and "did you mean 'Outstanding'" in typo.stderr
    field = run("query", "matrix", "--project", str(coded.root), "--by", "phse")
    assert field.returncode == 1 and "did you mean 'phase'" in field.stderr


def test_matrix_coarsen_pools_small_columns(run, coded):
    args = ("query", "matrix", "--project", str(coded.root), "--by", "locality,phase", "--unit", "schools", "--json")
    fine = run(*args)
    assert fine.returncode == 0 and "'Eastern / primary' in Eastern fits 1 school" in fine.stderr and "--coarsen" in fine.stderr
    coarse = run(*args, "--coarsen")
    assert coarse.returncode == 0, coarse.stderr
    assert {row["code"]: row["Eastern: schools"] for row in json.loads(coarse.stdout)}["markets"] == 2
    assert "pooled into 'Eastern: schools' (2 cases)" in coarse.stderr
    nowhere = run("query", "matrix", "--project", str(coded.root), "--by", "phase", "--coarsen")
    assert nowhere.returncode != 0 and "add locality to --by" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_cooccur(run, coded):
    result = run("query", "cooccur", "--project", str(coded.root), "--within", "transcript", "--json")
    assert result.returncode == 0, result.stderr
    pairs = {(r["code_a"], r["code_b"]): r["count"] for r in json.loads(result.stdout)}
    assert pairs[("markets", "networks/tsa")] == 1 and pairs[("markets", "markets/competition")] == 1


def test_find(run, coded):
    result = run("query", "find", "markets", "tsa", "--and", "--project", str(coded.root), "--json")
    assert result.returncode == 0, result.stderr
    [passage] = json.loads(result.stdout)
    assert passage["attribution"] == "Headteacher, maintained primary school, Ofsted Good"
    shown = run("query", "find", "competition", "--project", str(coded.root), "--context", "10")
    assert "[year group]" in shown.stdout and "Year 7" not in shown.stdout
    raw = run("query", "find", "competition", "--project", str(coded.root), "--raw")
    assert "Year 7" in raw.stdout and "not pseudonymised" in raw.stderr


def test_text(run, coded):
    result = run("query", "text", "pupil*", "--project", str(coded.root))
    # How many comes after the rows (it is known only once they are found), as the last line on stderr.
    assert result.returncode == 0 and result.stderr.splitlines()[-1] == "1 matches"
    several = run("query", "text", "the", "--project", str(coded.root))
    assert several.stderr.splitlines()[-1] == f"{len(several.stdout.splitlines()) - 1} matches" != "1 matches"
    # Piped, the rows are plain: a tab-separated header and one line per match.
    assert result.stdout.splitlines()[0] == "transcript\tline\tleft\tmatch\tright"
    assert result.stdout.splitlines()[1].split("\t")[:4] == ["EAS-S02-HT", "4", "the school down the road. We lost forty ", "pupils"]


@pytest.mark.parametrize("command, rows", [(["find", "competition"], 2), (["text", "pupil*"], 1)])
def test_find_and_text_export_every_column_and_show_only_the_short_table(run, coded, tmp_path, command, rows):
    """The file has every column; the screen shows each row once (in EAS-S02-HT), not the wide table as well."""
    result = run("query", *command, "--project", str(coded.root), "--raw", "--csv", str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    assert "participant" in (tmp_path / "out.csv").read_text().splitlines()[0]
    assert result.stdout.count("EAS-S02-HT") == rows
    assert result.stderr.index("not pseudonymised") < result.stderr.index("wrote")


def test_framework_xlsx(run, coded, tmp_path):
    result = run("query", "framework", "--project", str(coded.root), "--passages", "--xlsx", str(tmp_path / "f.xlsx"))
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "f.xlsx").active
    assert [c.value for c in sheet[1]] == ["school", "markets", "networks"]
    # each fixture school is the only one of its kind in Eastern: the same small-cell warning as a quote bank's
    assert "warning: EAS-S02: 'secondary converter academy, Ofsted Outstanding' in Eastern fits 1 school" in result.stderr


def test_matrix_warns_on_small_cells(run, coded):
    result = run("query", "matrix", "--project", str(coded.root), "--codes", "markets", "--rollup", "--unit", "schools",
                 "--percent", "column", "--json")
    assert result.returncode == 0, result.stderr
    assert "'markets/competition' in Eastern: counts a single school" in result.stderr
    assert result.stdout.lstrip().startswith("[")


def test_school_percentages_say_they_are_shares_of_schools(run, coded, tmp_path):
    """A column percentage of schools is the share of the column's schools that have the code (they do not add up)."""
    result = run("query", "matrix", "--project", str(coded.root), "--codes", "markets", "--rollup", "--unit", "schools",
                 "--percent", "column", "--plot", str(tmp_path / "m.svg"))
    assert result.returncode == 0, result.stderr
    assert "share of the schools in the column that have the code (%)" in " ".join(result.stdout.split())
    # the chart says what its shares are of, on its column: Eastern's two schools
    assert ">Eastern (N = 2)</text>" in (tmp_path / "m.svg").read_text()
