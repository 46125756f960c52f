"""Cross-case queries: which themes come up where, for whom, and in whose words.

Every query returns a pandas DataFrame, so the CLI, the reports and a notebook
share one implementation. They all start from `coded_segments`: one row per
coding with the metadata of the person who said it and of their school, to
which `where` filters (values resolved through the project's vocabularies)
and `by` groupings apply; a passage listing (`find_passages`) reads the same
rows straight from the database where it can (`coded_spans`), so its first
screen waits for no DataFrame. Text that leaves the tool goes through
`pseudonymiser(project)` (the identity key, `qualcode.privacy.anonymise`) unless
the caller asks for it raw. The `where` filters are `qualcode.analysis.query_where`;
matrix coding, co-occurrence and keyword search have modules of their own
(`qualcode.analysis.query_matrix`, `qualcode.analysis.query_cooccur`, `qualcode.analysis.query_text`).
"""

from __future__ import annotations

import csv
import fnmatch
import re
from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from qualcode.reports.attribution import render, speaker_from
from qualcode.coding.blind import visible
from qualcode.coding.codebook import find_code
from qualcode.coding.manual import lines_of
from qualcode.errors import QualcodeError
from qualcode.ingest.focusgroups import SPEAKER_COLUMNS, Voices
from qualcode.models import UNPLACED, Coding, Participant, School, SchoolDesignation, Transcript, Turn, partnership_members
from qualcode.analysis.overview import code_paths
from qualcode.project import Project
from qualcode.analysis.query_where import Where, apply_where, where_clauses
from qualcode.ingest.speakers import PARTICIPANT
from qualcode.ingest.transcript import line_starts

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
    if words:
        frame["words"] = frame.pop("quote").str.split().str.len().fillna(0).astype(int)
    frame["segment"] = [f"{t}:{s}-{e}" for t, s, e in zip(*(frame[c].tolist() for c in ("transcript", "start", "end")))]
    # Metadata first, then a row per code: rolled up, a coding is several rows, each looked up alike.
    frame = by_speaker(project, frame.merge(transcript_meta(project), on="transcript", how="left"))
    frame = frame.explode("code", ignore_index=True).dropna(subset=["code"])
    return apply_where(project, frame, where)


def focus_groups(project: Project) -> set[str]:
    """The transcripts whose turns say whose words they are (`qualcode.ingest.focusgroups`).

    Only a transcript with a `speakers:` map has such turns: looking among its
    turns alone spares reading every turn of the corpus (a quarter of a million
    at scale 10) to find, most often, none.
    """
    mapped = select(Transcript.id).where(Transcript.speakers.is_not(None))
    query = select(Turn.transcript_id).where(Turn.transcript_id.in_(mapped), Turn.participant_id.is_not(None)).distinct()
    with project.engine.connect() as connection:
        return set(connection.scalars(query))


def by_speaker(project: Project, frame: pd.DataFrame) -> pd.DataFrame:
    """A focus group's rows describe the speaker whose turn they are in, not the transcript's participant."""
    with project.engine.connect() as connection:
        voices = Voices.load(connection, frame["transcript"].unique().tolist())
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


# Retrieving passages


MODES = ("and", "or", "not")


@dataclass
class TextStore:
    """Transcript texts, their line starts and each speaker's attribution line, loaded once per query."""

    texts: dict[str, str]
    starts: dict[str, list[int]]
    attributions: dict[str, str]
    #: A focus group's turns, by whose words they are (`qualcode.ingest.focusgroups`), and those speakers' lines.
    voices: Voices
    voice_lines: dict[str, str]

    @classmethod
    def load(cls, project: Project, transcript_ids: Iterable[str]) -> TextStore:
        """Read as rows, not ORM objects: a listing loads a few transcripts at a time, and each load's objects
        (transcripts, participants, schools, in three queries) cost a first screen more than its rows."""
        wanted = sorted(set(transcript_ids))
        transcripts = (select(Transcript.id, Transcript.text, *_SPEAKER_COLUMNS)
                       .join(Participant, Transcript.participant_id == Participant.id)
                       .outerjoin(School, Participant.school_id == School.id).where(Transcript.id.in_(wanted)))
        with project.engine.connect() as connection:
            rows = connection.execute(transcripts).all()
            voices = Voices.load(connection, wanted)
            speakers = connection.execute(
                select(Participant.id, *_SPEAKER_COLUMNS).outerjoin(School, Participant.school_id == School.id)
                .where(Participant.id.in_(sorted(voices.participants)))).all() if voices else []
        texts = {row.id: row.text for row in rows}
        return cls(texts, {tid: line_starts(body) for tid, body in texts.items()},
                   {row.id: _attribution(project, row) for row in rows}, voices,
                   {row.id: _attribution(project, row) for row in speakers})

    def lines(self, transcript: str, start: int, end: int) -> str:
        return lines_of(self.texts[transcript], start, end, self.starts[transcript])

    def attribution(self, transcript: str, start: int, end: int | None = None) -> str:
        """The attribution line of whoever speaks there: a focus group's speaker, else the participant."""
        speaker = self.voices.at(transcript, start, end)
        return self.voice_lines[speaker] if speaker else self.attributions[transcript]


