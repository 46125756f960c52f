"""Another copy of a project, read for `qualcode merge`: a coder's own project, a backup of one, or a `.qdpx`.

Whatever it is read from, it comes out as the same plain rows (`OtherCopy`):
transcripts with their text, codes by path, codings, memos and resolutions of
disagreements naming their transcript and code by id and path, so that the merge itself has one way to
match them. A qualcode project or backup is read through `backups.BackupSource`
(a SQLite file is copied first, so the other copy is never changed; an older
one is brought to this schema on the copy); a `.qdpx` through the REFI-QDA
reader `import` uses, with its positions placed the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.config import SETTINGS_FILE
from qualcode.errors import QualcodeError
from qualcode.models import Code, Coding, Memo, Resolution, Transcript, utcnow

#: The code columns a merge brings along with a new code (besides its place in the tree); a .qdpx has no patterns.
CODE_FIELDS = ("title", "definition", "include", "exclude", "example", "colour", "patterns")


@dataclass
class OtherCopy:
    """The coded work of another copy, as rows of qualcode's tables; a code is named by its path everywhere."""

    #: What it was read from, as shown in the report.
    source: str
    #: id -> text.
    transcripts: dict[str, str] = field(default_factory=dict)
    #: Code rows with `path` for their place in the tree (parents before children).
    codes: list[dict] = field(default_factory=list)
    #: Coding rows with `code` (a path) for `code_id`.
    codings: list[dict] = field(default_factory=list)
    #: Memo rows; a memo on a code names it by path.
    memos: list[dict] = field(default_factory=list)
    #: Resolution rows (`tag --review`'s decisions) with `code` (a path, None for a code removed there) for `code_id`;
    #: a .qdpx has none.
    resolutions: list[dict] = field(default_factory=list)
    #: Codings the source holds that cannot be read as codings (a .qdpx's zero-length selection): why -> how many.
    unreadable: Counter = field(default_factory=Counter)
    #: The database this copy is, when it is a project's own (to refuse merging a project into itself).
    database_url: str | None = None
    notes: list[str] = field(default_factory=list)


def read_other(path: Path, coder: str) -> OtherCopy:
    """Read another copy: a project folder, its SQLite database, a `qualcode backup` file (.db or .zip) or a
    `.qdpx`; `coder` is who a `.qdpx` coding or note without a user is attributed to, as `import` does."""
    if not path.exists():
        raise QualcodeError(f"{path}: no such file or folder; name another qualcode project (its folder, its database"
                            " or a backup of it) or a .qdpx")
    if path.is_dir():
        return _from_project_folder(path)
    if path.suffix.lower() == ".qdpx":
        return _from_qdpx(path, coder)
    return _from_backup(path, str(path))


def _from_project_folder(folder: Path) -> OtherCopy:
    from qualcode.project import Project
    from qualcode.snapshots import sqlite_file

    if not (folder / SETTINGS_FILE).is_file():
        raise QualcodeError(f"{folder}: not a qualcode project (no {SETTINGS_FILE}); name the project's folder,"
                            " its database, a backup of it or a .qdpx")
    other = Project.open(folder)
    url = other.database_url
    database = sqlite_file(url)
    if database is None:
        return _from_server(other, url)
    if not Path(database).is_file():
        raise QualcodeError(f"{folder}: its database {database} does not exist")
    copy = _from_backup(Path(database), str(folder))
    copy.database_url = url
    return copy


def _from_server(other, url: str) -> OtherCopy:
    """A project whose database is on a server (PostgreSQL) is read where it is, in one read transaction."""
    from qualcode.db import connect

    engine = connect(url)
    try:
        with engine.connect() as connection, connection.begin():
            copy = _from_rows(lambda table: (dict(r) for r in connection.execute(table.select()).mappings()), str(other.root))
    finally:
        engine.dispose()
    copy.database_url = url
    return copy


def _from_backup(path: Path, source: str) -> OtherCopy:
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    from qualcode.backups import BackupSource

    try:
        with BackupSource(path) as (rows_of, _):
            return _from_rows(rows_of, source)
    except QualcodeError as error:
        raise QualcodeError(f"{error}; merge takes another qualcode project (its folder, its database or a backup)"
                            " or a .qdpx") from None
    except (sqlite3.DatabaseError, DBAPIError) as error:
        # Said of the other copy: left to the general handler, it named this project's database as damaged.
        detail = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise QualcodeError(f"{path}: that copy's database cannot be read ({detail}); this project is untouched;"
                            " merge another copy or a backup of it") from None


