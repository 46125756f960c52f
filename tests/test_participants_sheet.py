"""Participants sheets (`participants.csv`/`.xlsx`): metadata in bulk for transcripts without front matter,
agreement with the other sources, located problems; and the vocabularies that say how to extend them."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from qualcode.config import Settings
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed, QualcodeError
from qualcode.models import Participant, Transcript
from tests.conftest import word_transcript

SCHOOLS = """\
SOU-S01:
  locality: Southern
  phase: primary
  school_type: maintained
  ofsted: Good
  fsm: 23
"""
ACCEPT = "To accept it, add it to {0} under [vocabularies] in qualcode.toml, or map it under [aliases.{0}]"


def _interviews(folder: Path, *names: str) -> Path:
    """Plain transcripts without front matter, and the school they belong to."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schools.yaml").write_text(SCHOOLS, encoding="utf-8")
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Interviewer: How did the partnership start?\n\nInterviewee: Over coffee, really.\n", encoding="utf-8")
    return folder


def _problems(project, *paths: Path) -> list[str]:
    with pytest.raises(ImportFailed) as error:
        import_paths(project, list(paths))
    return [str(problem) for problem in error.value.problems]


def _transcripts(run, study: Path) -> dict[str, dict]:
    result = run("transcripts", "--json", cwd=study)
    assert result.returncode == 0, result.stderr
    return {row["transcript"]: row for row in json.loads(result.stdout)}


def test_csv_sheet_gives_plain_transcripts_their_metadata(run, tmp_path):
    folder = _interviews(tmp_path / "south", "SOU-S01-HT.txt", "SOU-S01-SENCO.txt", "notes/visit-2.txt")
    (folder / "participants.csv").write_text(
        "id,file,participant,Role,school,date,kind,Informant kind,locality\n"
        "SOU-S01-HT,,SOU-P1,Head,SOU-S01,2016-03-14,full,,\n"
        "SOU-S01-SENCO,,SOU-P2,SENDCo,SOU-S01,2016-03-15,notes,,\n"
        "SOU-I01,notes/visit-2.txt,,,,2016-04-01,full,Local authority,Southern\n",
        encoding="utf-8",
    )
    assert run("init", "study").returncode == 0
    result = run("import", str(folder), cwd=tmp_path / "study")
    assert result.returncode == 0, result.stderr
    assert "imported 3 new" in result.stderr and "matches no transcript" not in result.stderr
    rows = _transcripts(run, tmp_path / "study")
    assert {k: rows["SOU-S01-HT"][k] for k in ("participant", "role", "school", "locality", "ofsted", "kind")} == {
        "participant": "SOU-P1", "role": "Headteacher", "school": "SOU-S01", "locality": "Southern",
        "ofsted": "Good", "kind": "full",
    }
    assert (rows["SOU-S01-SENCO"]["role"], rows["SOU-S01-SENCO"]["kind"]) == ("SENCo", "notes")
    assert (rows["SOU-I01"]["informant_kind"], rows["SOU-I01"]["participant"]) == ("LA", "SOU-I01")
    assert [rows[t]["date"] for t in ("SOU-S01-HT", "SOU-S01-SENCO", "SOU-I01")] == ["2016-03-14", "2016-03-15", "2016-04-01"]


def test_xlsx_sheet_with_date_cells_and_a_new_role(run, tmp_path):
    import openpyxl

    folder = _interviews(tmp_path / "south", "SOU-S01-EP.txt")
    book = openpyxl.Workbook()
    book.active.append(["id", "role", "school", "date", "kind", "fsm"])
    book.active.append(["SOU-S01-EP", "Executive principal", "SOU-S01", dt.datetime(2016, 3, 14), "full", 23.0])
    book.save(folder / "participants.xlsx")
    assert run("init", "study").returncode == 0
    result = run("import", str(folder / "SOU-S01-EP.txt"), cwd=tmp_path / "study")
    assert result.returncode == 0, result.stderr
    row = _transcripts(run, tmp_path / "study")["SOU-S01-EP"]
    assert (row["role"], row["phase"], row["date"]) == ("Executive principal", "primary", "2016-03-14")


