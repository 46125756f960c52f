"""Several coders on one project at once: waiting for a busy database, and running a transaction again.

A command's work is one transaction. When a colleague's command writes at the
same moment, the database says so in one of three ways, and each means the
transaction can simply be run again from the start, reading afresh:

* SQLite allows one writer at a time: past its busy timeout a second writer gets
  ``database is locked`` (and at once, without waiting, when its snapshot is
  stale). We wait, say so on stderr (``project is busy (…), waiting``), and try
  again, up to `BUSY_WAIT` seconds; then a clear error (exit 2), never a traceback.
* PostgreSQL aborts one of two transactions that conflict: a serialisation
  failure (SQLSTATE 40001) or a deadlock (40P01).
* A constraint broken by a row a colleague committed meanwhile (two coders
  coding the same passage, a code merged away under a new coding): run again,
  the transaction sees the row and does the right thing (``already coded``, or
  ``no code ...``). This is bounded by `CONFLICT_ATTEMPTS`, so a real bug still
  surfaces as an error.

Long writes (an import) leave a note in the project folder, so that whoever
waits for them is told what they wait for: ``project is busy (import by alice
since 01:23), waiting``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from qualcode.errors import CouldNotRun

if TYPE_CHECKING:
    from qualcode.project import Project

T = TypeVar("T")

#: How long a command waits for a busy SQLite database before it gives up (seconds); `QUALCODE_BUSY_WAIT` overrides.
BUSY_WAIT = 120.0
#: How often a transaction that conflicted with a colleague's (a constraint, a serialisation failure) is run again.
CONFLICT_ATTEMPTS = 8
#: SQLite's own busy timeout for each attempt (seconds): short, so the wait is shown rather than silent.
SQLITE_TIMEOUT = 1.0
#: PostgreSQL's SQLSTATEs for a transaction aborted because another conflicted with it.
_PG_RETRY = {"40001", "40P01"}
NOTES = ".qualcode"


@dataclass
class Counts:
    """What a process had to do to get its work in: read by the benchmark and the stress test."""

    retries: int = 0
    waits: int = 0
    waited: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)


#: This process's counts.
counts = Counts()


def busy_wait() -> float:
    try:
        return float(os.environ.get("QUALCODE_BUSY_WAIT", BUSY_WAIT))
    except ValueError:
        return BUSY_WAIT


def kind_of(error: BaseException) -> str | None:
    """``busy``, ``conflict`` or None (not a clash with another writer: no point in running again)."""
    import sqlite3

    from sqlalchemy import exc

    original = error.orig if isinstance(error, exc.DBAPIError) else error
    if isinstance(error, exc.IntegrityError) or isinstance(original, sqlite3.IntegrityError):
        return "conflict"
    if getattr(original, "sqlstate", None) in _PG_RETRY:
        return "conflict"
    if isinstance(original, sqlite3.OperationalError):
        message = str(original).lower()
        if "database is locked" in message or "database is busy" in message or "database table is locked" in message:
            return "busy"
    return None


def run(project: Project, work: Callable[[], T]) -> T:
    """`work()` (one whole transaction), run again while it clashes with another writer, within the bounds."""
    deadline = None
    conflicts = waits = 0
    while True:
        try:
            return work()
        except Exception as error:
            kind = kind_of(error)
            if kind is None:
                raise
            counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
            if kind == "conflict":
                conflicts += 1
                if conflicts >= CONFLICT_ATTEMPTS:
                    raise
                counts.retries += 1
                time.sleep(random.uniform(0, 0.02 * conflicts))
                continue
            deadline = deadline or time.monotonic() + busy_wait()
            if time.monotonic() >= deadline:
                raise CouldNotRun(
                    f"the project is still busy after {busy_wait():.0f} s ({holders(project) or 'another command is writing'});"
                    " nothing was changed; run the command again when it ends"
                ) from None
            _wait(project, first=waits == 0)
            waits += 1


def _wait(project: Project, first: bool) -> None:
    started = time.monotonic()
    if first and project.on_busy is not None:
        project.on_busy(f"project is busy ({holders(project) or 'another command is writing'}), waiting")
    counts.waits += 1
    time.sleep(random.uniform(0.05, 0.25))
    counts.waited += time.monotonic() - started


def retried(function: Callable[..., T]) -> Callable[..., T]:
    """Make a library function taking the project first run again as `run` says; it must do all its work in
    transactions it opens itself, so running it again from the start is safe."""

    @functools.wraps(function)
    def wrapper(project: Project, *args, **kwargs) -> T:
        return run(project, lambda: function(project, *args, **kwargs))

    return wrapper


# Notes of long writes


def _notes(project: Project) -> Path:
    return project.root / NOTES


@contextmanager
def announced(project: Project, what: str, coder: str) -> Iterator[None]:
    """While a long write runs, a note in the project folder says what and whose it is (see `holders`)."""
    folder = _notes(project)
    note = folder / f"writing-{socket.gethostname()}-{os.getpid()}"
    try:
        folder.mkdir(exist_ok=True)
        note.write_text(f"{what} by {coder} since {dt.datetime.now():%H:%M}", encoding="utf-8")
    except OSError:  # a read-only folder: the write still runs, only unannounced
        note = None
    try:
        yield
    finally:
        if note is not None:
            note.unlink(missing_ok=True)


def holders(project: Project) -> str:
    """What the notes say is writing now, e.g. ``import by alice since 01:23``; '' if none."""
    try:
        notes = sorted(_notes(project).glob("writing-*"))
        return "; ".join(note.read_text(encoding="utf-8").strip() for note in notes)
    except OSError:
        return ""
