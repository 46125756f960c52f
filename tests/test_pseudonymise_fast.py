"""Pseudonymising finds exactly what it found before it was made faster.

The reference is `Before` in benchmarks/pseudonymise.py (the benchmark's
baseline): the matcher as it was, cutting every word out of the text with a
regex, trying the trie after every 'the', and scanning every character for
capitalised words. Both run here on the same key, on the passages `query find`
lists on the bundled corpus, on paragraphs of its transcripts and on strings
made to be awkward: names split across lines, possessives, 'the' forms, curly
apostrophes, initials, letters beyond ASCII, long s and dotless i, titles
before misspelt names, forms beginning with punctuation.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from pathlib import Path

import pytest

from qualcode.privacy.name_index import _ascii_words
from qualcode.privacy.pseudonyms import IdentityKey, Matcher
from tests.conftest import FIXTURES, REPO

BUNDLED = REPO / "transcripts"

#: Names that test the edges of the word index: letters beyond ASCII, apostrophes, a form that begins with
#: punctuation, '_' and digits, a capital I with a dot (two characters in lower case) and a long s.
AWKWARD = [
    ("Zoë Brontë", "person", ["Brontë’s mum"]),
    ("Ærøskøbing Academy", "school", []),
    ("Siobhán O'Brien", "person", ["O’Brien", "Shiv"]),
    ("St. Mary's C of E Primary School", "school", ["St Marys"]),
    ("İzmir Lane", "place", []),
    ("Oak_Tree Federation", "partnership", ["(Oak Tree)", "#OakTree", "the Oak cluster"]),
    ("Year 6 Team", "organisation", ["Y6T"]),
    ("Ostlers Yard", "place", ["Oſtlers Yard"]),
    ("Mr Karl Ibbotson", "person", ["KI", "Mr I."]),
]

WRITTEN = [
    "",
    "   \n ",
    "Mrs\nHollis said Margaret\n  Hollis's office was next to MRS HOLLIS’ room; hollis, Hollis.",
    "the Heathermoor Learning Trust's board; The Heathermoor Learning\nTrust; THE HEATHERMOOR; the trust",
    "M.H. and MH and mh and M. H. and m. h., M.H.'s, (MH)",
    "Mrs Holliss and Dr. Holis, Mr  Hollys, Ms\nHolis’s and Sir Hollice, ’Holliss’ d’Holliss o'Tarowby",
    "Drennick Enginering's plant near Tarowby, drennick engineering, Tarrowby’s",
    "ZOË BRONTË, zoë brontë's, Brontë’s mum, Zoe Bronte, Zoé Brontë, xZoë",
    "Ærøskøbing Academy's; ærøskøbing; the ÆRØSKØBING ACADEMY; Ærøskøbingé",
    "O'Brien, O’Brien’s, Siobhán O’Brien, o'brien, Siobhan O'Brian, SHIV",
    "Hollis_ xHollis Hollisé éHollis 'Hollis' (Hollis) Hollis-Smith Hollis’ Hollis's’",
    "St. Mary's, St.Mary's, ST. MARY'S C of E, st marys, the St Marys",
    "İzmir Lane and izmir lane and İZMİR LANE and IZMIR LANE, i̇zmir lane",
    "(Oak Tree) and #OakTree, #oaktree,(Oak Tree), Oak_Tree, the Oak cluster's, The Oak Tree",
    "Year 6 Team and year 6 team's, Y6T, y6t, Year 6 Teams",
    "Oſtlers Yard, OSTLERS YARD, oſtlers yard, Hollıs, Holliſ, Karl Ibbotson, KI, Ki, Mr I. said",
    "the the the Hollis the\n\nthe Tarrowby the.",
    "Tarrowby",
]


def _reference():
    spec = importlib.util.spec_from_file_location("pseudonymise_benchmark", REPO / "benchmarks" / "pseudonymise.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARK = _reference()


def _matcher(*keys: Path, awkward: bool = False) -> Matcher:
    key = IdentityKey(None)
    for path in keys:
        key.import_csv(path)
    for name, kind, variants in AWKWARD if awkward else ():
        key.add(name, kind, variants)
    return key.matcher()


@pytest.fixture(scope="module")
def bundled() -> Matcher:
    return _matcher(BUNDLED / "identity-key.csv")


@pytest.fixture(scope="module")
def awkward() -> Matcher:
    return _matcher(FIXTURES / "anonymise" / "identity-key.csv", awkward=True)


def found(matcher: Matcher, text: str) -> tuple:
    """All a matcher tells about `text`: the pseudonymised text and its replacements, and the names in it
    (as leak checks see them, in any case, and without the fuzzy words)."""
    def names(**options):
        return [(m.start, m.end, m.owner, m.score, m.possessive) for m in matcher.matches(text, **options)]
    return matcher.pseudonymise(text), names(any_case=True), names(fuzzy=False)


def assert_same(matcher: Matcher, texts: list[str]) -> None:
    before = BENCHMARK.Before.of(matcher)
    different = [text for text in texts if found(matcher, text) != found(before, text)]
    assert not different, f"{len(different)} of {len(texts)} texts differ, e.g. {different[0][:200]!r}"


def awkward_strings(matcher: Matcher, count: int, seed: int) -> list[str]:
    """Strings of the key's forms (changed as speech and typing change them) among short words and punctuation."""
    chance = random.Random(seed)
    forms = sorted(matcher.owners)
    changes = [str.upper, str.title, str.capitalize, lambda f: f.replace(" ", "\n  "), lambda f: f + "'s",
               lambda f: f + "’", lambda f: f.replace("s", "ſ"), lambda f: f.replace("i", "ı"),
               lambda f: f[:-1], lambda f: f[:2] + f[3:], lambda f: "Mrs " + f.title(), lambda f: "x" + f,
               lambda f: f + "é", lambda f: f.replace("'", "’"), lambda f: f.replace(".", "")]
    others = ["the", "The", "and", "said", ",", ".", "(", ")", "Mr", "Dr.", "’", "'", "\n", "İ", "K", "é", "-", "I",
              "we", "We", "is", "a", "it's", "Oak", "Hollis"]
    strings = []
    for _ in range(count):
        words = [changed(chance.choice(forms), chance.sample(changes, chance.randint(1, 3)))
                 if chance.random() < 0.5 else chance.choice(others) for _ in range(chance.randint(1, 8))]
        strings.append(chance.choice([" ", "", "  ", "\n", " \t"]).join(words))
    return strings


