"""Tables written as .csv/.xlsx read back exactly, and no cell longer than Excel holds is ever cut."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from qualcode.errors import Problem, QualcodeError
from qualcode.analysis.query import export_table
from qualcode.exchange.workbooks import CONTINUED, EXCEL_CELL_LIMIT, excel_parts, read_table, write_table

LONG = ("é’ word " * 9000) + "😀" * 5 + "the end"  # 72,000+ characters, some outside the BMP


def test_excel_parts_fit_a_cell_and_join_to_the_whole():
    parts = excel_parts(LONG)
    assert len(parts) == 3 and "".join(parts) == LONG
    assert all(len(p.encode("utf-16-le")) // 2 <= EXCEL_CELL_LIMIT for p in parts)
    assert excel_parts("😀" * 3, limit=4) == ["😀😀", "😀"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_long_value_reads_back_whole(tmp_path, suffix):
    path = write_table(tmp_path / f"t{suffix}", ["id", "text", "note"], [[1, LONG, "short"], [2, "two", None]])
    header, rows = read_table(path)
    assert header == ["id", "text", "note"]
    assert [(r["id"], r["text"], r["note"]) for _, r in rows] == [("1", LONG, "short"), ("2", "two", "")]


def test_xlsx_continuation_rows_are_marked_and_every_cell_fits(tmp_path):
    path = write_table(tmp_path / "t.xlsx", ["id", "text"], [[1, LONG]])
    sheet = openpyxl.load_workbook(path).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [v[0] for v in values] == ["id", 1, CONTINUED, CONTINUED]
    assert all(len(v[1]) <= EXCEL_CELL_LIMIT for v in values)


def test_a_query_export_with_a_long_cell_is_not_cut(tmp_path):
    table = pd.DataFrame({"markets": [LONG, "x"]}, index=pd.Index(["EAS-S01", "EAS-S02"], name="school"))
    _, rows = read_table(export_table(table, tmp_path / "framework.xlsx"))
    assert [(r["school"], r["markets"]) for _, r in rows] == [("EAS-S01", LONG), ("EAS-S02", "x")]


def test_bad_tables_are_refused_with_the_file_named(tmp_path):
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(Problem, match="bad.xlsx: not a readable Excel workbook"):
        read_table(tmp_path / "bad.xlsx")
    (tmp_path / "orphan.csv").write_text(f"id,text\n{CONTINUED},more\n")
    with pytest.raises(Problem, match="orphan.csv:2: id: a CONTINUED row must follow"):
        read_table(tmp_path / "orphan.csv")
    with pytest.raises(QualcodeError, match=r"\.csv or \.xlsx"):
        write_table(tmp_path / "t.ods", ["a"], [])


def test_a_csv_excel_saved_with_semicolons_or_tabs_is_read_by_its_columns(tmp_path):
    """Excel in much of Europe writes `;` between values (with a BOM and CRLF); a comma in a value stays in it."""
    (tmp_path / "semi.csv").write_bytes("\ufefftranscript;lines;memo\r\nA;12-18;one, two\r\n".encode("utf-8"))
    (tmp_path / "tabs.csv").write_text("transcript\tlines\nA\t12\n", encoding="utf-8")
    assert read_table(tmp_path / "semi.csv") == (["transcript", "lines", "memo"],
                                                 [(2, {"transcript": "A", "lines": "12-18", "memo": "one, two"})])
    assert read_table(tmp_path / "tabs.csv")[1] == [(2, {"transcript": "A", "lines": "12"})]
    (tmp_path / "twice.csv").write_text("code,text,code\nx,y,z\n", encoding="utf-8")
    with pytest.raises(Problem, match="twice.csv:1: code: the column code appears more than once"):
        read_table(tmp_path / "twice.csv")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_value_starting_with_equals_is_written_and_read_as_words_not_a_formula(tmp_path, suffix):
    """A memo `=key passage` was written to Excel as a formula: an error in Excel, and empty when read back."""
    path = write_table(tmp_path / f"t{suffix}", ["memo", "n"], [["=key passage, Bea's reading", 1]])
    assert read_table(path)[1] == [(2, {"memo": "=key passage, Bea's reading", "n": "1"})]
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path).active
        assert sheet["A2"].data_type == "s"
