"""Transcript files as services and meeting software deliver them: WebVTT, SubRip and Word.

Every fixture is written here the way the tool writes it: Zoom's and Teams'
WebVTT, SubRip, and Word files made with python-docx (bold labels, a
transcription service's header table, a metadata table).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

from qualcode.ingest.captions import parse_caption_file
from qualcode.config import Settings
from qualcode.ingest.corpus import import_paths
from qualcode.ingest.files import collect_files
from qualcode.errors import ImportFailed, Problem
from qualcode.models import Transcript
from qualcode.project import find_project
from qualcode.ingest.speakers import SpeakerRules, read_speakers
from qualcode.ingest.transcript import parse_docx_file

RULES = SpeakerRules.from_settings(Settings.load(None), {})

ZOOM = (
    "\ufeffWEBVTT\r\n\r\n"
    "1\r\n00:00:01.000 --> 00:00:04.200\r\nInterviewer: Could you tell me &amp; the panel\r\nabout the school?\r\n\r\n"
    "2\r\n00:00:05.000 --> 00:00:07.500\r\nHeadteacher: Yes, of course.\r\n\r\n"
    "NOTE the recording paused here\r\nfor two minutes\r\n\r\n"
    "3\r\n00:00:07.500 --> 00:00:09.000\r\nHeadteacher: We're a two-form entry primary.\r\n\r\n"
    "4\r\n00:02:10.000 --> 00:02:12.000\r\nHeadteacher: Ofsted: they came in March,\r\n\r\n"
    "5\r\n00:02:12.000 --> 00:02:13.000\r\nand we held on to Good.\r\n\r\n"
    "6\r\n01:02:03.040 --> 01:02:05.000\r\nInterviewer: Thank you.\r\n\r\n"
    "7\r\n01:02:06.000 --> 01:02:07.000\r\nJane Smith (she/her): Bye!\r\n"
)
ZOOM_TEXT = (
    "[00:00:01] Interviewer: Could you tell me & the panel about the school?\n\n"
    "[00:00:05] Headteacher: Yes, of course. We're a two-form entry primary. Ofsted: they came in March, and we held on "
    "to Good.\n\n"
    "[01:02:03] Interviewer: Thank you.\n\n"
    "[01:02:06] Jane Smith (she/her): Bye!\n"
)

TEAMS = (
    "WEBVTT\nKind: captions\nLanguage: en-GB\n\n"
    "STYLE\n::cue(.loud) { color: yellow }\n\n"
    "REGION\nid:fred width:40%\n\n"
    "a1b2c3d4-1/12-0\n00:05.000 --> 00:07.000 align:start\n<v.loud Interviewer>How do you <i>work</i> with the <b>alliance</b>?</v>\n\n"
    "a1b2c3d4-1/15-0\n00:08.000 --> 00:10.000\n<v Headteacher>We <u>share</u> <c.blue>staff</c>&nbsp;and<00:00:09.000> training &lt;mostly&gt;.</v>\n\n"
    "a1b2c3d4-1/18-0\n00:10.000 --> 00:11.000\nand data\n\n"
    "a1b2c3d4-1/20-0\n00:12.000 --> 00:14.000\n<v Headteacher>Every term.</v>\n<v Interviewer>Thanks.</v>\n"
)
TEAMS_TEXT = (
    "[00:00:05] Interviewer: How do you work with the alliance?\n\n"
    "[00:00:08] Headteacher: We share staff and training <mostly>. and data Every term.\n\n"
    "[00:00:12] Interviewer: Thanks.\n"
)

SRT = (
    "1\n00:00:03,500 --> 00:00:06,000\nInterviewer: Who do you work with?\n\n"
    "2\n00:00:06,000 --> 00:00:09,000\nHeadteacher: <i>The cluster</i>,\nmostly.\n\n"
    "3\n00:00:09,000 --> 00:00:10,000\nHeadteacher: And the diocese.\n"
)
SRT_TEXT = "[00:00:03] Interviewer: Who do you work with?\n\n[00:00:06] Headteacher: The cluster, mostly. And the diocese.\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def spoken(parsed) -> list[tuple[str, str]]:
    turns = read_speakers(parsed.text, RULES).turns
    return [(turn.speaker, parsed.text[turn.start : turn.end]) for turn in turns if turn.role != "header"]


def test_zoom_vtt_joins_one_speakers_cues_into_a_turn(tmp_path: Path):
    parsed = parse_caption_file(write(tmp_path / "zoom.vtt", ZOOM))
    assert parsed.text == ZOOM_TEXT
    assert spoken(parsed) == [
        ("Interviewer", "Could you tell me & the panel about the school?"),
        ("Headteacher", "Yes, of course. We're a two-form entry primary. Ofsted: they came in March, and we held on to Good."),
        ("Interviewer", "Thank you."),
        ("Jane Smith (she/her)", "Bye!"),
    ]
    assert parsed.meta == {} and parsed.encoding == "utf-8-sig"


def test_teams_vtt_voice_tags_headers_and_inline_tags(tmp_path: Path):
    parsed = parse_caption_file(write(tmp_path / "teams.vtt", TEAMS))
    assert parsed.text == TEAMS_TEXT
    assert [speaker for speaker, _ in spoken(parsed)] == ["Interviewer", "Headteacher", "Interviewer"]


def test_srt(tmp_path: Path):
    parsed = parse_caption_file(write(tmp_path / "interview.srt", SRT))
    assert parsed.text == SRT_TEXT
    assert spoken(parsed)[1] == ("Headteacher", "The cluster, mostly. And the diocese.")


def test_subtitle_dialogue_dashes_and_a_space_before_the_colon_name_the_speakers(tmp_path: Path):
    """Both cues went into the wrong place: the dashed pair into one speakerless paragraph, no turn at all,
    and 'INTERVIEWER : Right.' into the respondent's turn before it."""
    srt = (
        "1\n00:00:01,000 --> 00:00:03,000\n- Interviewer: How long?\n- Respondent: Six years,\nor seven.\n\n"
        "2\n00:00:08,000 --> 00:00:09,000\nINTERVIEWER : Right.\n"
    )
    parsed = parse_caption_file(write(tmp_path / "a.srt", srt))
    assert parsed.text == (
        "[00:00:01] Interviewer: How long?\n\n[00:00:01] Respondent: Six years, or seven.\n\n[00:00:08] INTERVIEWER: Right.\n"
    )
    assert spoken(parsed) == [("Interviewer", "How long?"), ("Respondent", "Six years, or seven."), ("INTERVIEWER", "Right.")]


