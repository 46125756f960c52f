"""Codings as a table: one row per coding, out to a spreadsheet and back in.

A team checks, sorts and filters its coding in Excel, hands it to a
statistician, or brings in codings made in another tool. A row holds where the
coding is (transcript, lines and character offsets), what it says (the coded
words), its code, coder, origin, date and memo, and the metadata of who said it
(every field, so the sheet filters without a lookup). The words are
pseudonymised as every passage that leaves qualcode is, unless asked for raw;
the identity key itself never leaves.

Reading a table back places each row by its `start`/`end` offsets, or by its
`lines` when it has no offsets. Every row is checked before anything is
written (a transcript or code that does not exist, with the closest one; a span
outside the text; words that are not the text at that span), and the rows go in
as one change that `qualcode undo` takes back. The smallest table it reads is
`transcript,start,end,code`: the bundled corpus's gold codings, which the demo,
the tests and the benchmarks load this same way as one coder's coding.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qualcode import history
from qualcode.coding.blind import visible
from qualcode.coding.codebook import UnknownCode, find_code
from qualcode.coding.manual import ORIGINS, lines_of, span_for_lines
from qualcode.concurrency import retried
from qualcode.errors import ImportFailed, Problem, QualcodeError
from qualcode.models import UNPLACED, Coding, Participant, Transcript
from qualcode.project import Project
from qualcode.analysis.query_where import Where
from qualcode.ingest.transcript import line_starts
from qualcode.exchange.workbooks import read_table, table_format, write_table

#: What a row says about the coding itself, in the order written.
CODING_COLUMNS = ["id", "transcript", "participant", "lines", "start", "end", "text", "code", "coder", "origin",
                  "important", "created", "memo"]
#: Who said it and where: the participant's, school's and transcript's metadata.
META_COLUMNS = ["kind", "interview_date", "locality", "school", "role", "informant_kind", "phase", "school_type",
                "ofsted", "fsm", "federation", "designation", "partnership"]
COLUMNS = CODING_COLUMNS + META_COLUMNS
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"", "false", "no", "0", "n"}
#: How a `lines` cell reads when Excel took `12-18` for a date.
_EXCEL_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


# Export


def export_codings(project: Project, path: Path, where: Where | None = None, codes: str | None = None,
                   raw: bool = False) -> dict[str, int]:
    """Write the codings (of `codes`, in interviews meeting `where`) as CSV or XLSX; return what was written.

    Unplaced codings are left out and counted: their offsets point at words a re-import removed.
    """
    from qualcode.analysis.query import pseudonymiser, select_codes

    table_format(path)
    chosen = select_codes(project, codes)
    meta = _transcript_meta(project)
    kept = _meeting(project, meta, where) if where else set(meta)
    clean = (lambda s: s) if raw else pseudonymiser(project)
    rows, unplaced = [], 0
    with project.session() as session:
        texts = dict(session.execute(select(Transcript.id, Transcript.text).where(Transcript.id.in_(kept))).all())
        starts = {tid: line_starts(text) for tid, text in texts.items()}
        query = (select(Coding).where(Coding.transcript_id.in_(kept), Coding.code_id.in_(list(chosen)), visible(project))
                 .order_by(Coding.transcript_id, Coding.start, Coding.id))
        for coding in session.scalars(query):
            if coding.anchor == UNPLACED:
                unplaced += 1
                continue
            text = texts[coding.transcript_id]
            rows.append([
                coding.id, coding.transcript_id, meta[coding.transcript_id]["participant"],
                lines_of(text, coding.start, coding.end, starts[coding.transcript_id]), coding.start, coding.end,
                clean(text[coding.start:coding.end]), chosen[coding.code_id], coding.coder, coding.origin,
                "yes" if coding.important else "", coding.created_at.isoformat(sep=" ", timespec="seconds"),
                coding.memo or "", *(meta[coding.transcript_id][name] for name in META_COLUMNS),
            ])
    write_table(path, COLUMNS, rows, "codings", wide=("text", "memo"))
    return {"codings": len(rows), "unplaced left out": unplaced}


def _transcript_meta(project: Project) -> dict[str, dict[str, object]]:
    """Each transcript's metadata by column name: lists (designations, partnerships) as `a; b`."""
    with project.session() as session:
        transcripts = session.scalars(
            select(Transcript).options(selectinload(Transcript.participant).selectinload(Participant.school))
        ).all()
        return {t.id: _meta_of(t) for t in transcripts}


