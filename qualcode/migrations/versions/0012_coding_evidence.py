"""a suggestion's evidence

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:20:00

A suggestion says why it was made: the words its code's patterns matched in
the turn, or the strongest features of the learned model (`qualcode.suggestions.learning`),
stored as a JSON list of strings. Codings made by hand have none (NULL).
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of the table would drop 0007's tally triggers.
    op.add_column("codings", sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("codings", "evidence")