def test_captions_without_speakers_give_one_paragraph_per_cue_and_no_turns(tmp_path: Path):
    path = write(tmp_path / "x.srt", "1\n00:00:01,000 --> 00:00:02,000\nso we\n\n2\n00:00:02,5-->00:00:04,000\nbegan.\n")
    parsed = parse_caption_file(path)
    assert parsed.text == "[00:00:01] so we\n\n[00:00:02] began.\n"
    assert read_speakers(parsed.text, RULES).turns == []


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.vtt", "WEBVTT\n\n1\n00:00:01.000 -> 00:00:02.000\nHi.\n",
         "a.vtt:4: broken cue timing line '00:00:01.000 -> 00:00:02.000': expected one such as "
         "'00:00:01.000 --> 00:00:04.000'"),
        ("b.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\nHello.\n",
         "b.srt:5: expected a cue timing line such as '00:00:01.000 --> 00:00:04.000', found '2'"),
        ("c.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi.\n2\n00:00:03,000 --> 00:00:04,000\nHello.\n",
         "c.srt:5: a cue timing line with no blank line before it"),
        ("d.vtt", "WEBVTT\n\nNOTE nothing was said\n",
         "d.vtt:1: no cues: expected timing lines such as '00:00:01.000 --> 00:00:04.000'"),
        ("e.vtt", "1\n00:00:01,000 --> 00:00:02,000\nHi.\n", "e.vtt:1: a WebVTT file starts with a 'WEBVTT' line"),
        ("f.srt", "Interviewer: Hello.\nHeadteacher: Hi.\n",
         "f.srt:1: expected a cue timing line such as '00:00:01.000 --> 00:00:04.000', found 'Interviewer: Hello.'"),
    ],
)
def test_malformed_caption_files_name_the_line(tmp_path: Path, name: str, content: str, message: str):
    with pytest.raises(Problem) as error:
        parse_caption_file(write(tmp_path / name, content))
    assert str(error.value) == f"{tmp_path}/{message}"


