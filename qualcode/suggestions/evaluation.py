"""`evaluate`: the stored suggestions scored against a gold coding, per theme and overall."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Coding
from qualcode.analysis.overview import code_paths
from qualcode.project import Project


@dataclass(frozen=True)
class Span:
    transcript: str
    start: int
    end: int
    path: str


def evaluate(project: Project, gold: Path, transcripts: list[str] | None = None) -> dict:
    """Precision, recall and F1 of the stored suggestions against a gold coding, per top-level theme and overall.

    `gold` is a CSV with columns ``transcript,start,end,code`` (character offsets
    into the transcript text, ``code`` a full path). Suggestions are the codings
    with origin ``suggested`` or ``accepted`` (what autocode proposed, reviewed or
    not); only transcripts named in the gold file (and in `transcripts`, if
    given: a held-out part of the corpus, say) are evaluated. Unplaced suggestions
    (their words gone from a re-imported text) are left out, and counted in ``unplaced``.

    The unit is the passage, compared at the level of a theme T (a top-level code,
    or any code for ``per_path``), where a coding counts for T if its code is T or
    lies under it:

    * a suggestion for T is *correct* if it overlaps (shares at least one
      character with) a gold passage for T in the same transcript;
    * a gold passage for T is *found* if a suggestion for T overlaps it;
    * precision = correct / suggestions, recall = found / gold passages, F1 their
      harmonic mean. ``overall`` pools the counts of the top-level themes (micro
      average), so each theme weighs by its number of passages.
    """
    expected = [span for span in read_gold(gold) if transcripts is None or span.transcript in transcripts]
    transcripts = sorted({span.transcript for span in expected})
    with project.session() as session:
        paths = code_paths(session)
        rows = session.execute(
            select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.anchor).where(
                Coding.origin.in_(("suggested", "accepted")), Coding.transcript_id.in_(transcripts)
            )
        ).all()
    suggested = [Span(t, s, e, paths[c]) for t, s, e, c, anchor in rows if anchor != UNPLACED]
    themes = sorted({span.path.split("/")[0] for span in [*expected, *suggested]})
    per_code = {theme: _counts(expected, suggested, theme) for theme in themes}
    every_path = sorted({span.path for span in expected} | {span.path for span in suggested})
    return {
        "overall": _figures(_pooled(per_code.values())),
        "per_code": {theme: _figures(counts) for theme, counts in per_code.items()},
        "per_path": {path: _figures(_counts(expected, suggested, path)) for path in every_path},
        "transcripts": len(transcripts),
        "gold": len(expected),
        "suggestions": len(suggested),
        "unplaced": len(rows) - len(suggested),
    }


def read_gold(path: Path) -> list[Span]:
    """The gold coding: ``transcript,start,end,code`` rows."""
    from qualcode.ingest.transcript import read_text

    try:
        rows = list(csv.DictReader(io.StringIO(read_text(path)[0], newline="")))
    except OSError as exc:
        raise QualcodeError(f"cannot read the gold coding {path}: {exc.strerror}") from None
    try:
        return [Span(row["transcript"], int(row["start"]), int(row["end"]), row["code"].strip("/")) for row in rows]
    except (KeyError, TypeError, ValueError):
        raise QualcodeError(f"{path}: expected the columns transcript,start,end,code with integer offsets") from None


def _under(path: str, theme: str) -> bool:
    return path == theme or path.startswith(theme + "/")


def _counts(expected: list[Span], suggested: list[Span], theme: str) -> dict[str, int]:
    gold = _by_transcript(s for s in expected if _under(s.path, theme))
    mine = _by_transcript(s for s in suggested if _under(s.path, theme))
    correct = sum(_overlaps_any(span, gold.get(t, [])) for t, spans in mine.items() for span in spans)
    found = sum(_overlaps_any(span, mine.get(t, [])) for t, spans in gold.items() for span in spans)
    return {
        "gold": sum(map(len, gold.values())), "suggested": sum(map(len, mine.values())),
        "correct": correct, "found": found,
    }


def _by_transcript(spans: Iterable[Span]) -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        grouped[span.transcript].append(span)
    return grouped


def _overlaps_any(span: Span, others: list[Span]) -> bool:
    return any(other.start < span.end and span.start < other.end for other in others)


def _pooled(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for item in counts:
        for key, value in item.items():
            total[key] += value
    return dict(total)


def _figures(counts: dict[str, int]) -> dict[str, float | int]:
    precision = counts["correct"] / counts["suggested"] if counts["suggested"] else 0.0
    recall = counts["found"] / counts["gold"] if counts["gold"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), **counts}

