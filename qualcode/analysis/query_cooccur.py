"""Co-occurrence: which codes come up together, within a coded segment, a turn or a transcript.

One SQL query for the whole code × code table, so it stays quick on a full
study; counts only codings that count as coded (`qualcode.analysis.query.COUNTED_ORIGINS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, text

from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED
from qualcode.project import Project
from qualcode.coding.blind import blind
from qualcode.analysis.query import COUNTED_ORIGINS, select_codes
from qualcode.analysis.query_matrix import EXPANDING

if TYPE_CHECKING:
    import pandas as pd


WITHIN = ("segment", "turn", "transcript")

_UNITS_SQL = {
    "transcript": "SELECT DISTINCT c.code_id, c.transcript_id AS unit FROM codings c WHERE {filter}",
    # A transcript's turns follow one another without overlapping (`transcript.parse_turns`), so
    # those a coding overlaps start no earlier than the last turn starting at or before it: one
    # index seek bounds the range scanned on ix_turns_transcript_start, instead of every earlier turn.
    "turn": (
        "SELECT DISTINCT c.code_id, t.id AS unit FROM codings c "
        'JOIN turns t ON t.transcript_id = c.transcript_id AND c.start < t."end" AND t.start < c."end" '
        "AND t.start >= COALESCE((SELECT MAX(t0.start) FROM turns t0 "
        "WHERE t0.transcript_id = c.transcript_id AND t0.start <= c.start), 0) "
        "WHERE {filter}"
    ),
    "segment": (
        'SELECT c.code_id, c.id AS unit, c.transcript_id, c.start, c."end" '
        "FROM codings c WHERE {filter}"
    ),
}
#: The pairs of codings of two different codes in one unit, each pair once: (x code, x unit, y code, y unit).
_PAIRS_SQL = {
    "shared": "SELECT a.code_id, a.unit, b.code_id, b.unit FROM u a JOIN u b ON a.unit = b.unit AND a.code_id < b.code_id",
    # Codings that overlap (or lie within :near characters), found from the one that starts first (on a tie, the
    # lower code) by a seek on the (transcript, start) index for those starting before it ends, rather than by
    # comparing every two codings of a transcript; `+y.code_id` keeps SQLite off the code's index for that seek.
    # Not on PostgreSQL: there it hides the column's statistics, and the planner, misjudging how many codings
    # match, merges all of a transcript's codings with all the others and filters a million pairs (0.3 s, not 0.1).
    "segment": (
        "SELECT x.code_id, x.unit, y.code_id, y.id FROM u x JOIN codings y ON y.transcript_id = x.transcript_id "
        'AND y.start >= x.start AND y.start < x."end" + :near AND x.start < y."end" + :near '
        "AND (y.start > x.start OR y.code_id > x.code_id) AND y.code_id <> x.code_id "
        "WHERE {seek}y.code_id IN :codes AND y.origin IN :origins AND y.anchor <> '{unplaced}'{hidden}"
    ),
}


def cooccur(
    project: Project,
    codes: str | Iterable[str] | None = None,
    within: str = "segment",
    near: int = 0,
    origins: tuple[str, ...] = COUNTED_ORIGINS,
) -> pd.DataFrame:
    """Pairs of codes found together, with counts and Jaccard similarity, in one SQL query.

    Within a turn or transcript, `count` is the turns (transcripts) coded with
    both and `jaccard` is |A∩B| / |A∪B| over those units. Within a segment,
    codings overlap (or lie within `near` characters); `count` is the
    overlapping pairs and `jaccard` the share of the two codes' codings that
    meet a coding of the other.
    """
    import pandas as pd

    if within not in WITHIN:
        raise QualcodeError(f"--within must be one of: {', '.join(WITHIN)}")
    chosen = select_codes(project, codes)
    found = blind(project)  # once, for both sides of a pair: each asking is a query
    hidden, hidden_y = (f" AND {found.sql(alias)}" if found else "" for alias in ("c", "y"))
    blind_parameters = found.parameters if found else {}
    sqlite = project.engine.dialect.name == "sqlite"
    statement = text(_cooccur_sql(within, hidden, hidden_y, sqlite)).bindparams(
        *(bindparam(name, expanding=True) for name in EXPANDING if name in {"codes", "origins", *blind_parameters})
    )
    parameters = {"codes": list(chosen) or [-1], "origins": list(origins), "near": near, **blind_parameters}
    with _reading(project, within) as connection:
        rows = connection.execute(statement, parameters).all()
    frame = pd.DataFrame(rows, columns=["a", "b", "count", "met", "n_a", "n_b"])
    frame.insert(0, "code_a", frame.pop("a").map(chosen))
    frame.insert(1, "code_b", frame.pop("b").map(chosen))
    if within == "segment":
        frame["jaccard"] = frame["met"] / (frame["n_a"] + frame["n_b"])
    else:
        frame["jaccard"] = frame["count"] / (frame["n_a"] + frame["n_b"] - frame["count"])
    frame["jaccard"] = frame["jaccard"].astype(float).round(3)
    frame = frame.drop(columns="met").sort_values(["count", "code_a", "code_b"], ascending=[False, True, True])
    return frame.reset_index(drop=True)


@contextmanager
def _reading(project: Project, within: str) -> Iterator[Connection]:
    """The connection to count with: outside a transaction (`Project.connection`), but within a turn on PostgreSQL
    in one, to turn the planner's Memoize off for the query (SET LOCAL, one more round trip). With the tables'
    statistics it caches each coding's turn lookup by a key holding the lookup's own subquery, which it then works
    out twice for each coding: 0.45 s, not 0.25 s, on the bundled corpus."""
    if within != "turn" or project.engine.dialect.name != "postgresql":
        with project.connection() as connection:
            yield connection
        return
    with project.engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL enable_memoize = off")
        yield connection


def _cooccur_sql(within: str, hidden: str = "", hidden_y: str = "", sqlite: bool = True) -> str:
    """`hidden`, `hidden_y`: the blind round's condition on `c` and on `y` (`qualcode.coding.blind.visible_sql`), if any;
    `sqlite`: with SQLite's planner hint (`_PAIRS_SQL`)."""
    units = _UNITS_SQL[within].format(
        filter=f"c.code_id IN :codes AND c.origin IN :origins AND c.anchor <> '{UNPLACED}'{hidden}")
    kind = "segment" if within == "segment" else "shared"
    pairs = _PAIRS_SQL[kind].format(unplaced=UNPLACED, hidden=hidden_y, seek="+" if sqlite else "")
    return f"""
        WITH u AS ({units}),
        n AS (SELECT code_id, COUNT(*) AS n FROM u GROUP BY code_id),
        f (xc, xu, yc, yu) AS ({pairs}),
        o AS (
            SELECT CASE WHEN xc < yc THEN xc ELSE yc END AS a, CASE WHEN xc < yc THEN xu ELSE yu END AS au,
                   CASE WHEN xc < yc THEN yc ELSE xc END AS b, CASE WHEN xc < yc THEN yu ELSE xu END AS bu
            FROM f
        ),
        p AS (
            SELECT a, b, COUNT(*) AS together, COUNT(DISTINCT au) + COUNT(DISTINCT bu) AS met
            FROM o GROUP BY a, b
        )
        SELECT p.a, p.b, p.together, p.met, na.n, nb.n
        FROM p JOIN n na ON na.code_id = p.a JOIN n nb ON nb.code_id = p.b
    """
