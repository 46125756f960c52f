"""Inductive suggestions: what the data says that the codebook does not yet cover, as candidate codes.

Three kinds of phrase, all read from the participants' turns (parsed with the
dependency parser, for the noun chunks, and cached apart from `autocode`'s parses):

* ``quoted`` - words the speaker put in quotation marks ('winners and losers');
* ``repeated`` - multiword phrases (2-5 words, not starting or ending with a
  function word, with a noun in them) said again and again;
* ``noun phrase`` - spaCy's noun chunks without their determiners.

A phrase is *covered*, and left out, when it contains a lemma or phrase of
the codebook's patterns. The rest are ranked by frequency times inverse document
frequency (``f * ln(N / n)`` over the N transcripts, n using the phrase), which
puts phrases said often by some people above the small talk everyone uses
("good question"); a phrase inside a longer candidate said nearly as often is
dropped for it. ``by`` a metadata field (locality, phase or role) they are
ranked within each group by their keyness there against the rest of the corpus
(Dunning's log-likelihood G2, overused words only).

A fourth kind, ``cluster``, is a group of passages no coding covers yet
(`qualcode.suggestions.clusters`: TF-IDF, LSA and k-means), labelled by its top lemmas;
clusters follow the phrases, largest first, in the overall list (not ``by``
group). `create_candidate` turns either kind into an inductive code. In an open
blind round a coder's "uncoded" means uncoded by what they may see
(`qualcode.coding.blind`): where colleagues coded the round's transcripts does
not shape their clusters.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select

from qualcode import history
from qualcode.suggestions.autocode import AUTOCODER, store_suggestions
from qualcode.coding.blind import visible
from qualcode.suggestions.clusters import LABEL_SEPARATOR, Cluster, cluster_passages, uncoded_passages
from qualcode.coding.codebook import ensure_code, path_of
from qualcode.coding.manual import lines_of
from qualcode.errors import QualcodeError
from qualcode.models import Code, Coding
from qualcode.suggestions.matching import CodebookMatcher, Suggestion, suggest_passages
from qualcode.suggestions.nlp import Parsed, Progress, load_pipeline, parse_sources, read_sources
from qualcode.project import Project

GROUPINGS = ("locality", "phase", "role")
#: Words in quotation marks; a straight single quote only opens after a blank, so "don't" is no quote.
_QUOTED = re.compile(r"(?:[\"“‘]|(?<![\w])')([A-Za-z][\w\- ]{3,60}?[a-z])(?:[\"”’]|'(?![\w]))")
_NOUNS = {"NOUN", "PROPN"}
_PHRASE_WORDS = (2, 5)


@dataclass(frozen=True)
class Occurrence:
    transcript: str
    school: str | None
    start: int
    end: int
    #: The sentence it was said in, as character offsets.
    sentence: tuple[int, int]


@dataclass
class Candidate:
    phrase: str
    kind: str
    frequency: int
    transcripts: int
    schools: int
    examples: list[dict]
    group: str | None = None
    keyness: float | None = None


@dataclass
class _Tally:
    kinds: set[str] = field(default_factory=set)
    occurrences: list[Occurrence] = field(default_factory=list)


def suggest(
    project: Project,
    by: str | None = None,
    top: int = 20,
    min_frequency: int = 3,
    progress: Progress | None = None,
    clusters: int | None = None,
) -> list[Candidate]:
    """Candidate codes: the `top` uncovered phrases overall, or per group of `by` ranked by keyness.

    Overall, the clusters of uncoded passages follow the phrases: `clusters` of
    them (None: as many as group the passages best, 0: none).
    """
    if by is not None and by not in GROUPINGS:
        raise QualcodeError(f"--by must be one of: {', '.join(GROUPINGS)}")
    with project.session() as session:
        sources = read_sources(session)
        covered = _codebook_words(session)
        coded = _coded_spans(session, visible(project)) if by is None and clusters != 0 else {}
    parsed = list(parse_sources(project, sources, progress, syntax=True))
    tallies = _tally(parsed)
    wanted = {
        phrase: tally for phrase, tally in tallies.items()
        if len(tally.occurrences) >= min_frequency and len({o.transcript for o in tally.occurrences}) > 1
        and not _is_covered(phrase, covered)
    }
    if by is not None:
        return _by_group(wanted, parsed, by, top)
    ranked = sorted(wanted, key=lambda phrase: (-_tf_idf(wanted[phrase], len(sources)), phrase))
    found = [_candidate(phrase, wanted[phrase], parsed) for phrase in _longest(ranked, wanted)[:top]]
    if clusters != 0:
        found += [_cluster_candidate(c) for c in _clusters(parsed, coded, clusters, min_frequency)]
    return found


def _coded_spans(session, seen: ColumnElement[bool]) -> dict[str, list[tuple[int, int]]]:
    """Every coded span the coder may `see` (`qualcode.coding.blind.visible`), whatever its origin, by transcript."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for transcript, start, end in session.execute(select(Coding.transcript_id, Coding.start, Coding.end).where(seen)):
        spans[transcript].append((start, end))
    return spans


