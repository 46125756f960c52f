"""The change log behind `qualcode undo` and `qualcode history`.

Rather than writing an inverse by hand for every command, a change is recorded
from the session itself: while `recorded(...)` is open, the ORM's mapper events
note every row the session inserts, updates or deletes, in the order the
database executes them, with what reverses it. They see a relationship change
(a code's new parent) as the foreign key it writes, so nothing is missed. Undo
replays the inverses in reverse order: every state it passes through is one the
database has been in, so every constraint holds on the way.

Rows are found by id, and ids are never reused (migration 0006). A change also
keeps its footprint: the rows it wrote (and the unique names it took or freed),
the rows it created and deleted, the rows its new values point at and the rows
its undo would point at again. Undo refuses, naming the change, when a later
change by someone else depends on it; and it refuses when a row is no longer as
the change left it (another program changed it), rather than guess.

Autocode's suggestions carry their run's change id (`Coding.run_id`), so a run
is undone by deleting its suggestions by run, not from a list of every row.

Rows written in bulk, which the mapper events do not see (a transcript's turns,
tens of thousands at an import; partnership memberships, written through a
relationship), are recorded by `bulk_replaced`: the rows before, and a digest of
the rows after that undo checks before it puts the old ones back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Table, UniqueConstraint, and_, delete, event, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapper, Session, attributes, object_session

from qualcode.errors import QualcodeError
from qualcode.models import Base, Change

_ACTIVE = "qualcode.recording"
#: What a change's footprint keeps: see the module docstring.
FOOTPRINT = ("written", "created", "deleted", "refs", "needs")
#: Memos point at codes and codings by an id in a string column, not a foreign key.
_SOFT_TARGETS = {"code": "codes", "coding": "codings"}


def _encode(value: object) -> object:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"datetime"}:
        return dt.datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and set(value) == {"date"}:
        return dt.date.fromisoformat(value["date"])
    return value


def _key(table: Table, row: dict) -> dict:
    return {column.name: _encode(row[column.name]) for column in table.primary_key}


def _row_name(table: Table, row: dict) -> str:
    return f"{table.name}:" + "/".join(str(row[column.name]) for column in table.primary_key)


def _names(table: Table, row: dict) -> set[str]:
    """The row itself and the unique names it holds (a code's name under its parent)."""
    names = {_row_name(table, row)}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            columns = [column.name for column in constraint.columns]
            names.add(f"{table.name}({','.join(columns)}):" + "/".join(str(row[c]) for c in columns))
    return names


def _pointers(table: Table, row: dict, columns: set[str] | None = None) -> set[str]:
    """The rows `row` points at (through `columns` only, when given), and the autocode run it belongs to.

    A change that touches a run's suggestion depends on the run (which holds
    them as one `run:ID` among its created rows) as if it pointed at it.
    """
    found = {
        f"{fk.column.table.name}:{row[fk.parent.name]}"
        for fk in table.foreign_keys
        if row.get(fk.parent.name) is not None and (columns is None or fk.parent.name in columns)
    }
    if table.name == "memos" and row["target_kind"] in _SOFT_TARGETS and (columns is None or columns & {"target_id", "target_kind"}):
        found.add(f"{_SOFT_TARGETS[row['target_kind']]}:{row['target_id']}")
    if row.get("run_id") is not None:
        found.add(f"run:{row['run_id']}")
    return found


def _stored_row(connection, table: Table, key: dict) -> dict | None:
    """A row as the database holds it (in a flush: before this statement changes it)."""
    row = connection.execute(select(table).where(_match(table, key))).mappings().first()
    return dict(row) if row is not None else None


class _Recording:
    """The operations and footprint of one change while it is being made."""

    def __init__(self, change: Change):
        self.change = change
        self.ops: list[dict] = []
        self.footprint: dict[str, set[str]] = {name: set() for name in FOOTPRINT}

    def inserted(self, table: Table, row: dict) -> None:
        if row.get("run_id") == self.change.id:
            if f"run:{self.change.id}" not in self.footprint["created"]:
                self.ops.append({"op": "remove_run", "table": table.name, "run": self.change.id})
                self.footprint["created"].add(f"run:{self.change.id}")
        else:
            self.ops.append({"op": "remove", "table": table.name, "key": _key(table, row)})
            self.footprint["created"].add(_row_name(table, row))
            self.footprint["written"] |= _names(table, row)
        self.footprint["refs"] |= _pointers(table, row)

    def updated(self, table: Table, old: dict, new: dict) -> None:
        changed = {name for name in new if _encode(new[name]) != _encode(old[name])}
        if not changed:
            return
        self.ops.append({
            "op": "restore", "table": table.name, "key": _key(table, old),
            "values": {name: _encode(old[name]) for name in changed},
            "after": {name: _encode(new[name]) for name in changed},
        })
        self.footprint["written"] |= _names(table, old) | _names(table, new)
        if table.name == "transcripts" and "text" in changed:  # a new text: codings made on it depend on it
            self.footprint["created"].add(_row_name(table, new))
        self.footprint["refs"] |= _pointers(table, new, changed)
        self.footprint["needs"] |= _pointers(table, old, changed)

    def replaced(self, table: Table, column: str | None, values: list, old: list[dict], after: str) -> None:
        self.ops.append({"op": "replace", "table": table.name, "column": column, "values": values,
                         "rows": [{k: _encode(v) for k, v in row.items()} for row in old], "after": after})
        self.footprint["written"] |= {f"{table.name}.{column}:{v}" for v in values} if column else {table.name}
        for row in old:
            self.footprint["needs"] |= _pointers(table, row)

    def deleted(self, table: Table, row: dict) -> None:
        self.ops.append({"op": "reinsert", "table": table.name, "row": {k: _encode(v) for k, v in row.items()}})
        self.footprint["written"] |= _names(table, row)
        self.footprint["deleted"].add(_row_name(table, row))
        self.footprint["needs"] |= _pointers(table, row)

    def as_json(self) -> dict:
        return {"ops": self.ops, **{name: sorted(keys) for name, keys in self.footprint.items()}}


def _recording(obj: Base) -> _Recording | None:
    session = object_session(obj)
    if session is None or isinstance(obj, Change):
        return None
    return session.info.get(_ACTIVE)


def _values(mapper: Mapper, obj: Base) -> dict:
    return {column.name: getattr(obj, mapper.get_property_by_column(column).key) for column in mapper.local_table.columns}


@event.listens_for(Base, "after_insert", propagate=True)
def _after_insert(mapper: Mapper, _connection, obj: Base) -> None:
    if recording := _recording(obj):
        recording.inserted(mapper.local_table, _values(mapper, obj))


@event.listens_for(Base, "before_update", propagate=True)
def _before_update(mapper: Mapper, connection, obj: Base) -> None:
    recording = _recording(obj)
    if recording is None:
        return
    table = mapper.local_table
    changes = {
        column.name: history.added[0]
        for column in table.columns
        if (history := attributes.get_history(
            obj, mapper.get_property_by_column(column).key, passive=attributes.PASSIVE_NO_INITIALIZE
        )).added
    }
    if changes:
        old = _stored_row(connection, table, _key(table, _old_key(mapper, obj)))
        recording.updated(table, old, old | changes)


def _old_key(mapper: Mapper, obj: Base) -> dict:
    """The object's primary key, as columns."""
    return {column.name: value for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj))}


