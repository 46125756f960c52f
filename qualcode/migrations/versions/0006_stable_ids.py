"""ids that are never reused; autocode runs on their suggestions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 23:00:00

`qualcode undo` finds the rows a change made by their ids. SQLite gives a new
row the largest id + 1, so deleting the newest coding and coding again reused
its id, and an undo then acted on someone else's row. `codes`, `codings`,
`memos` and `changes` become AUTOINCREMENT tables (SQLite keeps their highest
id ever given in `sqlite_sequence`); PostgreSQL's sequences never reuse an id
already. SQLite can only do this by rebuilding the tables (batch mode), which
drops the tally triggers on `codings`: they are created again from migration
0004. `qualcode.db.upgrade` runs migrations with foreign keys off, as SQLite's
table rebuild requires (`codes` is referenced by `codings`), and checks them
afterwards.

`codings.run_id` is the id of the `changes` row of the autocode run that made
a suggestion, so undoing a run deletes its suggestions by run instead of the
change log listing every row.
"""

import sqlalchemy as sa
from alembic import context, op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

REBUILT = ('codes', 'memos', 'changes')


def _create_tally_triggers() -> None:
    context.script.get_revision('0004').module.create_triggers()


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.add_column('codings', sa.Column('run_id', sa.Integer(), nullable=True))
        op.create_index('ix_codings_run_id', 'codings', ['run_id'], unique=False)
        return
    for table in REBUILT:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
    with op.batch_alter_table('codings', recreate='always', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch.create_index('ix_codings_run_id', ['run_id'], unique=False)
    _create_tally_triggers()


def downgrade() -> None:
    """Drops `run_id`; the tables keep AUTOINCREMENT, which older qualcode reads the same
    (and rebuilding `codes` again would need foreign keys off)."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('codings', recreate='always' if sqlite else 'auto') as batch:
        batch.drop_index('ix_codings_run_id')
        batch.drop_column('run_id')
    if sqlite:
        _create_tally_triggers()
