"""Cross-case queries: which themes come up where, for whom, and in whose words.

Every query returns a pandas DataFrame, so the CLI, the reports and a notebook
share one implementation. They all start from `coded_segments`: one row per
coding with the metadata of the person who said it and of their school, to
which `where` filters (values resolved through the project's vocabularies)
and `by` groupings apply. Text that leaves the tool goes through
`pseudonymiser(project)` (the identity key, `qualcode.anonymise`) unless
the caller asks for it raw. The `where` filters are `qualcode.query_where`;
co-occurrence and keyword search have modules of their own
(`qualcode.query_cooccur`, `qualcode.query_text`).
"""

from __future__ import annotations

import csv
import fnmatch
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import selectinload

from qualcode.attribution import render, speaker_for
from qualcode.blind import visible, visible_sql
from qualcode.codebook import find_code
from qualcode.coding import lines_of
from qualcode.errors import QualcodeError
from qualcode.focusgroups import SPEAKER_COLUMNS, Voices
from qualcode.models import UNPLACED, Coding, Participant, School, SchoolDesignation, Transcript, Turn, partnership_members
from qualcode.overview import code_paths
from qualcode.project import Project
from qualcode.query_where import LIST_FIELDS, Where, apply_where, check_field, resolved, sql_filter
from qualcode.speakers import PARTICIPANT
from qualcode.transcript import line_starts

if TYPE_CHECKING:
    import pandas as pd

UNITS = ("segments", "words", "transcripts", "participants", "schools")
#: Codings that count as coded: suggestions still waiting for a decision do not.
COUNTED_ORIGINS = ("manual", "accepted", "auto")
#: Codings a person has stood behind, the only ones quoted in reports.
QUOTABLE_ORIGINS = ("manual", "accepted")
MISSING = "n/a"


# Choosing codes and filters


def select_codes(project: Project, patterns: str | Iterable[str] | None) -> dict[int, str]:
    """Code ids -> paths for comma-separated patterns: a glob over paths (``markets/*``) or a code with its children."""
    with project.session() as session:
        paths = code_paths(session)
        if not patterns:
            return dict(sorted(paths.items(), key=lambda item: item[1]))
        chosen: set[int] = set()
        for pattern in split_names(patterns):
            if any(mark in pattern for mark in "*?["):
                matched = {i for i, p in paths.items() if fnmatch.fnmatch(p, pattern)}
                if not matched:
                    raise QualcodeError(f"no code path matches '{pattern}'")
            else:
                root = paths[find_code(session, pattern).id]
                matched = {i for i, p in paths.items() if p == root or p.startswith(root + "/")}
            chosen |= matched
        return dict(sorted(((i, paths[i]) for i in chosen), key=lambda item: item[1]))


def split_names(patterns: str | Iterable[str]) -> list[str]:
    """Names from comma-separated strings: "a, b" and ["a", "b,c"] alike."""
    items = [patterns] if isinstance(patterns, str) else list(patterns)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


# The base tables


def transcript_meta(project: Project) -> pd.DataFrame:
    """One row per transcript: participant, school and their metadata, designations and partnerships as lists."""
    import pandas as pd

    query = (
        select(
            Transcript.id.label("transcript"), Participant.id.label("participant"), Participant.role,
            Participant.informant_kind, Participant.is_system_informant.label("informant"),
            Participant.locality_name.label("locality"), School.id.label("school"),
            School.phase, School.school_type, School.ofsted,
        )
        .join(Participant, Transcript.participant_id == Participant.id)
        .outerjoin(School, Participant.school_id == School.id)
        .order_by(Transcript.id)
    )
    with project.engine.connect() as connection:
        frame = pd.read_sql(query, connection)
        designations = _lists(connection.execute(select(SchoolDesignation.school_id, SchoolDesignation.designation)))
        partnerships = _lists(connection.execute(
            select(partnership_members.c.school_id, partnership_members.c.partnership_id)
        ))
    frame["designation"] = frame["school"].map(lambda s: designations.get(s, []))
    frame["partnership"] = frame["school"].map(lambda s: partnerships.get(s, []))
    return frame


def _lists(rows) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in rows:
        grouped[key].append(value)
    return {key: sorted(values) for key, values in grouped.items()}


