"""indexes for cross-case queries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:10:00

`ix_codings_code_span` covers what the matrix and co-occurrence queries read
of a coding (code, transcript, span, origin), in the order they group it:
they count it from the index without touching the table's rows (which carry
the quote and memo). It starts with `code_id`, so the single-column
`ix_codings_code_id` it replaces served nothing it does not.
`ix_turns_transcript_start` finds the turns a coded span overlaps.
"""

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_codings_code_span', 'codings', ['code_id', 'transcript_id', 'start', 'end', 'origin'])
    op.drop_index('ix_codings_code_id', table_name='codings')
    op.create_index('ix_turns_transcript_start', 'turns', ['transcript_id', 'start'])


def downgrade() -> None:
    op.drop_index('ix_turns_transcript_start', table_name='turns')
    op.create_index('ix_codings_code_id', 'codings', ['code_id'])
    op.drop_index('ix_codings_code_span', table_name='codings')