def _meta_of(transcript: Transcript) -> dict[str, object]:
    person, school = transcript.participant, transcript.participant.school
    return {
        "participant": person.id, "kind": transcript.kind,
        "interview_date": transcript.interview_date.isoformat() if transcript.interview_date else "",
        "locality": person.locality_name, "school": school.id if school else "",
        "role": person.role or "", "informant_kind": person.informant_kind or "",
        "phase": school.phase if school else "", "school_type": school.school_type if school else "",
        "ofsted": (school.ofsted or "") if school else "", "fsm": school.fsm if school and school.fsm is not None else "",
        "federation": ("yes" if school.federation else "") if school else "",
        "designation": "; ".join(d.designation for d in school.designations) if school else "",
        "partnership": "; ".join(sorted(p.id for p in school.partnerships)) if school else "",
    }


def _meeting(project: Project, meta: dict[str, dict[str, object]], where: Where) -> set[str]:
    """The transcripts whose metadata meets `where`, by the same rule as every query."""
    import pandas as pd

    from qualcode.analysis.query_where import apply_where

    frame = pd.DataFrame([{**values, "transcript": tid} for tid, values in meta.items()])
    for name in ("designation", "partnership"):
        frame[name] = frame[name].map(lambda held: [v for v in held.split("; ") if v])
    frame = frame.replace({"": None})
    return set(apply_where(project, frame, where)["transcript"])


# Import


@dataclass
class CodingsImport:
    """What an import of a codings table did, or (dry run) would do."""

    added: int = 0
    already: int = 0
    #: Rows left out with --skip-unmatched: their transcript or code is not in the project.
    unmatched: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"added": self.added, "already": self.already, "notes": self.notes,
                "unmatched": [{"row": p.line, "column": p.field, "message": p.message} for p in self.unmatched]}


@retried
def import_codings(project: Project, path: Path, coder: str, origin: str = "manual", skip_unmatched: bool = False,
                   dry_run: bool = False) -> CodingsImport:
    """Add every row of a codings table as a coding, all or nothing, as one change by `coder`.

    A row's own `coder` and `origin` are kept (else `coder` and `origin`), so a
    team's codings keep who made them and a table without those columns (a gold
    coding) is one coder's; a coding already stored (same transcript, span, code
    and coder) is counted, not doubled, so loading a table twice adds nothing.
    With `skip_unmatched`, rows naming a transcript or code the project lacks
    are left out and listed instead of refusing the file.
    """
    if origin not in ORIGINS:
        raise QualcodeError(f"origin must be one of: {', '.join(ORIGINS)}")
    header, rows = read_table(path)
    result = CodingsImport(notes=_column_notes(path, header))
    with project.session(bulk=True) as session:
        reader = _RowReader(session, path, coder, origin, project)
        placed = [reader.coding(number, row) for number, row in rows]
        unmatched = [p for p in reader.problems if p.field in ("transcript", "code")] if skip_unmatched else []
        problems = [p for p in reader.problems if not (skip_unmatched and p.field in ("transcript", "code"))]
        if problems:
            raise ImportFailed(problems)
        result.unmatched = unmatched
        new = _new_codings(session, [c for c in placed if c is not None], result, {"memo", "important"} & set(header))
        if not dry_run and new:
            with history.recorded(session, coder, "import", f"import {len(new)} codings from {path.name}"):
                session.add_all(new)
        else:
            session.rollback()
    return result


