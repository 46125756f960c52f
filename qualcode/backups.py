"""Backing up a whole project database, and restoring a backup into an empty project.

A SQLite project is backed up with SQLite's online backup API (the same copy
`qualcode.snapshots` takes before an import overwrites coded work): a
consistent copy even while others are coding, and itself a qualcode database.
A project on a database server (PostgreSQL) is written by qualcode itself as a
portable dump, a zip of `manifest.json` and one JSON-lines file per table,
every row of every table, with the last id each table gave out so that a
restored project never gives a deleted row's id again (undo finds rows by id).
Either kind of backup restores into any empty project, SQLite or PostgreSQL;
an old backup is brought to the current schema first. The identity key is a
file beside the database, never in it, so no backup holds it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import JSON, Date, DateTime, Engine, Integer, Table, bindparam, func, inspect, select, text

from qualcode import __version__
from qualcode.db import SCHEMA_REVISION, connect
from qualcode.errors import NoDatabase, QualcodeError
from qualcode.models import Base
from qualcode.project import Project

DUMP_FORMAT = "qualcode-dump/1"
#: Kept by triggers on `codings` (migrations 0004, 0007): restored by restoring the codings, never written.
_DERIVED = {"code_tallies"}
_BATCH = 2000


@dataclass
class Backup:
    path: Path
    kind: str
    rows: dict[str, int]


def backup(project: Project, path: Path) -> Backup:
    """Write a backup of the project's database to `path`: a SQLite copy (`.db`), or a portable dump (`.zip`)."""
    from qualcode.snapshots import copy_sqlite, sqlite_file

    database = sqlite_file(project.database_url)
    if path.exists():
        raise QualcodeError(f"{path} exists already; name a new file (a backup never overwrites one)")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".zip":
        return Backup(path, "portable dump", write_dump(project.engine, path))
    if database is None:
        raise QualcodeError(f"{path}: this project's database is on a server; back it up as a portable dump, FILE.zip")
    copy_sqlite(database, path)
    return Backup(path, "SQLite copy", row_counts(project.engine))


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {t.name: connection.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def write_dump(engine: Engine, path: Path) -> dict[str, int]:
    """Every table's rows as JSON lines in a zip, parents first, in one transaction that sees one moment of the
    database (PostgreSQL's REPEATABLE READ; a SQLite read transaction in WAL mode), whoever writes meanwhile."""
    counts: dict[str, int] = {}
    with engine.connect() as connection, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        for table in Base.metadata.sorted_tables:
            with archive.open(f"tables/{table.name}.jsonl", "w") as handle:
                counts[table.name] = 0
                for row in connection.execute(select(table).order_by(*table.primary_key.columns)).mappings():
                    handle.write((json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n").encode())
                    counts[table.name] += 1
        manifest = {"format": DUMP_FORMAT, "schema": SCHEMA_REVISION, "qualcode": __version__,
                    "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "tables": [t.name for t in Base.metadata.sorted_tables], "rows": counts,
                    "last_ids": _last_ids(connection)}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return counts


def _encode(value: object) -> object:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _last_ids(connection) -> dict[str, int]:
    """The last id each table with an `id` column gave out (more than its largest id when rows were deleted)."""
    found = {}
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c or not isinstance(table.c.id.type, Integer):
            continue
        largest = connection.scalar(select(func.max(table.c.id))) or 0
        found[table.name] = max(largest, _sequence_value(connection, table.name))
    return found


def _sequence_value(connection, table: str) -> int:
    if connection.dialect.name == "sqlite":
        exists = connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"))
        return (connection.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}) or 0) if exists else 0
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
        if sequence:
            last, called = connection.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
            return last if called else 0
    return 0


# Restoring


def restore(project: Project, path: Path) -> dict[str, int]:
    """Put a backup's rows into this project, which must be empty; return the rows restored per table."""
    refuse_unless_empty(project)
    with BackupSource(path) as (rows_of, last_ids):
        counts: dict[str, int] = {}
        with project.session(bulk=True) as session:
            connection = session.connection()
            for table in Base.metadata.sorted_tables:
                if table.name in _DERIVED:
                    continue
                counts[table.name] = _insert(connection, table, rows_of(table))
            _set_last_ids(connection, last_ids)
    return counts


def refuse_unless_empty(project: Project) -> None:
    counts = {name: n for name, n in row_counts(project.engine).items() if n}
    if counts:
        held = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise QualcodeError(f"restore goes into an empty project, and this one holds {held}; run 'qualcode init' in a"
                            " new folder (or on a new, empty database) and restore there")


def _insert(connection, table: Table, rows: Iterator[dict]) -> int:
    """Insert rows in batches; a code only after its parent (ids alone do not say, once codes have been moved)."""
    decoded = (_decoded(table, row) for row in rows)
    if table.name == "codes":
        decoded = iter(_parents_first(list(decoded)))
    # A JSON column's None is SQL NULL, as the ORM wrote it, not the JSON text 'null'.
    statement = table.insert().values({c.name: bindparam(c.name, type_=JSON(none_as_null=True))
                                       for c in table.columns if isinstance(c.type, JSON)})
    count, batch = 0, []
    for row in decoded:
        batch.append(row)
        if len(batch) == _BATCH:
            connection.execute(statement, batch)
            count, batch = count + len(batch), []
    if batch:
        connection.execute(statement, batch)
    return count + len(batch)


def _decoded(table: Table, row: dict) -> dict:
    for column in table.columns:
        value = row.get(column.name)
        if isinstance(value, str) and isinstance(column.type, DateTime):
            row[column.name] = dt.datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column.type, Date):
            row[column.name] = dt.date.fromisoformat(value)
    return row