def coded_segments(
    project: Project,
    codes: str | Iterable[str] | None = None,
    where: Where | None = None,
    origins: tuple[str, ...] = COUNTED_ORIGINS,
    rollup: bool = False,
    words: bool = False,
) -> pd.DataFrame:
    """One row per coding of the chosen codes, with the speaker's metadata (and its word count if `words`).

    With `rollup`, a coding also counts for each chosen ancestor of its code
    (``markets`` holds what ``markets/competition`` holds), one row per code.
    """
    import pandas as pd

    targets = _targets(set(select_codes(project, codes).values()), rollup)
    counted = {code_id: found for code_id, path in _all_paths(project).items() if (found := targets(path))}
    query = (
        select(Coding.id.label("coding"), Coding.transcript_id.label("transcript"), Coding.start, Coding.end,
               Coding.code_id, Coding.important, Coding.origin, *([Coding.quote] if words else []))
        .where(Coding.origin.in_(origins), Coding.code_id.in_(list(counted)), Coding.anchor != UNPLACED,
               visible(project))
        .order_by(Coding.transcript_id, Coding.start, Coding.id)
    )
    with project.engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame["code"] = frame.pop("code_id").map(counted)
    frame = frame.explode("code").dropna(subset=["code"])
    if words:
        frame["words"] = frame.pop("quote").str.split().str.len().fillna(0).astype(int)
    frame["segment"] = frame["transcript"] + ":" + frame["start"].astype(str) + "-" + frame["end"].astype(str)
    frame = by_speaker(project, frame.merge(transcript_meta(project), on="transcript", how="left"))
    return apply_where(project, frame, where)


def focus_groups(project: Project) -> set[str]:
    """The transcripts whose turns say whose words they are (`qualcode.focusgroups`)."""
    with project.engine.connect() as connection:
        return set(connection.scalars(select(Turn.transcript_id).where(Turn.participant_id.is_not(None)).distinct()))


def by_speaker(project: Project, frame: pd.DataFrame) -> pd.DataFrame:
    """A focus group's rows describe the speaker whose turn they are in, not the transcript's participant."""
    with project.engine.connect() as connection:
        voices = Voices.load(connection, set(frame["transcript"]))
        if not voices:
            return frame
        people = {row.participant: row._asdict() for row in connection.execute(
            select(Participant.id.label("participant"), Participant.role, Participant.informant_kind,
                   Participant.is_system_informant.label("informant"))
            .where(Participant.id.in_(voices.participants)))}
    return voices.speaker_columns(frame, people)


def unplaced_count(project: Project, origins: tuple[str, ...] = COUNTED_ORIGINS) -> int:
    """How many codings of `origins` are unplaced, and so left out of every count and quote."""
    query = select(func.count()).select_from(Coding).where(Coding.anchor == UNPLACED, Coding.origin.in_(origins))
    with project.engine.connect() as connection:
        return connection.scalar(query)


def _all_paths(project: Project) -> dict[int, str]:
    with project.session() as session:
        return code_paths(session)


def _targets(chosen: set[str], rollup: bool) -> Callable[[str], list[str]]:
    """A coding's code -> the chosen codes it counts for: itself, and its chosen ancestors when rolling up."""

    def targets(path: str) -> list[str]:
        if not rollup:
            return [path] if path in chosen else []
        parts = path.split("/")
        return [p for p in ("/".join(parts[:n]) for n in range(1, len(parts) + 1)) if p in chosen]

    return targets


