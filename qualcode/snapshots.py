"""Snapshots: a copy of the project database taken before an import overwrites coded work.

`qualcode import --update` may replace coded transcripts and re-attribute
quotes; a snapshot is the way back. For SQLite it is a consistent copy made
with sqlite3's online backup API (the write-ahead log included) into
`.qualcode/snapshots/` in the project folder, named with the time (UTC). On a
database server (PostgreSQL) it is the portable dump `qualcode backup FILE.zip`
writes, in the same folder of the project the command ran in.
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
    """Copy the project's database to `.qualcode/snapshots/<time>-before-<reason>.db` (SQLite), or write it there
    as a portable dump, `.zip` (a database server: `qualcode.backups`)."""
    database = sqlite_file(project.database_url)
    folder = project.root / SNAPSHOT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".db" if database else ".zip"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
    path, n = folder / f"{stamp}Z-before-{reason}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}Z-before-{reason}-{n}{suffix}"
    what = f"snapshot of the database before this {reason.replace('-', ' ')}: {path}"
    if database is None:
        from qualcode.backups import write_dump

        write_dump(project.engine, path)
        return Snapshot(path, f"{what} ('qualcode restore' it into a new, empty project to go back)")
    copy_sqlite(database, path)
    return Snapshot(path, f"{what} (copy it over {database} to go back, or 'qualcode restore' it into a new project)")


def listing(project) -> list[dict]:
    """The snapshots in the project folder (SQLite copies and dumps), newest first: file, when (UTC), before what, size."""
    folder = project.root / SNAPSHOT_FOLDER
    found = []
    found_files = [*folder.glob("*.db"), *folder.glob("*.zip")] if folder.is_dir() else []
    for path in sorted(found_files, key=lambda p: p.name, reverse=True):
        stamp, _, reason = path.stem.partition("-before-")
        try:
            taken = dt.datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%SZ").strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:  # a file someone put there by hand
            taken = ""
        found.append({"file": str(path), "taken": taken, "before": reason, "size_mb": round(path.stat().st_size / 1e6, 2)})
    return found
