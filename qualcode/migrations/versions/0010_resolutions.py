"""decisions on coders' disagreements

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:00:00

`resolutions` records each decision of `qualcode tag --review` on a passage
where two coders differ about a code: what was kept and who resolved it. A
new table only; `codings` and its tally triggers are untouched (the consensus
codings' origin, ``resolved``, is not counted, as the triggers already say).
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resolutions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('transcript_id', sa.String(length=60), nullable=False),
        sa.Column('start', sa.Integer(), nullable=False),
        sa.Column('end', sa.Integer(), nullable=False),
        sa.Column('code_id', sa.Integer(), nullable=False),
        sa.Column('coders', sa.String(length=200), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('kept', sa.String(length=200), nullable=True),
        sa.Column('resolved_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_resolutions')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_resolutions_passage', 'resolutions', ['transcript_id', 'start', 'end', 'code_id'])


def downgrade() -> None:
    op.drop_index('ix_resolutions_passage', table_name='resolutions')
    op.drop_table('resolutions')
