"""Applying codes to passages by hand: spans from line numbers or turns, inductive codes, memos, undo.

People think in the line numbers `qualcode show` prints; the database stores
character offsets. `span_for_lines` translates ``12``, ``12-18`` and
``12:5-18:40`` (line:column, both 1-based and inclusive) into offsets, leaving
out a speaker label at the start of a line so that "Headteacher:" is never
part of a quote.
"""

from __future__ import annotations

import json

from typing import TYPE_CHECKING

import re
from collections.abc import Iterator
from bisect import bisect_right
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qualcode import history
from qualcode.coding.blind import visible
from qualcode.concurrency import retried
from qualcode.coding.codebook import UnknownCode, ensure_code, find_code, path_of
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Change, Coding, Memo, Participant, School, Transcript
from qualcode.analysis.overview import code_paths, get_transcript
from qualcode.project import Project
from qualcode.ingest.transcript import line_starts

if TYPE_CHECKING:
    import pandas as pd

ORIGINS = ("manual", "auto", "suggested", "accepted", "resolved")
_LINES = re.compile(r"^(\d+)(?::(\d+))?(?:-(\d+)(?::(\d+))?)?$")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def span_for_lines(transcript: Transcript, spec: str) -> Span:
    """Character span for a LINES spec: ``12``, ``12-18`` or ``12:5-18:40``."""
    match = _LINES.match(spec.strip())
    if not match:
        raise QualcodeError(f"'{spec}' is not a line range: use 12, 12-18 or 12:5-18:40 (line:column)")
    first, first_col, last, last_col = match.groups()
    last = last or first
    if last_col is None and first_col is not None and match.group(3) is None:
        raise QualcodeError(f"'{spec}': give an end column too, e.g. {first}:{first_col}-{first}:60")
    starts = line_starts(transcript.text)
    first_n, last_n = int(first), int(last)
    for number in (first_n, last_n):
        if not 1 <= number <= len(starts):
            raise QualcodeError(f"{transcript.id} has lines 1-{len(starts)}; there is no line {number}")
    if last_n < first_n:
        raise QualcodeError(f"'{spec}': the range ends before it starts")
    if any(column is not None and int(column) == 0 for column in (first_col, last_col)):
        raise QualcodeError(f"'{spec}': columns count from 1, the line's first character, e.g. {first}:1-{last}:60")
    line_end = lambda n: (starts[n] - 1) if n < len(starts) else len(transcript.text.rstrip("\n"))  # noqa: E731
    if first_col and int(first_col) > (length := line_end(first_n) - starts[first_n - 1]):
        raise QualcodeError(f"'{spec}': line {first} of {transcript.id} has {length} characters;"
                            f" there is no column {int(first_col)}")
    start = starts[first_n - 1] + (int(first_col) - 1 if first_col else 0)
    end = starts[last_n - 1] + int(last_col) if last_col else line_end(last_n)
    end = min(end, line_end(last_n))
    if not first_col:
        start = _after_label(transcript, start)
    while end > start and transcript.text[end - 1].isspace():
        end -= 1
    if end <= start:
        raise QualcodeError(f"'{spec}' covers no text in {transcript.id}")
    return Span(start, end)


def _after_label(transcript: Transcript, start: int) -> int:
    """Skip blank lines and a speaker label at `start`: the coded words begin where the turn's words do."""
    text = transcript.text
    while start < len(text) and text[start].isspace():
        start += 1
    for turn in transcript.turns:
        if turn.start >= start and transcript.text.count("\n", start, turn.start) == 0:
            return turn.start
    return start


def span_for_turn(transcript: Transcript, number: int) -> Span:
    turns = transcript.turns
    if not turns:
        raise QualcodeError(
            f"{transcript.id} has no speaker turns, so no turn {number}: qualcode could not read who speaks in it"
            f" ('qualcode show {transcript.id}'); name its speaker labels under [speakers] in qualcode.toml and run"
            f" 'qualcode import --reparse {transcript.id}', or code by LINES"
        )
    if not 1 <= number <= len(turns):
        raise QualcodeError(f"{transcript.id} has turns 1-{len(turns)}; there is no turn {number}")
    turn = turns[number - 1]
    return Span(turn.start, turn.end)