def _column_notes(path: Path, header: list[str]) -> list[str]:
    """The table must say where each coding is; columns qualcode does not know are noted, not refused."""
    missing = {"transcript", "code"} - set(header)
    if missing or not ({"start", "end"} <= set(header) or "lines" in header):
        need = ", ".join(sorted(missing)) if missing else "start and end (or lines)"
        raise Problem(path, 1, None, f"a codings table needs the columns transcript, code, and start and end or"
                                     f" lines; this one has no {need}")
    unknown = [name for name in header if name and name not in COLUMNS]
    return [f"{path}: column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not read"] if unknown else []


def _new_codings(session: Session, codings: list[Coding], result: CodingsImport, given: set[str]) -> list[Coding]:
    """The codings not stored yet (nor twice in the table); the rest counted as already there, and named when the
    table gives them (in its `given` columns) another memo or importance."""
    existing = {tuple(row[:5]): row[5:] for row in session.execute(select(
        Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder, Coding.memo, Coding.important))}
    new, differ = [], []
    for coding in codings:
        key = (coding.transcript_id, coding.start, coding.end, coding.code_id, coding.coder)
        if key in existing:
            result.already += 1
            there = {"memo": coding.memo or None, "important": bool(coding.important)}
            here = {"memo": existing[key][0] or None, "important": bool(existing[key][1])}
            if any(there[name] != here[name] for name in given):
                differ.append(f"{coding.transcript_id} {coding.start}-{coding.end}")
            continue
        existing[key] = (coding.memo, coding.important)
        new.append(coding)
    if differ:  # a sheet exported, edited and loaded back: its edits to stored codings are not applied
        result.notes.append(f"{len(differ)} row(s) of codings already stored have another memo or 'important' in the"
                            f" table; the stored ones are kept ({', '.join(differ[:5])}{' ...' if len(differ) > 5 else ''});"
                            " change them with 'qualcode memo --coding N'")
    result.added = len(new)
    return new


