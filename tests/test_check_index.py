"""The lookups `qualcode check` narrows its work with find exactly what searching everything finds.

Word pairs narrow a quote's search to the transcripts that can hold it; a
report's lines are matched against the identity key a chunk at a time. Each
is compared here with the plain way (every transcript searched, every line
matched alone) at the edges where they could differ: line breaks, cut words,
names at the ends of lines and of chunks.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qualcode.ingest.corpus import import_paths
from qualcode.privacy.pseudonyms import leaks, load_key, project_key
from qualcode.reports import check
from qualcode.reports.check import _WORD, Corpus, WordPairs, _in_order, check_report, fold, fragments_of, line_leaks
from tests.conftest import FIXTURES


def pairs_of(texts: dict[str, str]) -> WordPairs:
    return WordPairs(list(texts), [WordPairs.of(_WORD.findall(fold(text))) for text in texts.values()])


def test_word_pairs_hold_adjacent_words_across_line_breaks_and_cut_words():
    pairs = pairs_of({
        "A": "We were thinking\nthe school said no.",
        "B": "The school, we were told, said no.",  # the words, not side by side
        "C": "Nothing alike here.",
    })
    assert pairs.holding(["ing the school said no"]) == {"A"}  # 'ing' is cut from 'thinking': not a word of the pair
    assert pairs.holding(["the school said"]) is None  # one inner word: no pair to ask for
    assert pairs.holding(["we were told said"]) == {"B"}  # 'were told': a pair in B only
    assert pairs.holding(["x school said y", "q nothing alike z"]) == set()  # every fragment's pairs, in one place
    assert pairs.holding(["two words"]) is None and pairs.holding(["a b"]) is None
    assert pairs.holding(["a zebra crossing b"]) == set()


SHARED = "Every budget meeting ends the same way, with the same three schools asking for the same support."


@pytest.fixture
def named(project, tmp_path: Path):
    """Four transcripts naming people and places, two of them ending in the same words, and their identity key."""
    corpus = tmp_path / "named"
    shutil.copytree(FIXTURES / "anonymise", corpus)
    for name in ("eastern/EAS-S02-HT.md", "northern/NOR-S01-HT.md"):
        with open(corpus / name, "a", encoding="utf-8") as transcript:
            transcript.write(f"\n{SHARED}\n")
    import_paths(project, [corpus])
    key = load_key(project)
    key.import_csv(corpus / "identity-key.csv")
    key.save()
    return project


def ranked_by_searching_everything(corpus: Corpus, quote: str, hint: str | None) -> list[str]:
    """What `locate` finds and in what order, by searching every transcript `candidates` ranks."""
    fragments = fragments_of(quote)
    ranked = corpus.candidates([w for fragment in fragments for w in _WORD.findall(fragment)])
    order = ([hint] if hint in corpus.sources else []) + [t for t in ranked if t != hint]
    return [t for t in order if _in_order(corpus.sources[t].folded, fragments) is not None]


def test_locate_finds_and_ranks_what_searching_everything_does(named):
    corpus = Corpus(named)
    texts = {t: source.transcript.text for t, source in corpus.sources.items()}
    shared = SHARED.lower().rstrip('.')  # in two transcripts
    broken = next(found for text in texts.values() if (found := re.search(r"\w\.?\n\w", text)))
    at = broken.start() + 1
    across = " ".join(broken.string[at - 40 : at + 40].split()[1:-1])  # whole words either side of a line break
    for quote in (shared, across, f"{across[:30]} [...] {across[-30:]}", "no one said this at all, not in any interview"):
        for hint in (None, *sorted(texts)):
            expected = ranked_by_searching_everything(corpus, quote, hint)
            found = corpus.locate(quote, hint)
            assert [m.transcript_id for m in found if m.exact] == expected, (quote, hint)
    assert len(ranked_by_searching_everything(corpus, shared, None)) > 1
    assert ranked_by_searching_everything(corpus, across, None)


LINES = [
    "Margaret", "Hollis came in; then Tarrowby's",  # a name split over two lines; a possessive at a line's end
    "Mrs", "Holliss and Mrs Holliss",  # a title on the line before a misspelt name, and on its own line
    "Heathermoor Learning", "Trust, Drennick Enginering",  # a name split again; a misspelt pair
    "EAS-S01-HT said Mags", "", "MH", "the", "Tarrowby road", "mh and Hollis",
]


def per_line(project, corpus: Corpus, lines: list[str]) -> list[tuple[int, str, str, float]]:
    key = project_key(project)
    return [(number, leak.text, leak.entry_kind, leak.score)
            for number, line in enumerate(lines, start=1) for leak in leaks(project, corpus.mask_ids(line), key)]


def test_lines_matched_together_leak_exactly_what_each_line_alone_does(named):
    corpus = Corpus(named)
    for lines in (LINES, [line + "\x00" if line == "MH" else line for line in LINES]):  # a NUL: each line alone
        joined = [(number, leak.text, leak.entry_kind, leak.score)
                  for number, leak in line_leaks(named, project_key(named), corpus, lines)]
        assert joined == per_line(named, corpus, lines)
    lines_with_leaks = {number for number, *_ in per_line(named, corpus, LINES)}
    assert {1, 2, 4, 6, 7, 9, 11, 12} <= lines_with_leaks  # the comparison is not of two empty lists


def test_a_report_leaks_at_its_own_lines_across_chunks(named, tmp_path: Path, monkeypatch):
    report = tmp_path / "notes.md"
    report.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    expected = [(line, "leak", text) for line, text, *_ in per_line(named, Corpus(named), LINES)]
    for chunk in (200, 3, 1):
        monkeypatch.setattr(check, "LEAK_LINES", chunk)
        assert [(f.line, f.check, f.found) for f in check_report(named, report).findings] == expected