@event.listens_for(Base, "before_delete", propagate=True)
def _before_delete(mapper: Mapper, connection, obj: Base) -> None:
    if recording := _recording(obj):
        table = mapper.local_table
        recording.deleted(table, _stored_row(connection, table, _key(table, _old_key(mapper, obj))))


def _bulk_where(table: Table, column: str | None, values: list):
    return table.c[column].in_(values) if column else true()


def _bulk_rows(session: Session, table: Table, column: str | None, values: list) -> tuple[list[str], list[tuple]]:
    """The rows' column names and values, read through the connection (tens of thousands of turns: no ORM
    result, and no dict, per row)."""
    query = select(table).where(_bulk_where(table, column, values)).order_by(*table.primary_key.columns)
    result = session.connection().execute(query)
    return list(result.keys()), [tuple(row) for row in result]


#: Marks a digest `_digest` writes; one without it is `_digest_v1`'s, as changes recorded before it carry.
_DIGEST_SCHEME = "v2:"


def _digest(names: list[str], rows: list[tuple]) -> str:
    """A hash of the rows as the lists of values they are, under their column names (json calls `_jsonable`
    only for the dates): a third of the time of a dict per row, `_digest_v1`, at an import's 25,000 turns."""
    text = json.dumps([names, rows], default=_jsonable)
    return _DIGEST_SCHEME + hashlib.sha256(text.encode()).hexdigest()


