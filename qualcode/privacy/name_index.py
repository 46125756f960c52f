"""The identity key's forms in a trie of words, found in a text as one regex of them all would find them.

Such a regex (thousands of forms) takes Python seconds to compile, in every
process that pseudonymises; this index builds in milliseconds. A listing
pseudonymises a thousand short passages or more, so what a passage costs is a
few steps in C for each character and a Python step only where a form could
start.
"""

from __future__ import annotations

import codecs
import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import NamedTuple

#: A form found in a text: the form (a key of `Matcher.owners`), its start and end, and the end of a possessive after it.
Span = tuple[str, int, int, int]


class Words(NamedTuple):
    """A node of the trie: the words that continue a form from here, and the last words of forms ending here."""

    deeper: dict[str, Words]
    ends: dict[str, str]


class FormIndex:
    """From left to right, at each start of a word: the longest form written there (in any case, any white space
    where the form has a space) and not followed by a letter or digit, with an apostrophe or 's after it; the next
    search starts after it. Case is compared as the regex module's IGNORECASE does."""

    def __init__(self, root: Words, starts: set[str]):
        self.root = root
        #: How the forms begin (a first word's letters and digits, or its first character): most words of a text don't.
        self.starts = starts
        #: The same for the forms' later words, by the id of the node they continue: most words after 'the' continue none.
        self._later: dict[int, set[str]] = {}
        #: The words forms begin with as `_ascii_words` writes them: that with a space either side, and for a word that
        #: begins no form by itself, what must follow it for one to start there: a character of a longer first word
        #: ('a' in 'a.b.'), or white space and a word that continues a form from its node ('the').
        follows = _follows(root, starts)
        self._spaced = {word: (b" " + word + b" ", follows.get(word)) for word in map(_ascii_words, starts) if word.strip()}
        marks = sorted(start for start in starts if not _WORD.fullmatch(start))
        #: Forms that begin with a character that is not a letter or digit ('(Hollis)'): where such a one can start.
        self._marks = re.compile(r"(?<!\w)[%s]" % "".join(map(re.escape, marks))) if marks else None

    @classmethod
    def of(cls, forms: Iterable[str]) -> FormIndex:
        root = Words({}, {})
        for form in sorted(forms):  # of forms alike once folded (a long s), the first as a regex would try it
            node, *words, last = [root, *fold(form).split()]
            for word in words:
                node = node.deeper.setdefault(word, Words({}, {}))
            node.ends.setdefault(last, form)
        return cls(root, _first_words(root))

    def spans(self, text: str) -> Iterator[Span]:
        low, position = fold(text), 0
        for at in self._candidates(low):
            if at >= position and (found := self._longest(self.root, low, at)):
                form, end = found
                possessive = _POSSESSIVE.match(low, end)
                position = possessive.end() if possessive else end
                yield form, at, end, position

    def _candidates(self, low: str) -> Iterator[int]:
        """Where a form can start in `low`, in order: the words that begin one (and the other characters, if any do).

        The words are found in an ASCII copy of `low`, a byte for each
        character and a space for each that is not a letter or digit, so that
        cutting it into words, keeping those that begin a form and finding
        where they are is done in C: a Python step for each word of every
        passage was most of the time a listing spent pseudonymising.
        """
        words = _ascii_words(f" {low} ")
        found = self._word_starts(words, low)
        if self._marks is None:
            return found
        return heapq.merge(found, (mark.start() for mark in self._marks.finditer(low)))

    def _word_starts(self, words: bytes, low: str) -> Iterator[int]:
        at = 0
        for word in filter(self._spaced.__contains__, words.split(b" ")):
            spaced, follows = self._spaced[word]
            at = words.find(spaced, at)  # the space before the word: in the text, where it starts
            end = at + len(word)
            # Most often nothing can follow: the word after 'the' begins no name, a letter is no initial.
            if follows is None or low[end : end + 1] in follows[0] or (
                    follows[1] is not None and self._next_word(follows[1], low, end) is not None):
                yield at
            at = end + 1  # the space after it, which can be the one before the next

    def _longest(self, node: Words, low: str, at: int) -> tuple[str, int] | None:
        """The longest form from `node` written in `low` from `at`, not followed by a letter or digit: (form, end).

        A form's word must be all of the text's word when more follow, and may
        end where a character that is not a letter or digit does ('hollis' in
        "hollis's")."""
        run = _RUN.match(low, at)
        if run is None:
            return None
        word = run.group()
        if (child := node.deeper.get(word)) is not None and (after := self._next_word(child, low, run.end())):
            if found := self._longest(child, low, after):
                return found
        if (form := node.ends.get(word)) is not None:
            return form, run.end()
        for cut in reversed([m.start() for m in _NON_WORD.finditer(word, 1)]) if not word.isalnum() else ():
            if (form := node.ends.get(word[:cut])) is not None:
                return form, at + cut
        return None

    def _next_word(self, node: Words, low: str, at: int) -> int | None:
        """Where the word after white space from `at` starts, if it can begin a form from `node`."""
        after = _NEXT.match(low, at)
        if after is None:
            return None
        later = self._later.get(id(node)) or self._later.setdefault(id(node), _first_words(node))
        return after.start(1) if after.group(1) in later else None


