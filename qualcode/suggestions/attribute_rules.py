"""The pipeline's attribute rules (tag → part of speech, lemma exceptions) answered from a memo.

spaCy's attribute ruler runs a Matcher of ~180 rules at every token, which
costs more than tagging itself: over a third of autocode's parsing. Almost all
its rules look at one token only (its tag and its word), so what they do to a
token depends on nothing else, and can be worked out once per distinct word
and tag and remembered. `MemoMatcher` stands in for the ruler's Matcher:

* one-token rules without operators whose tests read only the word and its
  tag, part of speech, dependency or lemma are matched against each distinct
  (word, tags) once, in a small Doc of the distinct tokens not seen yet;
* every other rule (two-token rules such as "gon na", anything unusual) goes
  to a spaCy Matcher on the whole Doc as before, but only for a Doc holding a
  token its first token's test accepts (remembered the same way).

The matches, and so the attributes set, are the same as the ruler's own:
the ruler sorts them by rule before applying them.

`TokenAttributes` goes one step further: where no rule of two tokens can
start in a Doc (nearly every Doc), what the ruler and then the rule lemmatizer
set on a token (part of speech, morphology, lemma) follows from the same
(word, tags) alone, so it is worked out once per distinct (word, tags) by the
two real components on a Doc of those tokens, remembered, and written into
each Doc in one `Doc.from_array`. A Doc where such a rule may start goes
through the two components as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: Token attributes a one-token rule may test and still be remembered (the word's own attributes aside).
_TOKEN_ATTRS = ("TAG", "POS", "DEP", "LEMMA")
#: Attributes that follow from the word alone.
_WORD_ATTRS = {"ORTH", "TEXT", "LOWER", "SHAPE", "LENGTH", "IS_ALPHA", "IS_DIGIT", "IS_PUNCT", "IS_SPACE"}


class MemoMatcher:
    """Called like the attribute ruler's `Matcher` (``matcher(doc, allow_missing=True, as_spans=False)``), same matches."""

    def __init__(self, ruler):
        from spacy.matcher import Matcher

        self.original = ruler.matcher
        self.vocab = ruler.vocab
        self.single = Matcher(self.vocab)
        self.rest = Matcher(self.vocab)
        #: The first tokens of the other rules, where they can be remembered: a Doc without one skips `rest`.
        self.starts = Matcher(self.vocab)
        self.always = False
        tested: set[str] = set()
        for key in (str(i) for i in range(len(ruler.attrs))):  # the ruler's keys, one per rule
            _, patterns = self.original.get(key)
            memo = [p for p in patterns if _memoisable(p)]
            if memo:
                self.single.add(key, memo)
                tested |= {str(attr).upper() for p in memo for attr in p[0]}
            others = [p for p in patterns if not _memoisable(p)]
            if others:
                self.rest.add(key, others)
                first = [p[:1] for p in others if _memoisable(p[:1])]
                if first:
                    self.starts.add(key, first)
                self.always = self.always or len(first) < len(others)
                tested |= {str(attr).upper() for p in first for attr in p[0]}
        self.columns = ["ORTH", *(attr for attr in _TOKEN_ATTRS if attr in tested)]
        #: For each (word, tags) seen: the one-token rules it matches, and whether another rule may start there.
        self.memo: dict[tuple[int, ...], tuple[list[int], bool]] = {}

    def __call__(self, doc: Doc, allow_missing: bool = False, as_spans: bool = False) -> list[tuple[int, int, int]]:
        rows = [tuple(row) for row in doc.to_array(self.columns).tolist()]
        self.learn(rows)
        found = [(key, i, i + 1) for i, row in enumerate(rows) for key in self.memo[row][0]]
        if self.may_start_other_rule(rows):
            found += self.rest(doc, allow_missing=allow_missing)
        return found

    def learn(self, rows: list[tuple[int, ...]]) -> None:
        """Match the one-token rules once against a Doc of the distinct tokens (`columns` rows) not seen yet."""
        ordered = sorted({row for row in rows if row not in self.memo})
        if not ordered:
            return
        sample = self.sample(ordered)
        matched: dict[int, list[int]] = {i: [] for i in range(len(ordered))}
        for key, start, _ in self.single(sample, allow_missing=True):
            matched[start].append(key)
        starts = {start for _, start, _ in self.starts(sample, allow_missing=True)}
        for i, row in enumerate(ordered):
            self.memo[row] = (matched[i], i in starts)

    def sample(self, rows: list[tuple[int, ...]]) -> Doc:
        """A Doc of one token per row, each with the row's word and tags."""
        from spacy.tokens import Doc

        sample = Doc(self.vocab, words=[self.vocab.strings[row[0]] for row in rows], spaces=[False] * len(rows))
        for token, row in zip(sample, rows):
            for attr, value in zip(self.columns[1:], row[1:]):
                setattr(token, attr.lower(), value)
        return sample

    def may_start_other_rule(self, rows: list[tuple[int, ...]]) -> bool:
        """Whether a rule of more than one token (or one not remembered) may match in a Doc of these (learnt) rows."""
        return self.always or any(self.memo[row][1] for row in rows)

    def get(self, key):
        return self.original.get(key)

    def __len__(self) -> int:
        return len(self.original)

    def __contains__(self, key) -> bool:
        return key in self.original