def sidecar(path: Path, transcript_id: str) -> None:
    """Staff metadata in a sidecar `.yaml`, describing its school so no schools.yaml is needed."""
    path.with_suffix(".yaml").write_text(
        f"id: {transcript_id}\nrole: Headteacher\nschool: {transcript_id[:7]}\nlocality: Eastern\n"
        "phase: primary\nschool_type: maintained\ndate: 2015-06-11\nkind: full\n",
        encoding="utf-8",
    )


def show_lines(run, study: Path, transcript_id: str) -> list[str]:
    result = run("show", transcript_id, cwd=study)
    assert result.returncode == 0, result.stderr
    # Without the turn column ('2 Headteacher · participant'): these tests read the text.
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    return [re.sub(r"^(\d+) \d+ .*? · (?:interviewer|participant|note|header)( |$)", r"\1\2", line) for line in lines]


def stored_turns(study: Path, transcript_id: str) -> list[tuple[str, bool]]:
    with find_project(study).session() as session:
        turns = session.get(Transcript, transcript_id).turns
        return [(t.speaker, t.role == "interviewer") for t in turns if t.role != "header"]


def header_turns(study: Path, transcript_id: str) -> list[str]:
    with find_project(study).session() as session:
        return [t.speaker for t in session.get(Transcript, transcript_id).turns if t.role == "header"]


def test_folder_import_reads_captions_and_lists_what_it_skipped(run, tmp_path: Path):
    folder = tmp_path / "zoom"
    folder.mkdir()
    sidecar(write(folder / "EAS-S07-HT.vtt", ZOOM), "EAS-S07-HT")
    sidecar(write(folder / "EAS-S08-HT.srt", SRT), "EAS-S08-HT")
    (folder / "consent form.pdf").write_bytes(b"%PDF-1.4")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    assert run("init", "study").returncode == 0
    study = tmp_path / "study"

    result = run("import", str(folder), cwd=study)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("skipped:")] == [
        f"skipped: {folder / '.DS_Store'}: hidden file",
        f"skipped: {folder / 'consent form.pdf'}: unknown extension '.pdf' (qualcode reads .txt, .md, .docx, .vtt, .srt)",
    ]
    assert "imported 2 new, 0 changed, 0 unchanged transcripts" in result.stderr
    assert show_lines(run, study, "EAS-S07-HT") == [
        f"{number} {line}" if line else str(number) for number, line in enumerate(ZOOM_TEXT.splitlines(), start=1)
    ]
    assert stored_turns(study, "EAS-S07-HT") == [
        ("Interviewer", True), ("Headteacher", False), ("Interviewer", True),
        ("Jane Smith (she/her)", False),
    ]
    assert show_lines(run, study, "EAS-S08-HT")[0] == "1 [00:00:03] Interviewer: Who do you work with?"
    assert stored_turns(study, "EAS-S08-HT") == [("Interviewer", True), ("Headteacher", False)]


def test_a_caption_file_takes_its_metadata_from_a_sidecar_only(project, tmp_path: Path):
    write(tmp_path / "EAS-S07-HT.vtt", ZOOM)
    service_header_document(tmp_path / "EAS-S09-HT.docx")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [tmp_path])
    assert [str(problem) for problem in error.value.problems] == [
        f"{tmp_path / 'EAS-S07-HT.vtt'}:1: no metadata: add a sidecar EAS-S07-HT.yaml or a row in participants.csv",
        f"{tmp_path / 'EAS-S09-HT.docx'}:1: no metadata: start the document with a table of 'field | value' rows, "
        "or add a sidecar EAS-S09-HT.yaml or a row in participants.csv",
    ]


