"""The change log behind `qualcode undo`.

Rather than writing an inverse by hand for every command, a change is recorded
from the session itself: while `recorded(...)` is open, every row the session
inserts, updates or deletes is noted with what is needed to reverse it (the
new row's key, the old values, the deleted row). `undo` applies those inverses
for a coder's most recent change. New commands get undo for free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table, and_, delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session, attributes

from qualcode.errors import QualcodeError
from qualcode.models import Base, Change

_TABLE_ORDER = {table.name: n for n, table in enumerate(Base.metadata.sorted_tables)}


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


def _row(obj: Base) -> dict:
    mapper = inspect(obj).mapper
    return {column.key: _encode(getattr(obj, prop.key)) for prop in mapper.column_attrs for column in prop.columns}


def _key(obj: Base) -> dict:
    mapper = inspect(obj).mapper
    return {column.key: _encode(value) for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj))}


def _old_values(obj: Base) -> dict:
    """The values the changed columns had before this flush."""
    old = {}
    for prop in inspect(obj).mapper.column_attrs:
        history = attributes.get_history(obj, prop.key)
        if history.has_changes() and history.deleted:
            old[prop.columns[0].key] = _encode(history.deleted[0])
    return old


@contextmanager
def recorded(session: Session, coder: str, action: str, description: str) -> Iterator[list[dict]]:
    """Record every row change made in the block as one undoable `Change` by `coder`."""
    inverse: list[dict] = []
    created: list[Base] = []

    def before_flush(flushing: Session, _context, _instances) -> None:
        for obj in flushing.new:
            if not isinstance(obj, Change):
                created.append(obj)
        for obj in flushing.dirty:
            if flushing.is_modified(obj, include_collections=False) and (old := _old_values(obj)):
                inverse.append({"op": "restore", "table": obj.__tablename__, "key": _key(obj), "values": old})
        for obj in flushing.deleted:
            inverse.append({"op": "reinsert", "table": obj.__tablename__, "row": _row(obj)})

    def after_flush(_flushing: Session, _context) -> None:
        while created:
            obj = created.pop()
            inverse.append({"op": "remove", "table": obj.__tablename__, "key": _key(obj)})

    event.listen(session, "before_flush", before_flush)
    event.listen(session, "after_flush", after_flush)
    try:
        yield inverse
        session.flush()
    finally:
        event.remove(session, "before_flush", before_flush)
        event.remove(session, "after_flush", after_flush)
    if inverse:
        session.add(Change(coder=coder, action=action, description=description, inverse=inverse))
        session.flush()


def last_change(session: Session, coder: str) -> Change | None:
    return session.scalar(
        select(Change).where(Change.coder == coder, Change.undone.is_(False)).order_by(Change.id.desc()).limit(1)
    )


def undo(session: Session, coder: str) -> Change:
    """Reverse `coder`'s most recent change that is not yet undone."""
    change = last_change(session, coder)
    if change is None:
        raise QualcodeError(f"nothing to undo for coder '{coder}'")
    session.flush()
    tables = Base.metadata.tables
    operations = change.inverse
    by_dependency = lambda op: _TABLE_ORDER[op["table"]]  # noqa: E731
    # Rows the change made go first (children before parents): SQLite may have given them the ids of
    # rows the change deleted, which come back next (parents before children), then the old values.
    removes = sorted(
        (op for op in operations if op["op"] == "remove"),
        key=lambda op: (by_dependency(op), op["key"].get("id") or 0),
        reverse=True,
    )
    reinserts = sorted(
        (op for op in operations if op["op"] == "reinsert"),
        key=lambda op: (by_dependency(op), op["row"].get("id") or 0),
    )
    restores = [op for op in operations if op["op"] == "restore"]
    for op in removes:
        table = tables[op["table"]]
        session.execute(delete(table).where(_match(table, op["key"])))
    for op in reinserts:
        session.execute(insert(tables[op["table"]]).values({k: _decode(v) for k, v in op["row"].items()}))
    for op in reversed(restores):
        table = tables[op["table"]]
        session.execute(update(table).where(_match(table, op["key"])).values({k: _decode(v) for k, v in op["values"].items()}))
    change.undone = True
    session.flush()
    session.expire_all()  # the ORM's view of the rows changed underneath it
    session.refresh(change)
    return change


def _match(table: Table, key: dict):
    return and_(*(table.c[name] == _decode(value) for name, value in key.items()))