def test_xlsx_problems_name_the_spreadsheet_row(project, tmp_path):
    import openpyxl

    folder = _interviews(tmp_path / "south", "A.txt", "B.txt")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "role", "school", "date", "kind", "roll"])
    sheet.append(["A", "Headteacher", "SOU-S01", "2016-02-30", "full", "Head"])  # 'roll' is reported once, above
    sheet.append([])
    sheet.append(["B", "Head of maths", "SOU-S01", dt.datetime(2016, 3, 1), "full", None, "notes"])
    book.save(folder / "participants.xlsx")
    xlsx = (folder / "participants.xlsx").resolve()
    assert _problems(project, folder) == [
        f"{xlsx}:1: roll: unknown column; did you mean 'role'?",
        f"{xlsx}:2: date: '2016-02-30' is no such date (day is out of range for month)",
        f"{xlsx}:4: 'notes' is in column 7, which has no name in the first row",
        f"{xlsx}:4: role: 'Head of maths' is not a known staff role; did you mean 'Head of department' or "
        f"'Head of year' or 'Head of school'? {ACCEPT.format('role')}",
    ]


def test_a_formula_without_a_saved_result_is_named_not_taken_for_a_blank(project, tmp_path):
    """openpyxl (or a script, or LibreOffice without recalculating) leaves no cached result: it read as 'missing'."""
    import openpyxl

    folder = _interviews(tmp_path / "south", "A.txt")
    book = openpyxl.Workbook()
    book.active.append(["id", "role", "school", "kind"])
    book.active.append(["A", "Headteacher", "SOU-S01", '="fu"&"ll"'])
    book.save(folder / "participants.xlsx")
    xlsx = (folder / "participants.xlsx").resolve()
    assert _problems(project, folder)[0] == (
        f"{xlsx}:2: cell D2 holds the formula '=\"fu\"&\"ll\"' but no saved result; open the workbook in Excel or"
        " LibreOffice and save it, or type the value"
    )


def test_a_merged_cell_gives_its_value_to_every_row_it_spans(project, tmp_path):
    """The file keeps a merged cell's value in its first cell: the rows below read 'missing field'."""
    import openpyxl

    folder = _interviews(tmp_path / "south", "A.txt", "B.txt")
    book = openpyxl.Workbook()
    book.active.append(["id", "role", "school", "kind"])
    book.active.append(["A", "Headteacher", "SOU-S01", "full"])
    book.active.append(["B", "Teacher", None, "full"])
    book.active.merge_cells("C2:C3")
    book.save(folder / "participants.xlsx")
    assert import_paths(project, [folder]).added == ["A", "B"]
    with project.session() as session:
        assert session.get(Participant, "B").school_id == "SOU-S01"


def test_a_title_above_the_column_names_is_noted_and_the_row_naming_id_is_the_header(project, tmp_path):
    """The title was taken for the header: an 'unknown column' per cell and 'needs an id column'."""
    import openpyxl

    folder = _interviews(tmp_path / "south", "A.txt")
    book = openpyxl.Workbook()
    book.active.append(["Interview log, spring 2016"])
    book.active.merge_cells("A1:D1")
    book.active.append([])
    book.active.append(["ID", "role", "school", "kind"])
    book.active.append(["A", "Headteacher", "SOU-S01", "full"])
    book.save(folder / "participants.xlsx")
    report = import_paths(project, [folder])
    assert report.added == ["A"]
    assert report.notes == [
        f"{(folder / 'participants.xlsx').resolve()}:1: row 1 above the column names (row 3) not read, taken for a title"
    ]


def test_a_tab_separated_utf16_sheet_is_read(project, tmp_path):
    """Excel's 'Unicode Text' is tab-separated UTF-16: it was one unknown column."""
    folder = _interviews(tmp_path / "south", "A.txt")
    (folder / "participants.csv").write_bytes("id\trole\tschool\tkind\r\nA\tHead\tSOU-S01\tfull\r\n".encode("utf-16"))
    assert import_paths(project, [folder]).added == ["A"]