def _memoisable(pattern: list[dict]) -> bool:
    """A one-token rule without an operator, testing only the word and `_TOKEN_ATTRS`."""
    return len(pattern) == 1 and all(str(attr).upper() in _WORD_ATTRS | set(_TOKEN_ATTRS) for attr in pattern[0])


class TokenAttributes:
    """The attribute ruler and the lemmatizer in one step, from a memo of what they set per (word, tags)."""

    #: What the two components set on a one-token match (the ruler's rules of one token set no other attribute).
    OUTPUT = ["TAG", "POS", "MORPH", "LEMMA"]

    def __init__(self, ruler, lemmatizer):
        self.ruler, self.lemmatizer = ruler, lemmatizer
        self.matcher: MemoMatcher = ruler.matcher
        self.memo: dict[tuple[int, ...], tuple[int, ...]] = {}

    def __call__(self, doc: Doc) -> Doc:
        import numpy

        rows = [tuple(row) for row in doc.to_array(self.matcher.columns).tolist()]
        self.matcher.learn(rows)
        if self.matcher.may_start_other_rule(rows):
            return self.lemmatizer(self.ruler(doc))
        self._learn(rows)
        if rows:
            doc.from_array(self.OUTPUT, numpy.array([self.memo[row] for row in rows], dtype="uint64"))
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)

    def _learn(self, rows: list[tuple[int, ...]]) -> None:
        """Run the real ruler and lemmatizer once on a Doc of the distinct rows not seen yet."""
        ordered = sorted({row for row in rows if row not in self.memo})
        if ordered:
            sample = self.lemmatizer(self.ruler(self.matcher.sample(ordered)))
            for row, out in zip(ordered, sample.to_array(self.OUTPUT).tolist()):
                self.memo[row] = tuple(out)


def memoise_attribute_rules(nlp: Language) -> None:
    """Give the pipeline's attribute ruler, if it has one, a `MemoMatcher`; with a rule lemmatizer after it,
    answer both from one `TokenAttributes` memo (they stay in the pipeline, disabled, and are called from it).

    Not with the parser: its dependencies are a token's context, and a rule of the ruler sets one.
    """
    if "attribute_ruler" not in nlp.pipe_names:
        return
    ruler = nlp.get_pipe("attribute_ruler")
    ruler.matcher = MemoMatcher(ruler)
    names = nlp.pipe_names
    if "parser" not in names and names[-2:] == ["attribute_ruler", "lemmatizer"] and getattr(nlp.get_pipe("lemmatizer"), "mode", "") == "rule":
        _register()
        nlp.add_pipe("qualcode_token_attributes", last=True)
        nlp.disable_pipe("attribute_ruler")
        nlp.disable_pipe("lemmatizer")


def _register() -> None:
    from spacy.language import Language

    if not Language.has_factory("qualcode_token_attributes"):
        Language.factory("qualcode_token_attributes")(
            lambda nlp, name: TokenAttributes(nlp.get_pipe("attribute_ruler"), nlp.get_pipe("lemmatizer")))