def lines_of(text: str, start: int, end: int, starts: list[int] | None = None) -> str:
    """The line range a span covers, as people see it: ``12`` or ``12-18``."""
    starts = starts or line_starts(text)
    first = bisect_right(starts, start)
    last = bisect_right(starts, max(start, end - 1))
    return str(first) if first == last else f"{first}-{last}"


@dataclass
class Applied:
    transcript: str
    span: Span
    lines: str
    codes: list[str]
    created_codes: list[str]
    already: list[str]
    #: Set when the passage is not one participant's words (see `other_voices`).
    warning: str | None = None


@retried
def apply_codes(
    project: Project,
    transcript_id: str,
    codes: list[str],
    coder: str,
    lines: str | None = None,
    turn: int | None = None,
    memo: str | None = None,
    new: bool = False,
    origin: str = "manual",
    span: tuple[int, int] | None = None,
) -> Applied:
    """Code a passage (by `lines`, `turn` or character `span`) with one or more codes, as one undoable change.

    A code that does not exist raises `UnknownCode` unless `new` is true, in
    which case it is created as an inductive code that remembers its coder and
    the passage it emerged from.
    """
    with project.session() as session:
        transcript = get_transcript(session, transcript_id)
        by_hand = span is None
        span = _span(transcript, lines, turn, span)
        _refuse_numeric_codes(session, transcript.id, codes, lines, turn)
        description = f"code {transcript.id} {lines_of(transcript.text, span.start, span.end)} with {', '.join(codes)}"
        with history.recorded(session, coder, "code", description) as change:
            applied = code_passage(session, transcript, span, codes, coder, memo, new, origin)
            # As history and undo should name it: the codes' paths, not what was typed ('tsa', 'markets/').
            change.description = f"code {transcript.id} {applied.lines} with {', '.join(applied.codes)}"
        if by_hand and applied.codes:
            applied.warning = other_voices(transcript, span, codes)
        return applied


def _refuse_numeric_codes(session: Session, transcript_id: str, codes: list[str], lines: str | None, turn: int | None) -> None:
    """A new code named like a line range ('12') is almost always LINES given alongside --turn, or in the wrong place."""
    for text in codes:
        if not _LINES.match(text.strip()):
            continue
        try:
            find_code(session, text)
        except UnknownCode:
            others = " ".join(c for c in codes if c != text) or "CODE"
            right = (f"'qualcode code {transcript_id} {others} --turn {turn}' (a turn needs no LINES) or"
                     f" 'qualcode code {transcript_id} {text} {others}' (LINES, without --turn)") if turn is not None else (
                     f"'qualcode code {transcript_id} LINES CODE...' (LINES first, then the codes)")
            raise QualcodeError(f"'{text}' looks like line numbers, not a code name, so no code '{text}' was created:"
                                f" write {right}") from None


_NOT_SPEECH = {"interviewer": "the interviewer's words", "note": "a note", "header": "the header"}


def other_voices(transcript: Transcript, span: Span, codes: list[str]) -> str | None:
    """What is wrong with a passage that is not one participant's words, and the right way to code it.

    Queries and reports quote a coding under its speaker's attribution, so an interviewer's question,
    or a second turn, inside it is misquoted."""
    turns = [turn for turn in transcript.turns if turn.start < span.end and turn.end > span.start]
    others = [turn for turn in turns if turn.role != "participant"]
    if len(turns) <= 1 and not others:
        return None
    what = lambda turn: _NOT_SPEECH.get(turn.role, turn.role)  # noqa: E731
    lines = f"lines {lines_of(transcript.text, span.start, span.end)} of {transcript.id}"
    if len(turns) > 1:
        whose = "; ".join(f"turn {turn.number}, {turn.speaker}: {what(turn)}" for turn in others)
        where = f"{lines} run over turns {', '.join(str(turn.number) for turn in turns)}" + (f" ({whose})" if whose else "")
        quoted = "all of it as one"
    else:
        where, quoted = f"{lines} are {what(turns[0])} (turn {turns[0].number}, {turns[0].speaker})", "it as the"
    answers = [turn for turn in turns if turn.role == "participant"]
    fix = " and ".join(f"'qualcode code {transcript.id} --turn {turn.number} {' '.join(codes)}'" for turn in answers)
    then = f"{fix}, or lines within one turn" if fix else f"what a participant said (see qualcode show {transcript.id})"
    return f"{where}: queries and reports quote {quoted} participant's words; 'qualcode undo' takes it back, then code {then}"


