"""one coding per passage, code and coder

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 01:30:00

Two processes of one coder coding the same passage at once each found no
coding there and each stored one: duplicates that count twice in agreement and
in `codings`. A unique index now makes the database refuse the second, and
qualcode answers "already coded" (`qualcode.coding.manual`).

The index covers placed codings of every origin. A suggestion is a row of its
coder (the autocoder) like any other, so a rerun cannot store a passage twice;
and accepting one that the reviewer had coded by hand folds it into the hand
coding instead of counting the passage twice. An `unplaced` coding is left out:
its offsets point into a text that is gone (a re-import could not find its
words), so a coder coding the new text at the same numbers is not a duplicate.

Existing duplicates are folded first, deterministically: the lowest id stays,
taking the strongest origin of the group (manual, accepted, auto, suggested),
any `important` flag and the others' memo text; memo rows on a removed coding
(`target_kind = 'coding'`) move to the one kept. The tallies are counted again
(0007's rule), since folding may change which row of a span is counted. No
table is rebuilt, so the tally triggers stay as 0007 made them.

A transcript without a speakers map held the JSON value `null` (0008); it is
SQL NULL now, as the model writes it, so a restored backup is the same row.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = ["transcript_id", "start", "end", "code_id", "coder"]
PLACED = "anchor <> 'unplaced'"
#: Strongest first: which origin a folded group keeps.
RANK = ("manual", "accepted", "auto", "suggested")
#: Frozen here as it was when this migration was written (qualcode.analysis.query.COUNTED_ORIGINS).
COUNTED = "('manual', 'accepted', 'auto')"


def _fold() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f'SELECT id, transcript_id, start, "end", code_id, coder, origin, important, memo FROM codings'
        f" WHERE {PLACED} ORDER BY id")).all()
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault((row.transcript_id, row.start, row.end, row.code_id, row.coder), []).append(row)
    for group in groups.values():
        if len(group) > 1:
            _fold_group(bind, group)


def _fold_group(bind, group: list) -> None:
    kept, removed = group[0], group[1:]
    origin = min((row.origin for row in group), key=lambda o: RANK.index(o) if o in RANK else len(RANK))
    memos = [row.memo for row in group if row.memo]
    gone = [row.id for row in removed]
    bind.execute(sa.text("UPDATE memos SET target_id = :kept WHERE target_kind = 'coding' AND target_id IN :gone")
                 .bindparams(sa.bindparam("gone", expanding=True)), {"kept": str(kept.id), "gone": [str(i) for i in gone]})
    bind.execute(sa.text("DELETE FROM codings WHERE id IN :gone").bindparams(sa.bindparam("gone", expanding=True)),
                 {"gone": gone})
    bind.execute(sa.text("UPDATE codings SET origin = :origin, important = :important, memo = :memo WHERE id = :id"),
                 {"origin": origin, "important": any(row.important for row in group),
                  "memo": "\n".join(dict.fromkeys(memos)) or None, "id": kept.id})


def _recount() -> None:
    op.execute("DELETE FROM code_tallies")
    op.execute(f"""INSERT INTO code_tallies (code_id, transcript_id, segments)
        SELECT code_id, transcript_id, COUNT(DISTINCT start * 4294967296 + "end") FROM codings
        WHERE origin IN {COUNTED} AND {PLACED} GROUP BY code_id, transcript_id""")


def upgrade() -> None:
    op.execute("UPDATE transcripts SET speakers = NULL WHERE CAST(speakers AS TEXT) = 'null'")
    _fold()
    _recount()
    op.create_index('uq_codings_passage', 'codings', KEY, unique=True,
                    sqlite_where=sa.text(PLACED), postgresql_where=sa.text(PLACED))


def downgrade() -> None:
    op.drop_index('uq_codings_passage', table_name='codings')
