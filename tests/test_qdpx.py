"""REFI-QDA projects: qualcode's export (valid, stable, round-trips) and the files NVivo, ATLAS.ti and MAXQDA really write.

The vendor fixtures are built here the way each tool writes them, with text
holding é, ’ and an emoji, and CRLF sources; every selection must land on
the words it was made on.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from coded_fixture import make_coded_project
from conftest import FIXTURES, table_rows
from qualcode.coding.manual import add_memo
from qualcode.errors import ImportFailed, Problem
from qualcode.models import Code, Coding, Memo, Participant, School
from qualcode.analysis.overview import code_paths
from qualcode.exchange.qdpx.importer import import_qdpx
from qualcode.exchange.qdpx.writer import export_qdpx
from qualcode.exchange.refi import schema

TEXT = (
    "Interviewer: How do you work with others?\n"
    "Headteacher: We meet at the café on Fridays 🙂 and it’s where the alliance really works.\n"
    "Interviewer: And competition?\n"
    "Headteacher: We count the Year 7 numbers every September 😬 and compare.\n"
)
PHRASES = {"café on Fridays": "C2", "alliance really works": "C2", "Year 7 numbers": "C3", "compare": "C3"}


def positions(raw: str, phrase: str, utf16: bool = False, crlf_as_one: bool = False) -> tuple[int, int]:
    """Where a tool puts `phrase` in `raw`, counting as that tool counts."""
    start = raw.index(phrase)
    before, inside = raw[:start], phrase

    def count(text: str) -> int:
        if crlf_as_one:
            text = text.replace("\r\n", "\n")
        return len(text.encode("utf-16-le")) // 2 if utf16 else len(text)

    return count(before), count(before) + count(inside)


def qdpx(path: Path, qde: str, files: dict[str, bytes], qde_name: str = "project.qde", bom: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(qde_name, (b"\xef\xbb\xbf" if bom else b"") + qde.encode("utf-8"))
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def selections(raw: str, case=str.upper, **counting) -> str:
    out = []
    for number, (phrase, code) in enumerate(PHRASES.items()):
        start, end = positions(raw, phrase, **counting)
        out.append(f'<PlainTextSelection guid="{case(guid(f"5{number}"))}" startPosition="{start}" endPosition="{end}">'
                   f'<Coding guid="{case(guid(f"6{number}"))}" creatingUser="{case(guid("u1"))}">'
                   f'<CodeRef targetGUID="{case(guid(code))}"/></Coding></PlainTextSelection>')
    return "".join(out)


def guid(key: str) -> str:
    """A fixed GUID per key, as a tool would have generated."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_DNS, key))


def codebook(colours: bool = True, case=str.upper) -> str:
    colour = ' color="#FF0000"' if colours else ""
    return (f'<CodeBook><Codes><Code guid="{case(guid("C1"))}" name="Networks" isCodable="true"{colour}>'
            f'<Description>Working with other schools</Description>'
            f'<Code guid="{case(guid("C2"))}" name="Teaching school alliance" isCodable="true"/></Code>'
            f'<Code guid="{case(guid("C3"))}" name="Markets" isCodable="true"/></Codes></CodeBook>')


def coded_words(project) -> set[tuple[str, str, str, str]]:
    with project.session() as session:
        paths = code_paths(session)
        return {(c.transcript_id, c.transcript.text[c.start:c.end], paths[c.code_id], c.coder)
                for c in session.scalars(select(Coding))}


def expected_words(transcript: str, coder: str) -> set[tuple[str, str, str, str]]:
    paths = {"C2": "networks/teaching-school-alliance", "C3": "markets"}
    return {(transcript, phrase, paths[code], coder) for phrase, code in PHRASES.items()}


# --- export -------------------------------------------------------------------------------------------------


def test_export_validates_is_identical_twice_and_counts_code_points(tmp_path: Path) -> None:
    project = make_coded_project(tmp_path / "p", FIXTURES / "corpus")
    first, second = export_qdpx(project, tmp_path / "a.qdpx"), export_qdpx(project, tmp_path / "b.qdpx")
    assert first["codings"] == 9 and first["cases"] == 9 and second == first
    assert (tmp_path / "a.qdpx").read_bytes() == (tmp_path / "b.qdpx").read_bytes()
    archive = zipfile.ZipFile(tmp_path / "a.qdpx")
    qde = archive.read("project.qde")
    assert schema("Project.xsd").is_valid(io.BytesIO(qde))
    assert all(n == "project.qde" or n.startswith("sources/") and n.endswith(".txt") for n in archive.namelist())
    assert "identity" not in " ".join(archive.namelist()) and b"[year group]" not in qde