def _clusters(parsed: list[Parsed], coded: dict[str, list[tuple[int, int]]], clusters: int | None,
              min_frequency: int = 3) -> list[Cluster]:
    """The clusters of uncoded passages said in more than one transcript."""
    grouped = cluster_passages(uncoded_passages(parsed, coded), clusters, min_size=min_frequency)
    return [c for c in grouped if len({p.transcript for p in c.passages}) > 1]


def _cluster_candidate(cluster: Cluster) -> Candidate:
    """A cluster as a candidate: its examples are its most typical passages, from different transcripts where possible."""
    passages = cluster.passages
    chosen: list = []
    for passage in passages:
        if len(chosen) < 3 and passage.transcript not in {c.transcript for c in chosen}:
            chosen.append(passage)
    chosen += [p for p in passages if p not in chosen][: 3 - len(chosen)]
    examples = [{"transcript": p.transcript, "lines": p.lines, "text": " ".join(p.text.split())} for p in chosen]
    return Candidate(
        cluster.label, "cluster", len(passages), len({p.transcript for p in passages}),
        len({p.school for p in passages if p.school}), examples,
    )


def _tf_idf(tally: _Tally, documents: int) -> float:
    return len(tally.occurrences) * math.log(documents / _spread(tally))


def _longest(ranked: list[str], tallies: dict[str, _Tally], window: int = 200) -> list[str]:
    """The ranked phrases without those that mostly occur inside a longer one near the top."""
    head = ranked[:window]
    return [
        phrase for phrase in head
        if not any(other != phrase and f" {phrase} " in f" {other} "
                   and len(tallies[other].occurrences) >= 0.8 * len(tallies[phrase].occurrences) for other in head)
    ]


def _codebook_words(session) -> tuple[set[str], re.Pattern | None]:
    """Every lemma of the codebook's patterns, and one expression finding any of its phrases, lower-cased.

    One compiled alternation rather than a search per phrase: the study's
    codebook has 800 phrases, more than `re` keeps compiled, so searching
    them one by one recompiled every phrase for every candidate.
    """
    lemmas: set[str] = set()
    phrases: set[str] = set()
    for patterns in session.scalars(select(Code.patterns)):
        lemmas.update(word.lower() for word in (patterns or {}).get("lemmas") or [])
        phrases.update(phrase.lower() for phrase in (patterns or {}).get("phrases") or [])
    alternatives = "|".join(re.escape(phrase) for phrase in sorted(phrases, key=len, reverse=True))
    return lemmas, re.compile(rf"\b(?:{alternatives})\b") if phrases else None


def _is_covered(phrase: str, covered: tuple[set[str], re.Pattern | None]) -> bool:
    lemmas, phrases = covered
    words = re.findall(r"[\w\-]+", phrase)
    return any(word in lemmas or word.rstrip("s") in lemmas for word in words) or bool(phrases and phrases.search(phrase))