def test_what_a_folder_import_skips_and_what_it_does_not(tmp_path: Path):
    write(tmp_path / "A.vtt", ZOOM)
    (tmp_path / "A.yaml").write_text("id: A\n")
    for name in ["schools.yaml", "partnerships.csv", "participants.csv", "README.md", "B.yml", "~$A.docx", "notes"]:
        (tmp_path / name).write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.txt").write_text("x")
    transcripts, schools, partnerships, sheets, skipped = collect_files([tmp_path])
    assert transcripts == [tmp_path / "A.vtt"]
    assert [(path.name, reason) for path, reason in skipped] == [
        (".git", "hidden folder"),
        ("B.yml", "no transcript named 'B' beside it, so not a sidecar (a sidecar is NAME.yaml beside NAME.txt)"),
        ("README.md", "a README, not a transcript"),
        ("notes", "no extension (qualcode reads .txt, .md, .docx, .vtt, .srt)"),
        ("~$A.docx", "Word's lock file for a document that is open"),
    ]


def bold_paragraph(document, *runs: tuple[str, bool | str | None]) -> None:
    """A paragraph of runs; True makes a run bold, a string gives it that character style."""
    paragraph = document.add_paragraph()
    for text, how in runs:
        run = paragraph.add_run(text, style=how if isinstance(how, str) else None)
        if isinstance(how, bool):
            run.bold = how


def test_bold_speaker_labels_in_word_become_markdown_bold(tmp_path: Path):
    document = docx.Document()
    speaker = document.styles.add_style("Speaker", WD_STYLE_TYPE.CHARACTER)
    speaker.font.bold = True
    bold_paragraph(document, ("Interviewer:", True), (" So, how long have you been head?", None))
    bold_paragraph(document, ("Headteacher", True), (": Six years now.", None))
    bold_paragraph(document, ("Jane Smith:", True))
    document.add_paragraph("Sorry to interrupt, the governors are here.")
    bold_paragraph(document, ("Interviewer", "Speaker"), (": ", None), ("Go on.", None))
    bold_paragraph(document, ("Key point", True), (" was the funding.", None))
    bold_paragraph(document, ("Headteacher:", False), (" Not bold, still a label.", None))
    bold_paragraph(document, ("Interviewer:", True), (" And the questions in bold?", True))
    document.save(tmp_path / "bold.docx")
    parsed = parse_docx_file(tmp_path / "bold.docx")
    assert parsed.text == (
        "**Interviewer:** So, how long have you been head?\n"
        "**Headteacher:** Six years now.\n"
        "**Jane Smith:**\n"
        "Sorry to interrupt, the governors are here.\n"
        "**Interviewer:** Go on.\n"
        "Key point was the funding.\n"
        "Headteacher: Not bold, still a label.\n"
        "**Interviewer:** And the questions in bold?\n"
    )
    assert [speaker for speaker, _ in spoken(parsed)] == [
        "Interviewer", "Headteacher", "Jane Smith", "Interviewer", "Headteacher", "Interviewer",
    ]
    assert spoken(parsed)[2] == ("Jane Smith", "Sorry to interrupt, the governors are here.")


