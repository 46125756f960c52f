"""Undo restores exactly, touches only its coder's changes, and refuses (naming the later change) when it cannot.

The property test runs random changes of every kind (autocode runs on one
transcript included) by three coders on a real project (SQLite, and PostgreSQL
when a server is available), then undoes them in a random interleaving of
coders, and compares every table with how it was.
`QUALCODE_UNDO_EXAMPLES` runs more examples than the default.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from qualcode import history
from qualcode.coding.codebook import add_code, load_codebook_file, merge_codes, move_code, remove_code, rename_code
from qualcode.coding.manual import add_memo, apply_codes, change_history, review_suggestion, uncode, undo
from qualcode.ingest.corpus import import_paths
from qualcode.errors import QualcodeError
from qualcode.models import Change, Code, Coding, Transcript
from qualcode.analysis.overview import code_paths
from qualcode.project import Project, init_project
from tests.conftest import FIXTURES, REPO, table_rows
from tests.test_postgres import _server_url

CODERS = ("ann", "bea", "cy")
KINDS = ("code", "code-new", "uncode", "memo", "add", "rename", "move", "merge", "rm", "review", "autocode")
EXAMPLES = int(os.environ.get("QUALCODE_UNDO_EXAMPLES", "0"))


def build(root: Path, database_url: str | None = None) -> Project:
    """The fixture corpus, the bundled codebook, and two autocode suggestions to accept or reject."""
    project = init_project(root, database_url=database_url)
    import_paths(project, [FIXTURES / "corpus"])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "setup")
    for code, turn in (("markets", 2), ("networks", 3)):
        apply_codes(project, "EAS-S02-HT", [code], "autocode", turn=turn, origin="suggested")
    return project


def without_changes(rows: dict) -> dict:
    return {name: value for name, value in rows.items() if name != "changes"}


# -- the property ------------------------------------------------------------------------------

action = st.tuples(st.sampled_from(KINDS), st.sampled_from(CODERS), *[st.integers(0, 10_000)] * 3)


def act(project: Project, kind: str, coder: str, a: int, b: int, c: int) -> None:
    """One change as a user would make it; a refusal (QualcodeError) is a change that did not happen."""
    from qualcode.suggestions.autocode import autocode

    with project.session() as session:
        paths = sorted(code_paths(session).values())
        transcripts = sorted((t.id, len(t.turns)) for t in session.scalars(select(Transcript)))
        codings = list(session.scalars(select(Coding.id).order_by(Coding.id)))
        suggested = list(session.scalars(select(Coding.id).where(Coding.origin == "suggested").order_by(Coding.id)))
    transcript, turns = transcripts[a % len(transcripts)]
    turn = 1 + b % turns
    pick = lambda n: paths[n % len(paths)]  # noqa: E731
    calls = {
        "code": lambda: apply_codes(project, transcript, [pick(c)], coder, turn=turn),
        "code-new": lambda: apply_codes(project, transcript, [f"emerging/e{c % 4}"], coder, turn=turn, new=True),
        "uncode": lambda: uncode(project, transcript, coder, turn=turn),
        "memo": lambda: (
            add_memo(project, "code", pick(b), f"memo {c}", coder) if a % 3 == 0
            else add_memo(project, "coding", str(codings[b % len(codings)]), f"memo {c}", coder) if a % 3 == 1 and codings
            else add_memo(project, "transcript", transcript, f"memo {c}", coder)
        ),
        "add": lambda: add_code(project, f"{pick(a)}/n{b % 5}" if c % 3 else f"n{b % 5}", coder),
        "rename": lambda: rename_code(project, pick(a), f"r{b % 5}", coder),
        "move": lambda: move_code(project, pick(a), pick(b) if c % 3 else None, coder),
        "merge": lambda: merge_codes(project, pick(a), pick(b), coder),
        "rm": lambda: remove_code(project, pick(a), coder, recode_to=pick(b) if c % 3 else None, force=c % 3 == 1),
        "autocode": lambda: autocode(project, [transcript], coder=coder, accept=c % 4 == 0, min_score=(b % 3) * 0.3),
        "review": lambda: suggested and review_suggestion(project, suggested[b % len(suggested)], coder, accept=c % 2 == 0),
    }
    try:
        calls[kind]()
    except QualcodeError:
        pass


def undo_everything(project: Project, data) -> None:
    """Undo every change, choosing the coder at random; a refused coder waits until someone else has undone."""
    while True:
        with project.session() as session:
            waiting = sorted(set(session.scalars(select(Change.coder).where(Change.undone.is_(False), Change.coder.in_(CODERS)))))
        if not waiting:
            return
        while waiting:
            coder = data.draw(st.sampled_from(waiting))
            try:
                undo(project, coder)
                break
            except QualcodeError as refusal:
                message = str(refusal)
                assert "depends on it" in message and f"by {coder}," not in message.split(": ", 1)[1], message
                waiting.remove(coder)
        else:
            pytest.fail("no coder could undo: the newest change should always be undoable")


def check_random_changes_undo_exactly(project: Project, actions: list, data) -> None:
    before = without_changes(table_rows(project))
    for step in actions:
        act(project, *step)
    undo_everything(project, data)
    assert without_changes(table_rows(project)) == before


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("undo") / "template"
    build(root).close()
    return root


@settings(max_examples=EXAMPLES or 40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, min_size=1, max_size=8), data=st.data())
def test_random_changes_by_several_coders_undo_exactly_on_sqlite(sqlite_template, tmp_path_factory, actions, data):
    root = tmp_path_factory.mktemp("example") / "project"
    shutil.copytree(sqlite_template, root)
    project = Project.open(root)
    try:
        check_random_changes_undo_exactly(project, actions, data)
    finally:
        project.close()


@pytest.fixture(scope="module")
def postgres_template(tmp_path_factory):
    """A template database on the server: each example starts from a copy (CREATE DATABASE ... TEMPLATE)."""
    server = _server_url()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server: .ci/postgres.sh should have started one")
        pytest.skip("no PostgreSQL server (run 'bash .ci/postgres.sh' to start one)")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"qualcode_undo_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    build(tmp_path_factory.mktemp("pg") / "template", server.rsplit("/", 1)[0] + "/" + name).close()
    yield admin, server.rsplit("/", 1)[0], name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@settings(max_examples=EXAMPLES // 4 or 10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, min_size=1, max_size=8), data=st.data())
def test_random_changes_by_several_coders_undo_exactly_on_postgres(postgres_template, tmp_path_factory, actions, data):
    admin, base, template = postgres_template
    name = f"qualcode_undo_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    project = init_project(tmp_path_factory.mktemp("pg-example") / "project", database_url=f"{base}/{name}")
    try:
        check_random_changes_undo_exactly(project, actions, data)
    finally:
        project.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


# -- the bugs of issue 18, one by one ----------------------------------------------------------


@pytest.fixture
def study(tmp_path: Path) -> Project:
    project = build(tmp_path / "study")
    yield project
    project.close()


def test_a_move_is_recorded_and_undone_not_the_change_before_it(study):
    apply_codes(study, "EAS-S02-HT", ["markets"], "ann", turn=2)
    coded = table_rows(study)
    move_code(study, "markets/competition", "networks", "ann")
    assert undo(study, "ann").action == "codebook move"
    assert without_changes(table_rows(study)) == without_changes(coded)


def test_undoing_a_merge_gives_the_merged_codes_children_back(study):
    apply_codes(study, "EAS-S02-HT", ["markets/competition"], "ann", turn=2)
    apply_codes(study, "EAS-S02-HT", ["markets/competition/pupils"], "ann", turn=3)
    before = table_rows(study)
    with study.session() as session:
        children = {c.name for c in session.scalars(select(Code).where(Code.parent_id == session.scalar(
            select(Code.id).where(Code.name == "competition"))))}
    assert children
    merge_codes(study, "markets/competition", "networks", "ann")
    undo(study, "ann")
    assert without_changes(table_rows(study)) == without_changes(before)


def _newest_coding(project: Project) -> int:
    with project.session() as session:
        return session.scalar(select(Coding.id).order_by(Coding.id.desc()).limit(1))


def test_an_undo_never_touches_a_row_that_took_a_deleted_rows_id(study):
    """A codes and uncodes the newest coding, C codes: `undo --coder ann` once deleted C's coding."""
    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    ann_coding = _newest_coding(study)
    uncode(study, "EAS-S01-HT", "ann", turn=2)
    apply_codes(study, "EAS-S01-DH", ["networks"], "cy", turn=2)
    assert _newest_coding(study) != ann_coding
    with_cy = table_rows(study)["codings"]
    undo(study, "ann")  # the uncoding: ann's coding comes back, cy's stays
    assert set(table_rows(study)["codings"]) > set(with_cy)
    undo(study, "ann")  # the coding
    assert table_rows(study)["codings"] == with_cy


