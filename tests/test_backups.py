"""`qualcode backup` and `restore`: a project restored from its backup is the same, row by row, on SQLite and PostgreSQL;
destructive codebook commands take a snapshot first."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine, select, text

from qualcode.backups import backup, restore
from qualcode.coding.manual import add_memo, apply_codes, uncode
from qualcode.errors import QualcodeError
from qualcode.models import Coding
from qualcode.project import init_project
from tests.coded_fixture import make_coded_project
from tests.conftest import table_rows
from tests.test_postgres import _server_url, pg_url  # noqa: F401 (a fixture)


def busy_project(root, corpus, database_url=None):
    """A coded project with memos, a deleted coding (an id never to be given again) and its change log."""
    project = make_coded_project(root, corpus, database_url)
    add_memo(project, "coding", "3", "Status and pressure.", "ann")
    apply_codes(project, "NAT-I01", ["networks"], "ann", lines="4")
    uncode(project, "NAT-I01", "ann", lines="4", codes=["networks"])
    return project


def last_coding_id_after_a_new_one(project) -> int:
    apply_codes(project, "EAS-S01-DH", ["markets"], "ann", lines="5")
    with project.session() as session:
        return session.scalar(select(Coding.id).order_by(Coding.id.desc()))


@pytest.mark.parametrize("name", ["backup.db", "backup.zip"])
def test_backup_then_restore_gives_the_same_project_on_sqlite(tmp_path, corpus, name):
    original = busy_project(tmp_path / "study", corpus)
    made = backup(original, tmp_path / name)
    assert made.rows["codings"] == 8 and (tmp_path / name).exists()
    restored = init_project(tmp_path / "restored")
    restore(restored, tmp_path / name)
    assert table_rows(restored) == table_rows(original)
    assert last_coding_id_after_a_new_one(restored) == last_coding_id_after_a_new_one(original) == 11


def test_backup_then_restore_gives_the_same_project_on_postgres(tmp_path, corpus, pg_url):
    original = busy_project(tmp_path / "study", corpus, pg_url)
    backup(original, tmp_path / "team.zip")
    with pytest.raises(QualcodeError, match="on a server; back it up as a portable dump, FILE.zip"):
        backup(original, tmp_path / "team.db")
    second = _fresh_database(pg_url)
    try:
        restored = init_project(tmp_path / "restored", database_url=second)
        restore(restored, tmp_path / "team.zip")
        assert table_rows(restored) == table_rows(original)
        assert last_coding_id_after_a_new_one(restored) == last_coding_id_after_a_new_one(original) == 11
        restored.close()
    finally:
        _drop(second)
    original.close()


def _fresh_database(pg_url: str) -> str:
    name = f"qualcode_test_{uuid.uuid4().hex[:12]}"
    with create_engine(_server_url(), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return pg_url.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    with create_engine(_server_url(), isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def test_restore_refuses_a_project_with_anything_in_it_and_files_that_are_not_backups(tmp_path, corpus):
    original = busy_project(tmp_path / "study", corpus)
    backup(original, tmp_path / "b.zip")
    with pytest.raises(QualcodeError, match="restore goes into an empty project, and this one holds"):
        restore(original, tmp_path / "b.zip")
    empty = init_project(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(QualcodeError, match="notes.txt: not a qualcode backup"):
        restore(empty, tmp_path / "notes.txt")
    # A backup cut short: said of the backup, not (as it was) of this project's database with 'restore it'.
    (tmp_path / "cut.db").write_bytes((original.root / "qualcode.db").read_bytes()[:5000])
    with pytest.raises(QualcodeError, match=r"cut.db: this backup is damaged or empty and cannot be read .*project is untouched"):
        restore(empty, tmp_path / "cut.db")
    with pytest.raises(QualcodeError, match="exists already"):
        backup(original, tmp_path / "b.zip")


def test_cli_backup_restore_and_the_snapshot_before_a_merge(run, tmp_path, corpus):
    original = busy_project(tmp_path / "study", corpus)
    study = str(original.root)
    merged = run("codebook", "merge", "tsa", "networks", "--coder", "ann", "--project", study)
    assert merged.returncode == 0 and "snapshot of the database before this codebook merge" in merged.stderr
    refused = run("codebook", "rm", "nothing-like-it", "--project", study)
    assert refused.returncode == 1
    listed = json.loads(run("snapshots", "--json", "--project", study).stdout)
    assert [item["before"] for item in listed] == ["codebook-merge"]
    assert run("backup", str(tmp_path / "b.db"), "--project", study).returncode == 0
    assert run("init", str(tmp_path / "new")).returncode == 0
    restored = run("restore", str(tmp_path / "b.db"), "--project", str(tmp_path / "new"))
    assert restored.returncode == 0 and "8 codings" in restored.stderr, restored.stderr
    again = run("restore", listed[0]["file"], "--project", str(tmp_path / "new"))
    assert again.returncode == 1 and "restore goes into an empty project" in again.stderr


def test_the_snapshot_on_a_database_server_is_a_portable_dump(tmp_path, corpus, pg_url):
    from qualcode.ingest.corpus import import_paths
    from qualcode.snapshots import listing, take

    project = init_project(tmp_path / "study", database_url=pg_url)
    import_paths(project, [corpus])
    snapshot = take(project, "import")
    assert snapshot.path.parent == project.root / ".qualcode" / "snapshots" and snapshot.path.name.endswith("Z-before-import.zip")
    assert "'qualcode restore' it into a new, empty project" in snapshot.message
    assert [item["before"] for item in listing(project)] == ["import"]
    restored = init_project(tmp_path / "restored")
    assert restore(restored, snapshot.path)["transcripts"] == 4
    project.close()
