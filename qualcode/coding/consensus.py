"""Resolving two coders' disagreements: the decisions of `qualcode tag --review` and the consensus they make.

A review walks the passages where two coders differ (`qualcode.analysis.agreement.disagreements`
grouped by passage, so a turn one coder coded `markets` and the other `networks` is one
question, not two). For each, the resolver keeps one coder's codings, both, or recodes it.

The coders' own codings are never touched, so `qualcode agreement` keeps measuring their
independent judgements. Instead each decision writes, as one undoable change by the resolver:

* a `Resolution` row per disputed code of the passage: the pair, what was kept, who resolved it;
* the consensus, coded by the coder `consensus` with origin ``resolved``: the kept coders'
  spans of the disputed codes (within the passage), or for a recode the chosen codes on the
  whole passage. ``resolved`` is not a counted origin: the consensus is listed by `codings`
  and exported, but matrix, quotes and agreement count the coders' own codings, as before.

A passage is resolved when each of its disputed codes has a decision by that pair of coders
(in either order); it no longer comes up for review, and `agreement --disagreements` shows
the decision beside it. `qualcode undo` (or `u` in the review) takes a decision back.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode import history
from qualcode.analysis.agreement import disagreements
from qualcode.coding.codebook import complete_code
from qualcode.coding.manual import Span, code_passage, undo
from qualcode.concurrency import retried
from qualcode.errors import QualcodeError
from qualcode.models import Change, Resolution
from qualcode.analysis.overview import code_paths, get_transcript
from qualcode.project import Project
from qualcode.analysis.query_where import Where
from qualcode.ingest.transcript import line_starts

#: The coder the consensus is coded by.
CONSENSUS = "consensus"
#: How many lines before and after a passage the review shows as its context.
CONTEXT_LINES = 3


@dataclass
class Passage:
    """One unit where the two coders differ about one or more codes, with each coder's codings of those codes."""

    transcript: str
    start: int
    end: int
    lines: str
    text: str
    before: str
    after: str
    #: The codes the coders differ about here.
    codes: list[str]
    #: coder -> (code, start, end) of their codings of the disputed codes, clipped to the passage.
    coded: dict[str, list[tuple[str, int, int]]]
    #: The decision, once there is one: {"decision", "kept", "resolved_by", "at"}.
    resolution: dict | None = field(default=None)


def pair_key(coders: Sequence[str]) -> str:
    """The pair as a resolution names it: the same whichever order the coders are given in."""
    return ",".join(sorted(coders))


def passages(project: Project, coders: Sequence[str], codes: str | None = None, unit: str = "turn",
             where: Where | None = None) -> list[Passage]:
    """Every passage where the two coders differ, in transcript order, each with its decision if it has one.

    The words are the transcript's own (not pseudonymised): the review is the
    researcher's screen, like `qualcode tag`, not an output that leaves the tool.
    """
    coders = [coder.strip() for coder in coders if coder.strip()]
    if len(coders) != 2:
        raise QualcodeError(f"--review compares two coders, e.g. --review ann,ben; got {len(coders)}")
    grouped: dict[tuple[str, int, int], Passage] = {}
    texts: dict[str, tuple[str, list[int]]] = {}
    rows = disagreements(project, coders, codes, unit, where, raw=True)
    with project.session() as session:
        for found in rows:
            key = (found["transcript"], found["start"], found["end"])
            if key not in grouped:
                if key[0] not in texts:
                    text = get_transcript(session, key[0]).text
                    texts[key[0]] = text, line_starts(text)
                grouped[key] = _passage(*texts[key[0]], found, coders)
            passage = grouped[key]
            passage.codes.append(found["code"])
            for coder, spans in found["spans"].items():
                passage.coded[coder] += [(found["code"], start, end) for start, end in spans]
        result = list(grouped.values())
        _mark(session, coders, result)
    return result


def _passage(text: str, starts: list[int], found: dict, coders: Sequence[str]) -> Passage:
    """A passage with its words and a few lines either side of it, its codes still to be added."""
    first = max(0, _line_of(starts, found["start"]) - CONTEXT_LINES)
    last = _line_of(starts, max(found["start"], found["end"] - 1)) + CONTEXT_LINES + 1
    start, end = found["start"], found["end"]
    after_end = starts[last] if last < len(starts) else len(text)
    return Passage(found["transcript"], start, end, found["lines"], text[start:end], text[starts[first]:start],
                   text[end:after_end], [], {coder: [] for coder in coders})


def _line_of(starts: list[int], offset: int) -> int:
    return bisect_right(starts, offset) - 1


def _decisions(session: Session, coders: Sequence[str]) -> dict[tuple[str, int, int, str], dict]:
    """The pair's decisions by (transcript, start, end, code path)."""
    paths = code_paths(session)
    rows = session.scalars(select(Resolution).where(Resolution.coders == pair_key(coders)))
    return {
        (row.transcript_id, row.start, row.end, paths.get(row.code_id)): {
            "decision": row.decision, "kept": row.kept.split(",") if row.kept else [],
            "resolved_by": row.resolved_by, "at": row.created_at.isoformat(timespec="seconds"),
        }
        for row in rows
    }


def _mark(session: Session, coders: Sequence[str], found: list[Passage]) -> None:
    """Set each passage's decision (when every disputed code has one) or clear it."""
    decided = _decisions(session, coders)
    for passage in found:
        made = [decided.get((passage.transcript, passage.start, passage.end, code)) for code in passage.codes]
        passage.resolution = made[0] if made and None not in made else None