def test_round_trip_gives_the_same_project(tmp_path: Path, project) -> None:
    source = make_coded_project(tmp_path / "source", FIXTURES / "corpus")
    with source.session() as session:
        first_coding = str(session.scalar(select(Coding.id).order_by(Coding.id)))
    for kind, target in [("project", None), ("code", "markets"), ("transcript", "NAT-I01"), ("coding", first_coding)]:
        add_memo(source, kind, target, f"A memo on the {kind}: café ’ 🙂", "ann")
    export_qdpx(source, tmp_path / "out.qdpx")
    result = import_qdpx(project, tmp_path / "out.qdpx", "importer")
    assert result.convention.startswith("Unicode code points")
    assert coded_words(project) == coded_words(source)
    again_rows = {row[0]: row for row in import_qdpx(project, tmp_path / "out.qdpx", "importer").rows}
    assert again_rows["codings"][2:4] == (0, 9) and "already stored" in again_rows["codings"][4]
    export_qdpx(project, tmp_path / "again.qdpx")
    first = zipfile.ZipFile(tmp_path / "out.qdpx")
    again = zipfile.ZipFile(tmp_path / "again.qdpx")
    assert again.read("project.qde").replace(b'name="project"', b'name="source"', 1) == first.read("project.qde")
    assert {n: again.read(n) for n in again.namelist()}.keys() == set(first.namelist())
    with project.session() as session:
        markets = str(session.scalar(select(Code.id).where(Code.name == "markets", Code.parent_id.is_(None))))
        assert {(m.target_kind, m.target_id, m.author) for m in session.scalars(select(Memo))} == {
            ("school", "EAS-S01", "tester"), ("locality", "Eastern", "tester"), ("project", None, "ann"),
            ("code", markets, "ann"), ("transcript", "NAT-I01", "ann")}
        assert session.scalar(select(Coding.memo).where(Coding.memo.is_not(None))) == "A memo on the coding: café ’ 🙂"
        assert session.get(School, "EAS-S01").fsm == 23


def test_an_empty_project_exports_a_valid_file(tmp_path: Path, project) -> None:
    export_qdpx(project, tmp_path / "for-nvivo" / "empty.qdpx")  # its folder made, as for every table export
    assert schema("Project.xsd").is_valid(io.BytesIO(zipfile.ZipFile(tmp_path / "for-nvivo" / "empty.qdpx").read("project.qde")))


def test_a_control_character_in_a_memo_is_written_as_a_space_and_said(tmp_path: Path, project) -> None:
    """Word's Shift+Enter pasted into a memo is U+000B, which XML cannot hold: the export failed with an internal
    error; it is written as a space, counted, and the file validates."""
    add_memo(project, "project", None, "Line one\x0bline two", "ann")
    counts = export_qdpx(project, tmp_path / "ctl.qdpx")
    assert counts["characters XML cannot hold (control characters in memos, definitions, names) written as spaces"] == 1
    qde = zipfile.ZipFile(tmp_path / "ctl.qdpx").read("project.qde")
    assert schema("Project.xsd").is_valid(io.BytesIO(qde)) and b"Line one line two" in qde


def test_an_unplaced_coding_is_left_out_of_the_export_and_counted(tmp_path: Path, project) -> None:
    """A coding whose words a re-import removed keeps offsets into the old text: exported, it marked other words,
    or (past the end) made the file one no import could read."""
    source = make_coded_project(tmp_path / "source", FIXTURES / "corpus")
    with source.session() as session:
        lost = session.scalars(select(Coding).order_by(Coding.id)).first()
        lost.anchor, lost.start, lost.end = "unplaced", 10**6, 10**6 + 5
    counts = export_qdpx(source, tmp_path / "out.qdpx")
    assert counts["codings"] == 8 and counts[next(k for k in counts if k.startswith("unplaced codings left out"))] == 1
    import_qdpx(project, tmp_path / "out.qdpx", "importer")
    assert len(coded_words(project)) == 8


def test_export_counts_code_points_past_an_emoji(tmp_path: Path, project) -> None:
    nvivo = qdpx(tmp_path / "n.qdpx", nvivo_qde(TEXT), {f"Sources/{guid('S1').upper()}.txt": TEXT.encode("utf-8")})
    import_qdpx(project, nvivo, "me")
    export_qdpx(project, tmp_path / "mine.qdpx")
    root = zipfile.ZipFile(tmp_path / "mine.qdpx").read("project.qde").decode()
    start, end = positions(TEXT, "compare")
    assert f'startPosition="{start}" endPosition="{end}"' in root


