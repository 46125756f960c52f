"""Codebook matchers: which code a participant's turn is about, and how sure that is.

How a suggestion is made. Each code's patterns (see the codebook file) become
matcher rules: a *lemma* hits a token whose lemma or lower-cased text is listed,
or whose lower-cased text is a listed lemma plus "s" (spaCy keeps proper-noun
lemmas as written, so "RSC" and "Inspectors" only match that way), a *phrase* hits a
lower-cased token sequence, a *tokens* pattern is a spaCy Matcher pattern. The
matchers run within each sentence of the participants' turns, and a *turn* is
the passage suggested, since an answer is about one thing far more often than
its single sentences say so clearly:

* a turn's evidence for a code is the set of *distinct* hits (the same word
  twice counts once, and a word inside a longer match counts only for that:
  "the government", not also "government") for the code and its ancestors, since a parent's words
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
"""

from __future__ import annotations

import fnmatch
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.errors import QualcodeError
from qualcode.models import Code
from qualcode.analysis.overview import code_paths
from qualcode.suggestions.tokenmatch import COLUMNS, Encoder, TokenPatterns, compile_pattern
from qualcode.suggestions.nlp import Parsed

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

WEIGHTS = {"lemma": 0.4, "phrase": 0.6, "tokens": 0.6}
#: How much the words of the question opening a turn count towards the turn (1 = as much as its own).
QUESTION_WEIGHT = 1.0
#: How much of a turn's evidence carries into the next turn when the question between names no code.
CARRY_OVER = 0.5
#: The longest match (in tokens) whose words count for it alone: "teaching schools council", not a "council".
COVERING_SPAN = 5


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
        spans: dict[int, list[tuple[int, str, int, int]]] = defaultdict(list)
        for key, start, end in self._matches(doc, sentences):
            sentence = bisect_right(starts, start) - 1
            if end > sentences[sentence][1]:
                continue  # a `*` pattern of spaCy's Matcher reaching into the next sentence
            spans[sentence].append((*self._label[key], start, end))
        found: dict[int, dict[int, set[Hit]]] = defaultdict(lambda: defaultdict(set))
        for sentence, matches in spans.items():
            for code_id, kind, start, end in _outermost(matches):
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
        themes, said = self.theme_totals(evidence), self.theme_totals(own)
        theme = max(sorted(themes), key=lambda t: (themes[t], said.get(t, 0.0)))
        implied = {a for code_id in evidence for a in self.ancestors[code_id]}
        pooled = {
            code_id: self._strength(evidence, code_id)
            for code_id in evidence
            if code_id not in implied and self.theme(code_id) == theme
        }
        best = max(sorted(pooled, key=self.paths.__getitem__),
                   key=lambda c: (pooled[c], _total(self._support(own, c))))
        return best, round(1 - math.exp(-pooled[best]), 4)

    def theme_totals(self, evidence: Evidence) -> dict[str, float]:
        """Each theme's evidence over all its codes (child codes roll up; a hit counts once per theme)."""
        themes: dict[str, dict[Hit, float]] = defaultdict(dict)
        for code_id, weights in evidence.items():
            _merge(themes[self.theme(code_id)], weights)
        return {theme: _total(weights) for theme, weights in themes.items()}

    def evidence_words(self, evidence: Evidence, code_id: int) -> tuple[str, ...]:
        """The words that counted for a code (its own hits and its ancestors'), strongest first."""
        support = self._support(evidence, code_id)
        return tuple(hit.words for hit in sorted(support, key=lambda h: (-support[h], h.words)))

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


def _outermost(matches: list[tuple[int, str, int, int]]) -> list[tuple[int, str, int, int]]:
    """The matches that are not words of a longer match, and of one code on the same words only the strongest.

    "the government" is one piece of evidence, not that and "government"; the
    "council" of "Teaching Schools Council" is not a local authority's. Words
    matched by patterns of several codes stay evidence for each of them, and
    a token pattern whose ``*`` spans more than `COVERING_SPAN` tokens hides
    nothing: the words it skipped over were not what it matched.
    """
    ordered = sorted(matches, key=lambda m: (m[2] - m[3], -WEIGHTS[m[1]], m[2], m[0]))
    kept: list[tuple[int, str, int, int]] = []
    for code_id, kind, start, end in ordered:
        inside = any(s <= start and end <= e and end - start < e - s <= COVERING_SPAN for _, _, s, e in kept)
        if not inside and not any(c == code_id and (s, e) == (start, end) for c, _, s, e in kept):
            kept.append((code_id, kind, start, end))
    return kept


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


def has_patterns(project) -> bool:
    """Whether any code has patterns: a codebook made by hand in the terminal or a .qdpx may have none."""
    with project.session() as session:
        return any(patterns for patterns in session.scalars(select(Code.patterns)))


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
    #: Why: the words that counted for the code, strongest first.
    evidence: tuple[str, ...] = ()


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
            start, end = trimmed(parsed.source.text, passage.start, passage.end)
            found.append(Suggestion(parsed.source.id, start, end, *chosen, matcher.evidence_words(evidence, chosen[0])))
    return found


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the blanks and line breaks spaCy keeps as tokens at a sentence's edges."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end