def _when(value) -> dt.datetime | None:
    """A time as a dump stores it (ISO text) or a database returns it."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _from_rows(rows_of, source: str) -> OtherCopy:
    """The rows of a qualcode database (or dump), with code ids turned into paths."""
    copy = OtherCopy(source)
    copy.transcripts = {row["id"]: row["text"] for row in rows_of(Transcript.__table__)}
    codes = {row["id"]: row for row in rows_of(Code.__table__)}

    def path(code_id: int) -> str:
        code = codes[code_id]
        return f"{path(code['parent_id'])}/{code['name']}" if code["parent_id"] is not None else code["name"]

    for code_id, row in codes.items():
        copy.codes.append({**row, "path": path(code_id), "created_at": _when(row["created_at"])})
    copy.codes.sort(key=lambda row: row["path"].count("/"))
    for row in rows_of(Coding.__table__):
        copy.codings.append({**row, "code": path(row["code_id"]), "created_at": _when(row["created_at"])})
    for row in rows_of(Memo.__table__):
        target = row["target_id"]
        if row["target_kind"] == "code" and target is not None and target.isdigit() and int(target) in codes:
            target = path(int(target))
        copy.memos.append({**row, "target_id": target, "created_at": _when(row["created_at"])})
    for row in rows_of(Resolution.__table__):
        code = path(row["code_id"]) if row["code_id"] in codes else None
        copy.resolutions.append({**row, "code": code, "created_at": _when(row["created_at"])})
    return copy


def _from_qdpx(path: Path, coder: str) -> OtherCopy:
    """A `.qdpx` as rows: sources as transcripts (ids from their names, as `import` gives them), codes by their
    qualcode paths, each selection's codings by their users, notes on what they annotate."""
    from qualcode.exchange.qdpx import INDUCTIVE_SET
    from qualcode.exchange.qdpx.importer import (code_specs, memo_targets, read_placed, selection_memo,
                                                 transcript_ids, unknown_code)

    qdpx, texts, convention = read_placed(path)
    copy = OtherCopy(str(path), notes=[f"positions read as {convention}", *qdpx.read_as])
    ids = transcript_ids(qdpx, copy.notes)
    copy.transcripts = {ids[guid]: text for guid, text in texts.items()}
    specs = code_specs(qdpx)
    paths = {code.guid: specs[tuple(code.names)].path for code in qdpx.codes}
    inductive = set(qdpx.sets.get(INDUCTIVE_SET, []))
    for code in qdpx.codes:
        spec = specs[tuple(code.names)]
        copy.codes.append({"path": spec.path, **{name: getattr(spec, name) for name in CODE_FIELDS if name != "patterns"},
                           "origin": "inductive" if code.guid in inductive else "deductive",
                           "created_by": qdpx.users.get(code.author, coder), "created_at": utcnow()})
    for source in qdpx.sources:
        text = texts[source.guid]
        marks = [(s, s.span, s.codings) for s in source.selections]
        marks += [(None, (0, len(text)), source.whole)] if source.whole else []
        for selection, (start, end), codings in marks:
            if start == end and codings:
                copy.unreadable["a zero-length selection (a point, not a passage)"] += len(codings)
                continue
            for code_guid, user in codings:
                if code_guid not in paths:
                    copy.unreadable["its code is not in the file's codebook"] += 1
                    copy.notes.append(unknown_code(qdpx, source, selection, code_guid))
                    continue
                copy.codings.append({
                    "transcript_id": ids[source.guid], "start": start, "end": end, "code": paths[code_guid],
                    "coder": qdpx.users.get(user or (selection.author if selection else None), coder),
                    "origin": "manual", "score": None, "important": False, "anchor": "exact", "quote": text[start:end],
                    "memo": selection_memo(qdpx, selection) if selection else None,
                    "created_at": (selection.created if selection else None) or utcnow()})
    for kind, target, text, author, created in memo_targets(qdpx, ids, texts, paths.__getitem__):
        if text:
            copy.memos.append({"target_kind": kind, "target_id": target, "text": text,
                               "author": qdpx.users.get(author, coder), "created_at": created or utcnow()})
    return copy