# --- what the tools write -----------------------------------------------------------------------------------


def nvivo_qde(raw: str, **counting) -> str:
    up = str.upper
    variables = {"V1": "Role", "V2": "School", "V3": "Locality", "V4": "Phase", "V5": "School type", "V6": "Gender"}
    values = {"V1": "Headteacher", "V2": "EAS-S09", "V3": "Eastern", "V4": "primary", "V5": "maintained", "V6": "F"}
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Study" origin="NVivo 14" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<Users><User guid="{up(guid("u1"))}" name="Ann"/></Users>{codebook()}<Variables>'
        + "".join(f'<Variable guid="{up(guid(k))}" name="{v}" typeOfVariable="Text"/>' for k, v in variables.items())
        + f'</Variables><Cases><Case guid="{up(guid("K1"))}" name="Head 9">'
        + "".join(f'<VariableValue><VariableRef targetGUID="{up(guid(k))}"/><TextValue>{v}</TextValue></VariableValue>'
                  for k, v in values.items())
        + f'<SourceRef targetGUID="{up(guid("S1"))}"/></Case></Cases><Sources>'
        f'<TextSource guid="{up(guid("S1"))}" name="Head interview.docx" plainTextPath="internal://{up(guid("S1"))}.txt">'
        f'{selections(raw, utf16=True, **counting)}</TextSource></Sources></Project>'
    )


def test_nvivo_utf16_positions_crlf_capital_sources_bom_and_upper_case_guids(tmp_path: Path, project) -> None:
    raw = TEXT.replace("\n", "\r\n")
    source = b"\xef\xbb\xbf" + raw.encode("utf-8")  # NVivo's sources start with a BOM, which positions do not count
    path = qdpx(tmp_path / "nvivo.qdpx", nvivo_qde(raw), {f"Sources/{guid('S1').upper()}.txt": source}, bom=True)
    result = import_qdpx(project, path, "me")
    assert result.convention.startswith("UTF-16 code units") and "CRLF counted as 2" in result.convention
    assert "participant case 'Head 9' is imported as id 'Head-9'" in " ".join(result.notes)
    assert coded_words(project) == expected_words("Head-interview", "Ann")
    with project.session() as session:
        person = session.get(Participant, "Head-9")  # the case's name made into an id, and said so
        assert (person.role, person.school_id, person.locality_name) == ("Headteacher", "EAS-S09", "Eastern")
        assert session.get(School, "EAS-S09").phase == "primary"
        networks = session.scalar(select(Code).where(Code.name == "networks"))
        assert (networks.definition, networks.colour) == ("Working with other schools", "#FF0000")
        assert session.scalar(select(Code).where(Code.name == "teaching-school-alliance")).title == "Teaching school alliance"
    rows = {row[0]: row for row in result.rows}
    assert rows["variable values"][3] == 1 and "Gender" in rows["variable values"][4]


def test_a_source_entry_in_the_defaults_corrects_the_file(tmp_path: Path, project) -> None:
    qde = nvivo_qde(TEXT).replace("<TextValue>Headteacher</TextValue>", "<TextValue>Chief</TextValue>")
    path = qdpx(tmp_path / "nvivo.qdpx", qde, {f"Sources/{guid('S1').upper()}.txt": TEXT.encode("utf-8")})
    with pytest.raises(ImportFailed) as failed:
        import_qdpx(project, path, "me")
    assert "role" in str(failed.value.problems[0]) and "Chief" in str(failed.value.problems[0])
    (tmp_path / "fix.yaml").write_text("locality: Western\nsources:\n  Head interview.docx: {role: Headteacher}\n",
                                       encoding="utf-8")
    import_qdpx(project, path, "me", tmp_path / "fix.yaml")
    with project.session() as session:
        assert (session.get(Participant, "Head-9").role, session.get(Participant, "Head-9").locality_name) == (
            "Headteacher", "Eastern")


ATLAS_DEFAULTS = "informant_kind: NCTL\nlocality: National\n"