def service_header_document(path: Path) -> Path:
    """A transcription service's Word file: a header table, then bold-labelled paragraphs."""
    document = docx.Document()
    table = document.add_table(rows=0, cols=2)
    for key, value in [("Client", "University research team"), ("Audio file", "int07.mp3"),
                       ("Duration", "00:45:12"), ("Transcriber", "TS-14"), ("Speakers", "2")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    bold_paragraph(document, ("Interviewer:", True), (" Could you describe the partnership?", None))
    bold_paragraph(document, ("Headteacher:", True), (" We set it up in 2012.", None))
    document.save(path)
    return path


def test_a_service_header_table_opens_the_body_and_is_not_metadata(tmp_path: Path):
    parsed = parse_docx_file(service_header_document(tmp_path / "EAS-S09-HT.docx"))
    assert parsed.meta == {}
    assert parsed.text == (
        "Client: University research team\nAudio file: int07.mp3\nDuration: 00:45:12\nTranscriber: TS-14\nSpeakers: 2\n\n"
        "**Interviewer:** Could you describe the partnership?\n**Headteacher:** We set it up in 2012.\n"
    )
    assert [speaker for speaker, _ in spoken(parsed)] == ["Interviewer", "Headteacher"]


def test_word_files_import_end_to_end(run, tmp_path: Path):
    folder = tmp_path / "word"
    folder.mkdir()
    sidecar(service_header_document(folder / "EAS-S09-HT.docx"), "EAS-S09-HT")
    assert run("init", "study").returncode == 0
    study = tmp_path / "study"
    result = run("import", str(folder), cwd=study)
    assert result.returncode == 0, result.stderr
    assert "skipped:" not in result.stderr
    lines = show_lines(run, study, "EAS-S09-HT")
    assert lines[:3] == ["1 Client: University research team", "2 Audio file: int07.mp3", "3 Duration: 00:45:12"]
    assert lines[-2:] == ["7 **Interviewer:** Could you describe the partnership?", "8 **Headteacher:** We set it up in 2012."]
    assert stored_turns(study, "EAS-S09-HT") == [("Interviewer", True), ("Headteacher", False)]
    assert header_turns(study, "EAS-S09-HT") == ["Client", "Audio file", "Duration", "Transcriber", "Speakers"]


def test_metadata_table_keys_are_written_as_fields_and_a_bad_yaml_value_names_its_row(project, tmp_path: Path):
    document = docx.Document()
    table = document.add_table(rows=0, cols=2)
    rows = [("ID", "NOR-I03"), ("Informant kind", "RSC"), ("Locality", "Northern"), ("Date", "[2015-06-11"),
            ("Kind", "full")]
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    document.add_paragraph("Interviewer: What is your remit?")
    document.save(tmp_path / "NOR-I03.docx")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [tmp_path])
    assert [str(problem) for problem in error.value.problems] == [
        f"{tmp_path / 'NOR-I03.docx'}: date: row 4 of the metadata table: '[2015-06-11' is not valid YAML "
        "(expected ',' or ']', but got '<stream end>')"
    ]
    table.rows[3].cells[1].text = "2015-06-11"
    document.save(tmp_path / "NOR-I03.docx")
    assert import_paths(project, [tmp_path]).added == ["NOR-I03"]


