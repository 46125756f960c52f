"""Inter-coder agreement: how far a team's coders agree on where each code applies.

Every measure judges *units* of what participants said (interviewer turns
and notes are nobody's data), one code at a time: is the code present in
this unit for this coder, or absent? The unit is a participant turn, a
sentence within one, a segment (the stretch of text any coder coded with the
code, as MAXQDA does) or a character (as NVivo does). Coded spans are
clipped to participant turns first.

Two rules keep the figures honest:

* A unit no coder coded counts as agreement on "absent". Most text is
  coded with most codes by nobody, so this agreement is easy and inflates
  percent agreement (and to a lesser degree kappa); `absent_share` says
  how much of the agreement it is.
* A coder who has not coded a transcript at all (no counted coding in it)
  has not judged its units: they are missing for that coder, not "absent".
  Krippendorff's alpha uses whatever two or more coders judged; percent
  agreement and the kappas use the units every coder judged; alpha-u the
  transcripts every coder coded.

The coefficients themselves are in `qualcode.analysis.reliability`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from qualcode.analysis import reliability
from qualcode.coding.blind import visible
from qualcode.coding.manual import lines_of
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Coding, Transcript
from qualcode.project import Project
from qualcode.analysis.query import COUNTED_ORIGINS, participant_turns, select_codes
from qualcode.analysis.query_where import Where, transcripts_where
from qualcode.ingest.transcript import line_starts

UNITS = ("turn", "sentence", "segment", "character")
PRESENT, ABSENT = 1, 0
MEASURES = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "brennan_prediger",
            "unitizing_alpha")

Span = tuple[int, int]


@dataclass(frozen=True)
class Unit:
    """A stretch of a participant's talk judged as one; `weight` is 1, or its length for characters."""

    transcript: str
    start: int
    end: int
    weight: int = 1


@dataclass
class Material:
    """What the coders did, read once: their spans of each code clipped to participant turns."""

    coders: tuple[str, ...]
    codes: dict[int, str]
    turns: dict[str, list[Span]]
    #: transcript -> code id -> coder -> spans, sorted
    spans: dict[str, dict[int, dict[str, list[Span]]]]
    #: coder -> the transcripts they coded at all
    coded: dict[str, set[str]]
    texts: dict[str, str] = field(default_factory=dict)
    #: The sentences of the participant turns, split once for every code.
    sentence_spans: list[tuple[str, int, int]] | None = None

    def pattern(self, transcript: str, code: int, start: int, end: int) -> tuple[int | None, ...]:
        """Each coder's judgement of one unit: present, absent, or None (never coded the transcript)."""
        by_coder = self.spans.get(transcript, {}).get(code, {})
        return tuple(
            None if transcript not in self.coded[coder] else int(_overlaps(by_coder.get(coder, []), start, end))
            for coder in self.coders
        )

    def missing(self) -> dict[str, list[str]]:
        """coder -> the chosen transcripts they have not coded."""
        chosen = set(self.turns)
        return {coder: sorted(chosen - self.coded[coder]) for coder in self.coders if chosen - self.coded[coder]}


def _overlaps(spans: list[Span], start: int, end: int) -> bool:
    """Whether any of the sorted, disjoint `spans` shares a character with [start, end)."""
    index = bisect_right(spans, (end,))
    return index > 0 and spans[index - 1][1] > start


# Reading the project