def test_undo_after_someone_else_coded_in_the_freed_id_is_not_an_integrity_error(study):
    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    before = table_rows(study)
    uncode(study, "EAS-S01-HT", "ann", turn=2)
    apply_codes(study, "EAS-S01-HT", ["networks"], "cy", turn=2)
    undo(study, "ann")
    undo(study, "cy")
    assert without_changes(table_rows(study)) == without_changes(before)


def test_undo_refuses_when_a_later_change_by_someone_else_depends_on_it(study):
    add_code(study, "markets/admissions", "ann")
    apply_codes(study, "EAS-S01-HT", ["admissions"], "cy", turn=2)
    with pytest.raises(QualcodeError, match=r"cannot undo change \d+ by ann, 'add markets/admissions' at .*"
                       r"change \d+ by cy, 'code EAS-S01-HT .* with markets/admissions' at .* depends on it; cy must undo"):
        undo(study, "ann")
    undo(study, "cy")
    assert undo(study, "ann").description == "add markets/admissions"


def test_undo_of_a_removal_refuses_when_someone_has_taken_the_name_since(study):
    remove_code(study, "markets/competition/pupils", "ann", force=True)
    add_code(study, "markets/competition/pupils", "cy")
    with pytest.raises(QualcodeError, match="by cy, 'add markets/competition/pupils'.* depends on it"):
        undo(study, "ann")


