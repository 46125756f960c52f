"""Choosing quotes: clipped to what the participant said, balanced across schools, trimmed at sentence ends.

A coded passage becomes a `Quote` only through `build_quotes`, so every quote
in every report has the same guarantees: its words are the participant's (a
span reaching into an interviewer's turn is cut back to the participant's
turn), pseudonymised, attributed by `attribution.render`, and identified by a
stable id that leads back to the transcript and span.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select

from qualcode.coding.codebook import find_code
from qualcode.models import Code, Coding, Transcript
from qualcode.project import Project
from qualcode.analysis.query import (
    COUNTED_ORIGINS,
    QUOTABLE_ORIGINS,
    TextStore,
    coded_segments,
    participant_turns,
    pseudonymiser,
)
from qualcode.analysis.query_where import Where, describe
from qualcode.reports.contexts import Count, Facet, LocalityQuotes, Quote, QuoteGroup, QuotesContext
from qualcode.reports.navigation import PAGES

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
#: A sentence (or a speaker's label) ends here: '.', '!', '?' or '...', maybe inside closing quotes or brackets.
_SENTENCE_CLOSE = re.compile(r"[.!?:…][\"')\]’”]*$")
TRIM_MARK = "..."


@dataclass
class Selection:
    """How to pick quotes: the strongest first, balanced across cases, within length bounds."""

    max_per_school: int | None = None
    min_words: int | None = None
    max_words: int | None = None
    #: Shorten quotes over `max_words` at a sentence end (with '...') instead of leaving them out.
    trim: bool = False
    where: Where | None = None
    #: Attribute quotes whose speaker is a small cell (`anonymise.small_cells`) by role or 'System informant' only.
    coarsen: bool = False

    def __post_init__(self) -> None:
        """Bounds that would silently mean 'no limit' (0) or pick nothing (a minimum above the maximum) are refused."""
        from qualcode.errors import QualcodeError

        for option, value in (("--max-per-school", self.max_per_school), ("--min-words", self.min_words),
                              ("--max-words", self.max_words)):
            if value is not None and value < 1:
                raise QualcodeError(f"{option} {value}: give a number of 1 or more, or leave the option out for no limit")
        if self.min_words and self.max_words and self.min_words > self.max_words:
            raise QualcodeError(f"--min-words {self.min_words} is more than --max-words {self.max_words}: "
                                "no quote could be chosen")

    def phrases(self) -> list[str]:
        phrases = describe(self.where)
        if self.min_words:
            phrases.append(f"at least {self.min_words} words")
        if self.max_words:
            phrases.append(f"at most {self.max_words} words" + (", longer quotes trimmed at a sentence end" if self.trim else ""))
        if self.max_per_school:
            phrases.append(f"at most {self.max_per_school} per school (or informant) for each code")
        if self.coarsen:
            phrases.append("coarser attribution where the full line would point to a single school or person")
        return phrases or ["every accepted or manual coding"]


def trim_text(text: str, max_words: int) -> str:
    """Whole sentences from the start up to `max_words`, then '...'; never cut inside a sentence."""
    sentences = _SENTENCE_END.split(text)
    kept, count = [], 0
    for sentence in sentences:
        words = len(sentence.split())
        if kept and count + words > max_words:
            break
        kept.append(sentence)
        count += words
    return text if len(kept) == len(sentences) else " ".join(kept) + " " + TRIM_MARK


@dataclass
class QuoteSource:
    """What quotes are cut from: transcript texts and attributions, participant turns, quote ids.

    `build_quotes` loads the part it needs; a run writing several reports
    (`render_demo_reports`) loads it once for every transcript and shares it.
    """

    texts: TextStore
    turns: dict[str, list[tuple[int, int]]]
    ids: dict[tuple[str, int, int], str]

    @classmethod
    def load(cls, project: Project, transcript_ids: Iterable[str] | None = None) -> QuoteSource:
        """For the transcripts named, or for every transcript."""
        if transcript_ids is None:
            with project.session() as session:
                transcript_ids = session.scalars(select(Transcript.id)).all()
        wanted = set(transcript_ids)
        return cls(TextStore.load(project, wanted), participant_turns(project, wanted), _quote_ids(project, wanted))


def build_quotes(
    project: Project,
    codes: str | Iterable[str] | None,
    selection: Selection,
    choose: Callable[[list[Quote]], list[Quote]] | None = None,
    source: QuoteSource | None = None,
) -> list[Quote]:
    """Quotes for the codings of `codes` (each with its children), chosen and ordered by `selection`.

    `choose` picks among them further (e.g. a few key quotes) before the
    chosen few are pseudonymised. `source` is a `QuoteSource` to reuse.
    """
    segments = coded_segments(project, codes, selection.where, QUOTABLE_ORIGINS)
    if segments.empty:
        return []
    source = source or QuoteSource.load(project, segments["transcript"])
    texts, turns, ids = source.texts, source.turns, source.ids
    clean = pseudonymiser(project)
    quotes = []
    for row in segments.sort_values(["important", "transcript", "start"], ascending=[False, True, True]).itertuples():
        turn = quoted_turn(turns.get(row.transcript, []), row.start, row.end)
        if turn is None:
            continue
        span = max(row.start, turn[0]), min(row.end, turn[1])
        source_text = texts.texts[row.transcript]
        quote = _fit(" ".join(source_text[span[0] : span[1]].split()), selection)
        if quote is None:
            continue
        quote = mark_cuts(quote, source_text[turn[0] : span[0]])
        quotes.append(Quote(
            id=ids[(row.transcript, row.start, row.end)], text=quote, attribution=texts.attribution(row.transcript, *span),
            transcript=row.transcript, lines=texts.lines(row.transcript, *span), start=span[0], end=span[1],
            code=row.code, locality=row.locality, school=_text(row.school), important=bool(row.important),
            words=len(quote.replace(TRIM_MARK, "").split()), participant=row.participant, informant=bool(row.informant),
            role=_text(row.role) or _text(row.informant_kind), phase=_text(row.phase), ofsted=_text(row.ofsted),
            origin=row.origin, whole=TRIM_MARK not in quote, page=f"{PAGES}/{row.transcript}.html",
        ))
    chosen = _balanced(_unique(quotes), selection.max_per_school)
    return [replace(quote, text=clean(quote.text)) for quote in (choose(chosen) if choose else chosen)]


def _fit(words: str, selection: Selection) -> str | None:
    count = len(words.split())
    if selection.min_words and count < selection.min_words:
        return None
    if selection.max_words and count > selection.max_words:
        return trim_text(words, selection.max_words) if selection.trim else None
    return words


def quoted_turn(turns: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The first participant turn the span touches (None if it touches none); the quote is the part inside it."""
    index = max(bisect_right([s for s, _ in turns], start) - 1, 0)
    for turn_start, turn_end in turns[index:]:
        if turn_start < end and start < turn_end:
            return turn_start, turn_end
        if turn_start >= end:
            break
    return None


