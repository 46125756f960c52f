"""Finding names the identity key lacks: key forms, title patterns and spaCy's entities, as candidates to add."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.models import Transcript
from qualcode.suggestions.nlp import PIPELINE
from qualcode.project import Project
from qualcode.privacy.pseudonyms import TITLES, IdentityKey, Matcher, anonymise_settings, load_key
from qualcode.ingest.speakers import known_labels

if TYPE_CHECKING:
    from spacy.language import Language

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Found:
    """A span of a transcript that may be a name: from the key, spaCy's NER or a title pattern."""

    transcript: str
    start: int
    end: int
    label: str
    source: str  # key | ner | pattern


@dataclass
class Candidate:
    """A possible name not yet in the key, for the researcher to decide on."""

    text: str
    label: str
    count: int
    transcripts: list[str]
    contexts: list[str]

    @property
    def kind(self) -> str:
        """The key kind a candidate would be added as."""
        if self.label == "PERSON":
            return "person"
        if self.label in ("GPE", "LOC", "NAME"):
            return "place"
        if re.search(r"\b(School|Academy|Primary|College|High)$", self.text):
            return "school"
        if re.search(r"\b(Trust|Alliance|Cluster|cluster|Partnership|Federation)$", self.text):
            return "partnership"
        return "organisation"


