"""turns say how their speaker was read; transcripts keep their interviewer

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:00:00

`turns.is_interviewer` becomes `turns.role`: interviewer, participant, note
(a researcher's note, which the old flag counted as the interviewer's) or
header (a transcription service's header line). `turns.time` keeps a turn's
timestamp in seconds. `transcripts.interviewer` keeps the front matter's
`interviewer:`, which `qualcode import --reparse` needs to re-read speakers.
Only `turns` is rebuilt (SQLite batch mode); the tally triggers on `codings`
are untouched.
"""

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('turns') as batch:
        batch.add_column(sa.Column('role', sa.String(length=20), nullable=False, server_default='participant'))
        batch.add_column(sa.Column('time', sa.Float(), nullable=True))
    op.execute(
        "UPDATE turns SET role = CASE WHEN lower(speaker) IN ('note', 'notes') THEN 'note' "
        "WHEN is_interviewer THEN 'interviewer' ELSE 'participant' END"
    )
    with op.batch_alter_table('turns') as batch:
        batch.drop_column('is_interviewer')
        batch.alter_column('role', server_default=None)
    op.add_column('transcripts', sa.Column('interviewer', sa.String(length=80), nullable=True))


def downgrade() -> None:
    op.drop_column('transcripts', 'interviewer')
    with op.batch_alter_table('turns') as batch:
        batch.add_column(sa.Column('is_interviewer', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE turns SET is_interviewer = (role <> 'participant')")
    with op.batch_alter_table('turns') as batch:
        batch.alter_column('is_interviewer', server_default=None)
        batch.drop_column('time')
        batch.drop_column('role')