def _span(
    transcript: Transcript, lines: str | None, turn: int | None, span: tuple[int, int] | None = None
) -> Span:
    if sum(given is not None for given in (lines, turn, span)) != 1:
        raise QualcodeError("give the passage as LINES or --turn N (one of them)")
    if span is not None:
        return _checked_span(transcript, *span)
    return span_for_lines(transcript, lines) if lines is not None else span_for_turn(transcript, turn)


def _checked_span(transcript: Transcript, start: int, end: int) -> Span:
    """A character span from a caller that selected words itself (the tagging session)."""
    if not 0 <= start < end <= len(transcript.text):
        raise QualcodeError(f"characters {start}-{end} are not a passage of {transcript.id}")
    return Span(start, end)


def code_passage(session, transcript, span, codes, coder, memo, new, origin) -> Applied:
    """Code one span with `codes` inside the caller's session and change; a coding `coder` has already is left."""
    quote = transcript.text[span.start : span.end]
    result = Applied(transcript.id, span, lines_of(transcript.text, span.start, span.end), [], [], [])
    for text in codes:
        try:
            code = find_code(session, text)
        except UnknownCode:
            if not new:
                raise
            code = ensure_code(
                session, text, origin="inductive", coder=coder,
                source_transcript_id=transcript.id, source_start=span.start, source_end=span.end,
            )
            result.created_codes.append(path_of(code))
        path = path_of(code)
        if path in result.codes:  # named twice ('equity equity/'): coded once, and it was not there already
            continue
        duplicate = session.scalar(
            select(Coding).where(
                Coding.transcript_id == transcript.id, Coding.code_id == code.id,
                Coding.start == span.start, Coding.end == span.end, Coding.coder == coder, Coding.anchor != UNPLACED,
            )
        )
        if duplicate is not None:
            result.already.append(path)
            continue
        session.add(Coding(transcript_id=transcript.id, start=span.start, end=span.end, code=code, coder=coder,
                           origin=origin, memo=memo, quote=quote))
        result.codes.append(path)
    return result


@retried
def create_in_vivo(
    project: Project, transcript_id: str, start: int, end: int, coder: str, parent: str | None = None
) -> Applied:
    """Make the selected words a new inductive code (named after them) and code them with it."""
    with project.session() as session:
        transcript = get_transcript(session, transcript_id)
        words = re.findall(r"[a-z0-9]+", transcript.text[start:end].lower())
        if not words:
            raise QualcodeError("select some words to name the in-vivo code")
        name = "-".join(words[:6])
        path = f"{path_of(find_code(session, parent))}/{name}" if parent else f"in-vivo/{name}"
        with history.recorded(session, coder, "code", f"in-vivo code '{path}' from {transcript.id}"):
            return code_passage(session, transcript, Span(start, end), [path], coder, None, True, "manual")


@retried
def uncode(
    project: Project,
    transcript_id: str,
    coder: str,
    lines: str | None = None,
    turn: int | None = None,
    codes: list[str] | None = None,
    span: tuple[int, int] | None = None,
) -> int:
    """Remove codings that overlap the passage (only of `codes`, if given); returns how many."""
    with project.session() as session:
        transcript = get_transcript(session, transcript_id)
        span = _span(transcript, lines, turn, span)
        code_ids = [find_code(session, text).id for text in codes or []]
        # In a blind round a coder cannot see a colleague's codings there, so cannot remove them either.
        query = select(Coding).where(
            Coding.transcript_id == transcript.id, Coding.start < span.end, Coding.end > span.start,
            visible(project, coder),
        )
        if code_ids:
            query = query.where(Coding.code_id.in_(code_ids))
        found = session.scalars(query).all()
        if not found:
            where = lines_of(transcript.text, span.start, span.end)
            raise QualcodeError(f"no codings to remove in {transcript.id} at lines {where}")
        with history.recorded(session, coder, "uncode", _uncoded(session, transcript, found)):
            for coding in found:
                session.delete(coding)
        return len(found)


