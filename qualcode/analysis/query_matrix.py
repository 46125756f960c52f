"""Matrix coding: how many passages (words, transcripts, participants, schools) of each code in each group.

Counted in SQL from the pre-counted tallies where it can be, from `coded_segments` where list fields,
focus-group speakers or words need a row per coding; small cells are warned about and, with
`coarsen`, pooled as quote banks pool them (`qualcode.analysis.pooling`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, text

from qualcode.coding.blind import visible_sql
from qualcode.errors import QualcodeError
from qualcode.ingest.focusgroups import SPEAKER_COLUMNS
from qualcode.models import UNPLACED, Turn
from qualcode.project import Project
from qualcode.analysis.query_where import LIST_FIELDS, Where, apply_where, check_field, resolved, sql_filter

if TYPE_CHECKING:
    import pandas as pd
from qualcode.analysis.query import (
    COUNTED_ORIGINS, MISSING, UNITS, _all_paths, _targets, by_speaker, coded_segments, focus_groups, select_codes,
    split_names, transcript_meta,
)


def matrix(
    project: Project,
    codes: str | Iterable[str] | None = None,
    by: str | Iterable[str] = ("locality",),
    unit: str = "segments",
    rollup: bool = False,
    where: Where | None = None,
    percent: str | None = None,
    origins: tuple[str, ...] = COUNTED_ORIGINS,
    coarsen: bool = False,
    warnings: list[str] | None = None,
) -> pd.DataFrame:
    """Codes (rows) × metadata values (columns): NVivo's matrix coding query.

    `unit` says what is counted: distinct coded segments, their words, or the
    transcripts, participants or schools with at least one. `percent` turns
    counts into percentages of the row or column total. A column percentage
    of segments (words) is of the column's coded passages (their words), each
    counted once however many of the codes it carries, so with `rollup` a
    parent's share is not diluted by its own children's rows (the case
    studies' shares); for transcripts, participants and schools it is the
    share of the column's schools (or people, or transcripts) that have the
    code. Neither adds up to 100 across codes.

    With locality among the columns, a column that fits fewer than
    `min_cell_size` schools and informants in its locality would single them
    out: `warnings`, if given, receives a line for each; with `coarsen` their
    speakers are pooled as a framework's small rows are (`qualcode.analysis.pooling`).
    """
    by = _columns(by)
    if unit not in UNITS:
        raise QualcodeError(f"--unit must be one of: {', '.join(UNITS)}")
    if percent not in (None, "row", "column"):
        raise QualcodeError("--percent must be row or column")
    chosen = select_codes(project, codes)
    pools = _column_pools(project, by, where, coarsen, warnings)
    if pools:
        counts = _frame_counts(coded_segments(project, codes, where, origins, rollup, words=unit == "words"), by, unit, pools)
        return _table(counts, chosen, ["column"], percent, lambda: _column_totals(project, codes, by, unit, where, origins, pools))
    if sql_countable(project, set(by) | set(where or {}), unit):
        counts = _sql_counts(project, chosen, by, unit, rollup, where, origins)
    else:
        counts = _frame_counts(coded_segments(project, codes, where, origins, rollup, words=unit == "words"), by, unit)
    return _table(counts, chosen, by, percent, lambda: _column_totals(project, codes, by, unit, where, origins, None))


def _table(counts: pd.Series, chosen: dict[int, str], levels: list[str], percent: str | None,
           totals: Callable[[], pd.Series]) -> pd.DataFrame:
    """The counts as a table, a row per chosen code, as percentages if asked; `totals()` gives the column N
    (a function, so it is only worked out when wanted)."""
    import pandas as pd

    if counts.empty:
        return _percent(pd.DataFrame(0, index=pd.Index(list(chosen.values()), name="code"), columns=[]), percent)
    table = counts.unstack(levels, fill_value=0).reindex(list(chosen.values()), fill_value=0)
    table.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in table.columns]
    table = table.sort_index(axis=1).astype(int)
    table.index.name = "code"
    if percent == "column":
        return _percent(table, percent, totals())
    return _percent(table, percent)


def _columns(by: str | Iterable[str]) -> list[str]:
    """The `--by` fields, checked: none at all, or one twice, would otherwise fail deep in SQL or pandas."""
    fields = [check_field(f) for f in split_names(by)]
    if not fields:
        raise QualcodeError("--by needs a field, e.g. --by locality or --by phase,ofsted")
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise QualcodeError(f"--by names {', '.join(twice)} twice; give each field once, e.g. --by locality,phase")
    return fields


def _column_pools(project: Project, by: list[str], where: Where | None, coarsen: bool, warnings: list[str] | None):
    """The pools for a matrix's small columns (None if none, or not `coarsen`), warning of each into `warnings`."""
    if coarsen and "locality" not in by:
        raise QualcodeError("--coarsen pools a locality's small columns: add locality to --by (e.g. --by locality,phase)")
    if "locality" not in by or not (coarsen or warnings is not None):
        return None
    from qualcode.analysis.pooling import column_pools

    pools, found = column_pools(project, _exploded(apply_where(project, _speakers_meta(project), where), by), by, coarsen)
    if warnings is not None:
        warnings.extend(found)
    return pools


def column_totals(project: Project, codes: str | Iterable[str] | None, by: str | Iterable[str], unit: str,
                  where: Where | None = None, origins: tuple[str, ...] = COUNTED_ORIGINS, coarsen: bool = False) -> pd.Series:
    """What `matrix(..., percent="column")` divides each column by, its N: the column's coded passages (or
    their words), each once, or the column's schools (participants, transcripts) with an interview; with
    `coarsen`, of the columns `matrix(..., coarsen=True)` gives."""
    by = _columns(by)
    return _column_totals(project, codes, by, unit, where, origins, _column_pools(project, by, where, coarsen, None))


def _column_totals(project: Project, codes, by: list[str], unit: str, where: Where | None, origins: tuple[str, ...],
                   pools) -> pd.Series:
    """`column_totals`, with the `pools` (`qualcode.analysis.pooling.ColumnPools`) of the small columns, if any."""
    if unit in _SMALL_CELL_UNITS:
        return _units_per_column(project, by, unit, where, pools)
    return _passages_per_column(project, codes, by, unit, where, origins, pools)


def _exploded(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """A row per value of each list field in `by`, and MISSING for a field with no value."""
    for field in by:
        if field in LIST_FIELDS:
            frame = frame.explode(field)
        frame[field] = frame[field].fillna(MISSING)
    return frame


def _units_per_column(project: Project, by: list[str], unit: str, where: Where | None, pools=None) -> pd.Series:
    """How many schools (participants, transcripts) with an interview each column's metadata values cover.

    A focus group's speakers count as the participants they are, under their own role: the
    denominator has everyone the numerator can count.
    """
    frame = _exploded(apply_where(project, _speakers_meta(project), where), by)
    if pools:
        return pools.relabel(frame).groupby("column")[unit[:-1]].nunique()
    totals = frame.groupby(by)[unit[:-1]].nunique()
    totals.index = [" / ".join(map(str, key)) if isinstance(key, tuple) else str(key) for key in totals.index]
    return totals


def _passages_per_column(project: Project, codes, by: list[str], unit: str, where: Where | None,
                         origins: tuple[str, ...], pools=None) -> pd.Series:
    """The coded passages (or their words) of the chosen codes in each column, each passage once."""
    frame = coded_segments(project, codes, where, origins, words=unit == "words").assign(code="any")
    totals = _frame_counts(frame, by, unit, pools).droplevel("code")
    totals.index = [" / ".join(map(str, key)) if isinstance(key, tuple) else str(key) for key in totals.index]
    return totals


def _speakers_meta(project: Project) -> pd.DataFrame:
    """`transcript_meta`, plus a row for each mapped speaker of a focus group, with that speaker's metadata."""
    import pandas as pd

    meta = transcript_meta(project)
    with project.connection() as connection:
        first_turns = pd.DataFrame(connection.execute(
            select(Turn.transcript_id.label("transcript"), func.min(Turn.start).label("start"))
            .where(Turn.participant_id.is_not(None)).group_by(Turn.transcript_id, Turn.participant_id)
        ).all(), columns=["transcript", "start"])
    if first_turns.empty:
        return meta
    first_turns["end"] = first_turns["start"] + 1
    speakers = by_speaker(project, first_turns.merge(meta, on="transcript", how="left"))
    return pd.concat([meta, speakers.drop(columns=["start", "end"])], ignore_index=True)


def _frame_counts(frame: pd.DataFrame, by: list[str], unit: str, pools=None) -> pd.Series:
    """Counts per code and field values from `coded_segments` (list fields give one row per value), or with
    `pools` per code and (pooled) column."""
    frame = _exploded(frame, by)
    if pools:
        return _count(pools.relabel(frame), ["code", "column"], unit)
    return _count(frame, ["code", *by], unit)


#: SQL column of each field that is a single value per coding.
_SQL_FIELDS = {"locality": "p.locality_name", "role": "p.role", "informant_kind": "p.informant_kind",
               "phase": "s.phase", "school_type": "s.school_type", "ofsted": "s.ofsted"}
#: How each unit is totted up from the per-transcript counts of distinct coded spans.
_SQL_UNITS = {"segments": "SUM(pt.n)", "transcripts": "COUNT(*)", "participants": "COUNT(DISTINCT m.participant)",
              "schools": "COUNT(DISTINCT m.school)"}


def sql_countable(project: Project, fields: set[str], unit: str = "segments") -> bool:
    """Whether `sql_count_rows` counts what `coded_segments` would when grouping or filtering by `fields`.

    Not words (counted from each coding's quote), nor a list field (a row per
    value), nor a focus group's speakers: counted per transcript in SQL, a
    focus group's codings would all count for the transcript's participant.
    """
    if unit == "words" or fields & set(LIST_FIELDS):
        return False
    return not ((unit == "participants" or fields & set(SPEAKER_COLUMNS)) and focus_groups(project))


def _sql_counts(project: Project, chosen: dict[int, str], by: list[str], unit: str, rollup: bool,
                where: Where | None, origins: tuple[str, ...]) -> pd.Series:
    """The same counts as `_frame_counts`, grouped in the database (`sql_count_rows`), a field with no value
    as MISSING."""
    frame = sql_count_rows(project, chosen, by, unit, rollup, where, origins)
    frame[by] = frame[by].fillna(MISSING)
    return frame.groupby(["code", *by])["n"].sum()


def sql_count_rows(project: Project, chosen: dict[int, str], by: list[str], unit: str, rollup: bool,
                   where: Where | None, origins: tuple[str, ...]) -> pd.DataFrame:
    """Rows of code path, the `by` values (None where there is none) and the count `n` (above 0), counted in the
    database: one query, nothing per coding in Python. `by` may also name the participant and school ids.

    Distinct spans are counted per code and transcript first (`_per_transcript`);
    only then are those (far fewer) rows joined to the transcripts' metadata,
    read once into `m`.
    """
    import pandas as pd

    targets = _targets(set(chosen.values()), rollup)
    pairs = [(code_id, target) for code_id, path in _all_paths(project).items() for target in targets(path)]
    if not pairs:
        return pd.DataFrame(columns=["code", *by, "n"])
    ids = {path: code_id for code_id, path in chosen.items()}
    parameters: dict[str, object] = {"codes": sorted({code_id for code_id, _ in pairs})}
    targets_cte = ""
    if rollup:
        # A coding counts for each chosen ancestor of its code: one row per (coding, target).
        values = []
        for n, (code_id, target) in enumerate(pairs):
            values.append(f"(:i{n}, :t{n})")
            parameters.update({f"i{n}": code_id, f"t{n}": ids[target]})
        targets_cte = f"targets(code_id, target) AS (VALUES {', '.join(values)}),"
    hidden, blind_parameters = visible_sql(project)
    # The tallies count every coder's codings: a coder in a blind round counts only what they may see.
    tallied = not rollup and set(origins) == set(COUNTED_ORIGINS) and not hidden
    if not tallied:
        parameters["origins"] = list(origins)
    parameters.update(blind_parameters)
    filters = []
    for n, (field, wanted) in enumerate(resolved(project, where).items()):
        clause, values = sql_filter(_SQL_FIELDS[field], wanted, f"w{n}")
        filters.append(clause)
        parameters.update(values)
    columns = ["tr.id AS transcript_id", "p.id AS participant", "s.id AS school",
               *(f"{_SQL_FIELDS[f]} AS {f}" for f in sorted(set(by) - {"participant", "school"}))]
    # MATERIALIZED (SQLite 3.35, PostgreSQL 12) reads the metadata of every transcript once
    # instead of looking it up for each code in each transcript.
    statement = text(f"""
        WITH {targets_cte}
        pt AS ({_per_transcript(rollup, tallied, hidden)}),
        m AS MATERIALIZED (
            SELECT {", ".join(columns)}
            FROM transcripts tr
            JOIN participants p ON p.id = tr.participant_id
            LEFT JOIN schools s ON s.id = p.school_id
            {"WHERE " + " AND ".join(filters) if filters else ""}
        )
        SELECT pt.code, {", ".join(f"m.{f}" for f in by)}, {_SQL_UNITS[unit]} AS n
        FROM pt JOIN m ON m.transcript_id = pt.transcript_id
        GROUP BY pt.code, {", ".join(f"m.{f}" for f in by)}
    """).bindparams(*(bindparam(name, expanding=True) for name in EXPANDING if name in parameters))
    with project.connection() as connection:
        frame = pd.DataFrame([tuple(row) for row in connection.execute(statement, parameters)], columns=["code", *by, "n"])
    frame["code"] = frame["code"].map(chosen)
    return frame[frame["n"] > 0]


#: The parameters of the matrix's SQL that are lists.
EXPANDING = ("codes", "origins", "blind_transcripts")


def _per_transcript(rollup: bool, tallied: bool, hidden: str = "") -> str:
    """SQL for the distinct coded spans of each code (or chosen ancestor, `rollup`) in each transcript.

    For the counted origins and no rollup the database keeps these counts
    (`CodeTally`, one row per code and transcript); otherwise they are counted
    from the covering index `ix_codings_code_span`. Two codings of a code on
    the same span (two coders, say) are one segment: a span is one number,
    its start in the high 32 bits. Under rollup a span coded with a code and
    its child is one segment of the parent, which the tallies cannot tell.
    `hidden` is the blind round's condition (`qualcode.coding.blind.visible_sql`), if any.
    """
    if tallied:
        return "SELECT code_id AS code, transcript_id, segments AS n FROM code_tallies WHERE code_id IN :codes"
    code, join = ("t.target", "JOIN targets t ON t.code_id = c.code_id") if rollup else ("c.code_id", "")
    return f"""
        SELECT {code} AS code, c.transcript_id, COUNT(DISTINCT c.start * 4294967296 + c."end") AS n
        FROM codings c {join}
        WHERE c.code_id IN :codes AND c.origin IN :origins AND c.anchor <> '{UNPLACED}'{hidden}
        GROUP BY {code}, c.transcript_id"""


def _count(frame: pd.DataFrame, keys: list[str], unit: str) -> pd.Series:
    grouped = frame.groupby(keys)
    if unit == "segments":
        return grouped["segment"].nunique()
    if unit == "words":
        return frame.drop_duplicates([*keys, "segment"]).groupby(keys)["words"].sum()
    return grouped[unit[:-1]].nunique()


#: Units whose count of one, in a locality's column, points to a single school or person there.
_SMALL_CELL_UNITS = {"schools": "school", "participants": "participant", "transcripts": "interview"}


def small_cell_warnings(table: pd.DataFrame, by: str | Iterable[str], unit: str, minimum: int = 2) -> list[str]:
    """A warning for each cell of a `matrix` of counts (not percentages) that counts fewer than `minimum`
    (`[anonymise] min_cell_size`) schools or people in a locality: with the locality named, it may identify them."""
    if unit not in _SMALL_CELL_UNITS or "locality" not in [check_field(f) for f in split_names(by)]:
        return []
    noun = _SMALL_CELL_UNITS[unit]
    return [f"'{code}' in {column}: counts {'a single ' + noun if value == 1 else f'only {value} {noun}s'}, "
            "who may be identifiable; do not publish this cell as it is"
            for code, row in table.iterrows() for column, value in row.items() if 0 < value < minimum]


def _percent(table: pd.DataFrame, percent: str | None, column_totals: pd.Series | None = None) -> pd.DataFrame:
    """Shares of the row or column total, or of `column_totals` (e.g. the schools in each column)."""
    if percent is None:
        return table
    axis = 1 if percent == "row" else 0
    totals = table.sum(axis=axis) if column_totals is None else column_totals.reindex(table.columns)
    return (table.div(totals.fillna(0).replace(0, 1), axis=1 - axis) * 100).round(1)