def atlas_qdpx(tmp_path: Path, raw: str) -> Path:
    low = str.lower
    start, _ = positions(raw, "café", crlf_as_one=True)
    qde = (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="My Study" '
        'origin="ATLAS.ti 23" basePath="C:\\Users\\coder\\Documents\\ATLASti">'
        f'<Users><User guid="{guid("u1")}" name="Ann"/></Users>{codebook(colours=False, case=low)}<Sources>'
        f'<TextSource guid="{guid("S1")}" name="Interview A" plainTextPath="internal://{guid("S1")}.txt">'
        '<Description>Recorded in the staff room.</Description>'
        f'{selections(raw, case=low, crlf_as_one=True)}'
        f'<PlainTextSelection guid="{guid("z")}" startPosition="{start}" endPosition="{start}">'
        f'<Coding guid="{guid("zc")}"><CodeRef targetGUID="{guid("C3")}"/></Coding></PlainTextSelection>'
        '</TextSource></Sources></Project>'
    )
    return qdpx(tmp_path / "atlas.qdpx", qde, {f"sources/{guid('S1')}.txt": raw.encode("utf-8")}, "My Study.qde")


def test_atlas_named_qde_crlf_as_one_zero_length_and_defaults(tmp_path: Path, project) -> None:
    raw = TEXT.replace("\n", "\r\n")
    path = atlas_qdpx(tmp_path, raw)
    before = table_rows(project)
    with pytest.raises(ImportFailed) as failed:
        import_qdpx(project, path, "me")
    messages = "\n".join(map(str, failed.value.problems))
    assert "TextSource 'Interview A'" in messages and "role" in messages and "--defaults" in messages
    assert table_rows(project) == before
    (tmp_path / "defaults.yaml").write_text(ATLAS_DEFAULTS, encoding="utf-8")
    result = import_qdpx(project, path, "me", tmp_path / "defaults.yaml")
    assert "CRLF counted as 1" in result.convention
    assert coded_words(project) == expected_words("Interview-A", "Ann")
    codings = {row[0]: row for row in result.rows}["codings"]
    assert codings[1:4] == (5, 4, 1) and "zero-length" in codings[4]
    with project.session() as session:
        assert session.scalar(select(Memo.text).where(Memo.target_kind == "transcript")) == "Recorded in the staff room."


def test_maxqda_unnamed_cases_selections_without_coding_and_repeated_names(tmp_path: Path, project) -> None:
    variables = '<Variables><Variable guid="{0}" name="Informant kind" typeOfVariable="Text"/>' \
                '<Variable guid="{1}" name="Locality" typeOfVariable="Text"/></Variables>'.format(guid("V1"), guid("V2"))
    cases, sources, files = [], [], {}
    for n in (1, 2):
        cases.append(f'<Case guid="{guid(f"K{n}")}">'
                     f'<VariableValue><VariableRef targetGUID="{guid("V1")}"/><TextValue>NCTL</TextValue></VariableValue>'
                     f'<VariableValue><VariableRef targetGUID="{guid("V2")}"/><TextValue>National</TextValue></VariableValue>'
                     f'<SourceRef targetGUID="{guid(f"S{n}")}"/></Case>')
        start, end = positions(TEXT.replace("Interviewer", "Researcher"), "Fridays")
        memo = (f'<PlainTextSelection guid="{guid(f"m{n}")}" startPosition="{start}" endPosition="{end}">'
                f'<NoteRef targetGUID="{guid(f"N{n}")}"/></PlainTextSelection>')
        sources.append(f'<TextSource guid="{guid(f"S{n}")}" name="Interview" plainTextPath="internal://{guid(f"S{n}")}.txt">'
                       f'{selections(TEXT.replace("Interviewer", "Researcher"), case=str.lower)}{memo}</TextSource>'
                       .replace(guid("50"), guid(f"50{n}")).replace(guid("51"), guid(f"51{n}")))
        files[f"sources/{guid(f'S{n}')}.txt"] = TEXT.replace("Interviewer", "Researcher").encode("utf-8")
    notes = "".join(f'<Note guid="{guid(f"N{n}")}" name="m"><PlainTextContent>Friday is key.</PlainTextContent></Note>'
                    for n in (1, 2))
    qde = ('<?xml version="1.0" encoding="UTF-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="S" origin="MAXQDA 24">'
           f'<Users><User guid="{guid("u1")}" name="Ann"/></Users>{codebook(case=str.lower)}{variables}'
           f'<Cases>{"".join(cases)}</Cases><Sources>{"".join(sources)}</Sources><Notes>{notes}</Notes></Project>')
    result = import_qdpx(project, qdpx(tmp_path / "maxqda.qdpx", qde, files), "me")
    assert coded_words(project) == expected_words("Interview", "Ann") | expected_words("Interview-2", "Ann")
    assert any("Interview-2" in note for note in result.notes)
    with project.session() as session:
        memos = list(session.scalars(select(Memo.text).where(Memo.target_kind == "transcript")))
        assert memos == ['On "Fridays": Friday is key.'] * 2
        assert session.get(Participant, "Interview-2").informant_kind == "NCTL"


