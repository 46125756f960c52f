"""unplaced codings are not counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 22:30:00

A coding whose words a re-import could not find in the new text keeps its
old offsets and `anchor = 'unplaced'`: it points at words that are no longer
there, so it must not count in a matrix or be quoted. `code_tallies` now
counts a coding only if its origin is counted and it is placed, and the
triggers also fire when `anchor` changes; the tallies are counted again.
`ix_codings_code_span` gains `anchor`, so that the queries that count from
the codings can leave unplaced ones out and still read only the index.

SQLite's `batch_alter_table` rebuilds a table and drops its triggers: a later
migration that rebuilds `codings` must create them again with this module's
`create_triggers`, not 0004's.
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

#: Frozen here as it was when this migration was written (qualcode.analysis.query.COUNTED_ORIGINS).
COUNTED = "('manual', 'accepted', 'auto')"
SPAN_COLUMNS = ["code_id", "transcript_id", "start", "end", "origin"]


def _counted(row: str) -> str:
    return f"{row}.origin IN {COUNTED} AND {row}.anchor <> 'unplaced'"


def _other_coding(row: str) -> str:
    """Another counted coding with the code and span of `row` (NEW or OLD), found in ix_codings_code_span."""
    return (f'SELECT 1 FROM codings o WHERE o.code_id = {row}.code_id AND o.transcript_id = {row}.transcript_id'
            f' AND o.start = {row}.start AND o."end" = {row}."end" AND {_counted("o")} AND o.id <> {row}.id')


def _tally(row: str) -> str:
    return f"code_id = {row}.code_id AND transcript_id = {row}.transcript_id"


SQLITE_ADD = f"""
    INSERT INTO code_tallies (code_id, transcript_id, segments)
    SELECT NEW.code_id, NEW.transcript_id, 1 WHERE {_counted('NEW')} AND NOT EXISTS ({_other_coding('NEW')})
    ON CONFLICT (code_id, transcript_id) DO UPDATE SET segments = segments + 1;"""
SQLITE_REMOVE = f"""
    UPDATE code_tallies SET segments = segments - 1
    WHERE {_tally('OLD')} AND {_counted('OLD')} AND NOT EXISTS ({_other_coding('OLD')});
    DELETE FROM code_tallies WHERE {_tally('OLD')} AND segments = 0;"""
WATCHED = 'code_id, transcript_id, start, "end", origin, anchor'
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER codings_tally_insert AFTER INSERT ON codings BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER codings_tally_delete AFTER DELETE ON codings BEGIN {SQLITE_REMOVE} END",
    f"CREATE TRIGGER codings_tally_update AFTER UPDATE OF {WATCHED} ON codings BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION codings_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND {_counted('OLD')} THEN
        PERFORM 1 FROM code_tallies WHERE {_tally('OLD')} FOR UPDATE;
        IF NOT EXISTS ({_other_coding('OLD')}) THEN
            UPDATE code_tallies SET segments = segments - 1 WHERE {_tally('OLD')};
            DELETE FROM code_tallies WHERE {_tally('OLD')} AND segments = 0;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND {_counted('NEW')} THEN
        INSERT INTO code_tallies (code_id, transcript_id, segments) VALUES (NEW.code_id, NEW.transcript_id, 0)
        ON CONFLICT (code_id, transcript_id) DO UPDATE SET segments = code_tallies.segments;
        IF NOT EXISTS ({_other_coding('NEW')}) THEN
            UPDATE code_tallies SET segments = segments + 1 WHERE {_tally('NEW')};
        END IF;
    END IF;
    RETURN NULL;
END $$"""
POSTGRES_TRIGGER = f"CREATE TRIGGER codings_tally AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON codings FOR EACH ROW EXECUTE FUNCTION codings_tally()"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS codings_tally ON codings")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS codings_tally_{name}")


def _recount(where: str) -> None:
    op.execute("DELETE FROM code_tallies")
    op.execute(f"""INSERT INTO code_tallies (code_id, transcript_id, segments)
        SELECT code_id, transcript_id, COUNT(DISTINCT start * 4294967296 + "end") FROM codings
        WHERE {where} GROUP BY code_id, transcript_id""")


def upgrade() -> None:
    _drop_triggers()
    op.drop_index('ix_codings_code_span', table_name='codings')
    op.create_index('ix_codings_code_span', 'codings', [*SPAN_COLUMNS, 'anchor'], unique=False)
    _recount(_counted("codings"))
    create_triggers()


def downgrade() -> None:
    from importlib import import_module

    _drop_triggers()
    op.drop_index('ix_codings_code_span', table_name='codings')
    op.create_index('ix_codings_code_span', 'codings', SPAN_COLUMNS, unique=False)
    _recount(f"origin IN {COUNTED}")
    previous = import_module("qualcode.migrations.versions.0004_code_tallies")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION codings_tally()")
        op.execute(previous.POSTGRES_FUNCTION)
        op.execute(previous.POSTGRES_TRIGGER)
    else:
        for trigger in previous.SQLITE_TRIGGERS:
            op.execute(trigger)
