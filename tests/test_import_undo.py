"""An import, an `import --update` and an `import --reparse` are each one change that `qualcode undo` takes back
exactly: texts, turns (written in bulk), participants, partnership memberships and re-anchored codings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from qualcode.coding.manual import apply_codes, undo
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.models import Coding, Transcript, Turn
from qualcode.project import init_project
from qualcode.ingest.turns import reparse
from tests.coded_fixture import make_coded_project
from tests.conftest import table_rows
from tests.test_import_protection import GONE, _edit_text


def without_changes(project) -> dict:
    return {name: rows for name, rows in table_rows(project).items() if name != "changes"}


@pytest.fixture
def coded(tmp_path: Path, corpus: Path):
    return make_coded_project(tmp_path / "coded", corpus)


def test_undoing_the_first_import_leaves_the_project_as_it_was_made(tmp_path: Path, corpus: Path):
    project = init_project(tmp_path / "study")
    before = without_changes(project)
    report = import_paths(project, [corpus], coder="ann")
    after = without_changes(project)
    assert len(report.added) == 4 and after["turns"] and after["partnership_members"]
    change = undo(project, "ann")
    assert change.action == "import" and "4 new" in change.description
    assert without_changes(project) == before


def test_undoing_an_update_gives_back_the_text_its_turns_and_where_its_codings_were(coded, corpus: Path):
    before = without_changes(coded)
    import_paths(coded, [_edit_text(corpus)], update=True, coder="ann")
    with coded.session() as session:
        assert GONE not in session.get(Transcript, "EAS-S02-HT").text
        assert "unplaced" in session.scalars(select(Coding.anchor).where(Coding.transcript_id == "EAS-S02-HT")).all()
    assert without_changes(coded) != before
    undo(coded, "ann")
    assert without_changes(coded) == before


def test_a_coding_made_on_the_new_text_holds_back_the_updates_undo(coded, corpus: Path):
    before = without_changes(coded)
    import_paths(coded, [_edit_text(corpus)], update=True, coder="ann")
    apply_codes(coded, "EAS-S02-HT", ["markets"], "bea", turn=2)
    with pytest.raises(QualcodeError, match="bea must undo that first"):
        undo(coded, "ann")
    undo(coded, "bea")
    undo(coded, "ann")
    assert without_changes(coded) == before


def test_a_reparse_is_undone_turns_and_all(coded):
    with coded.session() as session:  # turns lost outside qualcode: a reparse reads them again
        session.execute(delete(Turn).where(Turn.transcript_id == "EAS-S01-HT"))
    before = without_changes(coded)
    [result] = reparse(coded, ["EAS-S01-HT"], coder="ann")
    assert result.summary.turns > 0 and without_changes(coded)["turns"] != before["turns"]
    undo(coded, "ann")
    assert without_changes(coded) == before


def test_undo_refuses_turns_changed_since_by_something_unrecorded(coded):
    reparse(coded, ["EAS-S01-HT"], coder="ann")  # nothing to re-read: no change is recorded
    with coded.session() as session:
        session.execute(delete(Turn).where(Turn.transcript_id == "EAS-S01-HT"))
    reparse(coded, ["EAS-S01-HT"], coder="ann")
    with coded.session() as session:
        session.get(Turn, session.scalar(select(Turn.id).where(Turn.transcript_id == "EAS-S01-HT"))).speaker = "X"
    with pytest.raises(QualcodeError, match="turns of EAS-S01-HT are no longer as that change left them"):
        undo(coded, "ann")


def _as_recorded_before_digest_v2(project) -> None:
    """Give the last change's bulk replacements the digest changes recorded before `_DIGEST_SCHEME` carry."""
    from qualcode.history import _bulk_rows, _digest_v1
    from qualcode.models import Base, Change

    with project.session() as session:
        change = session.scalars(select(Change).order_by(Change.id.desc())).first()
        inverse = json.loads(json.dumps(change.inverse))
        for op in (op for op in inverse["ops"] if op["op"] == "replace"):
            assert op["after"].startswith("v2:")
            op["after"] = _digest_v1(*_bulk_rows(session, Base.metadata.tables[op["table"]], op["column"], op["values"]))
        change.inverse = inverse


@pytest.mark.parametrize("edited_since", [False, True])
def test_a_reparse_recorded_with_the_earlier_digest_is_undone_or_refused_as_before(coded, edited_since):
    with coded.session() as session:
        session.execute(delete(Turn).where(Turn.transcript_id == "EAS-S01-HT"))
    before = without_changes(coded)
    reparse(coded, ["EAS-S01-HT"], coder="ann")
    _as_recorded_before_digest_v2(coded)
    if not edited_since:
        undo(coded, "ann")
        assert without_changes(coded) == before
        return
    with coded.session() as session:
        session.get(Turn, session.scalar(select(Turn.id).where(Turn.transcript_id == "EAS-S01-HT"))).end += 1
    with pytest.raises(QualcodeError, match="turns of EAS-S01-HT are no longer as that change left them"):
        undo(coded, "ann")


def test_import_history_and_undo_from_the_command_line(tmp_path: Path, corpus: Path, run):
    assert run("init", "study").returncode == 0
    folder, ann = tmp_path / "study", {"QUALCODE_CODER": "ann"}
    assert run("import", str(corpus), cwd=folder, env=ann).returncode == 0
    [change] = json.loads(run("history", "--json", cwd=folder).stdout)
    assert (change["coder"], change["action"]) == ("ann", "import") and "corpus: 4 new" in change["description"]
    undone = run("undo", cwd=folder, env=ann)
    assert undone.returncode == 0 and "undone: import corpus" in undone.stderr + undone.stdout
    assert json.loads(run("transcripts", "--json", cwd=folder).stdout) == []
