"""Transcripts as researchers receive them, imported through the installed `qualcode` script.

Each form below is written the way a transcription service, meeting software
or a researcher writes it; each must give the interviewer's and the
participant's turns with the right words (and times, where the form has
them). What cannot be read must be said, and `--strict` must refuse it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

QUESTIONS = ["How long have you been at the school?", "Who do you work with most?"]
ANSWERS = ["Six years, give or take.", "The alliance, really.\nAnd the diocese."]

# form id -> (body, interviewer label, participant label, times in seconds or None, extra metadata)
FORMS = {
    "I-R": ("I: {q0}\n\nR: {a0}\n\nI: {q1}\n\nR: {a1}\n", "I", "R", None, {}),
    "Q-A": ("Q: {q0}\nA: {a0}\nQ: {q1}\nA: {a1}\n", "Q", "A", None, {}),
    "capitals": ("INTERVIEWER: {q0}\n\nRESPONDENT: {a0}\n\nINTERVIEWER: {q1}\n\nRESPONDENT: {a1}\n",
                 "INTERVIEWER", "RESPONDENT", None, {}),
    "speaker-numbers": ("Speaker 1: {q0}\n\nSpeaker 2: {a0}\n\nSpeaker 1: {q1}\n\nSpeaker 2: {a1}\n",
                        "Speaker 1", "Speaker 2", None, {}),
    "names": ("Jane Smith: {q0}\n\nTom Okafor: {a0}\n\nJane Smith: {q1}\n\nTom Okafor: {a1}\n",
              "Jane Smith", "Tom Okafor", None, {}),
    "names-interviewer-field": ("Tom Okafor: Hello!\n\nJane Smith: {q0}\n\nTom Okafor: {a0}\n\nJane Smith: {q1}\n\n"
                                "Tom Okafor: {a1}\n", "Jane Smith", "Tom Okafor", None, {"interviewer": "Jane Smith"}),
    "markdown-bold": ("**Interviewer:** {q0}\n\n**Headteacher:** {a0}\n\n**Interviewer:** {q1}\n\n**Headteacher:** {a1}\n",
                      "Interviewer", "Headteacher", None, {}),
    "rev": ("Interviewer (00:00:05):\n{q0}\n\nHeadteacher (00:00:09):\n{a0}\n\nInterviewer (00:01:02):\n{q1}\n\n"
            "Headteacher (00:01:07):\n{a1}\n", "Interviewer", "Headteacher", [5, 9, 62, 67], {}),
    "otter": ("Jane Smith  0:05\n{q0}\n\nTom Okafor  0:09\n{a0}\n\nJane Smith  1:02\n{q1}\n\nTom Okafor  1:07\n{a1}\n",
              "Jane Smith", "Tom Okafor", [5, 9, 62, 67], {}),
    "bracket-time": ("[00:00:05] I: {q0}\n[00:00:09] R: {a0}\n[00:01:02] I: {q1}\n[00:01:07] R: {a1}\n",
                     "I", "R", [5, 9, 62, 67], {}),
    "leading-time": ("00:00:05 Interviewer: {q0}\n00:00:09 Headteacher: {a0}\n00:01:02 Interviewer: {q1}\n"
                     "00:01:07 Headteacher: {a1}\n", "Interviewer", "Headteacher", [5, 9, 62, 67], {}),
    "service-header": ("Client: University of Somewhere\nAudio file: int07.mp3\nDuration: 00:41:10\nTranscriber: KL\n\n"
                       "Interviewer: {q0}\nRespondent: {a0}\nInterviewer: {q1}\nRespondent: {a1}\n",
                       "Interviewer", "Respondent", None, {}),
    "informant-kind": ("Interviewer: {q0}\n\nRSC: {a0}\n\nInterviewer: {q1}\n\nRSC: {a1}\n", "Interviewer", "RSC", None,
                       {"informant_kind": "RSC", "locality": "Eastern"}),
}


def _body(template: str) -> str:
    # An answer over two lines keeps its line break inside the participant's turn.
    return template.format(q0=QUESTIONS[0], q1=QUESTIONS[1], a0=ANSWERS[0], a1=ANSWERS[1])


def _metadata(transcript_id: str, extra: dict) -> str:
    meta = {"id": transcript_id, "kind": "full", **extra}
    if "informant_kind" not in meta:
        meta.update(role="Headteacher", school="EAS-S01")
    return "".join(f"{key}: {value}\n" for key, value in meta.items())


SCHOOLS = "EAS-S01:\n  locality: Eastern\n  phase: primary\n  school_type: maintained\n  ofsted: Good\n"


@pytest.fixture(scope="module")
def imported(tmp_path_factory, request):
    """Every form in one folder, each with a sidecar of metadata, imported once into one project."""
    from tests.conftest import QUALCODE, run_script

    root = tmp_path_factory.mktemp("forms")
    folder = root / "transcripts"
    folder.mkdir()
    (folder / "schools.yaml").write_text(SCHOOLS, encoding="utf-8")
    for form, (template, *_, extra) in FORMS.items():
        (folder / f"{form}.txt").write_text(_body(template), encoding="utf-8")
        (folder / f"{form}.yaml").write_text(_metadata(form.upper(), extra), encoding="utf-8")
    assert run_script(QUALCODE, "init", "project", cwd=root).returncode == 0
    result = run_script(QUALCODE, "import", str(folder), "--json", cwd=root / "project")
    assert result.returncode == 0, result.stderr
    return root / "project", json.loads(result.stdout), result.stderr


def _turns(project: Path, transcript_id: str) -> list[tuple]:
    with sqlite3.connect(project / "qualcode.db") as db:
        text = db.execute("SELECT text FROM transcripts WHERE id = ?", (transcript_id,)).fetchone()[0]
        rows = db.execute(
            "SELECT speaker, role, start, \"end\", time FROM turns WHERE transcript_id = ? ORDER BY number",
            (transcript_id,),
        ).fetchall()
    return [(speaker, role, text[start:end], time) for speaker, role, start, end, time in rows]


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_gives_the_interviewer_and_participant_turns(imported, form):
    project, report, _ = imported
    _, asker, answerer, times, _ = FORMS[form]
    turns = [t for t in _turns(project, form.upper()) if t[1] != "header"]
    assert [(label, role, words) for label, role, words, _ in turns if label != "Tom Okafor" or words != "Hello!"] == [
        (asker, "interviewer", QUESTIONS[0]), (answerer, "participant", ANSWERS[0]),
        (asker, "interviewer", QUESTIONS[1]), (answerer, "participant", ANSWERS[1]),
    ]
    if times:
        assert [time for *_, time in turns] == times
    summary = next(s for s in report["transcripts"] if s["transcript"] == form.upper())
    guessed = any(speaker["guessed"] for speaker in summary["speakers"])
    assert guessed == (form in ("speaker-numbers", "names", "otter"))
    assert [w.split(": ", 1)[1][:12] for w in summary["warnings"]] == (["guessed that"] if guessed else [])


def test_the_import_says_what_it_read_and_what_it_guessed(imported):
    _, report, stderr = imported
    summary = next(s for s in report["transcripts"] if s["transcript"] == "NAMES")
    assert summary["speakers"] == [
        {"label": "Jane Smith", "role": "interviewer", "turns": 2, "guessed": True, "participant": None},
        {"label": "Tom Okafor", "role": "participant", "turns": 2, "guessed": True, "participant": None},
    ]
    assert "guessed that 'Jane Smith' is the interviewer" in stderr
    named = next(s for s in report["transcripts"] if s["transcript"] == "NAMES-INTERVIEWER-FIELD")
    assert not any(s["guessed"] for s in named["speakers"])


def test_header_lines_are_kept_as_header_turns(imported):
    project, _, _ = imported
    header = [(label, words) for label, role, words, _ in _turns(project, "SERVICE-HEADER") if role == "header"]
    assert header == [("Client", "University of Somewhere"), ("Audio file", "int07.mp3"),
                      ("Duration", "00:41:10"), ("Transcriber", "KL")]


def test_show_json_marks_each_turn(imported, run):
    project, _, _ = imported
    result = run("show", "REV", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["id"] == "REV"
    assert [(t["n"], t["speaker"], t["label"], t["role"], t["time"]) for t in shown["turns"]] == [
        (1, "interviewer", "Interviewer", "interviewer", "00:00:05"), (2, "REV", "Headteacher", "participant", "00:00:09"),
        (3, "interviewer", "Interviewer", "interviewer", "00:01:02"), (4, "REV", "Headteacher", "participant", "00:01:07"),
    ]
    assert shown["turns"][3]["text"] == ANSWERS[1] and shown["turns"][3]["lines"] == [11, 12]
    table = run("show", "REV", cwd=project).stdout
    assert "2 Headteacher · participant" in table


def _folder(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schools.yaml").write_text(SCHOOLS, encoding="utf-8")
    (folder / f"{name.lower()}.txt").write_text(body, encoding="utf-8")
    (folder / f"{name.lower()}.yaml").write_text(_metadata(name, {}), encoding="utf-8")
    return folder


#: Two unknown names, and the interviewee asks more questions: the guess is wrong.
WRONG_GUESS = (
    "Alpha Team: Can I ask how long you have been here.\n\nBeta Team: Six years? Seven? Who counts?\n\n"
    "Alpha Team: And who you work with.\n\nBeta Team: The alliance, really.\n"
)


def test_unknown_labels_warn_with_the_fix_and_strict_refuses(run, tmp_path):
    folder = _folder(tmp_path / "in", "LONE", "Alpha Team: How long have you been here?\nBeta Team: Six years.\n")
    _folder(folder, "ODD", WRONG_GUESS)
    assert run("init", "p").returncode == 0
    before = (tmp_path / "p" / "qualcode.db").read_bytes()
    strict = run("import", str(folder), "--strict", cwd=tmp_path / "p")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert f"{folder / 'lone.txt'}:1: 'Alpha Team:' looks like a speaker label" in strict.stderr
    assert f"{folder / 'lone.txt'}: no speaker turns" in strict.stderr
    assert f"{folder / 'odd.txt'}: guessed that 'Beta Team' is the interviewer" in strict.stderr
    assert "nothing was imported" in strict.stderr
    assert (tmp_path / "p" / "qualcode.db").read_bytes() == before
    loose = run("import", str(folder), cwd=tmp_path / "p")
    assert loose.returncode == 0
    assert loose.stderr.count("warning:") == 4 and "[speakers] in qualcode.toml" in loose.stderr


def test_a_label_without_a_space_after_its_colon_is_a_warning_naming_the_line(run, tmp_path):
    body = "Interviewer: How long?\nRespondent: Six years.\nInterviewer: And before?\nRespondent:Teaching.\n"
    folder = _folder(tmp_path / "in", "TIGHT", body)
    assert run("init", "p").returncode == 0
    result = run("import", str(folder), cwd=tmp_path / "p")
    assert result.returncode == 0, result.stderr
    assert (f"warning: {folder / 'tight.txt'}:4: 'Respondent' starts the line as a speaker's label does, but without"
            " ': ' after it, so the line was read as speech in the turn before; write 'Respondent: ' there, then import"
            " again") in result.stderr


def test_reparse_warnings_name_the_file_line_as_the_import_does(run, tmp_path):
    """--reparse numbered the text's lines under the file's name: six lines of front matter too high."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "schools.yaml").write_text(SCHOOLS, encoding="utf-8")
    path = folder / "fm.txt"
    path.write_text(f"---\n{_metadata('FM', {})}---\nInterviewer: Who?\nHeadteacher: Me.\nMary Brown: Hello.\n")
    assert run("init", "p").returncode == 0
    imported = run("import", str(folder), cwd=tmp_path / "p")
    assert f"warning: {path}:9: 'Mary Brown:' looks like a speaker label" in imported.stderr
    reparsed = run("import", "--reparse", "FM", cwd=tmp_path / "p")
    assert f"warning: {path}:9: 'Mary Brown:' looks like a speaker label" in reparsed.stderr
    path.unlink()
    assert "warning: FM:3: 'Mary Brown:' looks like a speaker label" in run("import", "--reparse", cwd=tmp_path / "p").stderr