def _follows(root: Words, starts: set[str]) -> dict[bytes, tuple[frozenset[str], Words | None]]:
    """For each word of `starts` that no form is by itself (and that no other start is written as by `_ascii_words`),
    by how `_ascii_words` writes it: the characters that follow it in longer first words, and its node of forms."""
    written: dict[bytes, list[str]] = defaultdict(list)
    for start in starts:
        written[_ascii_words(start)].append(start)
    longer: dict[str, set[str]] = defaultdict(set)
    for word in (*root.deeper, *root.ends):
        if not word.isalnum() and (first := _START.match(word).group()) != word:
            longer[first].add(word[len(first)])
    return {ascii: (frozenset(longer[word]), root.deeper.get(word)) for ascii, (word, *others) in written.items()
            if not others and word not in root.ends and _WORD.fullmatch(word)}


def _first_words(node: Words) -> set[str]:
    """How the forms from `node` on begin: the letters and digits their first word begins with, or its first character."""
    return {word if word.isalnum() else _START.match(word).group() for word in (*node.deeper, *node.ends)}


#: Where a form can start: a word or another character that is not white space, neither just after a letter or digit.
_START = re.compile(r"(?<!\w)(?:\w+|\S)")
_WORD = re.compile(r"\w+")
_RUN = re.compile(r"\S+")
#: The white space after a word and how the next word begins (as `_START` takes it).
_NEXT = re.compile(r"\s+(\w+|\S)")
_NON_WORD = re.compile(r"\W")
_POSSESSIVE = re.compile(r"['’]s?(?!\w)")


def _letters_or_not(error: UnicodeEncodeError) -> tuple[str, int]:
    """How `_ascii_words` writes what is not ASCII: 'a' for a letter or digit, a space for anything else."""
    run = error.object[error.start : error.end]
    return "".join("a" if char.isalnum() or char == "_" else " " for char in run), error.end


codecs.register_error("qualcode.letters_or_not", _letters_or_not)
#: ASCII bytes to themselves if `\w` takes them (letters, digits, '_': `str.isalnum` or '_' is the same test), else
#: to a space; an encoded copy holds no others.
_WORDS_ONLY = bytes(byte if byte < 128 and (chr(byte).isalnum() or byte == ord("_")) else ord(" ") for byte in range(256))


def _ascii_words(text: str) -> bytes:
    """`text` a byte for each character: ASCII letters, digits and '_' as they are, other letters or digits as 'a',
    the rest as spaces. Its words are where `text`'s are, and a word in `text` is the same bytes as any it equals."""
    return text.encode("ascii", "qualcode.letters_or_not").translate(_WORDS_ONLY)


def _case_folds() -> dict[int, str]:
    """Letters IGNORECASE takes for one another beyond upper and lower case (long s for s, dotless i for i)."""
    from re import _casefix

    return {char: chr(min(others)) for char, others in _casefix._EXTRA_CASES.items() if min(others) < char}


_FOLDS = _case_folds()
_FOLDABLE = re.compile("[%s]" % "".join(map(chr, _FOLDS)))


def fold(text: str) -> str:
    """`text` in the case IGNORECASE compares, one character for each (so offsets stay those of `text`)."""
    low = text.lower()
    if low.isascii():  # no letter IGNORECASE folds further is ASCII; asking costs nothing, looking costs a scan
        return low
    if len(low) != len(text):  # 'İ' lowers to two characters; IGNORECASE takes it as 'i'
        low = "".join(char.lower()[0] for char in text)
    return low.translate(_FOLDS) if _FOLDABLE.search(low) else low