def _parents_first(codes: list[dict]) -> list[dict]:
    by_id, placed, ordered = {c["id"]: c for c in codes}, set(), []

    def place(code: dict) -> None:
        if code["id"] in placed:
            return
        if code["parent_id"] is not None and code["parent_id"] in by_id:
            place(by_id[code["parent_id"]])
        placed.add(code["id"])
        ordered.append(code)

    for code in codes:
        place(code)
    return ordered


def _set_last_ids(connection, last_ids: dict[str, int]) -> None:
    """Carry on giving ids where the backed-up database stopped, never again one it gave."""
    for table in Base.metadata.sorted_tables:
        if table.name not in last_ids or table.name in _DERIVED:
            continue
        last = max(last_ids[table.name], connection.scalar(select(func.max(table.c.id))) or 0)
        if connection.dialect.name == "sqlite" and table.dialect_options["sqlite"].get("autoincrement"):
            connection.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
            connection.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)"), {"t": table.name, "n": last})
        elif connection.dialect.name == "postgresql" and last:
            connection.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"), {"t": table.name, "n": last})


class BackupSource:
    """A backup opened for reading: `(rows_of(table), last_ids)`, from a dump or a SQLite copy (upgraded first).

    `restore` reads one, and so does `qualcode merge`, which takes another project's database or backup as it
    takes a backup: a SQLite file is copied (its write-ahead log included) and read from the copy, never changed."""

    def __init__(self, path: Path):
        self.path = path
        self.cleanup: list = []

    def __enter__(self):
        if not self.path.is_file():
            raise QualcodeError(f"{self.path}: no such file")
        if zipfile.is_zipfile(self.path):
            return self._dump()
        with self.path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise QualcodeError(f"{self.path}: not a qualcode backup (neither a portable dump .zip nor a SQLite database)")
        return self._sqlite()

    def __exit__(self, *exc) -> None:
        for step in reversed(self.cleanup):
            step()

    def _dump(self):
        archive = zipfile.ZipFile(self.path)
        self.cleanup.append(archive.close)
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except (KeyError, ValueError):
            raise QualcodeError(f"{self.path}: not a qualcode dump (no readable manifest.json)") from None
        if manifest.get("format") != DUMP_FORMAT:
            raise QualcodeError(f"{self.path}: format {manifest.get('format')!r} is not {DUMP_FORMAT!r}")
        if manifest.get("schema") != SCHEMA_REVISION:
            raise QualcodeError(f"{self.path}: written with schema {manifest.get('schema')} (qualcode {manifest.get('qualcode')});"
                                f" this qualcode has schema {SCHEMA_REVISION}: restore it with that version, then back up again")

        def rows_of(table: Table) -> Iterator[dict]:
            name = f"tables/{table.name}.jsonl"
            if name not in archive.namelist():
                return iter(())
            return (json.loads(line) for line in archive.open(name) if line.strip())

        return rows_of, manifest.get("last_ids", {})

    def _sqlite(self):
        from qualcode.snapshots import copy_sqlite

        folder = Path(tempfile.mkdtemp(prefix="qualcode-restore-"))
        self.cleanup.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        copy = folder / "backup.db"
        try:  # else reported as the open project's database being damaged, or as the copy's temporary file missing
            copy_sqlite(self.path, copy)
            engine = connect(f"sqlite:///{copy}")  # brings an older backup to the current schema
        except (sqlite3.DatabaseError, NoDatabase) as error:
            why = "it holds no tables" if isinstance(error, NoDatabase) else str(error)
            raise QualcodeError(f"{self.path}: this backup is damaged or empty and cannot be read ({why}); the project"
                                " is untouched; use another backup") from None
        self.cleanup.append(engine.dispose)
        connection = engine.connect()
        self.cleanup.append(connection.close)
        known = set(inspect(connection).get_table_names())

        def rows_of(table: Table) -> Iterator[dict]:
            if table.name not in known:
                return iter(())
            return (dict(row) for row in connection.execute(select(table)).mappings())

        return rows_of, _last_ids(connection)