#: A participant's columns that their attribution line states, with their school's (none for an informant).
_SPEAKER_COLUMNS = (Participant.is_system_informant, Participant.informant_kind, Participant.role,
                    School.id.label("school_id"), School.phase, School.school_type, School.ofsted, School.federation)


def _attribution(project: Project, row) -> str:
    """The attribution line of a row with `_SPEAKER_COLUMNS`."""
    school = row if row.school_id is not None else None
    return render(project.settings, speaker_from(row.is_system_informant, row.informant_kind, row.role, school))


def find(project: Project, codes: str | Iterable[str], *args, **kwargs) -> pd.DataFrame:
    """`find_passages` (the same arguments) as one table of `PASSAGE_COLUMNS`."""
    import pandas as pd

    _, passages = find_passages(project, codes, *args, **kwargs)
    return pd.DataFrame(list(passages), columns=PASSAGE_COLUMNS)


def find_passages(
    project: Project,
    codes: str | Iterable[str],
    mode: str = "or",
    where: Where | None = None,
    context: int = 0,
    raw: bool = False,
    origins: tuple[str, ...] = COUNTED_ORIGINS,
) -> tuple[int, Iterator[dict]]:
    """Coded passages, with their metadata and attribution line, as rows (`PASSAGE_COLUMNS`): how many, and
    each pseudonymised as it is taken, so a listing's first screen waits only for its own rows.

    ``or``: passages coded with any of the codes; ``and``: passages of the
    first code that overlap a passage of every other; ``not``: passages of the
    first code that overlap none of the others. Each code includes its
    children. `context` adds that many characters before and after.
    """
    groups = split_names(codes)
    if mode not in MODES or not groups or (mode != "or" and len(groups) < 2):
        raise QualcodeError("give codes, and at least two for --and / --not")
    kept = _combine(coded_spans(project, groups, where, origins), mode)
    clean = (lambda s: s) if raw else pseudonymiser(project)
    return len(kept), _passage_rows(project, kept, context, clean)


def _passage_rows(project: Project, kept: list[dict], context: int, clean: Callable[[str], str]) -> Iterator[dict]:
    """The rows of `kept` (in transcript order), their transcripts' texts read a few transcripts at a time."""
    by_transcript = {transcript: list(passages) for transcript, passages in groupby(kept, itemgetter("transcript"))}
    for batch in growing_batches(list(by_transcript)):
        texts = TextStore.load(project, batch)
        for transcript in batch:
            for passage in by_transcript[transcript]:
                yield _passage_row(passage, texts, context, clean)


def growing_batches(items: list, first: int = 4, most: int = 256) -> Iterator[list]:
    """`items` in runs of `first`, then twice as many each time up to `most`: a listing's first rows wait only
    for the first run's queries, and the whole listing makes only a few more queries than reading all at once."""
    at, size = 0, first
    while at < len(items):
        yield items[at : at + size]
        at, size = at + size, min(2 * size, most)


PASSAGE_COLUMNS = ["transcript", "lines", "start", "end", "codes", "locality", "school", "participant",
                   "attribution", "before", "text", "after", "important"]
_PASSAGE_FIELDS = ["segment", "transcript", "start", "end", "code", "important", "locality", "school", "participant"]
#: One coding as a passage listing needs it: its span, its code's path and whose words they are.
CodedSpan = namedtuple("CodedSpan", _PASSAGE_FIELDS)


def coded_spans(project: Project, groups: list[str], where: Where | None = None,
                origins: tuple[str, ...] = COUNTED_ORIGINS) -> list[list[tuple]]:
    """Each group's codings (a group: a code with its children, or a glob) as `CodedSpan`s, the rows of
    `coded_segments` a passage listing needs: read in one query (`_sql_spans`), or from `coded_segments`
    where SQL cannot tell, when `where` asks for a role or kind and a focus group's turns name their speakers."""
    if set(where or {}) & set(SPEAKER_COLUMNS) and focus_groups(project):
        return _frame_spans(project, groups, where, origins)
    return _sql_spans(project, groups, where, origins)


def _frame_spans(project: Project, groups: list[str], where: Where | None,
                 origins: tuple[str, ...]) -> list[list[tuple]]:
    """`coded_spans` from `coded_segments`, each row a named tuple of `_PASSAGE_FIELDS`."""
    return [list(coded_segments(project, group, where, origins)[_PASSAGE_FIELDS].itertuples(index=False))
            for group in groups]