def _tally(parsed: list[Parsed]) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for item in parsed:
        for passage, doc in zip(item.source.passages, item.docs):
            for kind, start, end, sentence in _phrases(doc):
                phrase = " ".join(doc.text[start:end].lower().split())
                tally = tallies[phrase]
                tally.kinds.add(kind)
                offsets = (passage.start + sentence[0], passage.start + sentence[1])
                tally.occurrences.append(
                    Occurrence(item.source.id, item.source.school, passage.start + start, passage.start + end, offsets)
                )
    for tally in tallies.values():  # one phrase found as several kinds at one place counts once
        tally.occurrences = list({(o.transcript, o.start): o for o in tally.occurrences}.values())
    return tallies


def _phrases(doc):
    """``(kind, start_char, end_char, sentence span)`` of every candidate phrase in a parsed turn."""
    for sentence in doc.sents:
        bounds = (sentence.start_char, sentence.end_char)
        for match in _QUOTED.finditer(sentence.text):
            if _PHRASE_WORDS[0] <= len(match.group(1).split()) <= 6:
                yield "quoted", sentence.start_char + match.start(1), sentence.start_char + match.end(1), bounds
        for chunk in sentence.noun_chunks if doc.has_annotation("DEP") else ():
            words = [t for t in chunk if not (t.is_stop or t.pos_ in {"DET", "PRON", "NUM"} or t.is_punct)]
            if len(words) >= 2 and words[-1].i == chunk.end - 1:
                yield "noun phrase", words[0].idx, chunk.end_char, bounds
        yield from (("repeated", s, e, bounds) for s, e in _ngrams(sentence))


def _ngrams(sentence):
    """Runs of 2-5 words inside a sentence, with content words at both ends."""
    words = [t for t in sentence if not t.is_space]
    for i, first in enumerate(words):
        if first.is_stop or first.is_punct or not first.is_alpha:
            continue
        content = first.pos_ in _NOUNS
        for last in words[i + 1 : i + _PHRASE_WORDS[1]]:
            if last.is_punct and last.text != "-":
                break
            content = content or last.pos_ in _NOUNS
            if content and last.is_alpha and not last.is_stop:
                yield first.idx, last.idx + len(last.text)


def _spread(tally: _Tally) -> int:
    return len({o.transcript for o in tally.occurrences})


def _candidate(phrase: str, tally: _Tally, parsed: list[Parsed], group: str | None = None,
               keyness: float | None = None) -> Candidate:
    kind = next(k for k in ("quoted", "repeated", "noun phrase") if k in tally.kinds)
    return Candidate(
        phrase, kind, len(tally.occurrences), _spread(tally),
        len({o.school for o in tally.occurrences if o.school}), _examples(tally.occurrences, parsed), group, keyness,
    )


def _examples(occurrences: list[Occurrence], parsed: list[Parsed], limit: int = 3) -> list[dict]:
    """Up to `limit` passages, from different transcripts where possible: transcript, lines and sentence."""
    texts = {item.source.id: item.source.text for item in parsed}
    chosen = list({o.transcript: o for o in occurrences}.values())[:limit]
    chosen += [o for o in occurrences if o not in chosen][: limit - len(chosen)]
    return [
        {"transcript": o.transcript, "lines": lines_of(texts[o.transcript], *o.sentence),
         "text": " ".join(texts[o.transcript][o.sentence[0] : o.sentence[1]].split())}
        for o in chosen
    ]


def _by_group(wanted: dict[str, _Tally], parsed: list[Parsed], by: str, top: int) -> list[Candidate]:
    """Per value of `by`, the phrases most overused there against the rest of the corpus."""
    group_of = {item.source.id: item.source.groups.get(by) for item in parsed}
    words: dict[str | None, int] = defaultdict(int)
    for item in parsed:
        words[group_of[item.source.id]] += item.source.words
    total = sum(words.values())
    found = []
    for group in sorted(g for g in words if g):
        scored = []
        for phrase, tally in wanted.items():
            inside = sum(1 for o in tally.occurrences if group_of[o.transcript] == group)
            g2 = log_likelihood(inside, len(tally.occurrences) - inside, words[group], total - words[group])
            if g2 > 0:
                scored.append((g2, phrase, tally))
        scored.sort(key=lambda item: (-item[0], item[1]))
        found += [_candidate(p, t, parsed, f"{by}={group}", round(g2, 2)) for g2, p, t in scored[:top]]
    return found