_LABEL = re.compile(r"(?:\*\*)?(?P<label>[A-Z][\w'.\- ]{0,40}):(?:\*\*)?\s*")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_TOKEN = re.compile(r"[A-Za-z][\w'’-]*")
#: Entity labels that say a capitalised word is not a name of anyone or anywhere (numbers, languages).
#: Not DATE: the model takes unfamiliar surnames for days ('Farraday').
_NOT_NAMES = frozenset({"PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "NORP", "LANGUAGE"})
_PATTERNS = [
    ("PERSON", re.compile(r"\b(?:%s)\.? [A-Z](?:[\w'’-]+|\.)" % "|".join(TITLES))),
    ("ORG", re.compile(r"\b(?:[A-Z][\w'’-]+ ){1,3}(?:Primary |Junior |Infant |High |Community |C of E |Catholic )?"
                       r"(?:School|Academy|College|Primary|Trust|Alliance|Federation|Partnership|Council|cluster)\b")),
    ("NAME", re.compile(r"\b[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)*")),
]


def find_names(project: Project, key: IdentityKey | None = None, transcripts: list[str] | None = None,
               progress: Progress | None = None) -> list[Found]:
    """Every span the key, NER or a pattern takes for a name, in the given transcripts (default all).

    NER runs once per distinct sentence (interviews repeat themselves) and
    only on sentences with a word the corpus never writes in lower case,
    since a sentence without one holds no proper name. Such a word written
    mid-sentence that NER gives no label at all is also reported ('NAME'):
    small places and firms are what NER misses most.
    """
    return _find_in(project, _texts(project, transcripts), key if key is not None else load_key(project), progress)


def _find_in(project: Project, texts: dict[str, str], key: IdentityKey, progress: Progress | None) -> list[Found]:
    labels = set(anonymise_settings(project).get("labels", ["PERSON", "ORG", "GPE", "LOC", "FAC"]))
    found = [Found(tid, m.start, m.end, m.owner.kind, "key") for tid, text in texts.items()
             for m in key.matcher().matches(text, fuzzy=True)]
    sentences = _sentences(texts, known_labels(project.settings))
    words = _NameWords.of(sentences)
    entities = _ner_hits(sentences, words.capitalised, progress)
    named = _spans_by_transcript(e for e in entities if e.label in labels)
    not_names = _spans_by_transcript(e for e in entities if e.label in _NOT_NAMES)
    found += [hit for hit in entities if hit.label in labels]
    found += [hit for hit in _pattern_hits(sentences, words)
              if hit.label != "NAME" or not (_within(named.get(hit.transcript, []), hit)
                                             or _overlaps(not_names.get(hit.transcript, []), hit))]
    return found


def _texts(project: Project, ids: list[str] | None) -> dict[str, str]:
    query = select(Transcript.id, Transcript.text).order_by(Transcript.id)
    if ids:
        query = query.where(Transcript.id.in_(ids))
    with project.session(commit=False) as session:
        texts = dict(session.execute(query).all())
    unknown = sorted(set(ids or []) - set(texts))
    if unknown:
        raise QualcodeError(f"no transcript {', '.join(unknown)}; see 'qualcode transcripts'")
    return texts


def _sentences(texts: dict[str, str], labels: frozenset[str]) -> dict[str, list[tuple[str, int]]]:
    """Each distinct sentence -> where it occurs (transcript, offset).

    Role labels ('Headteacher:') are left out, since they are in every other
    line and name nobody; a label that is not a known role ('Mrs Hollis:') is
    kept, as it may be a name.
    """
    where: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for tid, text in texts.items():
        for match in _SENTENCE.finditer(text):
            start, sentence = match.start(), match.group()
            label = _LABEL.match(sentence) if start == 0 or text[start - 1] == "\n" else None
            if label and label.group("label").lower() in labels:
                start, sentence = start + label.end(), sentence[label.end():]
            stripped = sentence.strip()
            if stripped:
                where[stripped].append((tid, start + sentence.index(stripped)))
    return where


@dataclass(frozen=True)
class _NameWords:
    """Capitalised words the corpus never writes in lower case, and those of them also met mid-sentence."""

    capitalised: frozenset[str]
    mid_sentence: frozenset[str]

    @classmethod
    def of(cls, sentences: Iterable[str]) -> _NameWords:
        seen, lower, inner = set(), set(), set()
        for sentence in sentences:
            tokens = _TOKEN.findall(sentence)
            seen.update(tokens)
            lower.update(_bare(t) for t in tokens if t[0].islower())
            inner.update(t for t in tokens[1:] if not t[:2].isupper() and t.rstrip(".") not in TITLES)
        capitalised = {w for w in seen if w[0].isupper() and _bare(w).lower() not in lower and not w.startswith("I'") and w != "I"}
        return cls(frozenset(capitalised), frozenset(capitalised & inner))


def _bare(word: str) -> str:
    """A word without its possessive ending."""
    return re.sub(r"['’]s?$", "", word)


def _pattern_hits(sentences: dict[str, list[tuple[str, int]]], words: _NameWords) -> list[Found]:
    """'Mrs Hollis', 'Violet Lane Academy', 'the Kestrel Learning Trust', 'Grindlecote': spans that look like names."""
    found = []
    for sentence, places in sentences.items():
        for label, pattern in _PATTERNS:
            for match in pattern.finditer(sentence):
                start = match.start() if label == "PERSON" else _first_name_word(match, words, label)
                if start is not None:
                    found += [Found(tid, offset + start, offset + match.end(), label, "pattern") for tid, offset in places]
    return found


def _first_name_word(match: re.Match, words: _NameWords, label: str) -> int | None:
    """Where the name starts: 'Then Oak Academy' is 'Oak Academy'; None if no word could be a name.

    A bare capitalised run ('NAME') needs a word also met mid-sentence (so that
    'Yeah' opening a sentence is not a name), and takes in the name-like words
    just before it ('Oswin Farraday').
    """
    tokens = list(_TOKEN.finditer(match.group()))
    if label != "NAME":
        first = next((t for t in tokens[:-1] if t.group() in words.capitalised), None)
        return match.start() + first.start() if first else None
    index = next((i for i, t in enumerate(tokens) if t.group() in words.mid_sentence), None)
    if index is None:
        return None
    while index > 0 and tokens[index - 1].group() in words.capitalised:
        index -= 1
    return match.start() + tokens[index].start()


def _ner_hits(sentences: dict[str, list[tuple[str, int]]], capitalised: frozenset[str],
              progress: Progress | None) -> list[Found]:
    """Every entity spaCy finds (any label), in the sentences that could hold a name."""
    todo = [s for s in sentences if any(w in capitalised for w in _TOKEN.findall(s))]
    found = []
    for done, doc in enumerate(ner_pipeline().pipe(todo, batch_size=256), 1):
        for ent in doc.ents:
            found += [Found(tid, offset + ent.start_char, offset + ent.end_char, ent.label_, "ner")
                      for tid, offset in sentences[doc.text]]
        if progress and (done % 100 == 0 or done == len(todo)):
            progress(done, len(todo))
    if progress and not todo:
        progress(0, 0)
    return found


@lru_cache(maxsize=1)
def ner_pipeline() -> Language:
    """The spaCy pipeline with only its entity recogniser (which has its own tok2vec), loaded once."""
    import importlib

    from spacy.util import get_model_meta

    package = importlib.import_module(PIPELINE)
    components = get_model_meta(Path(package.__file__).parent)["components"]
    return package.load(exclude=[name for name in components if name != "ner"])


def scan(project: Project, transcripts: list[str] | None = None, progress: Progress | None = None) -> list[Candidate]:
    """Possible names not yet in the key, most frequent first, with where and how they occur."""
    key = load_key(project)
    texts = _texts(project, transcripts)
    found = _find_in(project, texts, key, progress)
    known = _spans_by_transcript(f for f in found if f.source == "key")
    public = {n.lower() for n in anonymise_settings(project).get("public_names", [])}
    public |= {v.lower() for values in project.settings.vocabularies.values.values() for v in values}
    groups: dict[tuple[str, str], list[Found]] = defaultdict(list)
    seen: set[tuple[str, int, int]] = set()
    for hit in found:
        where = (hit.transcript, hit.start, hit.end)
        if hit.source == "key" or where in seen or _overlaps(known.get(hit.transcript, []), hit):
            continue
        seen.add(where)
        name = _candidate_text(texts[hit.transcript][hit.start : hit.end])
        if _worth_reporting(name, public) and not _is_known(key, name):
            groups[(name, hit.label)].append(hit)
    candidates = [_candidate(name, label, hits, texts) for (name, label), hits in groups.items()]
    return _one_label_each(candidates)


def _spans_by_transcript(found: Iterable[Found]) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hit in found:
        spans[hit.transcript].append((hit.start, hit.end))
    return spans


def _overlaps(spans: list[tuple[int, int]], hit: Found) -> bool:
    return any(start < hit.end and hit.start < end for start, end in spans)


def _within(spans: list[tuple[int, int]], hit: Found) -> bool:
    return any(start <= hit.start and hit.end <= end for start, end in spans)


def _candidate_text(written: str) -> str:
    """The name as it would go in the key: no leading article, no possessive, one space between words."""
    text = re.sub(r"\s+", " ", written).strip(" ,;:-")
    text = re.sub(r"^(?:the|a|an) ", "", text, flags=re.IGNORECASE)
    return re.sub(r"['’]s?$", "", text)


_COUNTING = re.compile(r"(?:(?:Key|Stage|Year|Years|Form|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve|"
                       r"Thirteen|January|February|March|April|May|June|July|August|September|October|November|"
                       r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b\s*)+$")


def _worth_reporting(name: str, public: set[str]) -> bool:
    """Not a public body, not an acronym ('NQT', 'CPD'), not a year group ('Key Stage Two', 'Year Twelve')."""
    has_name_word = any(w[0].isupper() and not w[:2].isupper() for w in name.split())
    return has_name_word and name.lower() not in public and not _COUNTING.match(name)


def _is_known(key: IdentityKey, name: str) -> bool:
    matches = key.matcher().matches(name, fuzzy=False, any_case=True)
    return any(m.start == 0 and m.end >= len(name) for m in matches)


def _candidate(name: str, label: str, hits: list[Found], texts: dict[str, str]) -> Candidate:
    contexts = []
    for hit in hits[:3]:
        text = texts[hit.transcript]
        contexts.append(re.sub(r"\s+", " ", text[max(0, hit.start - 40) : hit.end + 40]).strip())
    return Candidate(name, label, len(hits), sorted({h.transcript for h in hits}), contexts)


def _one_label_each(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per text: NER and patterns may label the same words differently; the most frequent label wins."""
    best: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: -c.count):
        if candidate.text in best:
            kept = best[candidate.text]
            kept.transcripts = sorted(set(kept.transcripts) | set(candidate.transcripts))
        else:
            best[candidate.text] = candidate
    return sorted(best.values(), key=lambda c: (-c.count, c.text))


def add_candidates(project: Project, candidates: Iterable[Candidate]) -> IdentityKey:
    """Put candidates in the key (each with its kind's numbered placeholder) and save it."""
    key = load_key(project)
    for candidate in candidates:
        key.add(candidate.text, candidate.kind)
    key.save()
    return key


def recall(project: Project, truth: IdentityKey, found: list[Found]) -> float:
    """Share of the occurrences of `truth`'s listed names and variants that some span in `found` overlaps."""
    matcher = Matcher(truth.entries, truth.settings, derive=False)
    spans = _spans_by_transcript(found)
    total = caught = 0
    for tid, text in _texts(project, None).items():
        for match in matcher.matches(text, fuzzy=False):
            total += 1
            caught += _overlaps(spans.get(tid, []), Found(tid, match.start, match.end, "", ""))
    return caught / total if total else 1.0
