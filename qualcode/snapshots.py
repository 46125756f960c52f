"""Snapshots: a copy of the project database taken before an import overwrites coded work.

`qualcode import --update` may replace coded transcripts and re-attribute
quotes; a snapshot is the way back. For SQLite it is a consistent copy made
with sqlite3's online backup API (the write-ahead log included) into
`.qualcode/snapshots/` in the project folder, named with the time (UTC).
Another database server has its own backups, so none is taken there, and the
import says so.
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


def take(project, reason: str) -> Snapshot:
    """Copy the project's SQLite database to `.qualcode/snapshots/<time>-before-<reason>.db`."""
    url = make_url(project.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return Snapshot(None, (
            f"no snapshot taken: the database is on {url.get_backend_name()}, not a SQLite file qualcode can copy;"
            " back it up with the server's own tools (e.g. pg_dump) to be able to go back"))
    folder = project.root / SNAPSHOT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
    path, n = folder / f"{stamp}Z-before-{reason}.db", 1
    while path.exists():
        n += 1
        path = folder / f"{stamp}Z-before-{reason}-{n}.db"
    with closing(sqlite3.connect(url.database)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    return Snapshot(path, f"snapshot of the database before this import: {path} (copy it over {url.database} to go back)")
