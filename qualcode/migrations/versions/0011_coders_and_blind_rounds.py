"""coders, and blind coding rounds

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 05:40:00

`coders` names the project's team (name, initials); every name already on a
coding becomes a coder, with initials made from it (``ann lee`` -> ``AL``).
`rounds` with `round_coders` and `round_transcripts` hold blind rounds: while
one is open, its coders see only their own codings on its transcripts
(`qualcode.coding.blind`). New tables only: nothing is rebuilt, so the tally triggers
on `codings` stay as 0007 made them.
"""

import re

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def initials(name: str) -> str:
    """Frozen here as written (qualcode.coding.rounds.initials_of): the first letter of each word, at most three."""
    return "".join(word[0] for word in re.split(r"[\s._-]+", name) if word)[:3].upper() or name[:1].upper()


def upgrade() -> None:
    coders = op.create_table(
        'coders',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('initials', sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_coders')),
    )
    op.create_table(
        'rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('opened_by', sa.String(length=80), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_by', sa.String(length=80), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds')),
        sa.UniqueConstraint('name', name=op.f('uq_rounds_name')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'round_coders',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('coder', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['coder'], ['coders.name'], name=op.f('fk_round_coders_coder_coders')),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_coders_round_id_rounds'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', 'coder', name=op.f('pk_round_coders')),
    )
    op.create_table(
        'round_transcripts',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('transcript_id', sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_transcripts_round_id_rounds'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['transcript_id'], ['transcripts.id'],
                                name=op.f('fk_round_transcripts_transcript_id_transcripts'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('round_id', 'transcript_id', name=op.f('pk_round_transcripts')),
    )
    names = op.get_bind().execute(sa.text("SELECT DISTINCT coder FROM codings ORDER BY coder")).scalars().all()
    op.bulk_insert(coders, [{"name": name, "initials": initials(name)} for name in names])


def downgrade() -> None:
    op.drop_table('round_transcripts')
    op.drop_table('round_coders')
    op.drop_table('rounds')
    op.drop_table('coders')
