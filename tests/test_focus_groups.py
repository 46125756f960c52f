"""Focus groups: a transcript whose `speakers:` maps labels to participants quotes each speaker as themself,
in the speaker table, `show`, `query find/text/matrix`, quote banks and `check`; bad maps are errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualcode.coding.codebook import add_code
from qualcode.coding.manual import apply_codes
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed
from qualcode.models import Participant
from qualcode.project import init_project
from qualcode.analysis.framework import framework
from qualcode.analysis.query import find
from qualcode.analysis.query_matrix import matrix
from qualcode.analysis.query_text import text_search

FOCUS_GROUP = """---
id: EAS-S01-FG
school: EAS-S01
date: 2016-03-14
kind: full
speakers:
  Teacher A: {participant: EAS-S01-T1, role: Teacher}
  Teacher B: {participant: EAS-S01-T2, role: Teaching assistant}
  Head: EAS-S01-HT
---
Interviewer: How do you work with the other schools?

Teacher A: We share training days with the alliance schools.

Teacher B: The trust tells us what to do about the curriculum.

Head: The alliance matters most to us.

Interviewer: Anything else?

Teacher A: Competition for pupils is fierce here.
"""
LINES = {"EAS-S01-T1": "Teacher, maintained primary school, Ofsted Good",
         "EAS-S01-T2": "Teaching assistant, maintained primary school, Ofsted Good"}


def add_focus_group(corpus: Path, text: str = FOCUS_GROUP) -> Path:
    path = corpus / "eastern" / "EAS-S01-FG.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path: Path, corpus: Path):
    add_focus_group(corpus)
    project = init_project(tmp_path / "study")
    import_paths(project, [corpus])
    add_code(project, "networks", "ann")
    add_code(project, "markets", "ann")
    for turn, code in ((2, "networks"), (3, "networks"), (4, "networks"), (6, "markets")):
        apply_codes(project, "EAS-S01-FG", [code], "ann", turn=turn)
    return project


def test_each_speakers_passages_carry_their_own_metadata_and_line(study):
    found = find(study, "networks", raw=True).query("transcript == 'EAS-S01-FG'")
    rows = {row.text[:12]: (row.participant, row.attribution) for row in found.itertuples()}
    assert rows["We share tra"] == ("EAS-S01-T1", LINES["EAS-S01-T1"])
    assert rows["The trust te"] == ("EAS-S01-T2", LINES["EAS-S01-T2"])
    assert rows["The alliance"][0] == "EAS-S01-HT" and rows["The alliance"][1].startswith("Headteacher")
    assistants = find(study, "networks", where={"role": "Teaching assistant"}, raw=True)
    assert list(assistants["participant"]) == ["EAS-S01-T2"]
    [hit] = text_search(study, "competition", raw=True).itertuples()
    assert (hit.participant, hit.attribution) == ("EAS-S01-T1", LINES["EAS-S01-T1"])
    # a filter on role keeps each focus-group hit by its own speaker's role, not the transcript's participant's
    def trust_said_by(role: str) -> list[str]:
        found = text_search(study, "trust", where={"role": role}, raw=True).query("transcript == 'EAS-S01-FG'")
        return list(found["participant"])

    assert trust_said_by("Teaching assistant") == ["EAS-S01-T2"] and trust_said_by("Teacher") == []


def test_a_matrix_by_role_counts_each_speaker_under_their_role(study):
    table = matrix(study, "networks,markets", by="role")
    assert table.loc["networks", "Teaching assistant"] == 1 and table.loc["markets", "Teacher"] == 1
    assert table.loc["networks", "Teacher"] == 1 and table.loc["networks", "Headteacher"] >= 1
    people = matrix(study, "networks", by="locality", unit="participants")
    assert people.loc["networks", "Eastern"] == 3  # T1, T2 and the head, not the transcript's one participant
    with study.session() as session:  # every Eastern participant speaks in some interview of this corpus
        eastern = session.scalar(select(func.count()).where(Participant.locality_name == "Eastern"))
    shares = matrix(study, "networks", by="locality", unit="participants", percent="column")
    assert shares.loc["networks", "Eastern"] == round(100 * 3 / eastern, 1)  # the speakers are in the denominator too


def test_a_framework_counts_each_speaker_as_their_own_case(study):
    people = framework(study, by="participant", codes="networks,markets")
    assert {case: people.loc[case].to_dict() for case in ("EAS-S01-T1", "EAS-S01-T2")} == {
        "EAS-S01-T1": {"networks": 1, "markets": 1}, "EAS-S01-T2": {"networks": 1, "markets": 0}}
    assert people.loc["EAS-S01-HT", "networks"] == 1
    # a school's count (in SQL) is its speakers' together; a filter on their role keeps only their passages
    assert framework(study, codes="networks,markets").loc["EAS-S01"].to_dict() == {"networks": 3, "markets": 1}
    teachers = framework(study, codes="networks,markets", where={"role": "Teacher"})
    assert teachers.loc["EAS-S01"].to_dict() == {"networks": 1, "markets": 1}


def test_the_command_line_shows_the_map_and_check_knows_who_said_what(study, run):
    folder = study.root
    table = run("import", "--reparse", "EAS-S01-FG", cwd=folder)
    assert table.returncode == 0, table.stderr
    shown = json.loads(run("show", "EAS-S01-FG", "--json", cwd=folder).stdout)
    assert [t["speaker"] for t in shown["turns"]] == ["interviewer", "EAS-S01-T1", "EAS-S01-T2", "EAS-S01-HT",
                                                      "interviewer", "EAS-S01-T1"]
    written = run("report", "quotes", "--theme", "networks", "-o", "q.md", cwd=folder)
    assert written.returncode == 0, written.stderr
    report = (folder / "q.md").read_text(encoding="utf-8")
    assert "We share training days" in report and LINES["EAS-S01-T2"] in report
    assert run("check", "q.md", cwd=folder).returncode == 0
    swapped = report.replace(LINES["EAS-S01-T2"], LINES["EAS-S01-T1"])
    (folder / "swapped.md").write_text(swapped, encoding="utf-8")
    checked = run("check", "swapped.md", cwd=folder)
    assert checked.returncode == 1 and f"said by EAS-S01-FG: '{LINES['EAS-S01-T2']}'" in checked.stdout + checked.stderr


def test_the_import_prints_whom_each_label_is(tmp_path: Path, corpus: Path, run):
    add_focus_group(corpus)
    assert run("init", "study").returncode == 0
    imported = run("import", str(corpus), cwd=tmp_path / "study")
    assert imported.returncode == 0, imported.stderr
    assert "Teacher A = EAS-S01-T1 (2)" in imported.stdout and "Teacher B = EAS-S01-T2 (1)" in imported.stdout
    assert "warning" not in imported.stderr


@pytest.mark.parametrize(("speakers", "expected"), [
    ("speakers: [Teacher A]", "speakers: expected a mapping of speaker labels to participants"),
    ("speakers:\n  Teacher A: {role: Teacher}", "'Teacher A': no 'participant' id"),
    ("speakers:\n  Teacher A: {participant: EAS-S01-T1, role: Teacher, age: 40}", "'Teacher A': unknown field 'age'"),
    ("speakers:\n  Teacher A: {participant: EAS-S01 T1, role: Teacher}", "the participant id 'EAS-S01 T1' holds a space"),
    ("speakers:\n  Teacher A: {participant: EAS-S01-T1, role: Teachr}", "did you mean 'Teacher'"),
    ("speakers:\n  Teacher A: {participant: EAS-S01-T1, role: Teacher}\n  Head: EAS-S01-HX",
     "'EAS-S01-HX' is not a known participant (for 'Head'"),
    ("speakers:\n  Teacher A: {participant: EAS-S01-T1, role: Teacher}\n  Teacher B: {participant: EAS-S01-T1,"
     " role: Governor}", "'Teacher B' and 'Teacher A' are both EAS-S01-T1 with different roles"),
])
def test_a_bad_speakers_map_is_an_error_naming_the_file_and_field(tmp_path: Path, corpus: Path, speakers, expected):
    head, body = FOCUS_GROUP.split("---\n", 2)[1:]
    kept = head.split("speakers:")[0]
    path = add_focus_group(corpus, f"---\n{kept}{speakers}\n---\n{body}")
    project = init_project(tmp_path / "study")
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [corpus])
    messages = [str(problem) for problem in error.value.problems]
    assert any(message.startswith(f"{path}") and expected in message for message in messages), messages


def test_unmapped_and_silent_speakers_are_warnings(tmp_path: Path, corpus: Path):
    add_focus_group(corpus, FOCUS_GROUP.replace("  Head: EAS-S01-HT\n", "  Deputy: EAS-S01-DH\n"))
    report = import_paths(init_project(tmp_path / "study"), [corpus])
    warnings = [str(w) for w in report.warnings]
    assert any("participant speaker 'Head' not under 'speakers:'" in w for w in warnings), warnings
    assert any("'Deputy' under 'speakers:' never speaks in the text" in w for w in warnings), warnings


def test_changing_the_map_of_a_coded_focus_group_needs_update(study, corpus: Path):
    add_focus_group(corpus, FOCUS_GROUP.replace("{participant: EAS-S01-T2", "{participant: EAS-S01-T3"))
    with pytest.raises(ImportFailed) as refused:
        import_paths(study, [corpus])
    assert "would change whose words the turns of EAS-S01-FG are" in str(refused.value.problems)
    import_paths(study, [corpus], update=True)
    found = find(study, "networks", where={"role": "Teaching assistant"}, raw=True)
    assert list(found["participant"]) == ["EAS-S01-T3"]
