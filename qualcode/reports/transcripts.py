"""Transcript pages: where a quote's id leads, its passage in context, pseudonymised.

A reader who doubts a quote wants to see what was asked and what else the
speaker said. Each HTML report's quote ids link to `transcripts/<id>.html`,
which shows the turns holding the passages that the reports in that folder
quote, each after the interviewer's question it answers, the passages marked
and anchored by their quote ids. Other turns are left out (the page says how
many): publishing a report should not publish whole interviews. Speakers are
'Interviewer' and 'Interviewee', never the label as transcribed (it may be a
name); there is no attribution line (a quote that `--coarsen` made coarser
would otherwise be undone here); the words go through the identity key, a turn
at a time, as a quote's do. Each page is checked by `qualcode check` before it
is written, as every report is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from qualcode.coding.blind import visible
from qualcode.models import Coding, Turn
from qualcode.project import Project
from qualcode.analysis.query import QUOTABLE_ORIGINS
from qualcode.reports.contexts import Piece, TranscriptContext, TurnView
from qualcode.reports.navigation import PAGES
from qualcode.reports.quotes import QuoteSource, quoted_turn
from qualcode.ingest.speakers import INTERVIEWER, PARTICIPANT

SPEAKERS = {INTERVIEWER: "Interviewer", PARTICIPANT: "Interviewee"}


#: The anchors a transcript page already has: the quotes that reports in its folder link to.
_ANCHOR = re.compile(r'<a class="qid[^"]*" id="(Q-[A-Z0-9-]+)"')


@dataclass
class TranscriptPages:
    """The pages of the transcripts a run of reports quotes, each written once with every quote they link to.

    `add` collects a report's quotes, `flush` writes the pages. A page keeps
    the passages already on it (reports written earlier into the folder link to
    them), so it shows exactly the passages the folder's reports quote.
    """

    project: Project
    source: QuoteSource
    corpus: object = None
    pending: dict[Path, dict[str, set[str]]] = field(default_factory=dict)

    def add(self, folder: Path, quotes) -> None:
        for quote in quotes:
            self.pending.setdefault(folder, {}).setdefault(quote.transcript, set()).add(quote.id)

    def flush(self) -> list[Path]:
        from qualcode.reports.render import _write_checked, render_text
        from qualcode.reports.navigation import navigation

        paths = []
        for folder, wanted in self.pending.items():
            pages = folder / PAGES
            pages.mkdir(parents=True, exist_ok=True)
            for transcript, ids in sorted(wanted.items()):
                path = pages / f"{transcript}.html"
                if path.is_file():
                    ids = ids | set(_ANCHOR.findall(path.read_text(encoding="utf-8")))
                context = transcript_context(self.project, transcript, self.source, ids)
                context.nav = navigation(self.project, folder, "html", "", "../")
                text = render_text(self.project, "transcript", "html", context)
                paths.append(_write_checked(self.project, path, lambda target: target.write_text(text, encoding="utf-8"),
                                            self.corpus))
        self.pending.clear()
        return paths


def transcript_context(project: Project, transcript: str, source: QuoteSource, quoted: set[str]) -> TranscriptContext:
    """The page of one transcript showing the passages of the `quoted` ids (`source` must hold its text and ids)."""
    from qualcode.privacy.pseudonyms import project_key

    turns = _turns(project, transcript)
    spans = [span for span in _passages(project, transcript, source) if span[2] in quoted]
    key = project_key(project)
    text = source.texts.texts[transcript]
    shown = _shown(turns, spans)
    views, previous = [], -1
    for index in shown:
        number, role, start, end = turns[index]
        mine = [(max(s, start), min(e, end), quote_id) for s, e, quote_id, turn in spans if turn == (start, end)]
        views.append(TurnView(number, SPEAKERS[role], source.texts.lines(transcript, start, end),
                              pieces(text[start:end], [(s - start, e - start, q) for s, e, q in mine], key),
                              index - previous - 1))
        previous = index
    return TranscriptContext(
        title=f"Transcript {transcript}: the quoted passages in context", transcript=transcript,
        generated=dt.date.today().isoformat(), turns=views, left_out=len(turns) - previous - 1,
        passages=len(spans),
    )


def _turns(project: Project, transcript: str) -> list[tuple[int, str, int, int]]:
    """(number, role, start, end) of the interviewer's and participant's turns, in order; notes and headers aside."""
    query = (select(Turn.number, Turn.role, Turn.start, Turn.end)
             .where(Turn.transcript_id == transcript, Turn.role.in_(SPEAKERS)).order_by(Turn.start))
    with project.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _passages(project: Project, transcript: str, source: QuoteSource) -> list[tuple[int, int, str, tuple[int, int]]]:
    """(start, end, quote id, participant turn) of each quotable coded passage, as a quote is cut: to the
    first participant turn the coding touches (codings inside no participant turn are not quotable)."""
    query = (select(Coding.start, Coding.end).distinct()
             .where(Coding.transcript_id == transcript, Coding.origin.in_(QUOTABLE_ORIGINS), Coding.anchor != "unplaced",
                    visible(project))
             .order_by(Coding.start, Coding.end))
    with project.engine.connect() as connection:
        codings = connection.execute(query).all()
    turns = source.turns.get(transcript, [])
    found = []
    for start, end in codings:
        turn = quoted_turn(turns, start, end)
        if turn is not None and (transcript, start, end) in source.ids:
            found.append((start, end, source.ids[(transcript, start, end)], turn))
    return found


def _shown(turns: list[tuple[int, str, int, int]], spans: list) -> list[int]:
    """Indexes of the turns to show: each holding a passage, and the interviewer's turn just before it."""
    holding = {turn for *_, turn in spans}
    shown = set()
    for index, (_, role, start, end) in enumerate(turns):
        if (start, end) in holding:
            shown.add(index)
            if index and turns[index - 1][1] == INTERVIEWER:
                shown.add(index - 1)
    return sorted(shown)


def pieces(text: str, spans: list[tuple[int, int, str]], key) -> list[Piece]:
    """`text` cut where coded passages start and end, each piece pseudonymised.

    The whole turn goes through the identity key at once (a name is read in
    its sentence, as in the transcript), and a cut that would fall inside a
    replaced name moves to the name's start, so no piece holds half a name.
    """
    flat = re.sub(r"\s", " ", text)  # one character for one: offsets hold, and no name is split over lines
    _, replacements = key.pseudonymise(flat)
    spans = [(_outside(start, replacements), _outside(end, replacements), quote_id) for start, end, quote_id in spans]
    bounds = sorted({0, len(flat)} | {s for s, _, _ in spans} | {e for _, e, _ in spans})
    return [
        Piece(re.sub(r" {2,}", " ", _replaced(flat, a, b, replacements)),
              [q for s, e, q in spans if s <= a and b <= e], [q for s, _, q in spans if s == a])
        for a, b in zip(bounds, bounds[1:])
    ]


def _outside(offset: int, replacements) -> int:
    for replaced in replacements:
        if replaced.start < offset < replaced.end:
            return replaced.start
    return offset


def _replaced(text: str, a: int, b: int, replacements) -> str:
    out, position = [], a
    for replaced in replacements:
        if a <= replaced.start and replaced.end <= b:
            out += [text[position : replaced.start], replaced.replacement]
            position = replaced.end
    out.append(text[position:b])
    return "".join(out)