def _uncoded(session: Session, transcript: Transcript, found: list[Coding]) -> str:
    """What an uncode removed, for `history` and `undo`: which codes, whose, and where (the first few of many)."""
    paths = code_paths(session)
    each = sorted({f"{paths[c.code_id]} by {c.coder} at {lines_of(transcript.text, c.start, c.end)}" for c in found})
    more = f" and {len(each) - 3} more" if len(each) > 3 else ""
    return f"uncode {len(found)} in {transcript.id}: {'; '.join(each[:3])}{more}"


MEMO_TARGETS = ("project", "locality", "school", "transcript", "code", "coding")


@retried
def add_memo(project: Project, target_kind: str, target: str | None, text: str, author: str) -> str:
    """Write a memo on the project, a locality, a school, a transcript, a code or a coding (by id).

    A coding's memo is kept on the coding itself (it travels with it through
    merges and exports); the others are `Memo` rows. Returns what it was written on.
    """
    if target_kind not in MEMO_TARGETS:
        raise QualcodeError(f"memos go on one of: {', '.join(MEMO_TARGETS)}")
    with project.session() as session, history.recorded(session, author, "memo", f"memo on {target_kind} {target or ''}"):
        target_id = _memo_target(session, target_kind, target)
        if target_kind == "coding":
            coding = session.get(Coding, int(target_id))
            coding.memo = f"{coding.memo}\n{text}" if coding.memo else text
        else:
            session.add(Memo(target_kind=target_kind, target_id=target_id, text=text, author=author))
        return f"{target_kind} {target}" if target else target_kind


def _memo_target(session: Session, kind: str, target: str | None) -> str | None:
    """Check the target exists and return the id stored for it (a code by its id, the rest by theirs)."""
    if kind == "project":
        return None
    if not target:
        raise QualcodeError(f"a memo on a {kind} needs its id")
    if kind == "code":
        return str(find_code(session, target).id)
    if kind == "transcript":
        return get_transcript(session, target).id
    if kind == "coding":
        if not target.isdigit() or session.get(Coding, int(target)) is None:
            raise QualcodeError(f"no coding with id {target}; 'qualcode codings' lists them")
        return target
    if kind == "school" and session.get(School, target) is None:
        raise QualcodeError(f"no school '{target}'")
    if kind == "locality":
        localities = set(session.scalars(select(Participant.locality_name)))
        if target not in localities:
            raise QualcodeError(f"no locality '{target}'; known: {', '.join(sorted(localities))}")
    return target


@retried
def undo(project: Project, coder: str) -> Change:
    """Reverse the most recent change by `coder`."""
    with project.session() as session:
        return history.undo(session, coder)


def change_history(project: Project, coder: str | None = None, limit: int = 20) -> list[dict]:
    """The recorded changes (of `coder`, if given), newest first; see `history.listing`."""
    with project.session() as session:
        return history.listing(session, coder, limit)


def codings_table(project: Project, **filters) -> pd.DataFrame:
    """The codings `coding_records` reads (with the same `filters`), as one table."""
    import pandas as pd

    _, rows = coding_records(project, **filters)
    return pd.DataFrame(list(rows), columns=CODING_FIELDS)


#: The fields of each coding `coding_records` yields (and the columns of `codings_table`).
CODING_FIELDS = ["id", "transcript", "start", "end", "lines", "code", "coder", "origin", "anchor", "text", "quote", "memo",
                 "score", "evidence"]