def test_a_memo_on_someone_elses_coding_holds_back_its_undo(study):
    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    add_memo(study, "coding", str(_newest_coding(study)), "why here?", "cy")
    with pytest.raises(QualcodeError, match="by cy, 'memo on coding"):
        undo(study, "ann")


def test_undo_refuses_a_row_changed_since_by_something_unrecorded(study):
    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    rename_code(study, "markets", "market-forces", "ann")
    with study.engine.begin() as connection:
        connection.execute(text("UPDATE codes SET name = 'markets-2' WHERE name = 'market-forces'"))
    before = table_rows(study)
    with pytest.raises(QualcodeError, match="codes row with id .* is no longer as that change left it"):
        undo(study, "ann")
    assert table_rows(study) == before


def test_a_change_recorded_before_schema_0006_is_not_undone(study):
    with study.session() as session:
        session.add(Change(coder="ann", action="code", description="old", inverse=[{"op": "remove"}]))
    with pytest.raises(QualcodeError, match="recorded by a qualcode older than"):
        undo(study, "ann")


def test_accepting_a_suggestion_is_one_change_that_undo_reverses(study):
    before = table_rows(study)
    with study.session() as session:
        first = session.scalar(select(Coding.id).where(Coding.origin == "suggested").order_by(Coding.id))
    review_suggestion(study, first, "ann", accept=True)
    review_suggestion(study, first + 1, "ann", accept=False)
    undo(study, "ann")
    undo(study, "ann")
    assert without_changes(table_rows(study)) == without_changes(before)


def test_history_lists_what_undo_would_reverse_newest_first(study):
    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    add_memo(study, "project", None, "a thought", "bea")
    rename_code(study, "networks/tsa", "alliance", "ann")
    undo(study, "ann")
    rows = change_history(study, "ann")
    assert [(r["action"], r["undone"]) for r in rows][:2] == [("codebook rename", True), ("code", False)]
    assert [r["coder"] for r in change_history(study, limit=2)] == ["ann", "bea"]
    assert set(rows[0]) == {"id", "coder", "action", "description", "when", "undone"}


def test_history_and_a_refused_undo_from_the_command_line(tmp_path: Path, run):
    build(tmp_path / "study").close()
    folder = tmp_path / "study"
    assert run("codebook", "add", "markets/admissions", "--coder", "ann", cwd=folder).returncode == 0
    assert run("code", "EAS-S01-HT", "--turn", "2", "admissions", "--coder", "cy", cwd=folder).returncode == 0
    refused = run("undo", "--coder", "ann", cwd=folder)
    assert refused.returncode == 1
    assert "cy must undo that first" in refused.stderr and "Traceback" not in refused.stderr
    listed = run("history", "--json", "--limit", "5", cwd=folder)
    assert [c["coder"] for c in __import__("json").loads(listed.stdout)][:2] == ["cy", "ann"]
    table = run("history", "--coder", "ann", cwd=folder)
    assert "codebook add" in table.stdout and "cy" not in table.stdout