def load_material(project: Project, coders: Iterable[str], codes: str | None = None, where: Where | None = None,
                  within: Iterable[str] | None = None) -> Material:
    """The chosen coders' counted codings (not suggestions) of the chosen codes, on the chosen transcripts
    (those `where` keeps, and only those `within`, e.g. a round's, if given)."""
    coders = _check_coders(project, coders)
    chosen = select_codes(project, codes)
    transcripts = transcripts_where(project, where)
    if within is not None and not (transcripts := transcripts & set(within)):
        raise QualcodeError("no transcript of the round matches --where")
    turns = participant_turns(project, transcripts)
    query = (
        select(Coding.transcript_id, Coding.code_id, Coding.coder, Coding.start, Coding.end)
        .where(Coding.coder.in_(coders), Coding.origin.in_(COUNTED_ORIGINS), Coding.anchor != UNPLACED, visible(project))
    )
    coded: dict[str, set[str]] = {coder: set() for coder in coders}
    pieces: dict[str, dict[int, dict[str, list[Span]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    with project.engine.connect() as connection:
        for transcript, code, coder, start, end in connection.execute(query):
            if transcript not in turns:
                continue
            coded[coder].add(transcript)
            if code in chosen:
                pieces[transcript][code][coder] += _clip(turns[transcript], start, end)
    spans = {
        transcript: {code: {coder: _merged(mine) for coder, mine in by_coder.items()} for code, by_coder in by_code.items()}
        for transcript, by_code in pieces.items()
    }
    return Material(coders, chosen, dict(turns), spans, coded)


def _check_coders(project: Project, coders: Iterable[str]) -> tuple[str, ...]:
    """The coders named, each known to the project (with its counted codings), at least two."""
    from rapidfuzz import process

    names = tuple(dict.fromkeys(c.strip() for c in coders if c.strip()))
    if len(names) < 2:
        raise QualcodeError("name at least two coders, e.g. --coders ann,ben")
    with project.engine.connect() as connection:
        known = sorted(connection.scalars(
            select(Coding.coder).where(Coding.origin.in_(COUNTED_ORIGINS)).distinct()
        ))
    for name in names:
        if name not in known:
            match = process.extractOne(name, known, score_cutoff=60) if known else None
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise QualcodeError(f"no coder '{name}' has coded anything{hint} (coders: {', '.join(known) or 'none yet'})")
    return names


def _clip(turns: list[Span], start: int, end: int) -> list[Span]:
    """The parts of [start, end) inside participant turns."""
    first = max(0, bisect_right(turns, (start,)) - 1)
    return [(max(s, start), min(e, end)) for s, e in turns[first:bisect_left(turns, (end,))] if s < end and start < e]


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted spans with overlapping ones joined: a coder's two codings of a code over the same words mark it once."""
    result: list[list[int]] = []
    for start, end in sorted(spans):
        if result and start < result[-1][1]:
            result[-1][1] = max(result[-1][1], end)
        elif start < end:
            result.append([start, end])
    return [(start, end) for start, end in result]


def load_texts(project: Project, material: Material, transcripts: Iterable[str]) -> dict[str, str]:
    """The texts of `transcripts`, kept on the material (sentences and disagreements need them)."""
    wanted = set(transcripts) - set(material.texts)
    if wanted:
        with project.engine.connect() as connection:
            material.texts.update(connection.execute(
                select(Transcript.id, Transcript.text).where(Transcript.id.in_(sorted(wanted)))
            ).all())
    return material.texts


# Units


_SENTENCE_END = re.compile(r"[.!?]+[\"'’”)\]]*\s+")


def sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentences of text[start:end]: cut after . ! or ? (and closing quotes) followed by white space."""
    result, position = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        result.append((position, match.end() - len(match.group().lstrip(".!?\"'’”)]"))))
        position = match.end()
    if position < end:
        result.append((position, end))
    return [(s, e) for s, e in result if text[s:e].strip()]


def units_of(material: Material, unit: str, code: int, texts: dict[str, str] | None = None) -> list[tuple[Unit, tuple]]:
    """Every unit of `unit` kind for one code, with the coders' pattern of judgements on it."""
    _check_unit(unit)
    if unit == "character":
        return list(_runs(material, code))
    if unit == "turn":
        spans = ((t, s, e) for t, turns in material.turns.items() for s, e in turns)
    elif unit == "sentence":
        assert texts is not None, "sentences need the texts"
        if material.sentence_spans is None:
            material.sentence_spans = [(t, a, b) for t, turns in material.turns.items() for s, e in turns
                                       for a, b in sentences(texts[t], s, e)]
        spans = material.sentence_spans
    else:
        spans = _segments(material, code)
    return [(Unit(t, s, e), material.pattern(t, code, s, e)) for t, s, e in spans]


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise QualcodeError(f"--unit must be one of {', '.join(UNITS)}; got '{unit}'")


def _segments(material: Material, code: int) -> Iterable[tuple[str, int, int]]:
    """The stretches any coder coded with `code`, overlapping codings of different coders joined."""
    for transcript, codes in material.spans.items():
        mine = codes.get(code, {})
        for start, end in _merged([span for coder in material.coders for span in mine.get(coder, [])]):
            yield transcript, start, end


def _runs(material: Material, code: int) -> Iterable[tuple[Unit, tuple]]:
    """Characters as runs: each stretch of a turn over which every coder's judgement stays the same."""
    for transcript, turns in material.turns.items():
        by_coder = material.spans.get(transcript, {}).get(code, {})
        cuts = {edge for spans in by_coder.values() for span in spans for edge in span}
        for start, end in turns:
            edges = sorted({start, end} | {c for c in cuts if start < c < end})
            run_start, run_pattern = start, None
            for left, right in zip(edges, edges[1:]):
                pattern = material.pattern(transcript, code, left, right)
                if pattern != run_pattern and left > run_start:
                    yield Unit(transcript, run_start, left, left - run_start), run_pattern
                    run_start = left
                run_pattern = pattern
            yield Unit(transcript, run_start, end, end - run_start), run_pattern


# Measures per code and overall


@dataclass
class AgreementReport:
    unit: str
    coders: tuple[str, ...]
    transcripts: int
    missing: dict[str, list[str]]
    overall: dict
    per_code: dict[str, dict]

    def as_json(self) -> dict:
        return {"unit": self.unit, "coders": list(self.coders), "transcripts": self.transcripts,
                "missing": self.missing, "overall": self.overall, "per_code": self.per_code}


def agreement(project: Project, coders: Iterable[str], codes: str | None = None, unit: str = "turn",
              where: Where | None = None, within: Iterable[str] | None = None) -> AgreementReport:
    """Every measure for each chosen code and over all of them, on units of `unit` kind (on the transcripts
    `within`, e.g. a blind round's, if given)."""
    _check_unit(unit)
    material = load_material(project, coders, codes, where, within)
    texts = load_texts(project, material, material.turns) if unit == "sentence" else None
    pooled: Counter = Counter()
    coded_units: set[tuple[str, int, int]] = set()
    terms, per_code = [], {}
    for code, path in material.codes.items():
        judged = units_of(material, unit, code, texts)
        ratings = _ratings(judged)
        pooled.update(ratings)
        coded_units.update((u.transcript, u.start, u.end) for u, pattern in judged if PRESENT in pattern)
        terms.append(_unitizing(material, code))
        per_code[path] = _measures(ratings, terms[-1].alpha)
        per_code[path].update(units=sum(u.weight for u, _ in judged),
                              coded_units=sum(u.weight for u, p in judged if PRESENT in p))
    observed, expected = sum(t.observed for t in terms), sum(t.expected for t in terms)
    overall = _measures(pooled, 1 - observed / expected if expected else None)
    overall.update(units=_overall_units(material, unit), coded_units=_covered(coded_units, unit),
                   decisions=sum(pooled.values()))
    return AgreementReport(unit, material.coders, len(material.turns), material.missing(), overall, per_code)


def _ratings(judged: list[tuple[Unit, tuple]]) -> Counter:
    ratings: Counter = Counter()
    for unit, pattern in judged:
        ratings[pattern] += unit.weight
    return ratings


def _measures(ratings: Counter, unitizing: float | None) -> dict:
    """The coefficients of one set of ratings, with how much of the agreement is on 'absent'."""
    complete = reliability.complete(ratings)
    agreeing = {p: n for p, n in complete.items() if len(set(p)) == 1}
    absent = sum(n for p, n in agreeing.items() if p[0] == ABSENT)
    return {
        "percent_agreement": reliability.percent_agreement(ratings),
        "cohen_kappa": reliability.cohen_kappa(ratings),
        "fleiss_kappa": reliability.fleiss_kappa(ratings),
        "krippendorff_alpha": reliability.krippendorff_alpha(ratings),
        "brennan_prediger": reliability.brennan_prediger(ratings, 2),
        "unitizing_alpha": unitizing,
        "absent_share": absent / sum(agreeing.values()) if agreeing else None,
        "missing_units": sum(n for p, n in ratings.items() if None in p),
    }


def _unitizing(material: Material, code: int) -> reliability.UnitizingTerms:
    """alpha-u's disagreements for one code over the transcripts every coder coded.

    Each transcript is one continuum: its participant turns laid end to end
    (the interviewer's words taken out, as from every unit). Cutting it at each
    turn instead would leave only short gaps for chance to place a unit in,
    and so almost no expected disagreement: alpha-u near zero for coders who
    agree on nearly every character.
    """
    everyone = set.intersection(*(material.coded[c] for c in material.coders)) & set(material.turns)
    lengths, spans = [], [{} for _ in material.coders]
    for transcript in sorted(everyone):
        by_coder = material.spans.get(transcript, {}).get(code, {})
        for coder, mine in zip(material.coders, spans):
            mine[len(lengths)] = _talk_offsets(material.turns[transcript], by_coder.get(coder, []))
        lengths.append(sum(end - start for start, end in material.turns[transcript]))
    return reliability.unitizing_terms(lengths, spans)


def _talk_offsets(turns: list[Span], spans: list[Span]) -> list[Span]:
    """Spans (each inside one turn) as offsets into the participant's talk, the turns laid end to end."""
    before, offset = [], 0
    for start, end in turns:
        before.append(offset)
        offset += end - start
    placed = []
    for start, end in spans:
        turn = bisect_right(turns, (start, float("inf"))) - 1
        placed.append((start - turns[turn][0] + before[turn], end - turns[turn][0] + before[turn]))
    return placed


def _overall_units(material: Material, unit: str) -> int:
    """How many distinct units were judged (for segments: the distinct segments of every code)."""
    if unit == "segment":
        return len({(t, s, e) for code in material.codes for t, s, e in _segments(material, code)})
    if unit == "sentence":
        return len(material.sentence_spans or [])
    if unit == "character":
        return sum(e - s for turns in material.turns.values() for s, e in turns)
    return sum(map(len, material.turns.values()))


def _covered(units: set[tuple[str, int, int]], unit: str) -> int:
    """How many units someone coded with some code; for characters, the length of their union."""
    if unit != "character":
        return len(units)
    by_transcript = defaultdict(list)
    for transcript, start, end in units:
        by_transcript[transcript].append((start, end))
    return sum(e - s for spans in by_transcript.values() for s, e in _merged(spans))


# Coder x coder


@dataclass
class AgreementMatrix:
    """Krippendorff's alpha of every pair of coders, each on the units `agreement` would judge for that pair."""

    unit: str
    coders: tuple[str, ...]
    #: (first, second) -> (alpha or None, the units both judged)
    pairs: dict[tuple[str, str], tuple[float | None, float]]
    transcripts: int
    missing: dict[str, list[str]]

    def alpha(self, first: str, second: str) -> float | None:
        return None if first == second else self.pairs[tuple(sorted((first, second)))][0]

    def as_json(self) -> dict:
        return {"unit": self.unit, "coders": list(self.coders), "transcripts": self.transcripts, "missing": self.missing,
                "krippendorff_alpha": {a: {b: self.alpha(a, b) for b in self.coders} for a in self.coders},
                "pairs": [{"coders": list(pair), "krippendorff_alpha": alpha, "units": units}
                          for pair, (alpha, units) in self.pairs.items()]}


def agreement_matrix(project: Project, coders: Iterable[str], codes: str | None = None, unit: str = "turn",
                     where: Where | None = None, within: Iterable[str] | None = None) -> AgreementMatrix:
    """Krippendorff's alpha over all chosen codes for each pair of coders.

    Each cell is what `agreement` gives as the pair's overall alpha: the
    project is read once, then each pair is judged on its own (for segments,
    the stretches that pair coded; a coder's missing transcripts stay missing).
    """
    _check_unit(unit)
    material = load_material(project, coders, codes, where, within)
    texts = load_texts(project, material, material.turns) if unit == "sentence" else None
    pairs = {}
    for number, first in enumerate(material.coders):
        for second in material.coders[number + 1:]:
            pair = replace(material, coders=(first, second))
            pooled: Counter = Counter()
            for code in material.codes:
                pooled.update(_ratings(units_of(pair, unit, code, texts)))
            material.sentence_spans = pair.sentence_spans  # split once, for every pair after the first
            alpha = reliability.krippendorff_alpha(pooled)
            pairs[tuple(sorted((first, second)))] = (alpha, sum(n for p, n in pooled.items() if None not in p))
    return AgreementMatrix(unit, material.coders, pairs, len(material.turns), material.missing())


# Disagreements


def disagreements(project: Project, coders: Iterable[str], codes: str | None = None, unit: str = "turn",
                  where: Where | None = None, raw: bool = False, within: Iterable[str] | None = None) -> list[dict]:
    """Each unit where the coders who judged it differ on a code: who coded it, who did not, and the words.

    The words are pseudonymised through the identity key unless `raw`, like
    every passage that leaves qualcode (`qualcode.analysis.query.pseudonymiser`).
    """
    from qualcode.analysis.query import pseudonymiser

    _check_unit(unit)
    material = load_material(project, coders, codes, where, within)
    texts = load_texts(project, material, material.turns) if unit == "sentence" else None
    found = [
        (path, found_unit, pattern)
        for code, path in material.codes.items()
        for found_unit, pattern in units_of(material, unit, code, texts)
        if len({value for value in pattern if value is not None}) > 1
    ]
    texts = load_texts(project, material, {u.transcript for _, u, _ in found})
    clean: Callable[[str], str] = (lambda s: s) if raw else pseudonymiser(project)
    starts = {transcript: line_starts(texts[transcript]) for transcript in {u.transcript for _, u, _ in found}}
    ids = {path: code for code, path in material.codes.items()}
    return [
        _disagreement(material, ids[path], path, found_unit, pattern, texts[found_unit.transcript],
                      starts[found_unit.transcript], clean)
        for path, found_unit, pattern in sorted(found, key=lambda f: (f[1].transcript, f[1].start, f[1].end, f[0]))
    ]


def _disagreement(material: Material, code: int, path: str, unit: Unit, pattern: tuple, text: str,
                  starts: list[int], clean: Callable[[str], str]) -> dict:
    by_coder = material.spans.get(unit.transcript, {}).get(code, {})
    spans = {
        coder: [(max(s, unit.start), min(e, unit.end)) for s, e in by_coder.get(coder, []) if s < unit.end and unit.start < e]
        for coder, value in zip(material.coders, pattern) if value == PRESENT
    }
    return {
        "transcript": unit.transcript, "lines": lines_of(text, unit.start, unit.end, starts),
        "start": unit.start, "end": unit.end, "code": path,
        "coded_by": [c for c, v in zip(material.coders, pattern) if v == PRESENT],
        "not_coded_by": [c for c, v in zip(material.coders, pattern) if v == ABSENT],
        "missing": [c for c, v in zip(material.coders, pattern) if v is None],
        "text": clean(text[unit.start:unit.end]),
        "coded": {coder: [clean(text[s:e]) for s, e in mine] for coder, mine in spans.items()},
        "spans": {coder: [list(span) for span in mine] for coder, mine in spans.items()},
    }
