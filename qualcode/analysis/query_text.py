"""Keyword in context: what participants said that matches a word, a lemma or a misspelling.

Searches only participants' turns (`qualcode.analysis.query.participant_turns`), so an
interviewer's question never counts as a participant's answer; `where`
filters (`qualcode.analysis.query_where`) pick the interviews first.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process
from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.models import Transcript
from qualcode.project import Project
from qualcode.analysis.query import (
    TextStore, by_speaker, focus_groups, growing_batches, one_line, participant_turns, pseudonymiser,
    transcript_meta,
)
from qualcode.analysis.query_where import Where, apply_where

if TYPE_CHECKING:
    import pandas as pd


KWIC_COLUMNS = ["transcript", "line", "start", "end", "locality", "school", "participant", "attribution",
                "left", "match", "right"]
FUZZY_CUTOFF = 85


def text_search(project: Project, pattern: str, *args, **kwargs) -> pd.DataFrame:
    """`text_matches` (the same arguments) as one table of `KWIC_COLUMNS`."""
    import pandas as pd

    return pd.DataFrame(list(text_matches(project, pattern, *args, **kwargs)), columns=KWIC_COLUMNS)


def text_matches(
    project: Project,
    pattern: str,
    lemma: bool = False,
    fuzzy: bool = False,
    where: Where | None = None,
    context: int = 40,
    raw: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict]:
    """Keyword in context over what participants said (interviewer turns and notes excluded), as rows
    (`KWIC_COLUMNS`) in transcript order, found and pseudonymised a few transcripts at a time, so a
    listing's first screen waits only for the first transcripts' (how many there are is known at the end).

    By words (``*`` matches the rest of a word), by lemma (``school`` finds
    ``schools``, ``go`` finds ``went``; spaCy) or fuzzily (words within
    `FUZZY_CUTOFF` rapidfuzz ratio of each pattern word, for misspellings).
    Bad arguments raise here, before the first row.
    """
    if lemma and fuzzy:
        raise QualcodeError("choose --lemma or --fuzzy, not both")
    if not pattern.split():
        raise QualcodeError("give a word or phrase to search for")
    meta = transcript_meta(project)
    groups = focus_groups(project)
    # A focus group is searched whatever its participant: `where` then applies to each hit's own speaker.
    searched = sorted(set(apply_where(project, meta, where)["transcript"]) | groups)
    hits_in = _hit_finder(project, pattern, lemma, fuzzy, searched, progress)
    clean = (lambda s: s) if raw else pseudonymiser(project)
    speakers = _Speakers(project, meta, where, groups)
    return _kwic_rows(project, searched, hits_in, speakers, context, clean)


def _hit_finder(project: Project, pattern: str, lemma: bool, fuzzy: bool, searched: list[str],
                progress) -> Callable[[list[str]], list[tuple[str, int, int]]]:
    """Transcripts -> the (transcript, start, end) of their hits. The words' regex reads each run of transcripts
    as it is asked for; a lemma search parses every transcript first (with `progress`), and a fuzzy one reads
    every passage first, as the pattern's near words are those of the whole corpus."""
    if lemma:
        found: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for hit in _lemma_hits(project, pattern, sorted(participant_turns(project, set(searched))), progress):
            found[hit[0]].append(hit)
        return lambda batch: [hit for transcript in batch for hit in found.get(transcript, [])]
    if fuzzy:
        passages = _participant_passages(project, set(searched))
        regex = _fuzzy_regex(pattern, passages)
        return lambda batch: _regex_hits(regex, {t: passages[t] for t in batch if t in passages})
    regex, anywhere = _word_regex(pattern), _word_regex(pattern, bounded=False)
    if anywhere.fullmatch(""):  # a bare '*' matches nothing everywhere (so overlaps no turn): no turn to leave out
        anywhere = None
    return lambda batch: _regex_hits(regex, _participant_passages(project, set(batch), anywhere))


def _kwic_rows(project: Project, searched: list[str], hits_in, speakers: _Speakers, context: int,
               clean: Callable[[str], str]) -> Iterator[dict]:
    """Each run of transcripts' hits, with their speaker's metadata, kept by `where` and made rows."""
    for batch in growing_batches(searched):
        hits = speakers.kept(sorted(hits_in(batch)))
        if hits:
            texts = TextStore.load(project, {hit[0] for hit in hits})
            yield from (_kwic_row(hit, texts, context, clean) for hit in hits)


class _Speakers:
    """Whose words each hit is: (transcript, start, end, locality, school, participant).

    `where` has already chosen the transcripts searched by their participant, so
    a hit's metadata is its transcript's; only a focus group's hits, each its
    own speaker's (`by_speaker`), are looked up and kept by `where` one by one.
    """

    def __init__(self, project: Project, meta: pd.DataFrame, where: Where | None, groups: set[str]):
        self.project, self.meta, self.where, self.groups = project, meta, where, groups
        self.people = dict(zip(meta["transcript"], zip(*(meta[c].tolist() for c in _HIT_METADATA))))

    def kept(self, hits: list[tuple[str, int, int]]) -> list[tuple]:
        spoken = self._in_focus_groups([hit for hit in hits if hit[0] in self.groups])
        rows = []
        for hit in hits:
            if hit[0] not in self.groups:
                rows.append((*hit, *self.people[hit[0]]))
            elif hit in spoken:
                rows.append(spoken[hit])
        return rows

    def _in_focus_groups(self, hits: list[tuple[str, int, int]]) -> dict[tuple, tuple]:
        if not hits:
            return {}
        import pandas as pd

        frame = pd.DataFrame(hits, columns=["transcript", "start", "end"]).merge(self.meta, on="transcript", how="left")
        frame = apply_where(self.project, by_speaker(self.project, frame), self.where)
        rows = zip(*(frame[c].tolist() for c in ("transcript", "start", "end", *_HIT_METADATA)))
        return {row[:3]: row for row in rows}