def test_reparse_after_naming_the_speakers_keeps_every_coding(run, tmp_path):
    folder = _folder(tmp_path / "in", "ODD", WRONG_GUESS)
    run("init", "p")
    project = tmp_path / "p"
    assert run("import", str(folder), cwd=project).returncode == 0
    assert run("code", "ODD", "3", "tenure", "--new", cwd=project).returncode == 0
    assert run("code", "ODD", "7", "alliance", "--new", cwd=project).returncode == 0
    with sqlite3.connect(project / "qualcode.db") as db:
        codings = db.execute("SELECT * FROM codings ORDER BY id").fetchall()
    settings = project / "qualcode.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace('interviewer = []', 'interviewer = ["Alpha Team"]'),
        encoding="utf-8",
    )
    result = run("import", "--reparse", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    (changed,) = json.loads(result.stdout)
    assert (changed["turns_before"], changed["turns"], changed["participant_turns"]) == (4, 4, 2)
    assert changed["codings_in_participant_turns"] == [0, 2] and changed["warnings"] == []
    with sqlite3.connect(project / "qualcode.db") as db:
        assert db.execute("SELECT * FROM codings ORDER BY id").fetchall() == codings
    assert [(label, role) for label, role, _, _ in _turns(project, "ODD")] == [
        ("Alpha Team", "interviewer"), ("Beta Team", "participant")] * 2


def test_code_by_turn_and_tag_in_a_transcript_without_turns_explain(run, tmp_path):
    folder = _folder(tmp_path / "in", "LONE", "Alpha Team: How long have you been here?\nBeta Team: Six years.\n")
    run("init", "p")
    assert run("import", str(folder), cwd=tmp_path / "p").returncode == 0
    refused = run("code", "LONE", "--turn", "2", "pupils", "--new", cwd=tmp_path / "p")
    assert refused.returncode == 1 and "has no speaker turns" in refused.stderr and "--reparse LONE" in refused.stderr
    tag = run("tag", "LONE", cwd=tmp_path / "p")
    assert tag.returncode == 1 and "has no participant turns to tag" in tag.stderr and "--reparse LONE" in tag.stderr


def test_check_on_a_transcript_without_participant_turns_is_a_finding(run, tmp_path):
    folder = _folder(tmp_path / "in", "LONE", "Alpha Team: How long have you been here?\nBeta Team: Six years, give or take.\n")
    run("init", "p")
    project = tmp_path / "p"
    assert run("import", str(folder), cwd=project).returncode == 0
    report = tmp_path / "report.md"
    report.write_text("# Draft\n\n> Six years, give or take.\n\nHeadteacher, maintained primary school, Ofsted Good\n")
    result = run("check", str(report), cwd=project)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "not from a participant" in result.stdout + result.stderr


def test_commands_that_pass_over_a_transcript_without_participant_turns_say_so(run, tmp_path):
    folder = _folder(tmp_path / "in", "LONE", "Alpha Team: How long have you been here?\nBeta Team: Six years.\n")
    run("init", "p")
    project = tmp_path / "p"
    assert run("import", str(folder), cwd=project).returncode == 0
    assert run("code", "LONE", "2", "tenure", "--new", cwd=project).returncode == 0
    for command, verb in [(("query", "text", "years"), "searched"), (("report", "quotes", "-t", "tenure", "-f", "md"), "quoted")]:
        result = run(*command, cwd=project)
        assert result.returncode == 0, result.stderr
        assert f"1 transcript with no participant turns, so not {verb}: LONE" in result.stderr