def _digest_v1(names: list[str], rows: list[tuple]) -> str:
    """The digest changes recorded before `_DIGEST_SCHEME` carry: of a dict per row, keys sorted."""
    text = json.dumps([dict(zip(names, row)) for row in rows], sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: object) -> object:
    """A value json cannot write: a date as `_encode` writes it, anything else as text."""
    return _encode(value) if isinstance(value, dt.date) else str(value)


def bulk_replaced(session: Session, table: Table, column: str | None, values: list, write: Callable[[], None]) -> None:
    """Run `write`, which replaces the rows of `table` whose `column` is one of `values` (every row, if no
    `column`) in ways the mapper events do not see, and record what it replaced if a change is being recorded."""
    recording = session.info.get(_ACTIVE)
    if recording is None:
        write()
        return
    session.flush()
    names, old = _bulk_rows(session, table, column, values)
    write()
    session.flush()
    new = _bulk_rows(session, table, column, values)[1]
    if new != old:
        recording.replaced(table, column, values, [dict(zip(names, row)) for row in old], _digest(names, new))


def run_inserted(session: Session, table: Table, rows: list[dict]) -> None:
    """Record rows of the recorded change's own autocode run, inserted in bulk (the mapper events do not see
    them): as for rows inserted one by one, undo deletes them by run, and the change points at what they point at."""
    recording = session.info.get(_ACTIVE)
    if recording is None:
        return
    for row in rows:
        if row.get("run_id") != recording.change.id:
            raise ValueError("run_inserted records only rows of the change's own run")
        recording.inserted(table, row)


@contextmanager
def recorded(session: Session, coder: str, action: str, description: str, always: bool = False) -> Iterator[Change]:
    """Record every row change made in the block as one undoable `Change` by `coder` (yielded, with its id).

    A block that changed nothing leaves no change, unless `always`: an autocode
    rerun that finds what the last one found is still the run `undo` should
    take back next, not the change before it.
    """
    change = Change(coder=coder, action=action, description=description, inverse={})
    session.add(change)
    session.flush()
    recording = session.info[_ACTIVE] = _Recording(change)
    try:
        yield change
        session.flush()
    finally:
        del session.info[_ACTIVE]
    if recording.ops or always:
        change.inverse = recording.as_json()
    else:
        session.delete(change)
    session.flush()


def last_change(session: Session, coder: str) -> Change | None:
    return session.scalar(
        select(Change).where(Change.coder == coder, Change.undone.is_(False)).order_by(Change.id.desc()).limit(1)
    )


def describe(change: Change) -> str:
    """Who, what and when, as people name a change: ``change 12 by ana, 'code T1 4 with x' at 2026-12-02 21:05``."""
    return f"change {change.id} by {change.coder}, '{change.description}' at {change.created_at:%Y-%m-%d %H:%M}"


def undo(session: Session, coder: str) -> Change:
    """Reverse `coder`'s most recent change that is not yet undone, exactly, or refuse and say why."""
    change = last_change(session, coder)
    if change is None:
        raise QualcodeError(f"nothing to undo for coder '{coder}'")
    if isinstance(change.inverse, list):
        raise QualcodeError(
            f"cannot undo {describe(change)}: it was recorded by a qualcode older than this database's schema"
            " (0006), whose record could name rows SQLite has since given to others"
        )
    session.flush()
    _refuse_if_depended_on(session, change)
    _refuse_if_changed_since(session, change)
    tables = Base.metadata.tables
    for op in reversed(change.inverse["ops"]):
        table = tables[op["table"]]
        if op["op"] == "remove":
            session.execute(delete(table).where(_match(table, op["key"])))
        elif op["op"] == "remove_run":
            session.execute(delete(table).where(table.c.run_id == op["run"]))
        elif op["op"] == "reinsert":
            session.execute(insert(table).values({k: _decode(v) for k, v in op["row"].items()}))
        elif op["op"] == "replace":
            _put_back(session, table, op, change)
        else:
            values = {k: _decode(v) for k, v in op["values"].items()}
            session.execute(update(table).where(_match(table, op["key"])).values(values))
    change.undone = True
    session.flush()
    session.expire_all()  # the ORM's view of the rows changed underneath it
    session.refresh(change)
    return change