def coding_records(
    project: Project,
    transcript: str | None = None,
    code: str | None = None,
    coder: str | None = None,
    origin: str | None = None,
    unplaced: bool = False,
) -> tuple[int, Iterator[dict]]:
    """How many codings match, and the codings one by one, read as they are printed: a listing of thousands
    starts at once. The choices are checked here, before the first is read.

    Codings with their text and line range; `code` matches a code and its children (``markets`` or
    ``markets/*``). With `unplaced`, only the codings a re-import could not place: their `quote` and old
    `start`/`end` are what a researcher needs to code the words again."""
    if origin and origin not in ORIGINS:
        raise QualcodeError(f"--origin must be one of: {', '.join(ORIGINS)}")
    with project.session() as session:
        paths = code_paths(session)
        query = select(*_CODING_COLUMNS).where(visible(project))
        if transcript:
            query = query.where(Coding.transcript_id == get_transcript(session, transcript).id)
        if code:
            root = path_of(find_code(session, code.rstrip("*").rstrip("/")))
            wanted = [i for i, p in paths.items() if p == root or p.startswith(root + "/")]
            query = query.where(Coding.code_id.in_(wanted))
        if coder:
            query = query.where(Coding.coder == coder)
        if origin:
            query = query.where(Coding.origin == origin)
        if unplaced:
            query = query.where(Coding.anchor == UNPLACED)
        count = session.scalar(select(func.count()).select_from(query.subquery()))
    return count, _coding_rows(project, query.order_by(Coding.transcript_id, Coding.start, Coding.id), paths)


#: What a listing shows of a coding, read as plain columns: ORM objects cost seconds over a whole study.
_CODING_COLUMNS = (Coding.id, Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder,
                   Coding.origin, Coding.anchor, Coding.quote, Coding.memo, Coding.score, Coding.evidence)


def _coding_rows(project: Project, query, paths: dict[int, str]) -> Iterator[dict]:
    """The codings of `query`, each transcript's text (and line starts) read when its first coding comes.
    Rows are unpacked as tuples: a Row's attributes cost more than the rest of the listing."""
    with project.engine.connect() as connection:
        transcripts: dict[str, tuple[str, list[int]]] = {}
        rows = connection.execute(query.execution_options(yield_per=500))
        for id_, transcript, start, end, code_id, coder, origin, anchor, quote, memo, score, evidence in rows:
            if transcript not in transcripts:
                text = connection.scalar(select(Transcript.text).where(Transcript.id == transcript))
                transcripts[transcript] = (text, line_starts(text))
            text, starts = transcripts[transcript]
            yield {
                "id": id_,
                "transcript": transcript,
                "start": start,
                "end": end,
                "lines": lines_of(text, start, end, starts),
                "code": paths[code_id],
                "coder": coder,
                "origin": origin,
                "anchor": anchor,
                "text": text[start:end],
                "quote": quote,
                "memo": memo,
                "score": score,
                "evidence": json.loads(evidence) if evidence else None,
            }


def _twin(session: Session, coding: Coding, coder: str) -> Coding | None:
    """`coder`'s placed coding of the same passage with the same code (the unique index allows one)."""
    return session.scalar(select(Coding).where(
        Coding.transcript_id == coding.transcript_id, Coding.code_id == coding.code_id, Coding.start == coding.start,
        Coding.end == coding.end, Coding.coder == coder, Coding.anchor != UNPLACED, Coding.id != coding.id))


@retried
def review_suggestion(project: Project, coding_id: int, coder: str, accept: bool) -> str:
    """Accept (origin becomes ``accepted``, credited to `coder`) or reject (deleted) a suggested coding."""
    with project.session() as session:
        coding = session.get(Coding, coding_id)
        if coding is None or coding.origin != "suggested":
            raise QualcodeError(f"no suggested coding with id {coding_id}")
        verb = "accept" if accept else "reject"
        path = code_paths(session)[coding.code_id]
        with history.recorded(session, coder, verb, f"{verb} {path} in {coding.transcript_id}"):
            if accept and _twin(session, coding, coder) is None:
                coding.origin, coding.coder = "accepted", coder
            else:  # rejected, or accepted where `coder` has coded the passage already: one coding is enough
                session.delete(coding)
        return path
