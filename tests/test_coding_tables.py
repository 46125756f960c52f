"""Codings out to .csv/.xlsx and back in: the same codings, checked rows, all or nothing, one undoable change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualcode.coding.codebook import add_code, export_codebook, load_codebook_file, to_codebook
from qualcode.coding.manual import add_memo, undo
from qualcode.exchange.coding_tables import COLUMNS, export_codings, import_codings
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed, Problem
from qualcode.models import Change, Coding
from qualcode.analysis.overview import code_paths
from qualcode.project import init_project
from qualcode.analysis.query_where import parse_where
from qualcode.exchange.workbooks import read_table
from tests.coded_fixture import CODES, make_coded_project


@pytest.fixture
def coded(tmp_path, corpus):
    project = make_coded_project(tmp_path / "coded", corpus)
    add_memo(project, "coding", "2", "Lost pupils: the rivalry's origin.\nSecond line.", "tester")
    return project


@pytest.fixture
def other(tmp_path, corpus):
    """A project with the same transcripts and codes, and no codings."""
    project = init_project(tmp_path / "other")
    import_paths(project, [corpus])
    for code in CODES:
        add_code(project, code, "setup")
    return project


def codings(project) -> set[tuple]:
    with project.session() as session:
        paths = code_paths(session)
        return {(c.transcript_id, c.start, c.end, paths[c.code_id], c.coder, c.origin, c.important, c.memo,
                 c.created_at.replace(microsecond=0)) for c in session.scalars(select(Coding))}


def changes(project) -> int:
    with project.session() as session:
        return session.scalar(select(func.count()).select_from(Change))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_gives_the_same_codings(coded, other, tmp_path, suffix):
    counts = export_codings(coded, tmp_path / f"codings{suffix}")
    assert counts == {"codings": 9, "unplaced left out": 0}
    result = import_codings(other, tmp_path / f"codings{suffix}", "importer")
    assert (result.added, result.already, result.unmatched) == (9, 0, [])
    assert codings(other) == codings(coded)
    again = import_codings(other, tmp_path / f"codings{suffix}", "importer")
    assert (again.added, again.already) == (0, 9)


def test_the_export_holds_every_column_pseudonymised_words_and_metadata(coded, tmp_path):
    header, rows = read_table(export_codings(coded, tmp_path / "c.csv") and tmp_path / "c.csv")
    assert header == COLUMNS
    first = next(r for _, r in rows if r["id"] == "1")
    assert "Year 7" not in (tmp_path / "c.csv").read_text() and "[year group]" in first["text"]
    assert (first["participant"], first["role"], first["phase"], first["ofsted"], first["designation"]) == (
        "EAS-S02-HT", "Principal", "secondary", "Outstanding", "NLE; Teaching School")
    assert first["important"] == "yes" and first["lines"] == "3"
    memo = [r["memo"] for _, r in rows if r["id"] == "2"]
    assert memo == ["Lost pupils: the rivalry's origin.\nSecond line."]
    export_codings(coded, tmp_path / "raw.csv", raw=True)
    assert "Year 7" in (tmp_path / "raw.csv").read_text()


def test_where_and_codes_choose_the_rows(coded, tmp_path):
    export_codings(coded, tmp_path / "c.xlsx", where=parse_where(["phase=secondary"]), codes="markets")
    _, rows = read_table(tmp_path / "c.xlsx")
    assert {(r["transcript"], r["code"]) for _, r in rows} == {("EAS-S02-HT", "markets/competition"), ("EAS-S02-HT", "markets")}
    assert len(rows) == 3
    export_codings(coded, tmp_path / "n.csv", where=parse_where(["phase!=primary"]), codes="networks")
    assert {r["transcript"] for _, r in read_table(tmp_path / "n.csv")[1]} == {"NAT-I01"}


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_rows_placed_by_lines_keep_their_coder(other, tmp_path):
    path = write_csv(tmp_path / "by-lines.csv", [
        {"transcript": "EAS-S01-HT", "lines": "8", "code": "tsa", "coder": "ben", "origin": ""},
        {"transcript": "EAS-S01-DH", "lines": "5", "code": "networks", "coder": "", "origin": "accepted"},
    ])
    assert import_codings(other, path, "ann").added == 2
    with other.session() as session:
        found = {(c.transcript_id, c.coder, c.origin, c.quote) for c in session.scalars(select(Coding))}
    assert {(t, who, origin, words.split(".")[0]) for t, who, origin, words in found} == {
        ("EAS-S01-HT", "ben", "manual", "The alliance matters most to us"), ("EAS-S01-DH", "ann", "accepted", "It has opened doors")}


def test_every_bad_row_is_named_and_nothing_is_written(coded, other, tmp_path):
    export_codings(coded, tmp_path / "c.csv")
    header, rows = read_table(tmp_path / "c.csv")
    rows = [{**r, "memo": ""} for _, r in rows]
    rows[0]["transcript"] = "EAS-S01-DX"
    rows[1]["code"] = "networks/tas"
    rows[2]["end"] = "999999"
    rows[3]["origin"] = "guessed"
    rows[4]["text"] = "Words nobody said."
    rows[5]["start"] = "twelve"
    rows[6]["created"] = "yesterday"
    rows[7]["end"] = rows[7]["start"]  # was called 'outside' the transcript
    before = changes(other)
    with pytest.raises(ImportFailed) as failed:
        import_codings(other, write_csv(tmp_path / "bad.csv", rows), "ann")
    found = [(p.line, p.field) for p in failed.value.problems]
    assert found == [(2, "transcript"), (3, "code"), (4, "end"), (5, "origin"), (6, "text"), (7, "start"), (8, "created"),
                     (9, "end")]
    messages = [str(p) for p in failed.value.problems]
    assert "did you mean 'EAS-S01-DH'?" in messages[0] and "did you mean 'networks/tsa'" in messages[1]
    assert messages[0].startswith(f"{tmp_path / 'bad.csv'}:2: transcript: ")
    assert "the end must come after the start" in messages[7]
    assert codings(other) == set() and changes(other) == before


def test_a_created_time_with_an_offset_is_stored_in_utc(other, tmp_path):
    """Another tool writes `2026-12-03T19:24:20+01:00`: qualcode stores UTC, so that is 18:24, not 19:24."""
    import datetime as dt

    path = write_csv(tmp_path / "tz.csv", [{"transcript": "EAS-S01-HT", "lines": "8", "code": "tsa",
                                            "created": "2026-12-03T19:24:20+01:00"}])
    import_codings(other, path, "ann")
    with other.session() as session:
        assert session.scalar(select(Coding.created_at)) == dt.datetime(2026, 12, 3, 18, 24, 20)


def test_a_spreadsheet_edited_in_excel_is_read_as_it_means_or_refused_naming_the_cell(other, tmp_path):
    """Excel turns lines `12-18` into a date, a flag is often an `x`, and a second `code` column is a common way to
    give a passage two codes: none of them may be silently misread (a date as lines, `x` as not important, one code
    column dropped)."""
    import datetime as dt

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["transcript", "lines", "code", "important"])
    sheet.append(["EAS-S01-HT", dt.datetime(2018, 12, 8), "tsa", None])
    sheet.append(["EAS-S01-HT", 8, "tsa", "x"])
    sheet.append(["EAS-S01-HT", 8, "networks", True])
    workbook.save(tmp_path / "edited.xlsx")
    with pytest.raises(ImportFailed) as failed:
        import_codings(other, tmp_path / "edited.xlsx", "ann")
    assert [(p.line, p.field) for p in failed.value.problems] == [(2, "lines"), (3, "important")]
    assert "Excel turned the lines" in str(failed.value.problems[0])
    assert "'x' is neither yes nor no" in str(failed.value.problems[1])
    twice = write_csv(tmp_path / "twice.csv", [{"transcript": "EAS-S01-HT", "lines": "8", "code": "tsa"}])
    twice.write_text(twice.read_text().replace("code", "code,code", 1).replace("tsa", "tsa,networks"))
    with pytest.raises(Problem, match=r"twice.csv:1: code: the column code appears more than once"):
        import_codings(other, twice, "ann")
    assert codings(other) == set()


def test_a_sheet_edited_and_loaded_back_says_its_memo_edits_are_not_applied(coded, tmp_path):
    """Export, change a memo in Excel, import again: every row is already stored, and the edit was silently not
    applied; now it is said, naming the rows."""
    export_codings(coded, tmp_path / "c.csv")
    rows = [r for _, r in read_table(tmp_path / "c.csv")[1]]
    again = import_codings(coded, tmp_path / "c.csv", "ann")
    assert (again.added, again.already, again.notes) == (0, 9, [])
    bare = [{k: r[k] for k in ("transcript", "start", "end", "code", "coder")} for r in rows]
    assert import_codings(coded, write_csv(tmp_path / "bare.csv", bare), "ann").notes == []  # no memo column: no word
    rows[0]["memo"] = "A new reading of this passage."
    result = import_codings(coded, write_csv(tmp_path / "edited.csv", rows), "ann")
    assert result.already == 9
    assert f"1 row(s) of codings already stored have another memo or 'important' in the table; the stored ones are kept" \
           f" ({rows[0]['transcript']} {rows[0]['start']}-{rows[0]['end']})" in result.notes[0]


def test_skip_unmatched_imports_the_rest_and_lists_what_did_not_match(coded, other, tmp_path):
    export_codings(coded, tmp_path / "c.csv")
    rows = [r for _, r in read_table(tmp_path / "c.csv")[1]]
    rows[0]["transcript"], rows[1]["code"] = "NOPE-01", "nothing-like-it"
    result = import_codings(other, write_csv(tmp_path / "some.csv", rows), "ann", skip_unmatched=True)
    assert result.added == 7 and [(p.line, p.field) for p in result.unmatched] == [(2, "transcript"), (3, "code")]
    assert not import_codings(other, tmp_path / "some.csv", "ann", skip_unmatched=True, dry_run=True).added


def test_an_import_is_one_change_that_undo_takes_back(coded, other, tmp_path):
    export_codings(coded, tmp_path / "c.xlsx")
    import_codings(other, tmp_path / "c.xlsx", "ann")
    assert undo(other, "ann").description == "import 9 codings from c.xlsx"
    assert codings(other) == set()


def test_a_table_without_a_place_for_the_codings_is_refused(other, tmp_path):
    path = write_csv(tmp_path / "x.csv", [{"transcript": "EAS-S01-HT", "code": "tsa"}])
    with pytest.raises(Problem, match=r"x.csv:1: a codings table needs the columns transcript, code, and start and end or lines"):
        import_codings(other, path, "ann")


def test_the_codebook_as_a_table_loads_back(coded, tmp_path, project):
    from qualcode.coding.codebook import find_code

    with coded.session() as session:
        code = find_code(session, "markets/competition")
        code.title, code.definition, code.colour = "Competition", "Schools vying for pupils, with a, comma", "#aa0000"
    for suffix in (".csv", ".xlsx"):
        path = export_codebook(coded, tmp_path / f"book{suffix}")
        fresh = init_project(tmp_path / f"fresh{suffix[1:]}")
        load_codebook_file(fresh, path, "ann")
        assert to_codebook(fresh).codes == to_codebook(coded).codes


def test_export_and_import_from_the_command_line(run, coded, other, tmp_path):
    exported = run("export", "codings", str(tmp_path / "c.xlsx"), "--where", "locality=Eastern", "--project", str(coded.root))
    assert exported.returncode == 0 and "wrote" in exported.stderr and "7 codings" in exported.stderr, exported.stderr
    imported = run("import", "--codings", str(tmp_path / "c.xlsx"), "--coder", "ann", "--project", str(other.root))
    assert imported.returncode == 0 and "imported 7 codings" in imported.stderr, imported.stderr
    (tmp_path / "bad.csv").write_text("transcript,start,end,code\nEAS-S01-HX,1,5,tsa\n")
    refused = run("import", "codings", str(tmp_path / "bad.csv"), "--project", str(other.root))  # the spelling
    assert refused.returncode == 1 and "bad.csv:2: transcript: no transcript 'EAS-S01-HX'" in refused.stderr
    assert "Traceback" not in refused.stderr and "nothing was imported" in refused.stderr
    assert run("export", "codings", str(tmp_path / "c.ods"), "--project", str(coded.root)).returncode == 1
    forgot = run("import", str(tmp_path / "bad.csv"), "--project", str(other.root))
    assert forgot.returncode == 1 and "a table of codings? 'qualcode import --codings FILE'" in forgot.stderr