def changed(form: str, changes: list) -> str:
    for change in changes:
        form = change(form)
    return form


def test_the_find_passages_of_the_bundled_corpus_come_out_the_same(bundled):
    passages = BENCHMARK.find_passages(BUNDLED)
    assert len(passages) > 1000 and any(bundled.matches(p) for p in passages)  # the names are there to find
    assert_same(bundled, passages)


def test_paragraphs_of_the_bundled_corpus_come_out_the_same(bundled):
    transcripts = sorted(BUNDLED.rglob("*.md"))[::6]
    assert_same(bundled, [p for path in transcripts for p in path.read_text(encoding="utf-8").split("\n\n")])


def test_awkward_writing_comes_out_the_same(awkward):
    assert all(found(awkward, text)[1] for text in WRITTEN[2:])  # each string names someone
    assert_same(awkward, WRITTEN)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_strings_of_the_keys_forms_come_out_the_same(bundled, awkward, seed):
    assert_same(bundled, awkward_strings(bundled, 1500, seed))
    assert_same(awkward, awkward_strings(awkward, 1500, seed))


def test_a_form_beginning_with_punctuation_is_found_where_a_regex_would_find_it(awkward):
    assert awkward.forms._marks is not None  # such forms are looked for apart from words
    assert awkward.pseudonymise("Ask (Oak Tree) now")[0] == "Ask [partnership 1] now"
    assert awkward.pseudonymise("x(Oak Tree) now")[0] == "x(Oak Tree) now"  # not just after a letter


def test_the_ascii_copy_has_its_words_where_the_text_has_them():
    """Every character there is: a letter, digit or '_' (what the regex module takes as a word character) stays one."""
    text = "".join(map(chr, range(sys.maxunicode + 1)))
    words = [m.span() for m in re.finditer(r"\w+", text)]
    assert sum(end - start for start, end in words) > 100_000  # most characters beyond ASCII are letters
    assert [m.span() for m in re.finditer(rb"\w+", _ascii_words(text))] == words