def mark_cuts(quote: str, before: str) -> str:
    """'...' before a quote that starts inside a sentence and after one that stops inside one, so a reader
    knows the speaker said more there (`before` is the speaker's turn up to the quote)."""
    opens = not before.strip() or _SENTENCE_CLOSE.search(before.rstrip())
    closes = quote.endswith(TRIM_MARK) or _SENTENCE_CLOSE.search(quote)
    return ("" if opens else TRIM_MARK + " ") + quote + ("" if closes else " " + TRIM_MARK)


def _text(value) -> str | None:
    """A metadata value, or None where pandas has NaN (no school, no grade)."""
    return value if isinstance(value, str) else None


def _quote_ids(project: Project, transcript_ids: set[str]) -> dict[tuple[str, int, int], str]:
    """Q-<transcript>-<nnnn>: passages numbered in text order among the transcript's coded spans.

    Numbering counts every coded span (whoever coded it, with whatever code),
    so an id does not depend on the report's filters or selection.
    """
    query = (
        select(Coding.transcript_id, Coding.start, Coding.end).distinct()
        .where(Coding.origin.in_(COUNTED_ORIGINS))
        .order_by(Coding.transcript_id, Coding.start, Coding.end)
    )
    ids, counters = {}, Counter()
    with project.engine.connect() as connection:
        for transcript, start, end in connection.execute(query):
            if transcript in transcript_ids:
                counters[transcript] += 1
                ids[(transcript, start, end)] = f"Q-{transcript}-{counters[transcript]:04d}"
    return ids


def _unique(quotes: list[Quote]) -> list[Quote]:
    """One quote per code and passage (two coders on the same span make one quote)."""
    seen, kept = set(), []
    for quote in quotes:
        if (quote.code, quote.id) not in seen:
            seen.add((quote.code, quote.id))
            kept.append(quote)
    return kept


