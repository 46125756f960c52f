"""The identity key's word trie finds what one case-insensitive regex of all its forms would find."""

from __future__ import annotations

import re

import pytest

from qualcode.privacy.name_index import FormIndex

FORMS = ["hollis", "mrs hollis", "mrs h.", "the diocese", "the diocese of kelbury", "diocese", "o'brien",
         "st. mary's", "oak", "oak primary", "smith"]


def regex_spans(text: str) -> list[tuple[str, int, int, int]]:
    """The reference: one alternation of the forms, the longest first, spaces as any white space."""
    body = "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in sorted(FORMS, key=lambda f: (-len(f), f)))
    pattern = re.compile(rf"(?<![\w])(?P<name>{body})(?P<pos>['’]s?)?(?![\w])", re.IGNORECASE)
    found = []
    for match in pattern.finditer(text):
        form = next(f for f in FORMS if re.fullmatch(re.escape(f).replace(r"\ ", r"\s+"), match["name"], re.I))
        found.append((form, match.start("name"), match.end("name"), match.end()))
    return found


@pytest.mark.parametrize("text", [
    "Mrs Hollis's school and MRS\n  HOLLIS' office; hollis",  # possessives, case, any white space
    "The Diocese of Kelbury's view, the diocese, THE DIOCESE OF Kelburyx",  # the longest form that ends at a word
    "Hollisx xHollis Hollis_ (Hollis) 'Hollis' Mrs H.B. Mrs H., O'Brien’s",  # word boundaries, punctuation
    "St. Mary's, St.Mary's, Oak Primary School, Oak-Primary, Oaks",
    "ſmith and Smıth: the long s and the dotless i are s and i to IGNORECASE",
    "İhollis hollİs",  # a capital dotted I lowers to two characters; offsets must stay the text's
    "",
])
def test_trie_finds_what_one_regex_finds(text: str) -> None:
    assert list(FormIndex.of(FORMS).spans(text)) == regex_spans(text)


def test_trie_finds_names_in_order_without_overlap() -> None:
    spans = list(FormIndex.of(FORMS).spans("the diocese of kelbury and mrs hollis"))
    assert [(form, start) for form, start, _, _ in spans] == [("the diocese of kelbury", 0), ("mrs hollis", 27)]
