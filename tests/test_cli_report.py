"""`qualcode report ...` through the installed script."""

from __future__ import annotations

import pytest

from tests.coded_fixture import make_coded_project


@pytest.fixture
def coded(tmp_path, corpus):
    return make_coded_project(tmp_path / "coded", corpus)


def test_quotes_default_path_and_formats(run, coded, tmp_path):
    result = run("report", "quotes", "--theme", "markets", "--project", str(coded.root))
    assert result.returncode == 0, result.stderr
    assert (coded.root / "reports" / "quotes-markets.html").is_file()
    docx = run("report", "quotes", "-t", "competition", "-o", str(tmp_path / "bank.docx"), "--project", str(coded.root))
    assert docx.returncode == 0 and (tmp_path / "bank.docx").is_file()
    md = run("report", "quotes", "-t", "markets", "-f", "md", "-o", str(tmp_path / "out"), "--max-per-school", "1",
             "--where", "phase=secondary", "--project", str(coded.root))
    assert md.returncode == 0, md.stderr
    text = (tmp_path / "out" / "quotes-markets.md").read_text()
    assert text.count("\n> ") == 2 and "phase = secondary" in text
    heads = run("report", "quotes", "-t", "markets", "-f", "md", "-o", str(tmp_path / "heads.md"),
                "--where", "role=Headteacher,Principal", "--where", "phase!=primary", "--project", str(coded.root))
    assert heads.returncode == 0, heads.stderr
    text = (tmp_path / "heads.md").read_text()
    assert "role = Headteacher or Principal; phase not primary" in text and "\nPrincipal, secondary" in text
    assert "\nHeadteacher, maintained primary" not in text


def test_the_generated_quote_bank_passes_qualcode_check(run, coded):
    assert run("report", "quotes", "-t", "markets", "-f", "md", "--project", str(coded.root)).returncode == 0
    check = run("check", str(coded.root / "reports" / "quotes-markets.md"), "--project", str(coded.root))
    assert check.returncode == 0, check.stdout + check.stderr


def test_case_and_cases(run, coded):
    case = run("report", "case", "Eastern", "-f", "md", "--project", str(coded.root))
    assert case.returncode == 0, case.stderr
    assert (coded.root / "reports" / "case-eastern.md").is_file()
    coarse = run("report", "case", "Eastern", "-f", "md", "--coarsen", "--project", str(coded.root))
    assert coarse.returncode == 0, coarse.stderr
    cases = run("report", "cases", "--project", str(coded.root), "--no-plot", "--coarsen")
    assert cases.returncode == 0, cases.stderr
    assert {p.name for p in (coded.root / "reports").iterdir()} >= {"case-eastern.html", "cases.html"}


def test_errors_are_one_line(run, coded):
    result = run("report", "quotes", "-t", "markts", "--project", str(coded.root))
    assert result.returncode == 1 and "did you mean 'markets'" in result.stderr
    assert "Traceback" not in result.stderr


def test_quotes_warn_on_small_cells_and_coarsen(run, coded):
    full = run("report", "quotes", "-t", "markets", "-f", "md", "--project", str(coded.root))
    assert full.returncode == 0, full.stderr
    assert "warning:" in full.stderr and "in Eastern fits 1" in full.stderr and "--coarsen" in full.stderr
    coarse = run("report", "quotes", "-t", "markets", "-f", "md", "--coarsen", "--project", str(coded.root))
    assert coarse.returncode == 0, coarse.stderr
    assert "attributed as 'Principal'" in coarse.stderr
    path = coded.root / "reports" / "quotes-markets.md"
    assert "\nPrincipal\n" in path.read_text() and "Ofsted Outstanding" not in path.read_text()
    check = run("check", str(path), "--project", str(coded.root))
    assert check.returncode == 0, check.stdout + check.stderr
