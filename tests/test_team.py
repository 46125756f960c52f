"""Several coders on one project at once (issue 16 item 5): one coding per passage, waiting, retrying, racing."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from qualcode import concurrency, db
from qualcode.coding.manual import apply_codes, review_suggestion
from qualcode.errors import CouldNotRun
from qualcode.models import Coding, Memo
from qualcode.project import Project
from tests.coded_fixture import counted_spans, make_coded_project, span_of, tallies
from tests.conftest import QUALCODE, REPO
from tests.test_postgres import pg_url  # noqa: F401 (the fixture)

PHRASE = ("EAS-S01-HT", "The alliance matters most to us.")


@pytest.fixture
def coded(tmp_path, corpus) -> Project:
    return make_coded_project(tmp_path / "coded", corpus)


def _count(project: Project, **where) -> int:
    with project.session() as session:
        return session.scalar(select(func.count()).select_from(Coding).filter_by(**where))


def test_coding_a_passage_twice_is_a_no_op_that_says_so(coded):
    span = span_of(coded, *PHRASE)
    first = apply_codes(coded, PHRASE[0], ["markets"], "ann", span=span)
    again = apply_codes(coded, PHRASE[0], ["markets"], "ann", span=span)
    assert first.codes == ["markets"] and again.codes == [] and again.already == ["markets"]
    assert _count(coded, transcript_id=PHRASE[0], start=span[0], coder="ann") == 1
    apply_codes(coded, PHRASE[0], ["markets"], "bea", span=span)  # another coder's is their own
    assert _count(coded, transcript_id=PHRASE[0], start=span[0]) == 3  # with the fixture's networks/tsa


def test_the_database_refuses_a_second_coding_of_a_passage_but_not_an_unplaced_one(coded):
    span = span_of(coded, *PHRASE)
    with coded.session() as session:
        row = session.scalar(select(Coding).where(Coding.transcript_id == PHRASE[0], Coding.start == span[0]))
        values = {c: getattr(row, c) for c in ("transcript_id", "start", "end", "code_id", "coder", "quote")}
    with pytest.raises(IntegrityError), coded.session() as session:
        session.execute(insert(Coding).values(**values, origin="suggested"))  # a suggestion shares the rule
    with coded.session() as session:
        session.execute(insert(Coding).values(**values, anchor="unplaced"))  # offsets into a text that is gone
    assert tallies(coded) == counted_spans(coded)


def test_accepting_a_suggestion_already_coded_by_hand_keeps_one_coding(coded):
    span = span_of(coded, *PHRASE)
    apply_codes(coded, PHRASE[0], ["markets"], "robot", span=span, origin="suggested")
    apply_codes(coded, PHRASE[0], ["markets"], "ann", span=span)
    with coded.session() as session:
        suggestion = session.scalar(select(Coding.id).where(Coding.coder == "robot"))
    review_suggestion(coded, suggestion, "ann", accept=True)
    assert _count(coded, start=span[0], coder="ann", code_id=_code_id(coded, "markets")) == 1
    assert _count(coded, coder="robot") == 0
    assert tallies(coded) == counted_spans(coded)


def _code_id(project: Project, path: str) -> int:
    from qualcode.coding.codebook import find_code

    with project.session() as session:
        return find_code(session, path).id


def test_migration_0009_folds_duplicates_keeping_the_lowest_id_and_its_memos(coded):
    """Duplicates stored before 0009: the lowest id stays, with the strongest origin, the flags, the memo text
    and the memo rows of the others."""
    _fold_duplicates(coded)


def test_migration_0009_folds_duplicates_on_postgres(tmp_path, corpus, pg_url):  # noqa: F811
    _fold_duplicates(make_coded_project(tmp_path / "pg", corpus, database_url=pg_url))


def _fold_duplicates(coded: Project) -> None:
    from alembic import command
    from sqlalchemy.orm import Session

    span = span_of(coded, *PHRASE)
    coded.close()
    engine = db.make_engine(coded.database_url)  # not the project's: opening it upgrades the schema
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            db._foreign_keys(connection, False)
        with connection.begin():
            command.downgrade(db._alembic_config(connection), "0008")
    with Session(engine) as session, session.begin():
        # Columns, not the ORM entity: the model has columns later migrations add.
        columns = ("id", "transcript_id", "start", "end", "code_id", "coder", "quote")
        kept = session.execute(select(*(getattr(Coding, c) for c in columns)).where(
            Coding.transcript_id == PHRASE[0], Coding.start == span[0], Coding.origin == "manual")).one()
        values = {c: getattr(kept, c) for c in columns[1:]}
        twins = [session.execute(insert(Coding).values(**values, origin=origin, important=True, memo=memo)
                                 .returning(Coding.id)).scalar() for origin, memo in (("suggested", "first"), ("manual", "second"))]
        session.add(Memo(target_kind="coding", target_id=str(twins[1]), text="on a twin", author="ann"))
        kept_id = kept.id
    engine.dispose()
    reopened = Project.open(coded.root)
    assert db.current_revision(reopened.engine) == db.SCHEMA_REVISION
    with reopened.session() as session:
        rows = session.scalars(select(Coding).filter_by(**{k: values[k] for k in ("transcript_id", "start", "code_id", "coder")})).all()
        assert [(r.id, r.origin, r.important, r.memo) for r in rows] == [(kept_id, "manual", True, "first\nsecond")]
        assert session.scalar(select(Memo.target_id).where(Memo.text == "on a twin")) == str(kept_id)
    assert tallies(reopened) == counted_spans(reopened)
    reopened.close()


def _code_while_locked(project: Project, until: str, env: dict | None = None) -> tuple[int, str]:
    """`qualcode code` while another connection holds SQLite's write lock (as a long import does), announced as
    ann's import; the lock is let go when the command first says something (`until` = "told") or when it ends."""
    import os

    locker = sqlite3.connect(project.root / "qualcode.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("QUALCODE_")}, **(env or {})}
    try:
        with concurrency.announced(project, "import", "ann"):
            process = subprocess.Popen([str(QUALCODE), "code", "EAS-S01-DH", "5", "markets", "--coder", "bea"],
                                       cwd=project.root, env=environment, stderr=subprocess.PIPE, text=True)
            first = process.stderr.readline() if until == "told" else ""
            if until == "told":
                locker.execute("ROLLBACK")
            _, rest = process.communicate(timeout=120)
    finally:
        locker.close()
    return process.returncode, first + rest


def test_a_coder_waits_for_a_colleagues_long_write_and_is_told_so(coded):
    coded.close()
    returncode, stderr = _code_while_locked(coded, "told")
    assert returncode == 0, stderr
    assert stderr.startswith("project is busy (import by ann since") and "), waiting" in stderr
    assert "Traceback" not in stderr
    assert _count(coded, transcript_id="EAS-S01-DH", coder="bea") == 1


def test_a_project_busy_for_too_long_is_a_clear_error(coded):
    coded.close()
    returncode, stderr = _code_while_locked(coded, "ended", env={"QUALCODE_BUSY_WAIT": "1"})
    assert returncode == 2, stderr
    assert "still busy after 1 s (import by ann" in stderr and "nothing was changed" in stderr
    assert "Traceback" not in stderr
    assert _count(coded, coder="bea") == 0


def test_a_clash_that_is_not_a_colleagues_is_not_retried(coded, monkeypatch):
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        concurrency.run(coded, broken)
    assert calls == [1]
    monkeypatch.setenv("QUALCODE_BUSY_WAIT", "0.3")
    told = []
    coded.on_busy = told.append

    def locked():
        calls.append(1)
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(CouldNotRun, match="still busy after 0 s"):
        concurrency.run(coded, locked)
    assert len(calls) > 2 and told == ["project is busy (another command is writing), waiting"]


def _benchmark():
    spec = importlib.util.spec_from_file_location("team_benchmark", REPO / "benchmarks" / "team.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stress(tmp_path: Path, database_url: str | None) -> dict:
    team = _benchmark()
    root = tmp_path / "project"
    team.make_project(root, database_url)
    outcome = team.race(root, processes=4, operations=40, imported=team.extra_transcripts(tmp_path / "more", 10), timeout=120)
    assert team.problems(root, outcome) == []
    figures = team.summary(outcome)
    assert figures["acknowledged"] > 40 and figures["already"] > 0  # the processes did race on identical passages
    return figures


def test_four_coders_racing_a_rename_a_merge_and_an_import_on_sqlite(tmp_path):
    _stress(tmp_path, None)


def test_four_coders_racing_a_rename_a_merge_and_an_import_on_postgres(tmp_path, pg_url):  # noqa: F811
    _stress(tmp_path, pg_url)