class _RowReader:
    """Turns rows into codings, collecting one `Problem` per thing wrong (file, row, column, and a fix)."""

    def __init__(self, session: Session, path: Path, coder: str, origin: str, project: Project):
        self.session, self.path, self.coder, self.origin, self.project = session, path, coder, origin, project
        # A transcript's turns are loaded only for a row placed by its lines: a table of offsets needs none.
        self.transcripts = {t.id: t for t in session.scalars(select(Transcript))}
        self.codes: dict[str, int | Problem] = {}
        self.problems: list[Problem] = []
        self._clean = None

    def coding(self, number: int, row: dict[str, str]) -> Coding | None:
        transcript = self._transcript(number, row.get("transcript", "").strip())
        code_id = self._code(number, row.get("code", "").strip())
        origin = row.get("origin", "").strip().lower() or self.origin
        if origin not in ORIGINS:
            return self._fail(number, "origin", f"'{origin}' is not an origin; use one of {', '.join(ORIGINS)}")
        if transcript is None or code_id is None:
            return None
        span = self._span(number, transcript, row)
        created = self._created(number, row.get("created", "").strip())
        important = row.get("important", "").strip().lower()
        if important not in _TRUE | _FALSE:
            return self._fail(number, "important", f"'{important}' is neither yes nor no: write yes (or true, 1)"
                                                   " for an important coding, and leave it blank otherwise")
        if span is None or created is False or not self._same_words(number, transcript, span, row.get("text", "")):
            return None
        return Coding(transcript_id=transcript.id, start=span[0], end=span[1], code_id=code_id,
                      coder=row.get("coder", "").strip() or self.coder, origin=origin,
                      important=important in _TRUE, memo=row.get("memo") or None,
                      quote=transcript.text[span[0]:span[1]], **({"created_at": created} if created else {}))

    def _fail(self, number: int, column: str, message: str) -> None:
        self.problems.append(Problem(self.path, number, column, message))
        return None

    def _transcript(self, number: int, name: str) -> Transcript | None:
        if name in self.transcripts:
            return self.transcripts[name]
        from rapidfuzz import process

        match = process.extractOne(name, list(self.transcripts), score_cutoff=60) if name else None
        hint = f"; did you mean '{match[0]}'?" if match else ""
        return self._fail(number, "transcript", f"no transcript '{name}' in the project{hint}" if name else "empty")

    def _code(self, number: int, name: str) -> int | None:
        if name not in self.codes:
            try:
                self.codes[name] = find_code(self.session, name).id if name else Problem(self.path, 0, "code", "empty")
            except (UnknownCode, QualcodeError) as exc:
                stop = "" if str(exc).endswith("?") else "."
                self.codes[name] = Problem(self.path, 0, "code", f"{exc}{stop} Load the codebook or add the code first")
        found = self.codes[name]
        if isinstance(found, Problem):
            return self._fail(number, "code", found.message)
        return found

    def _span(self, number: int, transcript: Transcript, row: dict[str, str]) -> tuple[int, int] | None:
        start, end = row.get("start", "").strip(), row.get("end", "").strip()
        if start or end:
            if not (start.isdigit() and end.isdigit()):
                return self._fail(number, "start" if not start.isdigit() else "end",
                                  f"'{start}'-'{end}': start and end are character offsets (whole numbers)")
            if int(start) >= int(end):
                return self._fail(number, "end", f"{start}-{end}: the end must come after the start (an empty or"
                                                 " reversed span codes no words)")
            if not 0 <= int(start) < int(end) <= len(transcript.text):
                return self._fail(number, "end", f"characters {start}-{end} are outside {transcript.id}"
                                                 f" (0-{len(transcript.text)})")
            return int(start), int(end)
        lines = row.get("lines", "").strip()
        if not lines:
            return self._fail(number, "lines", "give the passage as start and end, or as lines (12 or 12-18)")
        if _EXCEL_DATE.fullmatch(lines):
            return self._fail(number, "lines", f"'{lines}' is a date: Excel turned the lines (such as 12-18) into one;"
                                               " format the lines column as Text and type them again")
        try:
            span = span_for_lines(transcript, lines)
        except QualcodeError as exc:
            return self._fail(number, "lines", str(exc))
        return span.start, span.end

    def _created(self, number: int, text: str) -> dt.datetime | None | bool:
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            self._fail(number, "created", f"'{text}' is not a date and time (2026-12-02 21:05:00)")
            return False
        # Times are stored in UTC without a zone (as exported): one with an offset is moved to UTC, not read as UTC.
        return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment

    def _same_words(self, number: int, transcript: Transcript, span: tuple[int, int], words: str) -> bool:
        """A row's `text`, if any, must be the words at its span, as stored or as exported (pseudonymised, by this
        project's key or, from another project, with its `[placeholders]` standing for any words)."""
        if not words.strip():
            return True
        stored = transcript.text[span[0]:span[1]]
        wanted = " ".join(words.split())
        if wanted == " ".join(stored.split()):
            return True
        if self._clean is None:
            from qualcode.analysis.query import pseudonymiser

            self._clean = pseudonymiser(self.project)
        if wanted == " ".join(self._clean(stored).split()) or _placeholders_fit(wanted, " ".join(stored.split())):
            return True
        shown = " ".join(stored.split())
        self._fail(number, "text", f"is not the words at characters {span[0]}-{span[1]} of {transcript.id}"
                                   f" ('{shown[:60]}{'...' if len(shown) > 60 else ''}'): was the transcript changed"
                                   " or the row edited? Correct start and end, or clear the text cell")
        return False


_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")


def _placeholders_fit(wanted: str, stored: str) -> bool:
    """`wanted` is `stored` but for `[placeholders]`, each standing for some words: the parts between them found
    in order, leftmost first (no regular expression: one compiled per row costs seconds on a large table)."""
    parts = _PLACEHOLDER.split(wanted)
    if len(parts) == 1 or not (stored.startswith(parts[0]) and stored.endswith(parts[-1])):
        return False
    position, limit = len(parts[0]), len(stored) - len(parts[-1])
    for part in parts[1:-1]:
        found = stored.find(part, position + 1)
        if found < 0 or found + len(part) > limit:
            return False
        position = found + len(part)
    return position < limit