def log_likelihood(a: int, b: int, c: int, d: int) -> float:
    """Dunning's G2 for a phrase seen `a` times in `c` words of a group and `b` times in the `d` other words.

    Positive when the group uses the phrase more than the rest does, negative
    (the same magnitude) when less, 0 when there is nothing to compare.
    """
    if not (a + b and c and d):
        return 0.0
    expected_a, expected_b = c * (a + b) / (c + d), d * (a + b) / (c + d)
    g2 = 2 * sum(x * math.log(x / e) for x, e in ((a, expected_a), (b, expected_b)) if x)
    return g2 if a / c > b / d else -g2


@dataclass
class Created:
    code: str
    suggestions: int


def create_candidate(project: Project, phrase: str, code_path: str, coder: str, clusters: int | None = None) -> Created:
    """Make a candidate an inductive code at `code_path`, with suggestions where the data says it.

    A phrase's code keeps the phrase as its pattern, so later `autocode` runs
    find it in new transcripts too, and is suggested wherever the phrase is said.
    A cluster (`phrase` is its label, clustered as `suggest` does with the same
    `clusters`) is suggested on its passages, scored by how typical of it they
    are; its code has no patterns (add some to the codebook to find more). The
    suggestions are ``autocode``'s, and the whole step is one change `coder` can undo.
    """
    phrase = " ".join(phrase.lower().split())
    if not phrase:
        raise QualcodeError("give the phrase to turn into a code")
    nlp = load_pipeline(syntax=True)
    maybe_cluster = LABEL_SEPARATOR in phrase
    with project.session() as session:
        sources = read_sources(session)
        coded = _coded_spans(session, visible(project)) if maybe_cluster else {}
    parsed = list(parse_sources(project, sources, syntax=True))
    if maybe_cluster:
        cluster = next((c for c in _clusters(parsed, coded, clusters) if c.label == phrase), None)
        if cluster is not None:
            return _create_from_cluster(project, sources, cluster, code_path, coder)
    with project.session() as session, history.recorded(session, coder, "suggest", f"code '{phrase}' as {code_path}"):
        patterns = {"lemmas": [], "phrases": [phrase], "tokens": []}
        code = ensure_code(session, code_path, origin="inductive", coder=coder, patterns=patterns,
                           definition=f"Emerged from the data: passages where participants say '{phrase}'.")
        path = path_of(code)
        matcher = CodebookMatcher(nlp, {code.id: patterns}, {code.id: path})
        found = [s for item in parsed for s in suggest_passages(matcher, item)]
        if not found:
            raise QualcodeError(f"'{phrase}' is not said in any participant's turn")
        code.source_transcript_id, code.source_start, code.source_end = found[0].transcript, found[0].start, found[0].end
        store_suggestions(session, sources, found, AUTOCODER, "suggested")
    return Created(path, len(found))


def _create_from_cluster(project: Project, sources: list, cluster: Cluster, code_path: str, coder: str) -> Created:
    typical = cluster.passages[0]
    with project.session() as session, history.recorded(session, coder, "suggest", f"code cluster '{cluster.label}' as {code_path}"):
        code = ensure_code(
            session, code_path, origin="inductive", coder=coder,
            definition=f"Emerged from the data: {len(cluster.passages)} passages no code covered, "
                       f"about {', '.join(cluster.terms[:5])}.",
            source_transcript_id=typical.transcript, source_start=typical.start, source_end=typical.end,
        )
        found = [Suggestion(p.transcript, p.start, p.end, code.id, score) for p, score in zip(cluster.passages, cluster.typicality)]
        store_suggestions(session, sources, found, AUTOCODER, "suggested")
        return Created(path_of(code), len(found))