def _balanced(quotes: list[Quote], per_school: int | None) -> list[Quote]:
    """At most `per_school` quotes per code from each school (each informant counting as a school of one)."""
    if not per_school:
        return quotes
    counts: Counter = Counter()
    kept = []
    for quote in quotes:
        key = (quote.code, quote.school or quote.transcript)
        if counts[key] < per_school:
            counts[key] += 1
            kept.append(quote)
    return kept


def quotes_context(
    project: Project, theme: str, selection: Selection | None = None, source: QuoteSource | None = None
) -> QuotesContext:
    """The quote bank for a theme: its own codings first, then each child code, each by locality."""
    selection = selection or Selection()
    with project.session() as session:
        root = find_code(session, theme)
        codes = _subtree(session, root)
    quotes = build_quotes(project, codes[0][0], selection, source=source)
    quotes, warnings = small_cell_quotes(project, quotes, selection.coarsen)
    groups = [_group(path, title, definition, [q for q in quotes if q.code == path]) for path, title, definition in codes]
    groups = [group for group in groups if group.count]
    theme_path, theme_title, definition = codes[0]
    return QuotesContext(
        title=f"Quote bank: {theme_title}", theme=theme_path, theme_title=theme_title, definition=definition,
        generated=dt.date.today().isoformat(), selection=selection.phrases(), groups=groups,
        quote_count=sum(group.count for group in groups), warnings=warnings,
        facets=facets([q for group in groups for place in group.localities for q in place.quotes]),
    )


#: What a quote bank can be filtered by: (quote field, label, the value for a quote without one).
FACETS = (("phase", "Phase", "system informant"), ("role", "Role", None), ("ofsted", "Ofsted grade", "not given"))


def facets(quotes: list[Quote]) -> list[Facet]:
    """The filters of a quote bank's page, each value with its count; a filter with one value filters nothing.

    The values are those `_quote.html` writes in each quote's data attributes.
    """
    found = []
    for name, label, missing in FACETS:
        counts = Counter(getattr(q, name) or missing for q in quotes)
        counts.pop(None, None)
        if len(counts) > 1:
            found.append(Facet(name, label, [Count(v, n) for v, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]))
    return found


def small_cell_quotes(project: Project, quotes: list[Quote], coarsen: bool = False) -> tuple[list[Quote], list[str]]:
    """A warning for each quote whose attribution, read with its locality, fits fewer than
    `[anonymise] min_cell_size` schools or people; with `coarsen`, those quotes get the coarse line."""
    from sqlalchemy.orm import selectinload

    from qualcode.privacy.anonymise import coarsen as coarse_speaker
    from qualcode.privacy.anonymise import small_cells
    from qualcode.reports.attribution import render, speaker_for
    from qualcode.models import Participant

    if not quotes:
        return quotes, []
    with project.session() as session:  # each quote's own speaker: in a focus group, not always the transcript's
        speakers = {p.id: speaker_for(p) for p in session.scalars(
            select(Participant).where(Participant.id.in_({q.participant for q in quotes}))
            .options(selectinload(Participant.school)))}
    cells = {cell.participant: cell for cell in small_cells(project, set(speakers))}
    kept, warnings = [], []
    for quote in quotes:
        speaker = speakers[quote.participant]
        cell = cells.get(quote.participant)
        if cell is None:
            kept.append(quote)
        elif coarsen:
            line = render(project.settings, coarse_speaker(speaker, project.settings))
            warnings.append(f"{quote.id}: '{cell.attribution}' in {cell.locality} fits {cell.count}; attributed as '{line}'")
            kept.append(replace(quote, attribution=line))
        else:
            warnings.append(f"{quote.id}: {cell.message}")
            kept.append(quote)
    return kept, warnings


def _subtree(session, root: Code) -> list[tuple[str, str, str | None]]:
    """(path, title, definition) of the code and every descendant, depth first in name order."""
    from qualcode.coding.codebook import path_of

    result = []

    def visit(code: Code) -> None:
        result.append((path_of(code), code.title or code.name, code.definition))
        for child in sorted(code.children, key=lambda c: c.name):
            visit(child)

    visit(root)
    return result


def _group(path: str, title: str, definition: str | None, quotes: list[Quote]) -> QuoteGroup:
    localities = sorted({q.locality for q in quotes})
    return QuoteGroup(
        code=path, anchor=anchor(path), title=title, definition=definition,
        localities=[LocalityQuotes(name, [q for q in quotes if q.locality == name]) for name in localities],
        count=len(quotes),
    )


def anchor(text: str) -> str:
    """An HTML id from a code path or name: ``markets/competition`` -> ``markets-competition``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
