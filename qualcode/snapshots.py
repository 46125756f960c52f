"""Snapshots: a copy of the project database taken before an import overwrites coded work.

`qualcode import --update` may replace coded transcripts and re-attribute
quotes; a snapshot is the way back. For SQLite it is a consistent copy made
with sqlite3's online backup API (the write-ahead log included) into
`.qualcode/snapshots/` in the project folder, named with the time (UTC).
Another database server has its own backups (and `qualcode backup FILE.zip`
writes a portable dump), so none is taken there, and the import says so.
`codebook merge` and `codebook rm` take one too; `qualcode snapshots` lists them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

SNAPSHOT_FOLDER = Path(".qualcode") / "snapshots"


@dataclass
class Snapshot:
    """Where the copy is (None if none was taken), and a sentence saying so."""

    path: Path | None
    message: str

    def as_json(self) -> dict:
        return {"path": str(self.path) if self.path else None, "message": self.message}


def sqlite_file(database_url: str) -> str | None:
    """The SQLite file a database URL names; None for a server or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def copy_sqlite(database: str | Path, target: Path) -> None:
    """A consistent copy of a SQLite database, write-ahead log included, even while others write to it."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)


def take(project, reason: str) -> Snapshot:
    """Copy the project's SQLite database to `.qualcode/snapshots/<time>-before-<reason>.db`."""
    database = sqlite_file(project.database_url)
    if database is None:
        return Snapshot(None, (
            f"no snapshot taken: the database is on {make_url(project.database_url).get_backend_name()}, not a SQLite"
            " file qualcode can copy; back it up with 'qualcode backup FILE.zip' or the server's own tools (e.g. pg_dump)"
            " to be able to go back"))
    folder = project.root / SNAPSHOT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
    path, n = folder / f"{stamp}Z-before-{reason}.db", 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}Z-before-{reason}-{n}.db"
    copy_sqlite(database, path)
    return Snapshot(path, f"snapshot of the database before this {reason.replace('-', ' ')}: {path} (copy it over {database}"
                          " to go back, or 'qualcode restore' it into a new project)")


def listing(project) -> list[dict]:
    """The snapshots in the project folder, newest first: file, when (UTC), before what, size."""
    folder = project.root / SNAPSHOT_FOLDER
    found = []
    for path in sorted(folder.glob("*.db"), reverse=True) if folder.is_dir() else []:
        stamp, _, reason = path.stem.partition("-before-")
        try:
            taken = dt.datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%SZ").strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:  # a file someone put there by hand
            taken = ""
        found.append({"file": str(path), "taken": taken, "before": reason, "size_mb": round(path.stat().st_size / 1e6, 2)})
    return found
