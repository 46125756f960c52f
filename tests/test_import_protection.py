"""Imports that protect coded work: refusals without --update, what --update shows and snapshots,
unplaced codings left out of every count and quote, and the id, role and numeric-code errors."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.coding.manual import apply_codes
from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed, QualcodeError
from qualcode.models import Coding, Transcript
from qualcode.analysis.query import find
from qualcode.analysis.query_matrix import matrix
from qualcode.ingest.reimport import diff_size
from qualcode.reports.quotes import Selection, build_quotes
from tests.coded_fixture import make_coded_project

FIX = "import again with 'qualcode import --update'"
#: A passage of EAS-S02-HT coded with markets (accepted) in the coded fixture, removed by `_edit_text`.
GONE = "It brings status but also pressure."


def _digest(project) -> str:
    project.close()  # SQLite folds its write-ahead log into the file
    return hashlib.sha256(Path(project.database_url.removeprefix("sqlite:///")).read_bytes()).hexdigest()


def _edit_text(corpus: Path) -> Path:
    path = corpus / "eastern" / "EAS-S02-HT.md"
    path.write_text(path.read_text(encoding="utf-8").replace(GONE, "That is another story."), encoding="utf-8")
    return path


def _refused(project, paths, *expected: str) -> list[str]:
    before = _digest(project)
    with pytest.raises(ImportFailed) as error:
        import_paths(project, paths)
    assert _digest(project) == before, "a refused import left the database byte-identical"
    messages = [str(problem) for problem in error.value.problems]
    for text in expected:
        assert any(text in message for message in messages), (text, messages)
    assert all(FIX in message for message in messages)
    return messages


@pytest.fixture
def coded(tmp_path: Path, corpus: Path):
    return make_coded_project(tmp_path / "coded", corpus)


def test_a_changed_text_of_a_coded_transcript_is_refused(coded, corpus):
    path = _edit_text(corpus)
    [message] = _refused(coded, [path], "would replace the text of EAS-S02-HT")
    assert message.startswith(f"{path}:8: ")  # the first line of the body
    assert "+21/-34 characters, +1/-1 lines; 3 codings: 2 re-anchored exactly, 0 fuzzily, 1 unplaced" in message


def test_a_copied_id_is_refused_naming_the_file_it_would_replace(coded, corpus, tmp_path):
    copy = tmp_path / "new-interview.md"
    copy.write_text("---\nid: EAS-S02-HT\nrole: Principal\nschool: EAS-S02\nkind: full\n---\nInterviewer: Hello?\n\nPrincipal: A new talk.\n",
                    encoding="utf-8")
    [message] = _refused(coded, [copy], "would replace the text of EAS-S02-HT (imported from",
                         "give it an 'id' of its own")
    assert "EAS-S02-HT.md" in message and message.startswith(f"{copy}:7: ")


def test_a_participant_typo_or_changed_role_is_refused(coded, corpus):
    path = corpus / "eastern" / "EAS-S01-DH.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("id: EAS-S01-DH\n", "id: EAS-S01-DH\nparticipant: EAS-S02-HT\n"), encoding="utf-8")
    messages = _refused(coded, [path], "participant: 'EAS-S02-HT' would take EAS-S01-DH",
                        "role: would change role of participant 'EAS-S02-HT' from 'Principal' to 'Deputy headteacher'",
                        "school: would change school of participant 'EAS-S02-HT' from 'EAS-S02' to 'EAS-S01'")
    assert all(message.startswith(f"{path}:") for message in messages)
    path.write_text(text.replace("role: Deputy head", "role: Teacher"), encoding="utf-8")
    _refused(coded, [path], "role: would change role of participant 'EAS-S01-DH' from 'Deputy headteacher' to 'Teacher'")


def test_a_transcript_without_codings_may_change_freely(project, corpus):
    import_paths(project, [corpus])
    report = import_paths(project, [_edit_text(corpus)])
    assert report.updated == ["EAS-S02-HT"] and report.snapshot is None


def test_update_shows_the_changes_and_snapshots_the_old_database_first(coded, corpus):
    with coded.session() as session:
        old_text = session.get(Transcript, "EAS-S02-HT").text
    path = _edit_text(corpus)
    path.write_text(path.read_text(encoding="utf-8").replace("role: Principal", "role: Headteacher"), encoding="utf-8")
    report = import_paths(coded, [path], update=True)
    [change] = report.changes.texts
    assert (change.transcript, change.chars_added, change.chars_removed, change.lines_added, change.lines_removed) == (
        "EAS-S02-HT", 21, 34, 1, 1)
    assert dict(change.anchors) == {"exact": 2, "unplaced": 1}
    [attribution] = report.changes.attributions
    assert (attribution.old, attribution.new) == ("Principal, secondary converter academy, Ofsted Outstanding",
                                                  "Headteacher, secondary converter academy, Ofsted Outstanding")
    snapshot = report.snapshot.path
    assert snapshot.parent == coded.root / ".qualcode" / "snapshots" and snapshot.name.endswith("Z-before-import.db")
    with sqlite3.connect(snapshot) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT text FROM transcripts WHERE id = 'EAS-S02-HT'").fetchone() == (old_text,)
        assert copy.execute("SELECT role FROM participants WHERE id = 'EAS-S02-HT'").fetchone() == ("Principal",)
    with coded.session() as session:
        assert GONE not in session.get(Transcript, "EAS-S02-HT").text


def test_diff_size_counts_characters_and_lines():
    assert diff_size("a\nb\nc\n", "a\nb\nc\n") == (0, 0, 0, 0)
    assert diff_size("one\ntwo\n", "one\ntwo!\nthree\n") == (7, 0, 2, 1)
    assert diff_size("one\ntwo\n", "one\n") == (0, 4, 0, 1)


def test_unplaced_codings_are_left_out_of_matrix_quotes_and_find(coded, corpus):
    before = matrix(coded, codes="markets")
    assert before.loc["markets", "Eastern"] == 2
    import_paths(coded, [_edit_text(corpus)], update=True)
    with coded.session() as session:
        [unplaced] = session.scalars(select(Coding).where(Coding.anchor == "unplaced")).all()
        assert unplaced.quote == GONE
    assert matrix(coded, codes="markets").loc["markets", "Eastern"] == 1
    assert matrix(coded, codes="markets", rollup=True).loc["markets", "Eastern"] == 3
    quotes = build_quotes(coded, "markets", Selection())
    assert quotes and not any("status but also pressure" in quote.text for quote in quotes)
    assert not any("status but also" in text for text in find(coded, "markets")["text"])


def test_codings_unplaced_lists_them_and_queries_say_how_many_were_left_out(coded, corpus, run):
    import_paths(coded, [_edit_text(corpus)], update=True)
    coded.close()
    listed = run("codings", "--unplaced", "--json", cwd=coded.root)
    assert listed.returncode == 0, listed.stderr
    [row] = __import__("json").loads(listed.stdout)
    assert (row["transcript"], row["code"], row["coder"], row["quote"]) == ("EAS-S02-HT", "markets", "tester", GONE)
    assert row["end"] - row["start"] == len(GONE)
    shown = run("query", "matrix", "--codes", "markets", cwd=coded.root)
    assert shown.returncode == 0, shown.stderr
    assert "1 unplaced coding not counted" in shown.stderr and "codings --unplaced" in shown.stderr


def test_cli_refuses_without_update_and_snapshots_with_it(coded, corpus, run):
    path = _edit_text(corpus)
    coded.close()
    refused = run("import", str(path), cwd=coded.root)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "would replace the text of EAS-S02-HT" in refused.stderr and "--update" in refused.stderr
    updated = run("import", str(path), "--update", cwd=coded.root)
    assert updated.returncode == 0, updated.stderr
    assert "coded transcripts whose text changes" in updated.stdout and "+21 / -34" in updated.stdout
    snapshots = list((coded.root / ".qualcode" / "snapshots").glob("*.db"))
    assert len(snapshots) == 1 and f"snapshot of the database before this import: {snapshots[0]}" in updated.stderr


def _front(tmp_path: Path, extra: str, name: str = "T.md") -> Path:
    path = tmp_path / name
    path.write_text(f"---\n{extra}date: 2015-06-11\nkind: full\n---\nInterviewer: Hello?\n\nTeacher: Hello.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("front", "expected"), [
    ("id: EAS S01/T1\nrole: Teacher\nschool: EAS-S01\n",
     "id: the transcript id 'EAS S01/T1' holds a space, '/': use only letters, digits, '-', '_' and '.'"),
    (f"id: {'T' * 78}\nparticipant: P1\nrole: Teacher\nschool: EAS-S01\n",
     f"id: the transcript id '{'T' * 78}' is 78 characters: shorten it to at most 60"),
    (f"id: {'T' * 50}\nrole: Teacher\nschool: EAS-S01\n",
     "the transcript id '" + "T" * 50 + "' is also the participant's, which may have at most 40 characters"),
    ("id: T1\nparticipant: Ms Smith\nrole: Teacher\nschool: EAS-S01\n",
     "participant: the participant id 'Ms Smith' holds a space"),
    ("id: T1\nrole: Teacher\nschool: EAS/S09\nlocality: Eastern\nphase: primary\nschool_type: maintained\n",
     "school: the school id 'EAS/S09' holds '/'"),
    ("id: T1\nrole: Headteacher\ninformant_kind: NCTL\nschool: EAS-S01\n",
     "informant_kind: give 'role' (school staff) or 'informant_kind' (system informant), not both"),
])
def test_unsafe_ids_and_role_with_informant_kind_are_errors(project, corpus, tmp_path, front, expected):
    import_paths(project, [corpus])
    before = _digest(project)
    with pytest.raises(ImportFailed) as error:
        import_paths(project, [_front(tmp_path, front)])
    assert any(expected in str(problem) for problem in error.value.problems), [str(p) for p in error.value.problems]
    assert _digest(project) == before


def test_a_numeric_new_code_is_an_error_with_the_right_order(coded, run):
    with pytest.raises(QualcodeError, match=r"'12' looks like line numbers, not a code name"):
        apply_codes(coded, "EAS-S02-HT", ["12", "pupils"], "tester", turn=2, new=True)
    coded.close()
    before = _digest(coded)
    result = run("code", "EAS-S02-HT", "12", "pupils", "--turn", "2", "--new", cwd=coded.root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "'qualcode code EAS-S02-HT pupils --turn 2'" in result.stderr
    assert "'qualcode code EAS-S02-HT 12 pupils' (LINES, without --turn)" in result.stderr
    assert _digest(coded) == before


def test_evaluate_leaves_out_unplaced_suggestions_and_counts_them(coded, corpus, tmp_path):
    from qualcode.suggestions.evaluation import evaluate

    with coded.session() as session:
        text = session.get(Transcript, "NAT-I01").text
    gold = tmp_path / "gold.csv"
    gold.write_text(f"transcript,start,end,code\nNAT-I01,0,{len(text)},networks\n", encoding="utf-8")
    assert (evaluate(coded, gold)["suggestions"], evaluate(coded, gold)["unplaced"]) == (1, 0)
    path = corpus / "national" / "NAT-I01.md"
    suggested = "Some areas have strong partnerships and others have almost none."
    path.write_text(path.read_text(encoding="utf-8").replace(suggested, "It varies."), encoding="utf-8")
    import_paths(coded, [path], update=True)
    result = evaluate(coded, gold)
    assert (result["suggestions"], result["unplaced"]) == (0, 1)