# Matrix coding


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
    speakers are pooled as a framework's small rows are (`qualcode.pooling`).
    """
    by = [check_field(f) for f in split_names(by)]
    if unit not in UNITS:
        raise QualcodeError(f"--unit must be one of: {', '.join(UNITS)}")
    if percent not in (None, "row", "column"):
        raise QualcodeError("--percent must be row or column")
    chosen = select_codes(project, codes)
    pools = _column_pools(project, by, where, coarsen, warnings)
    if pools:
        counts = _frame_counts(coded_segments(project, codes, where, origins, rollup, words=unit == "words"), by, unit, pools)
        return _table(counts, chosen, ["column"], percent, lambda: _column_totals(project, codes, by, unit, where, origins, pools))
    # Counted per transcript in SQL, a focus group's codings would all count for its first speaker.
    per_speaker = (unit == "participants" or (set(by) | set(where or {})) & set(SPEAKER_COLUMNS)) and focus_groups(project)
    if unit != "words" and not (set(by) | set(where or {})) & set(LIST_FIELDS) and not per_speaker:
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


def _column_pools(project: Project, by: list[str], where: Where | None, coarsen: bool, warnings: list[str] | None):
    """The pools for a matrix's small columns (None if none, or not `coarsen`), warning of each into `warnings`."""
    if coarsen and "locality" not in by:
        raise QualcodeError("--coarsen pools a locality's small columns: add locality to --by (e.g. --by locality,phase)")
    if "locality" not in by or not (coarsen or warnings is not None):
        return None
    from qualcode.pooling import column_pools

    pools, found = column_pools(project, _exploded(apply_where(project, _speakers_meta(project), where), by), by, coarsen)
    if warnings is not None:
        warnings.extend(found)
    return pools


def column_totals(project: Project, codes: str | Iterable[str] | None, by: str | Iterable[str], unit: str,
                  where: Where | None = None, origins: tuple[str, ...] = COUNTED_ORIGINS, coarsen: bool = False) -> pd.Series:
    """What `matrix(..., percent="column")` divides each column by, its N: the column's coded passages (or
    their words), each once, or the column's schools (participants, transcripts) with an interview; with
    `coarsen`, of the columns `matrix(..., coarsen=True)` gives."""
    by = [check_field(f) for f in split_names(by)]
    return _column_totals(project, codes, by, unit, where, origins, _column_pools(project, by, where, coarsen, None))


def _column_totals(project: Project, codes, by: list[str], unit: str, where: Where | None, origins: tuple[str, ...],
                   pools) -> pd.Series:
    """`column_totals`, with the `pools` (`qualcode.pooling.ColumnPools`) of the small columns, if any."""
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
    with project.engine.connect() as connection:
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


def _sql_counts(project: Project, chosen: dict[int, str], by: list[str], unit: str, rollup: bool,
                where: Where | None, origins: tuple[str, ...]) -> pd.Series:
    """The same counts as `_frame_counts`, grouped in the database: one query, nothing per coding in Python.

    Distinct spans are counted per code and transcript first (`_per_transcript`);
    only then are those (far fewer) rows joined to the transcripts' metadata,
    read once into `m`.
    """
    import pandas as pd

    targets = _targets(set(chosen.values()), rollup)
    pairs = [(code_id, target) for code_id, path in _all_paths(project).items() for target in targets(path)]
    if not pairs:
        return pd.Series(dtype=int)
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
    fields = sorted(set(by))
    # MATERIALIZED (SQLite 3.35, PostgreSQL 12) reads the metadata of every transcript once
    # instead of looking it up for each code in each transcript.
    statement = text(f"""
        WITH {targets_cte}
        pt AS ({_per_transcript(rollup, tallied, hidden)}),
        m AS MATERIALIZED (
            SELECT tr.id AS transcript_id, p.id AS participant, s.id AS school,
                   {", ".join(f"{_SQL_FIELDS[f]} AS {f}" for f in fields)}
            FROM transcripts tr
            JOIN participants p ON p.id = tr.participant_id
            LEFT JOIN schools s ON s.id = p.school_id
            {"WHERE " + " AND ".join(filters) if filters else ""}
        )
        SELECT pt.code, {", ".join(f"m.{f}" for f in by)}, {_SQL_UNITS[unit]} AS n
        FROM pt JOIN m ON m.transcript_id = pt.transcript_id
        GROUP BY pt.code, {", ".join(f"m.{f}" for f in by)}
    """).bindparams(*(bindparam(name, expanding=True) for name in EXPANDING if name in parameters))
    with project.engine.connect() as connection:
        frame = pd.DataFrame([tuple(row) for row in connection.execute(statement, parameters)], columns=["code", *by, "n"])
    frame["code"] = frame["code"].map(chosen)
    frame[by] = frame[by].fillna(MISSING)
    frame = frame[frame["n"] > 0]
    return frame.groupby(["code", *by])["n"].sum()


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
    `hidden` is the blind round's condition (`qualcode.blind.visible_sql`), if any.
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


