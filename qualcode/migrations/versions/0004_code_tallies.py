"""code tallies kept by the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:40:00

`code_tallies` holds, per code and transcript, how many distinct spans are
coded with the code by a counted coding (manual, accepted or auto; not a
suggestion), with no row where that is 0. The code × metadata matrix sums
these rows (one per five codings in the scale-10 sample corpus) instead of
counting distinct spans over every coding.

Triggers on `codings` keep it exact whatever writes a coding (qualcode, undo,
a re-import moving spans, a merge recoding them, or plain SQL): a coding adds
one to its row unless another counted coding already has its code and span,
and removing it takes one off unless another still does. On PostgreSQL the
row is locked (created if need be, in one upsert) before that check, so two
team members coding the same span at once count it once.

SQLite's `batch_alter_table` rebuilds a table and drops its triggers: a later
migration that rebuilds `codings` must create them again (`create_triggers`).
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: Frozen here as it was when this migration was written (qualcode.analysis.query.COUNTED_ORIGINS).
COUNTED = "('manual', 'accepted', 'auto')"


def _other_coding(row: str) -> str:
    """Another counted coding with the code and span of `row` (NEW or OLD), found in ix_codings_code_span."""
    return (f'SELECT 1 FROM codings o WHERE o.code_id = {row}.code_id AND o.transcript_id = {row}.transcript_id'
            f' AND o.start = {row}.start AND o."end" = {row}."end" AND o.origin IN {COUNTED} AND o.id <> {row}.id')


def _tally(row: str) -> str:
    return f"code_id = {row}.code_id AND transcript_id = {row}.transcript_id"


SQLITE_ADD = f"""
    INSERT INTO code_tallies (code_id, transcript_id, segments)
    SELECT NEW.code_id, NEW.transcript_id, 1 WHERE NEW.origin IN {COUNTED} AND NOT EXISTS ({_other_coding('NEW')})
    ON CONFLICT (code_id, transcript_id) DO UPDATE SET segments = segments + 1;"""
SQLITE_REMOVE = f"""
    UPDATE code_tallies SET segments = segments - 1
    WHERE {_tally('OLD')} AND OLD.origin IN {COUNTED} AND NOT EXISTS ({_other_coding('OLD')});
    DELETE FROM code_tallies WHERE {_tally('OLD')} AND segments = 0;"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER codings_tally_insert AFTER INSERT ON codings BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER codings_tally_delete AFTER DELETE ON codings BEGIN {SQLITE_REMOVE} END",
    'CREATE TRIGGER codings_tally_update AFTER UPDATE OF code_id, transcript_id, start, "end", origin ON codings'
    f" BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]

POSTGRES_FUNCTION = f"""
CREATE FUNCTION codings_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.origin IN {COUNTED} THEN
        PERFORM 1 FROM code_tallies WHERE {_tally('OLD')} FOR UPDATE;
        IF NOT EXISTS ({_other_coding('OLD')}) THEN
            UPDATE code_tallies SET segments = segments - 1 WHERE {_tally('OLD')};
            DELETE FROM code_tallies WHERE {_tally('OLD')} AND segments = 0;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.origin IN {COUNTED} THEN
        INSERT INTO code_tallies (code_id, transcript_id, segments) VALUES (NEW.code_id, NEW.transcript_id, 0)
        ON CONFLICT (code_id, transcript_id) DO UPDATE SET segments = code_tallies.segments;
        IF NOT EXISTS ({_other_coding('NEW')}) THEN
            UPDATE code_tallies SET segments = segments + 1 WHERE {_tally('NEW')};
        END IF;
    END IF;
    RETURN NULL;
END $$"""
POSTGRES_TRIGGER = ('CREATE TRIGGER codings_tally AFTER INSERT OR DELETE OR UPDATE OF code_id, transcript_id, start, "end",'
                    ' origin ON codings FOR EACH ROW EXECUTE FUNCTION codings_tally()')


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def upgrade() -> None:
    op.create_table('code_tallies',
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.String(length=60), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code_id', 'transcript_id', name=op.f('pk_code_tallies')),
    sqlite_with_rowid=False,
    )
    op.execute(f"""INSERT INTO code_tallies (code_id, transcript_id, segments)
        SELECT code_id, transcript_id, COUNT(DISTINCT start * 4294967296 + "end") FROM codings
        WHERE origin IN {COUNTED} GROUP BY code_id, transcript_id""")
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER codings_tally ON codings")
        op.execute("DROP FUNCTION codings_tally()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER codings_tally_{name}")
    op.drop_table('code_tallies')
