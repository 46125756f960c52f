"""`qualcode merge`: another copy's coded work brought in, every coding accounted for.

"Here" is the coded fixture project; "there" is a coder's own copy made from a
changed corpus: one transcript under another id (same text), one only there,
one with the same id but another text, a code only there, and its codings by
"tester" (as here) and "bea" (a name here does not know).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.backups import backup
from qualcode.coding.codebook import add_code, remove_code, rename_code
from qualcode.coding.consensus import CONSENSUS, keep, passages, recode
from qualcode.coding.manual import add_memo, apply_codes, undo
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.exchange.merging import DECIDED_OTHERWISE, merge
from qualcode.models import Code, Coding, Memo, Resolution
from qualcode.analysis.overview import code_paths
from qualcode.project import Project, init_project
from qualcode.exchange.qdpx.writer import export_qdpx
from tests.coded_fixture import make_coded_project, span_of
from tests.conftest import FIXTURES, table_rows
from tests.test_postgres import pg_url  # noqa: F401 (the fixture)

NEW_TRANSCRIPT = """---
id: EAS-S02-DH
role: Deputy head
school: EAS-S02
date: 2015-06-12
kind: full
---
Interviewer: What does the alliance give you?

Deputy headteacher: Training, mostly. Our new teachers train with the alliance.
"""

#: (transcript there, phrase, code, coder, memo) of the copy's codings.
THERE = [
    ("EAS-S02-HT", "Every September we count the Year 7 numbers and compare with the school down the road.",
     "markets/competition", "tester", None),  # here already, by the same coder
    ("EAS-S02-HT", "Every September we count the Year 7 numbers and compare with the school down the road.",
     "markets/competition", "bea", "Bea: the head counts every year."),  # another coder's coding of it
    ("EAS-S01-DH-v2", "It has opened doors.", "networks", "tester", None),  # here as EAS-S01-DH
    ("EAS-S01-DH-v2", "We go and see other classrooms now", "networks/visits", "bea", None),  # a code only there
    ("EAS-S02-DH", "Our new teachers train with the alliance.", "networks/tsa", "bea", None),  # a transcript only there
    ("NAT-I01", "Some areas have strong partnerships", "networks", "bea", None),  # same id, another text
]


def make_other_copy(root: Path, fixture_corpus: Path, database_url: str | None = None) -> Project:
    corpus = root / "corpus"
    shutil.copytree(fixture_corpus, corpus)
    eastern, national = corpus / "eastern", corpus / "national"
    moved = eastern / "EAS-S01-DH.md"
    (eastern / "EAS-S01-DH-v2.md").write_text(moved.read_text().replace("id: EAS-S01-DH\n", "id: EAS-S01-DH-v2\n"))
    moved.unlink()
    (eastern / "EAS-S02-DH.md").write_text(NEW_TRANSCRIPT)
    informant = national / "NAT-I01.md"
    informant.write_text(informant.read_text().replace("almost none", "hardly any"))
    project = init_project(root / "there", database_url=database_url)
    import_paths(project, [corpus])
    add_code(project, "networks", "bea", definition="Partnerships between schools.")  # here: no definition
    for path in ("markets", "markets/competition", "networks/tsa"):
        add_code(project, path, "bea")
    add_code(project, "networks/visits", "bea", definition="Staff visiting other schools' classrooms.")
    for transcript, phrase, code, coder, memo in THERE:
        apply_codes(project, transcript, [code], coder, span=span_of(project, transcript, phrase), memo=memo)
    add_memo(project, "code", "networks/visits", "Visits come up in every alliance school.", "bea")
    add_memo(project, "transcript", "EAS-S01-DH-v2", "Notes, not a recording.", "bea")
    add_memo(project, "school", "EAS-S01", "The head sees the alliance as the school's lifeline.", "bea")  # here already
    add_memo(project, "school", "EAS-S02", "A converter academy.", "bea")
    return project


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> tuple[Path, Path]:
    """Both projects, made once; each test merges fresh copies of their folders."""
    root = tmp_path_factory.mktemp("merge")
    made = make_coded_project(root / "here", FIXTURES / "corpus"), make_other_copy(root / "other", FIXTURES / "corpus")
    for project in made:
        project.close()
    return made[0].root, made[1].root


@pytest.fixture
def copies(tmp_path: Path, originals: tuple[Path, Path]) -> tuple[Project, Project]:
    here, there = (shutil.copytree(folder, tmp_path / name) for folder, name in zip(originals, ("here", "there")))
    return Project.open(here), Project.open(there)


def codings_of(project: Project) -> set[tuple]:
    with project.session() as session:
        paths = code_paths(session)
        return {(c.transcript_id, c.quote, paths[c.code_id], c.coder, c.memo) for c in session.scalars(select(Coding))}


def test_merge_keeps_every_coding_and_says_why_of_each_it_cannot(copies) -> None:
    here, there = copies
    before = codings_of(here)
    report = merge(here, there.root, "lead")

    codings = report.kinds["codings"]
    assert (codings.read, codings.merged, codings.already) == (6, 2, 2)
    assert dict(codings.unmatched) == {
        "transcript EAS-S02-DH is not in this project: import it first ('qualcode import FILE'), then merge again": 1,
        "transcript NAT-I01: its text here is not the text there (re-imported on one side?); bring both to the same text,"
        " then merge again": 1,
    }
    assert codings.read == codings.merged + codings.already + sum(codings.unmatched.values())
    added = codings_of(here) - before
    assert added == {
        ("EAS-S02-HT", THERE[1][1], "markets/competition", "bea", "Bea: the head counts every year."),
        ("EAS-S01-DH", THERE[3][1], "networks/visits", "bea", None),  # onto the same text under its id here
    }
    assert report.coders == {"tester": {"merged": 0, "already_present": 2, "unmatched": 0, "here_before": True},
                             "bea": {"merged": 2, "already_present": 0, "unmatched": 2, "here_before": False}}
    matched = {t["there"]: t["here"] for t in report.transcripts}
    assert matched["EAS-S01-DH-v2"] == "EAS-S01-DH" and matched["EAS-S02-DH"] is None and matched["NAT-I01"] is None

    assert (report.kinds["codes"].read, report.kinds["codes"].merged, report.kinds["codes"].already) == (5, 1, 4)
    assert "1 code(s) in both have another definition there; this project's is kept: networks" in report.notes
    assert "1 code(s) this project lacked, added: networks/visits" in report.notes  # named, not only counted
    with here.session() as session:
        visits = session.scalar(select(Code).where(Code.name == "visits"))
        assert code_paths(session)[visits.id] == "networks/visits"
        assert visits.definition == "Staff visiting other schools' classrooms."
        memos = {(m.target_kind, m.target_id, m.text) for m in session.scalars(select(Memo))}
    assert {("code", str(visits.id), "Visits come up in every alliance school."),
            ("transcript", "EAS-S01-DH", "Notes, not a recording."), ("school", "EAS-S02", "A converter academy.")} <= memos
    memo_tally = report.kinds["memos"]  # 4 memo rows and 1 coding's memo
    assert (memo_tally.read, memo_tally.merged, memo_tally.already, sum(memo_tally.unmatched.values())) == (5, 4, 1, 0)


def decisions_of(project: Project) -> set[tuple]:
    with project.session() as session:
        paths = code_paths(session)
        return {(r.transcript_id, r.start, r.end, paths[r.code_id], r.coders, r.decision, r.kept, r.resolved_by)
                for r in session.scalars(select(Resolution))}


def test_review_decisions_come_with_their_consensus_matched_like_the_codings(copies) -> None:
    here, there = copies
    [disputed] = passages(there, ["tester", "bea"])  # EAS-S01-DH-v2 line 5: tester's networks, bea's networks/visits
    keep(there, disputed, ["bea"], "cat")
    first = merge(here, there.root, "lead").kinds["resolutions"]
    assert (first.read, first.merged, first.already, dict(first.unmatched)) == (2, 2, 0, {})
    assert decisions_of(here) == {("EAS-S01-DH", disputed.start, disputed.end, code, "bea,tester", "keep", "bea", "cat")
                                  for code in ("networks", "networks/visits")}  # on the same text under its id here
    assert ("EAS-S01-DH", THERE[3][1], "networks/visits", CONSENSUS, None) in codings_of(here)
    resolved = {(p.transcript, p.start): p.resolution for p in passages(here, ["tester", "bea"])}
    assert resolved[("EAS-S01-DH", disputed.start)]["kept"] == ["bea"]  # here, settled as it was there

    undo(here, "lead")
    assert decisions_of(here) == set()  # undo takes the decisions back with the merge
    merge(here, there.root, "lead")
    again = merge(here, there.root, "lead").kinds["resolutions"]
    assert (again.merged, again.already) == (0, 2)
    undo(there, "cat")  # there, the question decided again, otherwise: here's decision stands, and theirs is listed
    recode(there, passages(there, ["tester", "bea"])[0], ["networks"], "cat")
    other = merge(here, there.root, "lead")
    assert dict(other.kinds["resolutions"].unmatched) == {DECIDED_OTHERWISE: 2} and other.kinds["resolutions"].merged == 0
    assert {d[5] for d in decisions_of(here)} == {"keep"}
    assert ("resolutions", 2, 0, 0, 2, f"2: {DECIDED_OTHERWISE}") in other.rows()
    remove_code(there, "networks/visits", "bea", force=True)  # a decision outlives its code, and says so
    why = merge(here, there.root, "lead", dry_run=True).kinds["resolutions"].unmatched
    assert why.pop(DECIDED_OTHERWISE) == 1 and [w.split(" (")[0] for w in why] == ["on a code removed there"]


def test_a_transcript_imported_after_a_merge_brings_its_codings_at_the_next(tmp_path: Path, copies) -> None:
    here, there = copies
    merge(here, there.root, "lead")
    (tmp_path / "EAS-S02-DH.md").write_text(NEW_TRANSCRIPT)
    import_paths(here, [tmp_path / "EAS-S02-DH.md"])
    report = merge(here, there.root, "lead")
    assert report.kinds["codings"].merged == 1 and list(report.kinds["codings"].unmatched) == [
        "transcript NAT-I01: its text here is not the text there (re-imported on one side?); bring both to the same text,"
        " then merge again"]
    assert ("EAS-S02-DH", THERE[4][1], "networks/tsa", "bea", None) in codings_of(here)


def test_merging_twice_adds_nothing_and_undo_takes_a_merge_back(copies) -> None:
    here, there = copies
    before = table_rows(here)
    first = merge(here, there.root, "lead")
    again = merge(here, there.root, "lead")
    for kind in ("codes", "codings", "memos"):
        assert again.kinds[kind].merged == 0
        assert again.kinds[kind].already == first.kinds[kind].merged + first.kinds[kind].already
    undo(here, "lead")
    after = table_rows(here)
    assert {name: rows for name, rows in after.items() if name != "changes"} == \
           {name: rows for name, rows in before.items() if name != "changes"}


def test_a_dry_run_writes_nothing_and_counts_the_same(copies) -> None:
    here, there = copies
    before = table_rows(here)
    dry = merge(here, there.root, "lead", dry_run=True)
    assert table_rows(here) == before
    assert dry.as_json()["codings"] == merge(here, there.root, "lead").as_json()["codings"]


def test_a_backup_a_database_and_a_qdpx_merge_as_the_project_does(tmp_path: Path, copies) -> None:
    here, there = copies
    sources = {"dump": tmp_path / "there.zip", "copy": tmp_path / "there.db", "qdpx": tmp_path / "there.qdpx"}
    backup(there, sources["dump"])
    backup(there, sources["copy"])
    export_qdpx(there, sources["qdpx"])
    expected = merge(here, there.root, "lead", dry_run=True).as_json()["codings"]
    for name, source in sources.items():
        found = merge(here, source, "lead", dry_run=True).as_json()["codings"]
        assert found == expected, name
    merge(here, sources["qdpx"], "lead")
    assert ("EAS-S01-DH", THERE[3][1], "networks/visits", "bea", None) in codings_of(here)


def test_bad_sources_are_refused(tmp_path: Path, copies) -> None:
    here, _ = copies
    (tmp_path / "notes.txt").write_text("not a project")
    (tmp_path / "empty").mkdir()
    with pytest.raises(QualcodeError, match="no such file or folder"):
        merge(here, tmp_path / "missing", "lead")
    with pytest.raises(QualcodeError, match="not a qualcode project"):
        merge(here, tmp_path / "empty", "lead")
    with pytest.raises(QualcodeError, match="not a qualcode backup"):
        merge(here, tmp_path / "notes.txt", "lead")
    with pytest.raises(QualcodeError, match="this project's own database"):
        merge(here, here.root, "lead")
    # A copy cut short (a half-synced laptop file), or damaged inside: said of that copy, not of this project's database.
    whole = (here.root / "qualcode.db").read_bytes()
    (tmp_path / "cut.db").write_bytes(whole[:5000])
    with pytest.raises(QualcodeError, match=r"cut.db: this backup is damaged or empty and cannot be read .*project is untouched"):
        merge(here, tmp_path / "cut.db", "lead")
    damaged = bytearray(whole)
    for page in range(8192, len(damaged), 4096):
        damaged[page:page + 100] = b"\xff" * 100
    (tmp_path / "damaged.db").write_bytes(bytes(damaged))
    with pytest.raises(QualcodeError, match=r"damaged.db: that copy's database cannot be read \(.*\); this project is untouched"):
        merge(here, tmp_path / "damaged.db", "lead")


def test_merge_command(tmp_path: Path, run, copies) -> None:
    here, there = copies
    result = run("merge", str(there.root), "--coder", "lead", "--project", str(here.root))
    assert result.returncode == 0, result.stderr
    assert "import it first" in result.stdout and "bea" in result.stdout and "resolutions" in result.stdout
    assert "merged 2 codings" in result.stderr and "2 already present, 2 unmatched" in result.stderr
    missing = run("merge", str(tmp_path / "nowhere"), "--project", str(here.root), "--json")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr and "no such file" in missing.stderr


def test_a_copy_on_a_database_server_is_read_where_it_is(tmp_path: Path, copies, pg_url: str) -> None:
    here, there = copies
    expected = merge(here, there.root, "lead", dry_run=True).as_json()
    on_server = make_other_copy(tmp_path / "server", FIXTURES / "corpus", database_url=pg_url)
    try:
        found = merge(here, on_server.root, "lead").as_json()
    finally:
        on_server.close()
    assert [found[kind] for kind in ("codes", "codings", "memos")] == [expected[kind] for kind in ("codes", "codings", "memos")]


def test_a_copy_that_kept_a_code_renamed_here_is_said_and_its_important_flags_come_in(tmp_path: Path, copies) -> None:
    """Two copies of one project: here a code was renamed, there a coding was marked important. The rename is
    named (not a silent second code), and the flag is not dropped from a coding both hold."""
    here, _ = copies
    there = Project.open(shutil.copytree(here.root, tmp_path / "laptop"))
    with there.session() as session:
        renamed = session.scalar(select(Code.id).where(Code.name == "competition"))
        flagged = session.scalars(select(Coding).where(Coding.code_id != renamed).order_by(Coding.id)).first()
        flagged.important, flagged_id = True, flagged.id
    rename_code(here, "markets/competition", "rivalry", "lead")
    report = merge(here, there.root, "lead")
    notes = "\n".join(report.notes)
    assert "code markets/competition there is markets/rivalry here" in notes
    assert "codebook merge markets/competition markets/rivalry" in notes
    assert "1 coding(s) present in both are marked important there" in notes
    with here.session() as session:
        assert session.get(Coding, flagged_id).important
    undo(here, "lead")
    with here.session() as session:
        assert not session.get(Coding, flagged_id).important