def test_damaged_word_files_are_problems_naming_the_file(tmp_path: Path):
    document = docx.Document()
    document.add_paragraph("Interviewer: Hello.")
    document.save(tmp_path / "good.docx")
    with zipfile.ZipFile(tmp_path / "good.docx") as good, zipfile.ZipFile(tmp_path / "badxml.docx", "w") as bad:
        for name in good.namelist():
            data = good.read(name)
            bad.writestr(name, data[: len(data) // 2] if name == "word/document.xml" else data)
    (tmp_path / "cut.docx").write_bytes((tmp_path / "good.docx").read_bytes()[:1500])
    with pytest.raises(Problem) as error:
        parse_docx_file(tmp_path / "cut.docx")
    assert str(error.value) == (
        f"{tmp_path / 'cut.docx'}: a damaged Word document (it is not a .docx (zip) file, or it was cut short); "
        "open it in Word and save it again"
    )
    with pytest.raises(Problem) as error:
        parse_docx_file(tmp_path / "badxml.docx")
    assert str(error.value).startswith(f"{tmp_path / 'badxml.docx'}: a damaged Word document (XMLSyntaxError: ")


def test_otter_and_rev_word_exports_come_through_intact(tmp_path: Path):
    otter = ["Jane Smith  0:17", "So we joined the trust in 2014.", "", "Interviewer  1:02", "Why then?"]
    rev = ["Interviewer (00:01:23):", "Why then?", "Headteacher (00:01:30):", "The LA advisers had gone."]
    for name, paragraphs in [("otter", otter), ("rev", rev)]:
        document = docx.Document()
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
        document.save(tmp_path / f"{name}.docx")
        assert parse_docx_file(tmp_path / f"{name}.docx").text == "\n".join(paragraphs) + "\n"


def _inline(paragraph, wrapper: str, words: str, **attributes) -> None:
    """Append `words` in a run wrapped in `wrapper` (w:ins, w:smartTag, w:fldSimple), as Word writes them."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    outer, run, text = OxmlElement(wrapper), OxmlElement("w:r"), OxmlElement("w:t")
    for name, value in attributes.items():
        outer.set(qn(f"w:{name}"), value)
    text.text = words
    text.set(qn("xml:space"), "preserve")
    run.append(text)
    outer.append(run)
    paragraph._p.append(outer)


def test_every_word_of_a_word_file_arrives_tables_tracked_changes_and_content_controls(tmp_path: Path):
    """python-docx's paragraphs leave these out: the words were dropped without a word said."""
    from docx.oxml import OxmlElement

    document = docx.Document()
    document.add_paragraph("Interviewer: Who decided?")
    answer = document.add_paragraph("Respondent: The head ")
    _inline(answer, "w:ins", "and the governors", id="1", author="RA", date="2026-01-01T00:00:00Z")
    answer.add_run(" decided.")
    place = document.add_paragraph("Interviewer: Where? In ")
    _inline(place, "w:smartTag", "Leeds", element="place")
    for rows in ([("Respondent", "In the hall."), ("", "Then the office.")], [("Interviewer:", "Why?")]):
        table = document.add_table(rows=0, cols=2)  # the first table where it stands, below the words; then another
        for speaker, words in rows:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = speaker, words
    control = OxmlElement("w:sdt")
    content = OxmlElement("w:sdtContent")
    content.append(document.add_paragraph("Respondent: Because of the budget.")._p)
    control.append(content)
    document.element.body.insert(len(document.element.body) - 1, control)
    dated = document.add_paragraph("Respondent: It was ")
    _inline(dated, "w:fldSimple", "March 2015", instr="DATE")
    document.save(tmp_path / "t.docx")
    assert parse_docx_file(tmp_path / "t.docx").text == (
        "Interviewer: Who decided?\nRespondent: The head and the governors decided.\nInterviewer: Where? In Leeds\n"
        "Respondent: In the hall.\nThen the office.\nInterviewer: Why?\nRespondent: Because of the budget.\n"
        "Respondent: It was March 2015\n"
    )


def test_a_word_file_that_is_one_speaker_table_is_read(tmp_path: Path):
    """A table of speaker | text with no paragraphs was refused as 'no text'; a row continuing the turn
    above (no speaker) was dropped."""
    document = docx.Document()
    table = document.add_table(rows=0, cols=2)
    for speaker, words in [("Interviewer:", "Who decided?"), ("Respondent", "The head."), ("", "And the governors.")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = speaker, words
    document.save(tmp_path / "t.docx")
    parsed = parse_docx_file(tmp_path / "t.docx")
    assert parsed.text == "Interviewer: Who decided?\nRespondent: The head.\nAnd the governors.\n"
    assert spoken(parsed) == [("Interviewer", "Who decided?"), ("Respondent", "The head.\nAnd the governors.")]


def _metadata_table_document(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A Word transcript opening with a 'field | value' table of `rows`, then one turn."""
    document = docx.Document()
    table = document.add_table(rows=0, cols=2)
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    document.add_paragraph("Interviewer: Who?")
    document.save(path)
    return path


def test_a_metadata_table_row_without_a_field_name_is_a_problem(tmp_path: Path):
    path = _metadata_table_document(tmp_path / "t.docx", [("id", "T1"), ("", "EAS-S01"), ("kind", "full")])
    with pytest.raises(Problem, match="row 2 of the metadata table: 'EAS-S01' has no field name"):
        parse_docx_file(path)


def test_an_id_in_a_word_metadata_table_is_kept_as_written(tmp_path: Path):
    """A table cell is text: '007' became transcript 7."""
    path = _metadata_table_document(tmp_path / "t.docx", [("id", "007"), ("participant", "012"), ("kind", "full")])
    assert parse_docx_file(path).meta == {"id": "007", "participant": "012", "kind": "full"}
