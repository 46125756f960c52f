"""The same project on a real PostgreSQL server, as a research team would share it.

`.ci/run` starts a throwaway server (`.ci/postgres.sh`) and writes its URL to
`.ci/postgres.url`; `QUALCODE_TEST_POSTGRES` may name another. In CI a
missing server is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from qualcode.ingest.corpus import import_paths
from qualcode.errors import ImportFailed
from qualcode.analysis.overview import corpus_stats
from qualcode.project import init_project
from tests.conftest import REPO, table_rows


def _server_url() -> str | None:
    if os.environ.get("QUALCODE_TEST_POSTGRES"):
        return os.environ["QUALCODE_TEST_POSTGRES"]
    path = REPO / ".ci" / "postgres.url"
    return path.read_text().strip() if path.exists() else None


@pytest.fixture
def pg_url() -> str:
    """A new, empty database on the server, dropped afterwards."""
    server = _server_url()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL server: .ci/postgres.sh should have started one")
        pytest.skip("no PostgreSQL server (run 'bash .ci/postgres.sh' to start one)")
    name = f"qualcode_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_import_and_stats_on_postgres(tmp_path: Path, corpus: Path, pg_url: str):
    project = init_project(tmp_path / "study", database_url=pg_url)
    assert project.engine.dialect.name == "postgresql"
    report = import_paths(project, [corpus])
    assert len(report.added) == 4
    stats = corpus_stats(project)
    assert (stats["transcripts"], stats["schools"], stats["system_informants"]) == (4, 2, 1)
    assert import_paths(project, [corpus]).unchanged == sorted(report.added)


def test_failed_import_writes_nothing_on_postgres(tmp_path: Path, corpus: Path, pg_url: str):
    project = init_project(tmp_path / "study", database_url=pg_url)
    import_paths(project, [corpus / "national"])
    before = table_rows(project)
    path = corpus / "eastern/EAS-S01-HT.md"
    path.write_text(path.read_text().replace("role: Headteacher", "role: Hedteacher"), encoding="utf-8")
    with pytest.raises(ImportFailed):
        import_paths(project, [corpus])
    assert table_rows(project) == before


def test_cli_with_qualcode_db_pointing_at_postgres(run, tmp_path: Path, corpus: Path, pg_url: str):
    assert run("init", "study").returncode == 0
    env = {"QUALCODE_DB": pg_url}
    missing = run("import", str(corpus), cwd=tmp_path / "study", env=env)
    assert missing.returncode == 2 and "no database at postgresql" in missing.stderr, "only init makes a database"
    assert run("init", "study", env=env).returncode == 0
    result = run("import", str(corpus), cwd=tmp_path / "study", env=env)
    assert result.returncode == 0, result.stderr
    stats = json.loads(run("stats", "--json", cwd=tmp_path / "study", env=env).stdout)
    assert stats["transcripts"] == 4
    local = json.loads(run("stats", "--json", cwd=tmp_path / "study").stdout)
    assert local["transcripts"] == 0, "the project's own SQLite file was not touched"


def test_queries_count_the_same_on_postgres(tmp_path: Path, corpus: Path, pg_url: str):
    """The matrix, framework and co-occurrence SQL (CTEs, MATERIALIZED, integer arithmetic) gives SQLite's answers."""
    from qualcode.analysis.framework import framework
    from qualcode.analysis.query_matrix import matrix
    from qualcode.analysis.query_cooccur import cooccur
    from tests.coded_fixture import make_coded_project

    lite = make_coded_project(tmp_path / "lite", corpus)
    pg = make_coded_project(tmp_path / "pg", corpus, database_url=pg_url)
    for by, unit, rollup in [("locality", "segments", False), ("phase,ofsted", "schools", True),
                             ("role", "participants", False), ("locality", "transcripts", True)]:
        assert matrix(pg, by=by, unit=unit, rollup=rollup).equals(matrix(lite, by=by, unit=unit, rollup=rollup))
    assert matrix(pg, where={"ofsted": "Good"}).equals(matrix(lite, where={"ofsted": "Good"}))
    for by, coarsen in [("school", False), ("participant", False), ("participant", True)]:
        assert framework(pg, by, coarsen=coarsen).equals(framework(lite, by, coarsen=coarsen))
    for within in ("segment", "turn", "transcript"):
        assert cooccur(pg, within=within, near=20).equals(cooccur(lite, within=within, near=20))


def test_postgres_keeps_code_tallies_through_changes(tmp_path: Path, corpus: Path, pg_url: str):
    """The PL/pgSQL trigger of migrations 0004 and 0007 does what SQLite's triggers do (unplaced codings not counted)."""
    from tests.coded_fixture import change_codings, counted_spans, make_coded_project, tallies

    pg = make_coded_project(tmp_path / "pg", corpus, database_url=pg_url)
    assert tallies(pg) == counted_spans(pg) != {}
    codes = sorted({code for code, _ in counted_spans(pg)})
    changes = [("span", 0, 1), ("span", 2, 1), ("origin", 1, "suggested"), ("code", 3, codes[-1]), ("delete", 1, None),
               ("origin", 5, "manual"), ("delete", 0, None), ("span", 4, 6), ("anchor", 2, "unplaced"),
               ("anchor", 3, "unplaced"), ("anchor", 3, "fuzzy")]
    change_codings(pg, changes)
    assert tallies(pg) == counted_spans(pg)


