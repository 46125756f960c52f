"""`autocode`: parse, match and store one suggestion per turn, as one undoable change."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qualcode import concurrency, history
from qualcode.suggestions.matching import CodebookMatcher, Suggestion, select_codes, suggest_passages
from qualcode.models import UNPLACED, Coding
from qualcode.suggestions.nlp import ParseStats, Progress, Source, load_pipeline, read_sources
from qualcode.suggestions.parallel import map_parsed
from qualcode.analysis.overview import code_paths
from qualcode.project import Project

AUTOCODER = "autocode"


@dataclass
class AutocodeReport:
    transcripts: int = 0
    words: int = 0
    suggestions: int = 0
    replaced: int = 0
    parsed: int = 0
    cached: int = 0
    origin: str = "suggested"
    per_code: dict[str, int] = field(default_factory=dict)


def autocode(
    project: Project,
    transcripts: list[str] | None = None,
    codes: str | None = None,
    accept: bool = False,
    min_score: float = 0.0,
    coder: str = AUTOCODER,
    progress: Progress | None = None,
) -> AutocodeReport:
    """Suggest codes for the turns of `transcripts` (default all), keeping those of `codes` (default all).

    Every code's patterns are matched whatever `codes` says, so that narrowing
    the codes narrows what is suggested without changing what a turn is judged
    to be about: the suggestions of ``--codes hierarchy`` are those of a full
    run that lie under hierarchy.

    Stores one coding per passage with origin ``suggested`` (``accepted`` with
    `accept`) and its score, replacing the suggestions `coder` made earlier for
    the same transcripts and codes; manual and accepted codings are never
    touched. The whole run is one change that ``qualcode undo --coder`` reverses.
    """
    with project.session() as session:
        sources = read_sources(session, transcripts)
        chosen, paths = select_codes(session, codes), code_paths(session)
        every = select_codes(session, None) if codes else chosen
    matcher = CodebookMatcher(load_pipeline(), every, paths)
    stats = ParseStats()
    suggest = lambda parsed: [  # noqa: E731 - run in the parsing processes
        s for s in suggest_passages(matcher, parsed, min_score, context=True) if s.code_id in chosen]
    found = [s for suggested in map_parsed(project, sources, suggest, progress, stats) for s in suggested]
    report = AutocodeReport(len(sources), sum(s.words for s in sources), origin="accepted" if accept else "suggested")
    report.parsed, report.cached = stats.parsed, stats.cached
    description = f"autocode {len(sources)} transcript{'s' if len(sources) != 1 else ''}" + (f" with {codes}" if codes else "")
    # Only the writing is run again if it clashes with a colleague's: the parsing and matching stand.
    concurrency.run(project, lambda: store_run(project, sources, found, list(chosen), coder, description, report))
    report.suggestions = len(found)
    report.per_code = _count_paths(found, matcher.paths)
    return report


def store_run(project: Project, sources: list[Source], found: list[Suggestion], code_ids: list[int], coder: str,
               description: str, report: AutocodeReport) -> None:
    """Replace `coder`'s earlier suggestions for these transcripts and codes with the run's, as one change."""
    with project.session(bulk=True) as session, history.recorded(session, coder, "autocode", description, always=True) as run:
        old = _old_suggestions(session, [s.id for s in sources], code_ids, coder)
        fresh, stale = _replacement(sources, found, old, report.origin)
        for coding in stale:  # first: a fresh suggestion may take a stale one's passage (one per passage)
            session.delete(coding)
        session.flush()
        store_suggestions(session, sources, fresh, coder, report.origin, run_id=run.id)
        report.replaced = len(old)


def _old_suggestions(session: Session, transcript_ids: list[str], code_ids: list[int], coder: str) -> list[Coding]:
    return list(session.scalars(
        select(Coding).where(
            Coding.origin == "suggested", Coding.coder == coder,
            Coding.transcript_id.in_(transcript_ids), Coding.code_id.in_(code_ids),
        )
    ))


def _replacement(
    sources: list[Source], found: list[Suggestion], old: list[Coding], origin: str
) -> tuple[list[Suggestion], list[Coding]]:
    """What a rerun must add and delete: an earlier suggestion the run finds again, as it was, stays.

    A rerun over unchanged transcripts and codebook then writes nothing, and
    its undo record stays small (the run's id, and only the suggestions it
    really replaced).
    """
    texts = {source.id: source.text for source in sources}
    same = lambda t, start, end, code, score: (t, start, end, code, score, texts[t][start:end])  # noqa: E731
    wanted = Counter(same(s.transcript, s.start, s.end, s.code_id, s.score) for s in found)
    kept: Counter = Counter()
    stale = []
    for coding in old:
        key = same(coding.transcript_id, coding.start, coding.end, coding.code_id, coding.score)
        if origin == coding.origin and coding.anchor == "exact" and coding.quote == key[-1] and wanted[key] > kept[key]:
            kept[key] += 1
        else:
            stale.append(coding)
    fresh = []
    for s in found:
        key = same(s.transcript, s.start, s.end, s.code_id, s.score)
        if kept[key]:
            kept[key] -= 1
        else:
            fresh.append(s)
    return fresh, stale


def store_suggestions(
    session: Session, sources: list[Source], found: list[Suggestion], coder: str, origin: str, run_id: int | None = None
) -> None:
    texts = {source.id: source.text for source in sources}
    # One coding per passage, code and coder (the unique index): the best score, and none where `coder`
    # has one already (an earlier run's accepted suggestion).
    held = set(session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id).where(
        Coding.coder == coder, Coding.anchor != UNPLACED, Coding.transcript_id.in_(list(texts)))).all())
    best: dict[tuple, Suggestion] = {}
    for s in found:
        key = (s.transcript, s.start, s.end, s.code_id)
        if key in held:
            continue
        if key not in best or s.score > best[key].score:
            best[key] = s
    rows = [dict(transcript_id=s.transcript, start=s.start, end=s.end, code_id=s.code_id, coder=coder,
                 origin=origin, score=s.score, quote=texts[s.transcript][s.start : s.end], run_id=run_id,
                 evidence=json.dumps(list(s.evidence)) if s.evidence else None)
            for s in best.values()]
    if run_id is None:
        session.add_all(Coding(**row) for row in rows)
    elif rows:  # a run's suggestions, thousands at a time: one bulk INSERT, recorded as the run's (undo deletes by run)
        session.execute(insert(Coding), rows)
        history.run_inserted(session, Coding.__table__, rows)


def _count_paths(found: list[Suggestion], paths: dict[int, str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for suggestion in found:
        counts[paths[suggestion.code_id]] += 1
    return dict(sorted(counts.items()))