def test_codes_of_one_name_under_one_parent_stay_apart_and_a_coding_of_an_unknown_code_is_named(
        tmp_path: Path, project) -> None:
    """MAXQDA and NVivo allow two sibling codes of one name: each keeps its codings and description, said so; a
    coding whose code the codebook lacks, and a set left out, are named, not only counted."""
    start, end = positions(TEXT, "compare")
    twins = "".join(f'<Code guid="{guid(f"D{n}")}" name="Other" isCodable="true"><Description>{n}</Description></Code>'
                    for n in (1, 2))
    qde = ('<?xml version="1.0" encoding="UTF-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="S">'
           f'<Users><User guid="{guid("u1")}" name="Ann"/></Users><CodeBook><Codes>{twins}</Codes></CodeBook><Sources>'
           f'<TextSource guid="{guid("S1")}" name="Interview" plainTextPath="internal://{guid("S1")}.txt">'
           + "".join(f'<PlainTextSelection guid="{guid(f"P{n}")}" startPosition="{start}" endPosition="{end}">'
                     f'<Coding guid="{guid(f"K{n}")}" creatingUser="{guid("u1")}"><CodeRef targetGUID="{guid(code)}"/>'
                     '</Coding></PlainTextSelection>' for n, code in ((1, "D1"), (2, "D2"), (3, "gone")))
           + f'</TextSource><PDFSource guid="{guid("pdf")}" name="Policy.pdf" path="internal://p.pdf"/></Sources><Sets><Set guid="{guid("set")}" name="Key interviews">'
           f'<MemberSource targetGUID="{guid("S1")}"/></Set></Sets></Project>')
    (tmp_path / "defaults.yaml").write_text(ATLAS_DEFAULTS, encoding="utf-8")
    path = qdpx(tmp_path / "twins.qdpx", qde, {f"sources/{guid('S1')}.txt": TEXT.encode("utf-8")})
    result = import_qdpx(project, path, "me", tmp_path / "defaults.yaml")
    assert coded_words(project) == {("Interview", "compare", "other", "Ann"), ("Interview", "compare", "other-2", "Ann")}
    with project.session() as session:
        assert {(c.name, c.definition) for c in session.scalars(select(Code))} == {("other", "1"), ("other-2", "2")}
    assert {row[0]: row for row in result.rows}["codes"][1:4] == (2, 2, 0)
    notes = "\n".join(result.notes)
    assert f"Code {guid('D2')}" in notes and "also named 'Other'" in notes
    assert f"PlainTextSelection {guid('P3')}: its code {guid('gone')} is not in the file's CodeBook" in notes
    assert "twins.qdpx: Set 'Key interviews' left out (qualcode has no sets)" in notes
    assert "twins.qdpx: PDFSource 'Policy.pdf' left out (qualcode stores text transcripts only)" in notes


def test_a_source_is_read_from_its_own_path_and_a_windows_1252_file_is_said(tmp_path: Path, project) -> None:
    """Two files of one name in the zip: the one at the source's path is read (not whichever came last), and a
    source not in UTF-8 is converted with a word, as a transcript import says it."""
    raw = TEXT.replace("🙂", "").replace("😬", "").replace("’", "'")
    start, end = positions(raw, "café on Fridays")
    qde = ('<?xml version="1.0" encoding="UTF-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="S">'
           f'{codebook()}<Sources><TextSource guid="{guid("S1")}" name="Interview" plainTextPath="internal://a/s.txt">'
           f'<PlainTextSelection guid="{guid("P1")}" startPosition="{start}" endPosition="{end}">'
           f'<Coding guid="{guid("K1")}"><CodeRef targetGUID="{guid("C3").upper()}"/></Coding></PlainTextSelection>'
           '</TextSource></Sources></Project>')
    files = {"sources/a/s.txt": raw.encode("cp1252"), "sources/b/s.txt": raw[::-1].encode("utf-8")}
    (tmp_path / "defaults.yaml").write_text(ATLAS_DEFAULTS, encoding="utf-8")
    result = import_qdpx(project, qdpx(tmp_path / "two.qdpx", qde, files), "me", tmp_path / "defaults.yaml")
    assert coded_words(project) == {("Interview", "café on Fridays", "markets", "me")}
    assert "TextSource 'Interview' (internal://a/s.txt): converted from windows-1252 to UTF-8" in "\n".join(result.notes)