def test_bad_value_names_sheet_row_field_and_the_setting_that_would_accept_it(run, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt", "B.txt", "C.txt")
    (folder / "participants.csv").write_text(
        "id,role,school,kind\nA,Headteacher,SOU-S01,full\nB,Teacher,SOU-S01,full\nC,Head of maths,SOU-S01,full\n",
        encoding="utf-8",
    )
    assert run("init", "study").returncode == 0
    result = run("import", str(folder), cwd=tmp_path / "study")
    assert result.returncode == 1
    assert (
        "participants.csv:4: role: 'Head of maths' is not a known staff role; did you mean 'Head of department'"
    ) in result.stderr
    assert ACCEPT.format("role") in result.stderr
    # Accepting it as the message says makes the import work.
    settings = tmp_path / "study" / "qualcode.toml"
    settings.write_text(settings.read_text().replace("[aliases.role]\n", '[aliases.role]\n"Head of maths" = "Head of department"\n'))
    result = run("import", str(folder), cwd=tmp_path / "study")
    assert result.returncode == 0, result.stderr
    assert _transcripts(run, tmp_path / "study")["C"]["role"] == "Head of department"


def test_sheet_and_front_matter_must_agree(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    transcript = folder / "A.txt"
    transcript.write_text(
        "---\nid: A\nrole: Deputy head\nschool: SOU-S01\ndate: 2016-03-14\nfsm: 23\n---\n" + transcript.read_text()
    )
    sheet = folder / "participants.csv"
    sheet.write_text("id,role,school,date,kind,fsm\nA,Deputy headteacher,SOU-S01,2016-03-14,full,23%\n", encoding="utf-8")
    report = import_paths(project, [folder], dry_run=True)  # the same values, written differently, agree
    assert report.added == ["A"]

    sheet.write_text("id,role,school,date,kind\nA,Headteacher,SOU-S01,2016-03-15,full\n", encoding="utf-8")
    place = sheet.resolve()
    assert _problems(project, folder) == [
        f"{transcript}:3: role: 'Deputy head' here, but 'Headteacher' in {place}:2; give it once",
        f"{transcript}:5: date: '2016-03-14' here, but '2016-03-15' in {place}:2; give it once",
    ]


def test_sidecar_and_front_matter_must_agree(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    transcript = folder / "A.txt"
    transcript.write_text("---\nid: A\nrole: Teacher\nschool: SOU-S01\nkind: full\n---\n" + transcript.read_text())
    (folder / "A.yaml").write_text("school: SOU-S01\nrole: Teaching assistant\n", encoding="utf-8")
    assert _problems(project, transcript) == [
        f"{transcript}:3: role: 'Teacher' here, but 'Teaching assistant' in {folder / 'A.yaml'}:2; give it once"
    ]


def test_sheet_overrides_a_word_table_with_a_note(project, tmp_path):
    folder = _interviews(tmp_path / "south")
    word_transcript(
        folder / "SOU-S01-TA.docx",
        {"id": "SOU-S01-TA", "role": "Teacher", "school": "SOU-S01", "kind": "full"},
        ["Interviewer: What do you do?", "Interviewee: I support Year 2."],
    )
    (folder / "participants.csv").write_text("id,role\nSOU-S01-TA,TA\n", encoding="utf-8")
    report = import_paths(project, [folder])
    assert report.notes == [
        f"{folder / 'SOU-S01-TA.docx'}: role: the Word table's 'Teacher' gives way to 'TA' from {folder.resolve()}/participants.csv:2"
    ]
    with project.session() as session:
        assert session.get(Participant, "SOU-S01-TA").role == "Teaching assistant"


def test_rows_without_a_transcript(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    sheet = folder / "participants.csv"
    sheet.write_text("id,role,school,kind\nA,Teacher,SOU-S01,full\nB,Teacher,SOU-S01,full\n", encoding="utf-8")
    report = import_paths(project, [folder])
    assert report.notes == [
        f"{sheet.resolve()}:3: 'B' matches no transcript: no transcript file in {folder.resolve()} or below is called B; "
        "name it in a 'file' column"
    ]
    # Importing one file of the folder leaves out the other rows on purpose: no note.
    assert import_paths(project, [folder / "A.txt"]).notes == []

    sheet.write_text("id,file,role,school,kind\nA,A.text,Teacher,SOU-S01,full\n", encoding="utf-8")
    assert _problems(project, folder) == [
        f"{sheet.resolve()}:2: file: 'A.text' does not exist in {folder.resolve()}; did you mean 'A.txt'?"
    ]


def test_a_transcript_without_metadata_is_pointed_at_the_row_that_nearly_names_it(project, tmp_path):
    """The failed import said only 'no metadata'; the row with the typo was a note nobody saw."""
    folder = _interviews(tmp_path / "south", "SOU-S01-HT.txt", "SOU-S01-DH.txt")
    sheet = folder / "participants.csv"
    sheet.write_text("id,role,school,kind\nSOU-S01-HT,Headteacher,SOU-S01,full\nSOU-S01-DHT,Teacher,SOU-S01,full\n")
    assert _problems(project, folder) == [
        f"{folder / 'SOU-S01-DH.txt'}:1: no metadata: {sheet.resolve()}:3 describes 'SOU-S01-DHT', which no file is"
        " called: if that row is this transcript, correct the id or the file name, or name the file in a 'file' column;"
        " otherwise start the file with '---' front matter, or add a sidecar SOU-S01-DH.yaml or a row in participants.csv"
    ]


def test_a_transcript_without_any_metadata_says_where_it_could_go(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    assert _problems(project, folder) == [
        f"{folder / 'A.txt'}:1: no metadata: start the file with '---' front matter, or add a sidecar A.yaml"
        " or a row in participants.csv"
    ]


def test_an_impossible_date_in_front_matter_is_a_located_problem(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    path = folder / "A.txt"
    path.write_text("---\nid: A\nrole: Teacher\nschool: SOU-S01\ndate: 2016-02-30\nkind: full\n---\n" + path.read_text())
    assert _problems(project, path) == [f"{path}:5: date: '2016-02-30' is no such date (day is out of range for month)"]


def test_a_string_vocabulary_is_blamed_on_qualcode_toml(run, tmp_path):
    assert run("init", "study").returncode == 0
    settings = tmp_path / "study" / "qualcode.toml"
    text = settings.read_text()
    settings.write_text(re.sub(r"^role = \[.*?\]$", 'role = "Headteacher"', text, count=1, flags=re.M | re.S))
    result = run("transcripts", cwd=tmp_path / "study")
    assert result.returncode == 1
    line = settings.read_text().split("\n").index('role = "Headteacher"') + 1
    assert f'{settings.resolve()}:{line}: vocabularies.role: write a list of values in brackets, e.g. role = ["Headteacher"]' in (
        result.stderr
    )


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[aliases]\nrole = "Head"\n',
         "2: aliases.role: write the aliases as a table: [aliases.role] with lines like \"Spelling\" = \"Value\""),
        ('[aliases.role]\n"Head of maths" = "Head of departmnt"\n',
         "2: aliases.role.Head of maths: 'Head of maths' maps to 'Head of departmnt', which is not in role under [vocabularies]"),
        ('[aliases.role]\n"Principal" = "Headteacher"\n',
         "2: aliases.role.Principal: 'Principal' is itself a value of role; an alias cannot map it elsewhere"),
        ('[vocabularies]\nroles = ["Head"]\n', "2: vocabularies.roles: not a vocabulary; did you mean 'role'?"),
    ],
)
def test_misshapen_vocabularies_name_qualcode_toml_and_the_key(tmp_path, toml, message):
    path = tmp_path / "qualcode.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(QualcodeError) as error:
        Settings.load(path)
    assert str(error.value) == f"{path}:{message}"


def test_a_project_that_drops_a_role_drops_its_default_aliases(tmp_path):
    path = tmp_path / "qualcode.toml"
    path.write_text('[vocabularies]\nrole = ["Headteacher", "Teacher"]\n', encoding="utf-8")
    aliases = Settings.load(path).vocabularies.aliases["role"]
    assert aliases["Head"] == "Headteacher" and "SENDCo" not in aliases


def test_the_default_aliases_map_into_their_vocabularies_without_clashing():
    vocabularies = Settings.load(None).vocabularies
    for name, aliases in vocabularies.aliases.items():
        values = {value.lower(): value for value in vocabularies.values[name]}
        for alias, value in aliases.items():
            assert value in vocabularies.values[name], (name, alias)
            assert values.get(alias.lower(), value) == value, (name, alias)
    roles = ["Executive principal", "Acting headteacher", "Acting principal", "Vice principal", "Assistant principal",
             "Deputy principal", "Head of department", "Head of year", "SENCo", "Governor", "Teaching assistant"]
    assert set(roles) <= set(vocabularies.values["role"])
    assert [vocabularies.resolve("role", r) for r in ["SENDCO", "senco", "Exec head", "HoD", "TA", "Vice-principal"]] == [
        "SENCo", "SENCo", "Executive headteacher", "Head of department", "Teaching assistant", "Vice principal",
    ]


def test_sheet_rows_are_stored_like_front_matter(project, tmp_path):
    folder = _interviews(tmp_path / "south", "A.txt")
    (folder / "participants.csv").write_text("id;participant;role;school;kind\nA;P-7;Governor;SOU-S01;full\n")
    import_paths(project, [folder])
    with project.session() as session:
        transcript = session.get(Transcript, "A")
        assert (transcript.participant_id, transcript.participant.role, transcript.kind) == ("P-7", "Governor", "full")