def test_codings_are_read_one_by_one_on_postgres(tmp_path: Path, corpus: Path, pg_url: str):
    """`qualcode codings` reads as it prints (batches of a server-side cursor), each coding with its words."""
    from qualcode.coding.codebook import add_code
    from qualcode.coding.manual import apply_codes, coding_records

    project = init_project(tmp_path / "study", database_url=pg_url)
    import_paths(project, [corpus])
    add_code(project, "markets", "ann")
    for transcript in ("EAS-S01-HT", "EAS-S02-HT"):
        apply_codes(project, transcript, ["markets"], "ann", lines="3")
    count, rows = coding_records(project, code="markets")
    rows = list(rows)
    assert count == 2 and [row["transcript"] for row in rows] == ["EAS-S01-HT", "EAS-S02-HT"]
    assert all(row["text"] and row["lines"] == "3" for row in rows)


def test_an_everyday_command_uses_one_server_connection_and_few_statements(tmp_path: Path, corpus: Path, pg_url: str):
    """Each connection is a server process and a login, each statement a round trip: `stats` and `show` (with the
    blind-round check they make inside their session) open one connection and send no more statements than they
    need. A count, not a timing: a new lazy load or a second connection fails it on any machine."""
    import sqlalchemy.pool
    from sqlalchemy import Engine, event

    from qualcode.analysis.overview import transcript_lines
    from qualcode.project import Project
    from tests.coded_fixture import make_coded_project

    make_coded_project(tmp_path / "pg", corpus, database_url=pg_url).close()
    counts = {"connections": 0, "statements": 0}

    def connected(*_) -> None:
        counts["connections"] += 1

    def executed(*_) -> None:
        counts["statements"] += 1

    event.listen(sqlalchemy.pool.Pool, "connect", connected)
    event.listen(Engine, "before_cursor_execute", executed)
    try:
        for command, most in ((corpus_stats, 6), (lambda p: transcript_lines(p, "EAS-S01-HT"), 7)):
            counts.update(connections=0, statements=0)
            project = Project.open(tmp_path / "pg")
            command(project)
            project.close()
            assert counts["connections"] == 1 and counts["statements"] <= most, counts
    finally:
        event.remove(sqlalchemy.pool.Pool, "connect", connected)
        event.remove(Engine, "before_cursor_execute", executed)


def test_an_import_leaves_the_tables_it_wrote_analysed_on_postgres(tmp_path: Path, corpus: Path, pg_url: str):
    """Once an import has committed, the tables it wrote are analysed on its own connection, so the queries after it
    are planned with their statistics at once rather than with none until autovacuum comes by; a dry run, which
    commits nothing, analyses nothing."""
    import sqlalchemy.pool
    from sqlalchemy import event

    project = init_project(tmp_path / "study", database_url=pg_url)
    project.close()
    analysed = "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()"
    import_paths(project, [corpus], dry_run=True)
    with project.engine.connect() as connection:
        assert not set(connection.scalars(text(analysed)))
    project.close()
    connections = []
    connected = lambda *_: connections.append(1)  # noqa: E731
    event.listen(sqlalchemy.pool.Pool, "connect", connected)
    try:
        import_paths(project, [corpus])
        project.close()
    finally:
        event.remove(sqlalchemy.pool.Pool, "connect", connected)
    assert len(connections) == 1
    with project.engine.connect() as connection:
        tables = set(connection.scalars(text(analysed)))
        assert {"transcripts", "turns", "participants", "schools", "changes"} <= tables
        assert "codings" not in tables, "only the tables the import wrote"
        assert connection.scalar(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'turns'")) is not None


def test_an_empty_or_older_database_on_postgres_is_noticed(tmp_path: Path, pg_url: str):
    """The schema check reads the revision in one statement; when that fails (no table: PostgreSQL then refuses
    the transaction) it still tells an empty database from one to upgrade, and an older schema is upgraded."""
    from alembic import command

    from qualcode import db
    from qualcode.errors import NoDatabase
    from qualcode.project import Project

    with pytest.raises(NoDatabase):
        db.connect(pg_url)
    project = init_project(tmp_path / "study", database_url=pg_url)
    with project.engine.begin() as connection:
        command.downgrade(db._alembic_config(connection), "0011")
    project.close()
    reopened = Project.open(tmp_path / "study")
    assert db.current_revision(reopened.engine) == db.SCHEMA_REVISION
    with reopened.session() as session:  # JIT compiling would cost more than qualcode's queries (`db._no_jit`)
        assert session.execute(text("SHOW jit")).scalar() == "off"
    reopened.close()
