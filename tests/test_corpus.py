"""Importing transcripts into a project: validation, atomicity, re-import and re-anchoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed
from qualcode.models import Code, Coding, Participant, Partnership, School, Transcript
from tests.conftest import table_rows, word_transcript


#: What an unknown value's message says about making `qualcode.toml` accept it.
ACCEPT = "To accept it, add it to {0} under [vocabularies] in qualcode.toml, or map it under [aliases.{0}]"


def messages(error: pytest.ExceptionInfo) -> list[str]:
    return [str(problem) for problem in error.value.problems]


def test_import_stores_schools_partnerships_participants_and_turns(project, corpus):
    report = import_paths(project, [corpus])
    assert sorted(report.added) == ["EAS-S01-DH", "EAS-S01-HT", "EAS-S02-HT", "NAT-I01"]
    with project.session() as session:
        school = session.get(School, "EAS-S02")
        assert (school.phase, school.school_type, school.ofsted, school.fsm) == (
            "secondary", "converter academy", "Outstanding", 8.0,
        )
        assert [d.designation for d in school.designations] == ["NLE", "Teaching School"]
        tsa = session.get(Partnership, "EAS-TSA1")
        assert (tsa.kind, tsa.lead_school_id) == ("TSA", "EAS-S02")
        assert sorted(s.id for s in tsa.members) == ["EAS-S01", "EAS-S02"]
        deputy = session.get(Participant, "EAS-S01-DH")
        assert deputy.role == "Deputy headteacher"  # the alias 'Deputy head' is stored canonically
        assert deputy.locality_name == "Eastern" and not deputy.is_system_informant
        informant = session.get(Participant, "NAT-I01")
        assert informant.is_system_informant and informant.locality_name == "National"
        head = session.get(Transcript, "EAS-S01-HT")
        assert head.kind == "full" and str(head.interview_date) == "2015-06-11"
        assert [t.speaker for t in head.turns] == ["Interviewer", "Headteacher", "Interviewer", "Headteacher"]
        second = head.turns[1]
        assert head.text[second.start : second.end].endswith("which was a relief.")
        assert head.words == len(head.text.split())


def test_reimporting_unchanged_files_changes_nothing(project, corpus):
    import_paths(project, [corpus])
    before = table_rows(project)
    report = import_paths(project, [corpus])
    assert report.added == [] and report.updated == []
    assert len(report.unchanged) == 4
    assert table_rows(project) == before


def test_dry_run_validates_and_writes_nothing(project, corpus):
    before = table_rows(project)
    report = import_paths(project, [corpus], dry_run=True)
    assert report.dry_run and table_rows(project) == before


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_value_names_file_line_field_and_suggests(project, corpus):
    _set(corpus / "eastern/schools.yaml", "ofsted: Outstanding", "ofsted: Outstnding")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    assert messages(error) == [
        f"{(corpus / 'eastern/schools.yaml').resolve()}:13: ofsted: 'Outstnding' is not a known grade; "
        f"did you mean 'Outstanding'? {ACCEPT.format('ofsted')}"
    ]


def test_front_matter_errors(project, corpus):
    path = corpus / "eastern/EAS-S02-HT.md"
    _set(path, "role: Principal", "role: Princpal\nschol: EAS-S02")
    _set(path, "date: 2015-07-02", "date: 15 June")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    assert messages(error) == [
        f"{path}:3: role: 'Princpal' is not a known staff role; did you mean 'Principal'? {ACCEPT.format('role')}",
        f"{path}:4: schol: unknown field; did you mean 'school'?",
        f"{path}:6: date: '15 June' is not a date like 2016-03-14",
    ]


def test_every_problem_is_listed_and_nothing_is_written(project, corpus):
    import_paths(project, [corpus / "national"])
    before = table_rows(project)
    _set(corpus / "eastern/EAS-S01-HT.md", "school: EAS-S01", "school: EAS-S99")
    _set(corpus / "eastern/schools.yaml", "phase: secondary", "phase: secondry")
    _set(corpus / "partnerships.yaml", "lead: EAS-S02", "lead: EAS-S03")
    (corpus / "eastern/empty.md").write_bytes(b"")
    (corpus / "eastern/photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    found = messages(error)
    assert f"{corpus / 'eastern/empty.md'}: the file is empty" in found
    assert f"{corpus / 'eastern/photo.md'}: this looks like a binary file, not UTF-8 text" in found
    assert (
        f"{corpus / 'eastern/EAS-S01-HT.md'}:4: school: 'EAS-S99' is not a known school "
        "(describe it in schools.yaml or the front matter); did you mean 'EAS-S01'?"
    ) in found
    assert (
        f"{(corpus / 'eastern/schools.yaml').resolve()}:11: phase: 'secondry' is not a known school phase; "
        f"did you mean 'secondary'? {ACCEPT.format('phase')}"
    ) in found
    assert (
        f"{(corpus / 'partnerships.yaml').resolve()}:5: lead: 'EAS-S03' is not a known school; "
        "did you mean 'EAS-S01'?"
    ) in found
    assert len(found) == 5
    assert str(error.value) == "5 problems; nothing was imported"
    assert table_rows(project) == before


def test_failed_import_leaves_the_database_file_byte_identical(project, corpus):
    import_paths(project, [corpus])
    project.engine.dispose()  # checkpoint the WAL so the file holds everything
    database = Path(project.engine.url.database)
    before = database.read_bytes()
    _set(corpus / "eastern/EAS-S01-HT.md", "Headteacher: Well", "Headteacher: Well, well")
    _set(corpus / "eastern/EAS-S02-HT.md", "kind: full", "kind: fulll")
    with pytest.raises(ImportFailed):
        import_paths(project, [corpus])
    project.engine.dispose()
    assert database.read_bytes() == before


def test_duplicate_ids_are_refused(project, corpus):
    copy = corpus / "national/NAT-I01-copy.md"
    copy.write_text((corpus / "national/NAT-I01.md").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    original = corpus / "national/NAT-I01.md"
    assert messages(error) == [f"{original}:2: id: 'NAT-I01' is also the id of {copy}"]


def test_missing_paths_and_wrong_file_types(project, corpus):
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus / "nowhere", corpus / "notes.pdf"])
    assert messages(error) == [
        f"{corpus / 'nowhere'}: no such file or folder",
        f"{corpus / 'notes.pdf'}: not a transcript: expected a .txt, .md, .docx, .vtt or .srt file",
    ]


def test_front_matter_may_describe_the_school_but_not_contradict_schools_yaml(project, corpus):
    path = corpus / "eastern/EAS-S01-DH.md"
    _set(path, "kind: notes", "kind: notes\nofsted: Outstanding")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    schools = (corpus / "eastern/schools.yaml").resolve()
    assert messages(error) == [
        f"{path}:7: ofsted: 'Outstanding' contradicts 'Good' for EAS-S01 in {schools}:5"
    ]


def test_school_described_only_in_front_matter(project, tmp_path):
    path = tmp_path / "WES-S01-HT.txt"
    path.write_text(
        "---\nid: WES-S01-HT\nrole: Headteacher\nschool: WES-S01\nlocality: Western\nphase: junior\n"
        "school_type: VC\nofsted: RI\nfederation: yes\nkind: full\n---\nHeadteacher: Hello.\n",
        encoding="utf-8",
    )
    import_paths(project, [path])
    with project.session() as session:
        school = session.get(School, "WES-S01")
        assert (school.phase, school.school_type, school.ofsted, school.federation) == (
            "junior", "voluntary controlled", "Requires Improvement", True,
        )


def test_schools_csv(project, tmp_path):
    (tmp_path / "schools.csv").write_text(
        "id,locality,phase,school_type,ofsted,fsm,designations\n"
        "SOU-S01,Southern,primary,voluntary aided,Good,31,LLE;SLE\n"
        "SOU-S02,Southern,primary,maintaned,Good,200,\n",
        encoding="utf-8",
    )
    (tmp_path / "SOU-S01-HT.md").write_text(
        "---\nid: SOU-S01-HT\nrole: Headteacher\nschool: SOU-S01\nkind: full\n---\nHeadteacher: Hi.\n"
    )
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [tmp_path])
    csv_path = (tmp_path / "schools.csv").resolve()
    assert messages(error) == [
        f"{csv_path}:3: school_type: 'maintaned' is not a known school type; did you mean 'maintained'? "
        + ACCEPT.format("school_type"),
        f"{csv_path}:3: fsm: '200' is not a percentage between 0 and 100",
    ]
    _set(tmp_path / "schools.csv", "maintaned,Good,200", "maintained,Good,20")
    import_paths(project, [tmp_path])
    with project.session() as session:
        assert [d.designation for d in session.get(School, "SOU-S01").designations] == ["LLE", "SLE"]


def test_docx_with_metadata_table_and_with_sidecar(project, tmp_path):
    word_transcript(
        tmp_path / "NOR-I01.docx",
        {"id": "NOR-I01", "informant_kind": "RSC", "locality": "Northern", "kind": "full"},
        ["Interviewer: What is your role?", "Interviewee: I oversee academies across the region."],
    )
    word_transcript(tmp_path / "NOR-I02.docx", {}, ["Interviewer: Hello.", "Interviewee: Hello to you."])
    (tmp_path / "NOR-I02.yaml").write_text("id: NOR-I02\ninformant_kind: Ofsted\nlocality: Northern\nkind: full\n")

    report = import_paths(project, [tmp_path])
    assert sorted(report.added) == ["NOR-I01", "NOR-I02"]
    with project.session() as session:
        transcript = session.get(Transcript, "NOR-I01")
        assert transcript.text == "Interviewer: What is your role?\nInterviewee: I oversee academies across the region.\n"
        assert [t.speaker for t in transcript.turns] == ["Interviewer", "Interviewee"]
        assert session.get(Participant, "NOR-I02").informant_kind == "Ofsted"


def test_sidecar_errors_name_the_sidecar(project, tmp_path):
    (tmp_path / "X.txt").write_text("Interviewee: hello\n")
    (tmp_path / "X.yaml").write_text("id: X\ninformant_kind: RSC\nlocality: Northen\nkind: full\n")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [tmp_path / "X.txt"])
    assert messages(error) == [
        f"{tmp_path / 'X.yaml'}:3: locality: 'Northen' is not a known locality; did you mean 'Northern'? "
        + ACCEPT.format("locality")
    ]


def _code(project, transcript_id: str, quote: str, name: str = "competition") -> None:
    with project.session() as session:
        code = session.scalar(select(Code).where(Code.name == name)) or Code(name=name)
        text = session.get(Transcript, transcript_id).text
        start = text.index(quote)
        session.add(Coding(transcript_id=transcript_id, start=start, end=start + len(quote), code=code,
                           coder="ann", quote=quote))


def test_reimporting_a_changed_transcript_reanchors_its_codings(project, corpus):
    import_paths(project, [corpus])
    kept = "We lost forty pupils to them three years ago"
    edited = "Every September we count the Year 7 numbers and compare with the school down the road."
    removed = "It brings status but also pressure."
    for quote in (kept, edited, removed):
        _code(project, "EAS-S02-HT", quote)
    path = corpus / "eastern/EAS-S02-HT.md"
    _set(path, "Fierce, frankly.", "Fierce, frankly, and getting worse. [laughs]")
    _set(path, "compare with the school down the road", "compare them with the school down the road")
    _set(path, removed, "That is a longer story.")

    report = import_paths(project, [corpus], update=True)

    assert report.updated == ["EAS-S02-HT"]
    with project.session() as session:
        transcript = session.get(Transcript, "EAS-S02-HT")
        codings = {c.quote: c for c in transcript.codings}
        assert len(codings) == 3, "no coding is ever dropped"
        assert codings[kept].anchor == "exact"
        assert transcript.text[codings[kept].start : codings[kept].end] == kept
        assert codings[edited].anchor == "fuzzy"
        assert "compare them with the school down the road" in transcript.text[codings[edited].start : codings[edited].end]
        assert codings[removed].anchor == "unplaced"
    assert sorted((r.anchor, r.quote) for r in report.reanchored) == [("fuzzy", edited), ("unplaced", removed)]