def test_rich_text_source_without_plain_text(tmp_path: Path, project) -> None:
    import docx

    document = docx.Document()
    for line in TEXT.strip("\n").split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    qde = ('<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="S">'
           f'{codebook(case=str.lower)}<Sources><TextSource guid="{guid("S1")}" name="Word interview" '
           f'richTextPath="internal://{guid("S1")}.docx">{selections(TEXT, case=str.lower)}</TextSource></Sources></Project>')
    path = qdpx(tmp_path / "rich.qdpx", qde, {f"sources/{guid('S1')}.docx": buffer.getvalue()})
    (tmp_path / "d.yaml").write_text(ATLAS_DEFAULTS, encoding="utf-8")
    import_qdpx(project, path, "me", tmp_path / "d.yaml")
    assert coded_words(project) == expected_words("Word-interview", "me")


# --- broken files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, message", [
    ("not a zip", "not a zip archive"),
    ("no such file", "no such file; check the name and folder"),
    ("no qde", "no .qde file"),
    ("invalid XML", "invalid XML"),
    ("past the end", "outside its text"),
    ("between CR and LF", "split a character in two (a CRLF line end or an emoji)"),
])
def test_broken_projects_are_refused_and_nothing_is_written(tmp_path: Path, project, kind: str, message: str) -> None:
    path = tmp_path / "broken.qdpx"
    if kind == "not a zip":
        path.write_text("PK? no, a text file", encoding="utf-8")
    elif kind == "no such file":  # a typo in the name was called 'not a zip archive'
        pass
    elif kind == "no qde":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("sources/a.txt", "text")
    elif kind == "invalid XML":
        qdpx(path, '<?xml version="1.0"?><Project name="x"><Sources></Project>', {})
    elif kind == "between CR and LF":  # 0-12 ends inside the first CRLF; 13-23 places only as the standard counts
        qde = ('<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
               f'{codebook()}<Sources><TextSource guid="{guid("S1")}" name="A" plainTextPath="internal://a.txt">'
               f'<PlainTextSelection guid="{guid("x")}" startPosition="0" endPosition="12"/>'
               f'<PlainTextSelection guid="{guid("y")}" startPosition="13" endPosition="23"/></TextSource></Sources></Project>')
        qdpx(path, qde, {"sources/a.txt": b"Hello there\r\nGood day\r\n"})
    else:
        qde = ('<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
               f'{codebook()}<Sources><TextSource guid="{guid("S1")}" name="A" plainTextPath="internal://a.txt">'
               f'<PlainTextSelection guid="{guid("x")}" startPosition="5" endPosition="5000"/></TextSource></Sources></Project>')
        qdpx(path, qde, {"sources/a.txt": TEXT.encode("utf-8")})
    before = table_rows(project)
    with pytest.raises((ImportFailed, Problem)) as refused:
        import_qdpx(project, path, "me")
    problems = getattr(refused.value, "problems", [refused.value])
    assert any(message in str(p) and "broken.qdpx" in str(p) for p in problems)
    if kind in ("past the end", "between CR and LF"):
        assert "PlainTextSelection" in str(problems[0])
    assert table_rows(project) == before


# --- the commands -------------------------------------------------------------------------------------------


def test_export_and_import_commands(tmp_path: Path, run, corpus) -> None:
    make_coded_project(tmp_path / "source", corpus)
    exported = run("export", "qdpx", "out.qdpx", "--project", "source")
    assert exported.returncode == 0, exported.stderr
    assert "9 codings" in exported.stdout + exported.stderr
    assert run("init", "empty").returncode == 0
    imported = run("import", "out.qdpx", "--project", "empty")
    assert imported.returncode == 0, imported.stderr
    output = imported.stdout + imported.stderr
    assert "Unicode code points" in output and "imported 4 transcripts" in output and "codings" in output
    refused = run("import", "missing-dir", "--project", "empty")
    assert refused.returncode != 0
    (tmp_path / "bad.qdpx").write_text("not a zip", encoding="utf-8")
    bad = run("import", "bad.qdpx", "--project", "empty")
    assert bad.returncode == 1 and "bad.qdpx" in bad.stderr and "Traceback" not in bad.stderr