def _put_back(session: Session, table: Table, op: dict, change: Change) -> None:
    """Undo a bulk replacement: the rows written then give way to the rows they replaced, with their ids."""
    session.execute(delete(table).where(_bulk_where(table, op["column"], op["values"])))
    if op["rows"]:
        try:
            with session.begin_nested():
                session.execute(insert(table), [{k: _decode(v) for k, v in row.items()} for row in op["rows"]])
        except IntegrityError:
            raise QualcodeError(f"cannot undo {describe(change)}: the {table.name} rows it replaced cannot be put back"
                                " (their ids were taken since); nothing was undone") from None


def _footprint(change: Change) -> dict[str, set[str]]:
    return {name: set(change.inverse.get(name, ())) for name in FOOTPRINT}


def _depends(later: dict[str, set[str]], earlier: dict[str, set[str]]) -> bool:
    """Whether undoing `earlier` would undercut `later`: same rows, rows it made, or rows it removed.

    `later` needs what `earlier` created when it deleted a row of `earlier`'s
    autocode run (recorded as the run, not row by row) or a row pointing at one.
    """
    return bool(
        later["written"] & earlier["written"]
        or (later["refs"] | later["needs"]) & earlier["created"]
        or later["deleted"] & earlier["needs"]
    )


def _refuse_if_depended_on(session: Session, change: Change) -> None:
    mine = _footprint(change)
    later = session.scalars(
        select(Change)
        .where(Change.id > change.id, Change.undone.is_(False), Change.coder != change.coder)
        .order_by(Change.id)
    )
    blocking = [other for other in later if _depends(_footprint(other), mine)]
    if blocking:
        first, more = blocking[0], len(blocking) - 1
        also = f" (and {more} later change{'s' if more != 1 else ''})" if more else ""
        raise QualcodeError(
            f"cannot undo {describe(change)}: {describe(first)}{also} depends on it;"
            f" {first.coder} must undo that first ('qualcode undo --coder {first.coder}')"
        )


def _refuse_if_changed_since(session: Session, change: Change) -> None:
    """Every row the change wrote must still be as it left it, or undoing it would not restore what was."""
    expected: dict[tuple, dict | None] = {}
    tables = Base.metadata.tables
    for op in change.inverse["ops"]:
        if op["op"] == "replace":
            _refuse_if_replaced_since(session, tables[op["table"]], op, change)
        if op["op"] in ("remove_run", "replace"):
            continue
        key = (op["table"], tuple(sorted((op.get("key") or _key(Base.metadata.tables[op["table"]], op["row"])).items())))
        if op["op"] == "remove":
            expected[key] = {}
        elif op["op"] == "reinsert":
            expected[key] = None
        else:
            expected.setdefault(key, {}).update(op["after"])
    for (name, key), values in expected.items():
        row = _stored_row(session.connection(), tables[name], dict(key))
        gone = row is None and values is not None
        if gone or (row is not None and (values is None or any(_encode(row[c]) != v for c, v in values.items()))):
            where = ", ".join(f"{k} {v}" for k, v in key)
            raise QualcodeError(
                f"cannot undo {describe(change)}: the {name} row with {where} is no longer as that change left it;"
                " something not recorded as a change (another program) changed it since"
            )


def _refuse_if_replaced_since(session: Session, table: Table, op: dict, change: Change) -> None:
    digest = _digest if op["after"].startswith(_DIGEST_SCHEME) else _digest_v1
    if digest(*_bulk_rows(session, table, op["column"], op["values"])) != op["after"]:
        what = f"the {table.name} of {', '.join(map(str, op['values'][:3]))}" if op["column"] else f"the {table.name}"
        raise QualcodeError(
            f"cannot undo {describe(change)}: {what} are no longer as that change left them;"
            " something not recorded as a change (another program) changed them since"
        )


def _match(table: Table, key: dict):
    return and_(*(table.c[name] == _decode(value) for name, value in key.items()))


def listing(session: Session, coder: str | None = None, limit: int = 20) -> list[dict]:
    """The recorded changes, newest first: what `undo` would reverse (its coder's newest not undone first)."""
    query = select(Change).order_by(Change.id.desc()).limit(limit)
    if coder:
        query = query.where(Change.coder == coder)
    return [
        {"id": c.id, "coder": c.coder, "action": c.action, "description": c.description,
         "when": c.created_at.isoformat(timespec="seconds"), "undone": c.undone}
        for c in session.scalars(query)
    ]