# Retrieving passages


MODES = ("and", "or", "not")


@dataclass
class TextStore:
    """Transcript texts, their line starts and each speaker's attribution line, loaded once per query."""

    texts: dict[str, str]
    starts: dict[str, list[int]]
    attributions: dict[str, str]
    #: A focus group's turns, by whose words they are (`qualcode.focusgroups`), and those speakers' lines.
    voices: Voices
    voice_lines: dict[str, str]

    @classmethod
    def load(cls, project: Project, transcript_ids: Iterable[str]) -> TextStore:
        wanted = sorted(set(transcript_ids))
        with project.session() as session:
            transcripts = session.scalars(
                select(Transcript).where(Transcript.id.in_(wanted))
                .options(selectinload(Transcript.participant).selectinload(Participant.school))
            ).all()
            texts = {t.id: t.text for t in transcripts}
            attributions = {t.id: render(project.settings, speaker_for(t.participant)) for t in transcripts}
            voices = Voices.load(session.connection(), wanted)
            voice_lines = {p.id: render(project.settings, speaker_for(p)) for p in session.scalars(
                select(Participant).where(Participant.id.in_(voices.participants))
                .options(selectinload(Participant.school)))}
        return cls(texts, {tid: line_starts(body) for tid, body in texts.items()}, attributions, voices, voice_lines)

    def lines(self, transcript: str, start: int, end: int) -> str:
        return lines_of(self.texts[transcript], start, end, self.starts[transcript])

    def attribution(self, transcript: str, start: int, end: int | None = None) -> str:
        """The attribution line of whoever speaks there: a focus group's speaker, else the participant."""
        speaker = self.voices.at(transcript, start, end)
        return self.voice_lines[speaker] if speaker else self.attributions[transcript]


def find(
    project: Project,
    codes: str | Iterable[str],
    mode: str = "or",
    where: Where | None = None,
    context: int = 0,
    raw: bool = False,
    origins: tuple[str, ...] = COUNTED_ORIGINS,
) -> pd.DataFrame:
    """Coded passages, with their metadata and attribution line.

    ``or``: passages coded with any of the codes; ``and``: passages of the
    first code that overlap a passage of every other; ``not``: passages of the
    first code that overlap none of the others. Each code includes its
    children. `context` adds that many characters before and after.
    """
    import pandas as pd

    groups = split_names(codes)
    if mode not in MODES or not groups or (mode != "or" and len(groups) < 2):
        raise QualcodeError("give codes, and at least two for --and / --not")
    frames = [coded_segments(project, group, where, origins).assign(group=i) for i, group in enumerate(groups)]
    kept = _combine(frames, mode)
    texts = TextStore.load(project, kept["transcript"])
    clean = (lambda s: s) if raw else pseudonymiser(project)
    rows = [_passage_row(row, texts, context, clean) for row in kept.itertuples()]
    return pd.DataFrame(rows, columns=PASSAGE_COLUMNS)


PASSAGE_COLUMNS = ["transcript", "lines", "start", "end", "codes", "locality", "school", "participant",
                   "attribution", "before", "text", "after", "important"]


def _combine(frames: list[pd.DataFrame], mode: str) -> pd.DataFrame:
    """One row per passage (span), its codes joined, kept by the and/or/not rule."""
    import pandas as pd

    everything = pd.concat(frames, ignore_index=True)
    if mode == "or":
        chosen = everything
    else:
        first, others = frames[0], _spans_by_transcript(frames[1:])
        meets = [[_overlaps(spans, r.transcript, r.start, r.end) for spans in others] for r in first.itertuples()]
        kept = set(first.loc[[all(m) if mode == "and" else not any(m) for m in meets], "segment"])
        # With --and the passage's other codes (on the very same span) are listed too.
        chosen = (everything if mode == "and" else first)
        chosen = chosen[chosen["segment"].isin(kept)]
    if chosen.empty:
        return chosen.assign(codes=[])
    codes = chosen.groupby("segment")["code"].agg(lambda c: ", ".join(sorted(set(c))))
    important = chosen.groupby("segment")["important"].any()
    passages = chosen.drop_duplicates("segment").set_index("segment")
    passages["codes"], passages["important"] = codes, important
    return passages.reset_index().sort_values(["transcript", "start", "end"])