#: What a hit says of whose words it is, beside its span (a KWIC row's columns of the same names).
_HIT_METADATA = ("locality", "school", "participant")


def _participant_passages(project: Project, transcript_ids: set[str],
                          somewhere: re.Pattern | None = None) -> dict[str, list[tuple[int, int, str]]]:
    """transcript -> (start, end, text) of each participant turn; with `somewhere`, only of the turns that one of
    its matches in the transcript's whole text overlaps: one search in C per transcript instead of one per turn,
    as most turns, and most transcripts, lack a phrase."""
    with project.engine.connect() as connection:
        texts = dict(connection.execute(select(Transcript.id, Transcript.text).where(Transcript.id.in_(transcript_ids))).all())
    found = None if somewhere is None else {transcript: _Matches(somewhere, body) for transcript, body in texts.items()}
    passages = {}
    for transcript, spans in participant_turns(project, {t for t in texts if found is None or found[t]}).items():
        body = texts[transcript]
        passages[transcript] = [(start, end, body[start:end]) for start, end in spans
                                if found is None or found[transcript].overlap(start, end)]
    return passages


class _Matches:
    """Where a pattern matches a text, as `finditer` finds them (left to right, none inside another).

    A turn holding a whole-word match of the words holds the start of a match of
    them unbounded, and one of these overlaps it: if none before it reached into
    it, the search from there on finds that start, or one further left reaching in.
    """

    def __init__(self, pattern: re.Pattern, text: str):
        spans = [match.span() for match in pattern.finditer(text)]
        self.starts, self.ends = [start for start, _ in spans], [end for _, end in spans]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def overlap(self, start: int, end: int) -> bool:
        at = bisect_right(self.ends, start)
        return at < len(self.starts) and self.starts[at] < end


def _word_regex(pattern: str, bounded: bool = True) -> re.Pattern:
    """The pattern's words, `*` the rest of a word, whitespace between; `bounded`: whole words only. Unbounded,
    it matches wherever a turn's text does, whatever is either side of the turn: a sure test for a transcript."""
    words = [re.escape(word).replace(r"\*", r"\w*") for word in pattern.split()]
    edge = r"\b" if bounded else ""
    return re.compile(edge + r"\s+".join(words) + edge, re.IGNORECASE)


def _fuzzy_regex(pattern: str, passages: dict[str, list[tuple[int, int, str]]]) -> re.Pattern:
    """Each pattern word becomes the alternation of corpus words within the cutoff of it."""
    vocabulary = {w for spans in passages.values() for _, _, body in spans for w in re.findall(r"[\w']+", body.lower())}
    parts = []
    for word in pattern.lower().split():
        near = [m for m, _, _ in process.extract(word, vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None)]
        parts.append("(?:" + "|".join(map(re.escape, sorted(near or [word], key=len, reverse=True))) + ")")
    return re.compile(r"\b" + r"\s+".join(parts) + r"\b", re.IGNORECASE)


def _regex_hits(regex: re.Pattern, passages: dict[str, list[tuple[int, int, str]]]) -> list[tuple[str, int, int]]:
    return [
        (transcript, start + m.start(), start + m.end())
        for transcript, spans in passages.items()
        for start, _, body in spans
        for m in regex.finditer(body)
    ]


def _lemma_hits(project: Project, pattern: str, transcript_ids: list[str], progress) -> list[tuple[str, int, int]]:
    """Token runs whose lemmas are the pattern's lemmas, from the parse cache autocoding shares."""
    from qualcode.suggestions.nlp import load_pipeline, parse_sources, read_sources

    wanted = [token.lemma_.lower() for token in load_pipeline()(pattern)]
    with project.session() as session:
        sources = read_sources(session, transcript_ids) if transcript_ids else []
    hits = []
    for parsed in parse_sources(project, sources, progress):
        for passage, doc in zip(parsed.source.passages, parsed.docs):
            lemmas = [token.lemma_.lower() for token in doc]
            for i in range(len(doc) - len(wanted) + 1):
                if lemmas[i : i + len(wanted)] == wanted:
                    span = doc[i : i + len(wanted)]
                    hits.append((parsed.source.id, passage.start + span.start_char, passage.start + span.end_char))
    return hits


def _kwic_row(hit: tuple, texts: TextStore, context: int, clean: Callable[[str], str]) -> dict:
    transcript, start, end, locality, school, participant = hit
    body = texts.texts[transcript]
    return {
        "transcript": transcript, "line": texts.lines(transcript, start, end).split("-")[0],
        "start": start, "end": end, "locality": locality, "school": school,
        "participant": participant, "attribution": texts.attribution(transcript, start, end),
        "left": clean(one_line(body[max(0, start - context) : start])), "match": clean(body[start:end]),
        "right": clean(one_line(body[end : end + context])),
    }
