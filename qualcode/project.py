"""A qualcode project: a folder holding `qualcode.toml` and (by default) its SQLite database.

Commands find the project from `--project`, else `QUALCODE_PROJECT`, else by
walking up from the working directory, the way git finds its repository.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from qualcode import db
from qualcode.config import SETTINGS_FILE, Settings, default_settings_text
from qualcode.errors import NoDatabase, ProjectNotFound, QualcodeError


@dataclass
class Project:
    root: Path
    settings: Settings
    #: Whether opening the database may create it: only `init` may, so a lost database is an error.
    create: bool = False
    #: Told (a message) when the database is busy with another command's write and this one waits; the CLI prints it.
    on_busy: Callable[[str], None] | None = None
    #: Who is looking, for a blind round (`qualcode.coding.blind`); empty: `config.default_coder()`.
    viewer: str | None = None
    #: Told (a message) when a blind round hides other coders' codings from the viewer; the CLI prints it.
    on_blind: Callable[[str], None] | None = None
    #: The blind-round messages told already: each is said once per command.
    told: set[str] = field(default_factory=set)
    #: Each thread's open sessions, innermost last: `connection` reads through them rather than open another.
    _open: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @classmethod
    def open(cls, root: Path, create: bool = False) -> Project:
        root = root.resolve()
        return cls(root, Settings.load(root / SETTINGS_FILE), create)

    @property
    def database_url(self) -> str:
        """The settings' URL, overridden by `QUALCODE_DB`; relative SQLite paths are made absolute."""
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(os.environ.get("QUALCODE_DB") or self.settings.database_url)
        except ArgumentError:
            where = "QUALCODE_DB" if os.environ.get("QUALCODE_DB") else f"{self.root / SETTINGS_FILE}: [database] url"
            raise QualcodeError(
                f"{where}: not a database URL; write it like sqlite:///qualcode.db or postgresql+psycopg://user@host/db"
            ) from None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not url.query.get("uri"):
            path = Path(url.database)
            if not path.is_absolute():
                url = url.set(database=str(self.root / path))
        return url.render_as_string(hide_password=False)

    @cached_property
    def engine(self) -> Engine:
        return db.connect(self.database_url, create=self.create)

    def close(self) -> None:
        """Close the database connections, if any were opened (SQLite then folds its WAL into the file)."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

    @contextmanager
    def session(self, commit: bool = True, bulk: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success (unless `commit` is false), rolled back on any error.

        `bulk`: the session writes rows by the thousand (an import, an autocode run); once they are committed, the
        tables written are analysed on PostgreSQL (`db.analyse`), on the same connection."""
        written: list[str] = []
        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin() as transaction:
                opened = self._sessions()
                opened.append(session)
                try:
                    yield session
                finally:
                    opened.pop()
                if not commit:
                    transaction.rollback()
                elif bulk and transaction.is_active:  # not if the caller rolled back itself (a dry run)
                    written = db.written_tables(session.connection())
            if written:
                with session.begin():
                    db.analyse(session.connection(), written)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection to read with: the innermost open session's, if this thread has one, else a new one.

        A read made while a session is open (which codings a blind round hides) would otherwise open a second
        connection to the server, a new backend and a login on PostgreSQL, for one small query. Otherwise the
        connection reads outside a transaction (`db.reading`): no BEGIN and ROLLBACK round trips on PostgreSQL."""
        if opened := self._sessions():
            yield opened[-1].connection()
            return
        with db.reading(self.engine) as connection:
            yield connection

    def _sessions(self) -> list[Session]:
        if not hasattr(self._open, "sessions"):
            self._open.sessions = []
        return self._open.sessions


def init_project(directory: Path, database_url: str | None = None) -> Project:
    """Create `qualcode.toml` (the documented defaults) and the database in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    settings_path = directory / SETTINGS_FILE
    if settings_path.exists() and database_url:
        raise QualcodeError(f"{settings_path} already exists; set the database in its [database] url instead")
    if settings_path.exists():
        _database_missing(Project.open(directory), settings_path)
    else:
        text = default_settings_text()
        if database_url:
            text = text.replace('url = "sqlite:///qualcode.db"', f"url = {_toml_string(database_url)}", 1)
        settings_path.write_text(text, encoding="utf-8")
    ignore_private_files(directory)
    project = Project.open(directory, create=True)
    project.engine  # creates the schema
    return project


def _database_missing(project: Project, settings_path: Path) -> None:
    """Refuse to init a project that has its database; one whose database is missing gets a new one."""
    try:
        project.engine
    except NoDatabase:
        return
    finally:
        project.close()
    raise QualcodeError(f"{settings_path} already exists; this folder is a qualcode project already")


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ignore_private_files(directory: Path) -> None:
    """Keep the database and the identity key out of any git repository the project lives in."""
    gitignore = directory / ".gitignore"
    wanted = ["qualcode.db*", "identity-key*", ".qualcode/"]
    present = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    missing = [line for line in wanted if line not in present]
    if missing:
        with gitignore.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(missing) + "\n")


def find_project(start: Path | None = None) -> Project:
    """The project named by `QUALCODE_PROJECT`, or the nearest folder upwards holding `qualcode.toml`."""
    if start is None and os.environ.get("QUALCODE_PROJECT"):
        start = Path(os.environ["QUALCODE_PROJECT"])
        if not (start / SETTINGS_FILE).exists():
            raise ProjectNotFound(f"QUALCODE_PROJECT={start} has no {SETTINGS_FILE}; run 'qualcode init {start}'")
        return Project.open(start)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).exists():
            return Project.open(folder)
    raise ProjectNotFound(
        f"no qualcode project in {here} or any folder above it; run 'qualcode init' or pass --project"
    )
