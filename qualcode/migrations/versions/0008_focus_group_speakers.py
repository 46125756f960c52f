"""a focus group's turns say whose words they are

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 01:00:00

`turns.participant_id` names the participant who speaks a turn when a
transcript has several (a focus group whose metadata maps speaker labels to
participants); empty, a participant turn is the transcript's participant's.
`transcripts.speakers` keeps that map (label -> participant id) for
`qualcode import --reparse`. Only `turns` is rebuilt (SQLite batch mode); the
tally triggers on `codings` are untouched.
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('turns') as batch:
        batch.add_column(sa.Column('participant_id', sa.String(length=40), nullable=True))
        batch.create_foreign_key('fk_turns_participant_id_participants', 'participants', ['participant_id'], ['id'])
    op.add_column('transcripts', sa.Column('speakers', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('transcripts', 'speakers')
    with op.batch_alter_table('turns') as batch:
        batch.drop_constraint('fk_turns_participant_id_participants', type_='foreignkey')
        batch.drop_column('participant_id')