def describe(resolution: dict) -> str:
    """A decision as people say it: ``kept ann's, by cat``; ``kept ann's and ben's, by cat``; ``recoded, by cat``."""
    kept = " and ".join(f"{coder}'s" for coder in resolution["kept"])
    return f"{'kept ' + kept if kept else 'recoded'}, by {resolution['resolved_by']}"


def mark_disagreements(project: Project, coders: Sequence[str], found: list[dict]) -> list[dict]:
    """`agreement --disagreements` rows, each with the pair's decision on it (`resolution`, null if none)."""
    if len(coders) != 2:
        return [row | {"resolution": None} for row in found]
    with project.session() as session:
        decided = _decisions(session, coders)
    for row in found:
        row["resolution"] = decided.get((row["transcript"], row["start"], row["end"], row["code"]))
    return found


# Decisions


def keep(project: Project, passage: Passage, kept: Sequence[str], resolver: str) -> str:
    """Make the kept coders' codings of the disputed codes the consensus (one coder's, or both pooled)."""
    unknown = [coder for coder in kept if coder not in passage.coded]
    if unknown or not kept:
        raise QualcodeError(f"keep the codings of {' or '.join(passage.coded)}, not {', '.join(unknown) or 'nobody'}")
    consensus = sorted({coding for coder in kept for coding in passage.coded[coder]})
    what = "both" if len(kept) > 1 else f"{kept[0]}'s"
    return _decide(project, passage, "keep", list(kept), consensus, resolver, f"kept {what}")


def recode(project: Project, passage: Passage, codes: Sequence[str], resolver: str) -> str:
    """Make the consensus the chosen codes on the whole passage, whatever either coder did."""
    if not codes:
        raise QualcodeError("name the code(s) the passage should have")
    consensus = [(code, passage.start, passage.end) for code in codes]
    return _decide(project, passage, "recode", [], consensus, resolver, f"recoded as {', '.join(codes)}")


@retried
def _decide(project: Project, passage: Passage, decision: str, kept: list[str],
            consensus: list[tuple[str, int, int]], resolver: str, summary: str) -> str:
    """One decision as one change: a resolution row per disputed code, and the consensus codings."""
    coders = list(passage.coded)
    with project.session() as session:
        transcript = get_transcript(session, passage.transcript)
        ids = {path: code_id for code_id, path in code_paths(session).items()}
        _refuse_if_resolved(session, passage, coders)
        description = f"review {', '.join(coders)}: {passage.transcript} {passage.lines} ({', '.join(passage.codes)}) {summary}"
        with history.recorded(session, resolver, "resolve", description):
            for code in passage.codes:
                session.add(Resolution(transcript_id=passage.transcript, start=passage.start, end=passage.end,
                                       code_id=ids[code], coders=pair_key(coders), decision=decision,
                                       kept=",".join(kept) or None, resolved_by=resolver))
            for code, start, end in consensus:
                code_passage(session, transcript, Span(start, end), [code], CONSENSUS, None, False, "resolved")
        _mark(session, coders, [passage])
    return summary


def _refuse_if_resolved(session: Session, passage: Passage, coders: list[str]) -> None:
    _mark(session, coders, [passage])
    if passage.resolution:
        made = passage.resolution
        raise QualcodeError(f"{passage.transcript} {passage.lines} was resolved by {made['resolved_by']} at {made['at']}"
                            " (undo that decision first to decide again)")


# The review, passage by passage


class Review:
    """The passages a review walks, one at a time: what the full-screen session draws and acts on.

    It starts with the passages not yet resolved; each stays in the walk once
    decided (marked with its decision) so the resolver can look back.
    """

    def __init__(self, project: Project, coders: Sequence[str], resolver: str, codes: str | None = None,
                 unit: str = "turn", where: Where | None = None):
        self.project, self.resolver = project, resolver
        self.passages = [p for p in passages(project, coders, codes, unit, where) if p.resolution is None]
        if not self.passages:
            raise QualcodeError(f"no disagreement of {' and '.join(c.strip() for c in coders)} left to resolve")
        self.coders = list(self.passages[0].coded)
        self.position = 0

    @property
    def current(self) -> Passage:
        return self.passages[self.position]

    def resolved(self) -> int:
        return sum(passage.resolution is not None for passage in self.passages)

    def move(self, step: int) -> bool:
        """Go `step` passages on or back; False at either end."""
        if not 0 <= self.position + step < len(self.passages):
            return False
        self.position += step
        return True

    def next_unresolved(self) -> bool:
        """Go to the next passage still to decide (wrapping round); False when all are decided."""
        count = len(self.passages)
        for step in range(1, count + 1):
            number = (self.position + step) % count
            if self.passages[number].resolution is None:
                self.position = number
                return True
        return False

    def keep(self, kept: Sequence[str]) -> str:
        return keep(self.project, self.current, kept, self.resolver)

    def recode(self, codes: Sequence[str]) -> str:
        return recode(self.project, self.current, codes, self.resolver)

    def undo(self) -> Change:
        """Take back the resolver's last change (a decision, usually), and go to the passage it undecided."""
        decided = {number for number, passage in enumerate(self.passages) if passage.resolution}
        change = undo(self.project, self.resolver)
        with self.project.session() as session:
            _mark(session, self.coders, self.passages)
        undecided = [number for number in decided if self.passages[number].resolution is None]
        self.position = min(undecided, default=self.position)
        return change

    def complete(self, text: str) -> list[str]:
        """Code paths for what has been typed so far, fuzzy-ranked (for a recode)."""
        with self.project.session() as session:
            return complete_code(session, text)