def _sql_spans(project: Project, groups: list[str], where: Where | None,
               origins: tuple[str, ...]) -> list[list[CodedSpan]]:
    """`coded_spans` from the database, no pandas: the same codings, metadata and `where` filter
    (`where_clauses`); in a focus group the participant is the speaker's, as `by_speaker` makes it."""
    chosen = [select_codes(project, group) for group in groups]
    paths = {code_id: path for codes in chosen for code_id, path in codes.items()}
    query = (
        select(Coding.code_id, Coding.transcript_id, Coding.start, Coding.end, Coding.important,
               Participant.locality_name, School.id, Participant.id, Transcript.speakers.is_not(None))
        .join(Transcript, Coding.transcript_id == Transcript.id)
        .join(Participant, Transcript.participant_id == Participant.id)
        .outerjoin(School, Participant.school_id == School.id)
        .where(Coding.origin.in_(origins), Coding.code_id.in_(sorted(paths)), Coding.anchor != UNPLACED,
               visible(project), *where_clauses(project, where))
        .order_by(Coding.transcript_id, Coding.start, Coding.id)
    )
    with project.engine.connect() as connection:
        rows = connection.execute(query).all()
        # Only a transcript with a speakers map has turns that name their speaker: no need to read the others'.
        mapped = {row[1] for row in rows if row[-1]}
        voices = Voices.load(connection, mapped) if mapped else Voices(())
    spans = [(code_id, CodedSpan(f"{t}:{s}-{e}", t, s, e, paths[code_id], important, locality, school,
                                 voices.at(t, s, e) or participant))
             for code_id, t, s, e, important, locality, school, participant, _ in rows]
    return [[span for code_id, span in spans if code_id in codes] for codes in chosen]


def _combine(rows: list[list[tuple]], mode: str) -> list[dict]:
    """One passage per span, in transcript and span order, its codes joined, kept by the and/or/not rule: from
    each group's `CodedSpan`s (`coded_spans`). In plain Python: a few thousand rows, for which a groupby with a
    Python aggregate costs more."""
    if mode == "or":
        chosen = [row for group in rows for row in group]
    else:
        others = _spans_by_transcript(rows[1:])
        meets = {r.segment: [_overlaps(spans, r.transcript, r.start, r.end) for spans in others] for r in rows[0]}
        kept = {segment for segment, met in meets.items() if (all(met) if mode == "and" else not any(met))}
        # With --and the passage's other codes (on the very same span) are listed too.
        chosen = [row for group in (rows if mode == "and" else rows[:1]) for row in group if row.segment in kept]
    passages: dict[str, dict] = {}
    for row in chosen:
        passage = passages.setdefault(row.segment, {**row._asdict(), "codes": set(), "important": False})
        passage["codes"].add(row.code)
        passage["important"] = passage["important"] or bool(row.important)
    for passage in passages.values():
        passage["codes"] = ", ".join(sorted(passage["codes"]))
    return sorted(passages.values(), key=lambda p: (p["transcript"], p["start"], p["end"]))


def _spans_by_transcript(groups: list[list]) -> list[dict[str, list[tuple[int, int]]]]:
    result = []
    for group in groups:
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row in group:
            spans[row.transcript].append((row.start, row.end))
        result.append(spans)
    return result


def _overlaps(spans: dict[str, list[tuple[int, int]]], transcript: str, start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans.get(transcript, ()))


def one_line(text: str) -> str:
    """Context on one line: line breaks and runs of spaces become single spaces."""
    return re.sub(r"\s+", " ", text)


def _passage_row(passage: dict, texts: TextStore, context: int, clean: Callable[[str], str]) -> dict:
    transcript, start, end = passage["transcript"], passage["start"], passage["end"]
    body = texts.texts[transcript]
    before = body[max(0, start - context) : start] if context else ""
    after = body[end : end + context] if context else ""
    return {
        "transcript": transcript, "lines": texts.lines(transcript, start, end), "start": start, "end": end,
        "codes": passage["codes"], "locality": passage["locality"], "school": passage["school"],
        "participant": passage["participant"], "attribution": texts.attribution(transcript, start, end),
        "before": clean(one_line(before)), "text": clean(body[start:end]), "after": clean(one_line(after)),
        "important": passage["important"],
    }


# Participant turns


def participant_turns(project: Project, transcript_ids: set[str]) -> dict[str, list[tuple[int, int]]]:
    """transcript -> (start, end) of each turn of the participant's (not the interviewer's or notes), in order."""
    query = (
        select(Turn.transcript_id, Turn.start, Turn.end)
        .where(Turn.role == PARTICIPANT, Turn.transcript_id.in_(sorted(transcript_ids)))
        .order_by(Turn.transcript_id, Turn.start)
    )
    turns: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with project.engine.connect() as connection:
        for transcript, start, end in connection.execute(query).all():
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
    from qualcode.exchange.workbooks import write_table

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
    from functools import cache

    from qualcode.privacy.compiled_key import compiled_matcher

    matcher = compiled_matcher(project)
    # Each distinct text once: passages' contexts overlap, and an empty context is every passage's.
    return cache(lambda passage: matcher.pseudonymise(passage)[0])