def _spans_by_transcript(frames: list[pd.DataFrame]) -> list[dict[str, list[tuple[int, int]]]]:
    result = []
    for frame in frames:
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row in frame.itertuples():
            spans[row.transcript].append((row.start, row.end))
        result.append(spans)
    return result


def _overlaps(spans: dict[str, list[tuple[int, int]]], transcript: str, start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans.get(transcript, ()))


def one_line(text: str) -> str:
    """Context on one line: line breaks and runs of spaces become single spaces."""
    return re.sub(r"\s+", " ", text)


def _passage_row(row, texts: TextStore, context: int, clean: Callable[[str], str]) -> dict:
    body = texts.texts[row.transcript]
    before = body[max(0, row.start - context) : row.start] if context else ""
    after = body[row.end : row.end + context] if context else ""
    return {
        "transcript": row.transcript, "lines": texts.lines(row.transcript, row.start, row.end),
        "start": row.start, "end": row.end, "codes": row.codes, "locality": row.locality,
        "school": row.school, "participant": row.participant,
        "attribution": texts.attribution(row.transcript, row.start, row.end),
        "before": clean(one_line(before)), "text": clean(body[row.start : row.end]), "after": clean(one_line(after)),
        "important": bool(row.important),
    }


# Participant turns


def participant_turns(project: Project, transcript_ids: set[str]) -> dict[str, list[tuple[int, int]]]:
    """transcript -> (start, end) of each turn of the participant's (not the interviewer's or notes), in order."""
    query = (
        select(Turn.transcript_id, Turn.start, Turn.end)
        .where(Turn.role == PARTICIPANT)
        .order_by(Turn.transcript_id, Turn.start)
    )
    turns: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with project.engine.connect() as connection:
        for transcript, start, end in connection.execute(query):
            if transcript in transcript_ids:
                turns[transcript].append((start, end))
    return turns


# Export


EXPORT_FORMATS = ("csv", "xlsx", "json")


def export_table(table: pd.DataFrame, path: Path, sheet: str = "query") -> Path:
    """Write a query result as CSV, XLSX (one sheet, wrapped text) or JSON records, by the file's suffix."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise QualcodeError(f"{path}: write .csv, .xlsx or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    named = table.index.name is not None
    if fmt == "csv":
        table.to_csv(path, index=named, quoting=csv.QUOTE_MINIMAL)
    elif fmt == "json":
        path.write_text(table.reset_index().to_json(orient="records", force_ascii=False, indent=2) if named
                        else table.to_json(orient="records", force_ascii=False, indent=2), encoding="utf-8")
    else:
        _write_xlsx(table, path, sheet, named)
    return path


def _write_xlsx(table: pd.DataFrame, path: Path, sheet: str, named: bool) -> None:
    """Through `workbooks.write_table`: a cell longer than Excel holds goes on in continuation rows, never cut."""
    from qualcode.workbooks import write_table

    columns, rows = as_rows(table)
    frame = table.reset_index() if named else table
    wide = [str(c) for c in frame.columns if frame[c].dtype == object]
    write_table(path, columns, rows, sheet, wide)


def records(table: pd.DataFrame) -> list[dict]:
    """A query result as JSON-ready records (the index, if named, as the first field)."""
    import json

    frame = table.reset_index() if table.index.name is not None else table
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def as_rows(table: pd.DataFrame) -> tuple[list[str], list[list[object]]]:
    """Column headings and rows of plain values, for printing (the index, if named, first)."""
    frame = table.reset_index() if table.index.name is not None else table
    return [str(c) for c in frame.columns], frame.astype(object).where(frame.notna(), None).values.tolist()


# Pseudonymisation


def pseudonymiser(project: Project) -> Callable[[str], str]:
    """Text -> text with every identity-key name replaced: the one door by which words leave the tool."""
    from qualcode.pseudonyms import project_key

    key = project_key(project)
    return lambda passage: key.pseudonymise(passage)[0]
