"""`codebook load` of codebooks other tools write: REFI-QDA `.qdc` and `name/path/definition` tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.codebook import export_codebook, load_codebook_file, to_codebook
from qualcode.errors import ImportFailed, Problem
from qualcode.models import Code
from qualcode.analysis.overview import code_paths

CODEBOOK = Path(__file__).resolve().parents[1] / "codebooks" / "hierarchy-markets-networks.yaml"

NVIVO_QDC = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo 14"><Codes>
<Code guid="A0B1C2D3-0000-4000-8000-000000000001" name="Networks" isCodable="true" color="#00FF00">
  <Description>Working with other schools</Description>
  <Code guid="A0B1C2D3-0000-4000-8000-000000000002" name="Teaching School Alliance" isCodable="true" color="#0F0"/>
</Code>
<Code guid="A0B1C2D3-0000-4000-8000-000000000003" name="Café culture" isCodable="false"/>
</Codes></CodeBook>"""


def stored(project) -> dict[str, tuple]:
    with project.session() as session:
        return {path: (c.title, c.definition, c.colour) for i, path in code_paths(session).items()
                if (c := session.get(Code, i))}


def test_qdc_as_nvivo_writes_it(tmp_path: Path, project) -> None:
    path = tmp_path / "nvivo.qdc"
    path.write_text(NVIVO_QDC, encoding="utf-8")
    report = load_codebook_file(project, path, "me")
    assert report.added == ["networks", "networks/teaching-school-alliance", "cafe-culture"]
    assert stored(project) == {
        "networks": (None, "Working with other schools", "#00FF00"),
        "networks/teaching-school-alliance": ("Teaching School Alliance", None, None),
        "cafe-culture": ("Café culture", None, None),
    }


def test_qdc_codes_of_one_name_under_one_parent_stay_apart(tmp_path: Path, project) -> None:
    """A second sibling of one name (MAXQDA) is its own code, its definition kept, not folded into the first."""
    path = tmp_path / "twins.qdc"
    path.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                    '<Code guid="a" name="Other"><Description>first</Description></Code>'
                    '<Code guid="b" name="Other"><Description>second</Description></Code></Codes></CodeBook>',
                    encoding="utf-8")
    assert load_codebook_file(project, path, "me").added == ["other", "other-2"]
    assert stored(project) == {"other": (None, "first", None), "other-2": ("Other (2)", "second", None)}


def test_qdc_long_names_fit_a_code_name_and_keep_their_whole_name_as_title(tmp_path: Path, project) -> None:
    """NVivo takes 256 characters; a code's name holds 80 (PostgreSQL refused the whole load): cut, numbered when two
    clash once cut, the whole name the title."""
    long = "Perceptions of the impact of academisation on local authority support services for"
    path = tmp_path / "long.qdc"
    path.write_text(f'<CodeBook><Codes><Code guid="a" name="{long} SEND pupils"/><Code guid="b" name="{long} EAL pupils"/>'
                    '</Codes></CodeBook>', encoding="utf-8")
    added = load_codebook_file(project, path, "me").added
    assert [len(name) <= 80 for name in added] == [True, True] and added[1] == added[0] + "-2"
    assert [stored(project)[name][0] for name in added] == [f"{long} SEND pupils", f"{long} EAL pupils"]


def test_qdc_export_loads_back_the_same(tmp_path: Path, project, tmp_path_factory) -> None:
    load_codebook_file(project, CODEBOOK, "me")
    export_codebook(project, tmp_path / "book.qdc")
    from qualcode.project import init_project

    other = init_project(tmp_path / "other")
    load_codebook_file(other, tmp_path / "book.qdc", "me")
    keep = ("path", "title", "definition", "include", "exclude", "example", "colour")
    assert [[getattr(s, k) for k in keep] for s in to_codebook(other).codes] == \
        [[getattr(s, k) for k in keep] for s in to_codebook(project).codes]


def test_a_qdc_export_of_a_definition_with_a_control_character_is_refused_naming_the_code(tmp_path: Path, project):
    from qualcode.coding.codebook import add_code
    from qualcode.errors import QualcodeError

    add_code(project, "markets", "me", definition="Pupils\x0bnumbers")
    with pytest.raises(QualcodeError, match=r"code markets: its definition holds the control character U\+000B"):
        export_codebook(project, tmp_path / "book.qdc")
    assert not list(tmp_path.glob("book.qdc*"))
    with project.session() as session:
        session.scalars(select(Code).where(Code.name == "markets")).one().definition = "Pupils and numbers"
    assert export_codebook(project, tmp_path / "out" / "book.qdc").is_file()  # its folder made, as for a table


def test_csv_and_xlsx_tables(tmp_path: Path, project) -> None:
    import openpyxl

    (tmp_path / "tags.csv").write_text("name,path,definition\nCompetition,markets/Competition,For pupils\n"
                                       "trust,networks/trust,\n", encoding="utf-8")
    report = load_codebook_file(project, tmp_path / "tags.csv", "me")
    assert report.added == ["markets", "markets/competition", "networks", "networks/trust"]
    book = openpyxl.Workbook()
    book.active.append(["Name", "Definition"])
    book.active.append(["Equity", "Who wins and who loses"])
    book.save(tmp_path / "more.xlsx")
    load_codebook_file(project, tmp_path / "more.xlsx", "me")
    assert stored(project)["markets/competition"] == (None, "For pupils", None)
    assert stored(project)["equity"] == (None, "Who wins and who loses", None)


def test_broken_exchanged_codebooks_are_refused(tmp_path: Path, project) -> None:
    (tmp_path / "bad.qdc").write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(Problem, match="invalid XML"):
        load_codebook_file(project, tmp_path / "bad.qdc", "me")
    (tmp_path / "twice.csv").write_text("path\na/b\na/b\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        load_codebook_file(project, tmp_path / "twice.csv", "me")
    assert "twice.csv:3: path: 'a/b' is also on line 2" in str(failed.value.problems[0])
    (tmp_path / "unnamed.csv").write_text("name,definition\nequity,Who wins\n,Who loses\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:  # the second definition was dropped without a word
        load_codebook_file(project, tmp_path / "unnamed.csv", "me")
    assert "unnamed.csv:3: name: no name or path for this row's code" in str(failed.value.problems[0])
    (tmp_path / "nocol.csv").write_text("tag\nx\n", encoding="utf-8")
    with pytest.raises(Problem, match="'name' or 'path' column"):
        load_codebook_file(project, tmp_path / "nocol.csv", "me")
    assert stored(project) == {}