def test_an_autocode_rerun_is_recorded_by_its_run_not_row_by_row(study):
    """Issue 18: each rerun added 8.8 MB of change log. A run's suggestions carry its id; a rerun keeps what it finds again."""
    from qualcode.suggestions.autocode import autocode

    before = table_rows(study)
    first = autocode(study)
    with study.session() as session:
        (run,) = session.scalars(select(Change).where(Change.action == "autocode"))
        # The two planted suggestions are deleted before the run stores its own (which may take their passages:
        # one coding per passage, 0009), so undo removes the run's before putting them back.
        assert [op["op"] for op in run.inverse["ops"]] == ["reinsert", "reinsert", "remove_run"]
        assert session.scalar(select(Coding.run_id).where(Coding.origin == "suggested").limit(1)) == run.id
    after_first = table_rows(study)
    again = autocode(study)
    assert again.suggestions == again.replaced == first.suggestions > 0
    assert without_changes(table_rows(study)) == without_changes(after_first)  # nothing written
    weaker = autocode(study, min_score=0.5)
    assert weaker.suggestions < first.suggestions
    with study.session() as session:
        latest = session.scalar(select(Change).order_by(Change.id.desc()).limit(1))
        assert {op["op"] for op in latest.inverse["ops"]} == {"reinsert"}  # only what it dropped
    accepted = autocode(study, accept=True, coder="ann")
    assert accepted.suggestions > 0
    undo(study, "ann")
    undo(study, "autocode")
    assert without_changes(table_rows(study)) == without_changes(after_first)
    assert undo(study, "autocode").action == "autocode"  # the rerun that wrote nothing is still the one undone next
    assert without_changes(table_rows(study)) == without_changes(after_first)
    undo(study, "autocode")
    assert without_changes(table_rows(study)) == without_changes(before)


def test_a_project_from_before_0006_upgrades_with_its_tallies_kept_and_ids_never_reused(study):
    from alembic import command

    from qualcode import db
    from tests.coded_fixture import counted_spans, tallies

    apply_codes(study, "EAS-S01-HT", ["markets"], "ann", turn=2)
    with study.engine.begin() as connection:
        command.downgrade(db._alembic_config(connection), "0005")
        connection.execute(text("DELETE FROM sqlite_sequence"))  # as a 0005 database: SQLite's plain ids
    study.close()
    reopened = Project.open(study.root)
    assert db.current_revision(reopened.engine) == db.SCHEMA_REVISION
    newest = _newest_coding(reopened)
    uncode(reopened, "EAS-S01-HT", "ann", turn=2)
    apply_codes(reopened, "EAS-S01-DH", ["networks"], "cy", turn=2)
    assert _newest_coding(reopened) > newest
    assert tallies(reopened) == counted_spans(reopened) != {}
    reopened.close()


def test_accepting_a_suggestion_holds_back_the_runs_undo_but_not_a_rerun_beside_it(study):
    from qualcode.suggestions.autocode import autocode

    autocode(study)
    with study.session() as session:
        first = session.scalar(select(Coding.id).where(Coding.origin == "suggested").order_by(Coding.id))
    review_suggestion(study, first, "ann", accept=True)
    autocode(study, min_score=0.5)  # replaces other suggestions of the first run, never ann's accepted one
    undo(study, "autocode")  # the rerun
    with pytest.raises(QualcodeError, match="by ann, 'accept .*' .* depends on it"):
        undo(study, "autocode")
    assert undo(study, "ann").action == "accept"
    undo(study, "autocode")


def test_rows_written_in_bulk_are_recorded_only_as_the_changes_own_run(project):
    """`history.run_inserted` stands in for the mapper events only for the run's own rows (undo deletes by run)."""
    with project.session() as session, history.recorded(session, "ann", "autocode", "a run") as run:
        with pytest.raises(ValueError, match="own run"):
            history.run_inserted(session, Coding.__table__, [{"transcript_id": "T", "code_id": 1, "run_id": None}])
        history.run_inserted(session, Coding.__table__, [{"transcript_id": "T", "code_id": 1, "run_id": run.id}])
    with project.session() as session:
        change = session.get(Change, run.id)
        assert change.inverse["ops"] == [{"op": "remove_run", "table": "codings", "run": run.id}]
        assert {"transcripts:T", "codes:1"} <= set(change.inverse["refs"])
