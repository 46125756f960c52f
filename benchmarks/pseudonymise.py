"""Finding the identity key's names: the word trie against one regex of every form, in the same process.

Run with ``.venv/bin/python benchmarks/pseudonymise.py [TRANSCRIPTS]`` (default: the
bundled corpus and its identity-key.csv). The baseline is what `Matcher` did
before: one case-insensitive regex of all forms (a trie: the longest form wins;
white space as ``\\s+``), compiled in every process that pseudonymises. The table gives CPU
seconds to build each (from the key's forms) and to find every form in the whole corpus, and checks
that both find the same spans. `query find` and `query text` build the matcher
once per run and pseudonymise some 200,000 characters.

Two runs (2026-12-03 08:56 UTC, load average 9 on 2 cores; CPU seconds, which load affects less):

    5,463 forms, 3,764,611 characters in 182 transcripts; same spans: yes
    step                  one regex   word trie   ratio
    build                     0.27s       0.02s   16.4x
    find (whole corpus)       0.66s       1.25s    0.5x
    build                     0.35s       0.03s   12.5x
    find (whole corpus)       0.82s       0.93s    0.9x

In a whole `query find equity` run in-process (1,037 passages, 202,999 characters;
CPU seconds, 2026-12-03 08:50 UTC, load average 8): building the matcher 0.42 s on
main, 0.05-0.07 s with the trie; building plus pseudonymising every passage 0.51 s
on main, 0.19 s with the trie. Through the background worker (the installed script,
main and this change alternating, 3 rounds each, median wall, load average 4.9,
2026-12-03 09:12 UTC): `query find equity` 1.75 s on main, 1.36 s with the trie
(1.28x); `query text academy` 1.80 s and 1.43 s (1.26x). Still over 0.3 s: what is
left is the query itself (SQL and pandas, 0.24 s CPU), the fuzzy name check
(rapidfuzz) and printing.

The trie used to find slower in a long text (a Python step for every word, against
the regex engine's C loop). Since 2026-12-03 17:00 it finds each word that can begin
a form in an ASCII copy of the text, in C, and tries the trie only there, and only
where what follows can continue a form (after 'the', a word that begins one; after a
letter, the dot of an initial). Two runs of this script, 16:53 UTC (load average 2.7):

    build                     0.35s       0.03s   12.5x
    find (whole corpus)       0.86s       0.54s    1.6x
    build                     0.34s       0.02s   14.3x
    find (whole corpus)       0.83s       0.49s    1.7x

The second table is that change on the passages `query find hierarchy/accountability`
pseudonymises (from the corpus's gold codings: those its listing of the bundled
demo project shows), in CPU milliseconds, best of 15, `Before` and `Matcher` taken in
turn: finding the key's forms, scanning for misspelt names (their regexes now begin
with the capital, so the engine skips to the next one in C), and all of
`Matcher.pseudonymise`. `Before` keeps today's case check and IGNORECASE fold (the old
fold also searched every ASCII text for the letters it folds: some 3 ms more here), so
the ratio is if anything low. The same two runs:

    `query find hierarchy/accountability`: 1,311 distinct passages, 282,054 characters; same output: yes
    step                     before       after   ratio
    find forms               80.4ms      36.2ms    2.2x
    fuzzy words              36.8ms      16.6ms    2.2x
    pseudonymise             85.6ms      46.1ms    1.9x
    find forms               64.5ms      26.6ms    2.4x
    fuzzy words              38.5ms      18.0ms    2.1x
    pseudonymise             96.3ms      55.4ms    1.7x

The whole command as the worker's child runs it (the same fork and preload, output to
/dev/null, best of 3), main's matcher and this one alternating, 5 rounds, 2026-12-03
16:58 UTC, load average 2.9: `query find hierarchy/accountability` 0.43, 0.40, 0.54,
0.61, 0.69 s with main's, 0.39, 0.39, 0.48, 0.56, 0.52 s with this one (medians 0.54
and 0.48 s); its output is byte-identical, piped and on a terminal, and so is
`anonymise export`'s (all 182 transcripts).

What is left, per passage: a few microseconds of fixed cost (11 ms for 1,312 passages
of two letters each), the two regex scans for misspelt names (some 5 ms each), the
case check of forms found ('we' is someone's initials, 'WE') and a Python step for
each word that can begin a form.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys
import time
from pathlib import Path

from qualcode.ingest.transcript import parse_text_file
from qualcode.privacy.name_index import FormIndex, Words
from qualcode.privacy.pseudonyms import IdentityKey, Matcher

#: The code whose passages (and its sub-codes') `query find` lists in the second table.
FIND_CODE = "hierarchy/accountability"


def one_regex(forms: list[str]) -> re.Pattern:
    """The baseline: every form in one regex, a trie sharing prefixes (longer continuations first), as `Matcher` had."""
    trie: dict = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}
    return re.compile(rf"(?<![\w])(?P<name>{_branches(trie)})(?P<pos>['’]s?)?(?![\w])", re.IGNORECASE)


def _branches(node: dict) -> str:
    branches = [(r"\s+" if char == " " else re.escape(char)) + _branches(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


class BeforeIndex(FormIndex):
    """The index as it found forms until 2026-12-03 16:15 (the baseline of the second table, and the reference
    tests/test_pseudonymise_fast.py compares with): a regex cut every word and other character out of the text, each
    a Python object, and a deeper node of the trie was tried after every word that continues a form (after every
    'the'). The text was also searched for the letters IGNORECASE folds further, ASCII or not (not counted here)."""

    def _candidates(self, low: str):
        pieces = _STARTS.split(low)  # white space, then a start, alternating
        words, offsets = pieces[1::2], list(itertools.accumulate(map(len, pieces)))[::2]
        return itertools.compress(offsets, map(self.starts.__contains__, words))

    def _next_word(self, node: Words, low: str, at: int) -> int | None:
        spaces = _SPACES.match(low, at)
        return spaces.end() if spaces else None


class Before(Matcher):
    """`Matcher` as it was until 2026-12-03 16:15: `BeforeIndex`, and fuzzy scans that tried their lookbehind at every
    character (their group 'word' renamed 'rest', as `Matcher._fuzzy` now reads it)."""

    word_scan = re.compile(r"(?<![\w'’])(?P<rest>[A-Z][a-z][\w]{3,})(?P<pos>['’]s)?(?![\w])")
    pair_scan = re.compile(r"(?<![\w'’])(?=(?P<rest>[A-Z][\w.]+ [A-Z][a-z]\w+)(?P<pos>['’]s)?(?![\w]))")

    @classmethod
    def of(cls, matcher: Matcher) -> Before:
        before = cls.__new__(cls)
        before.__dict__.update(matcher.__dict__, _fuzzy_cache={})
        before.forms = BeforeIndex(matcher.forms.root, matcher.forms.starts)
        return before


_STARTS = re.compile(r"((?<!\w)(?:\w+|\S))")
_SPACES = re.compile(r"\s+")


def find_passages(folder: Path, code: str = FIND_CODE) -> list[str]:
    """The passages `query find CODE` lists on the bundled corpus, from its gold codings, each once (the listing
    pseudonymises each distinct text once)."""
    with open(folder / "gold-codings.csv", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["code"] == code or row["code"].startswith(code + "/")]
    texts = {row["transcript"]: None for row in rows}
    for path in folder.rglob("*.md"):
        if path.stem in texts:
            texts[path.stem] = parse_text_file(path).text
    return list(dict.fromkeys(texts[row["transcript"]][int(row["start"]) : int(row["end"])] for row in rows))


def cpu(step) -> tuple[float, object]:
    started = time.process_time()
    result = step()
    return time.process_time() - started, result


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "transcripts")
    key = IdentityKey(None)
    key.import_csv(folder / "identity-key.csv")
    texts = [path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.md"))]
    matcher = Matcher(key.entries, key.settings)
    trie_build, index = cpu(lambda: FormIndex.of(matcher.owners))
    regex_build, pattern = cpu(lambda: one_regex(list(matcher.owners)))
    regex_find, by_regex = cpu(lambda: [[m.span("name") for m in pattern.finditer(t)] for t in texts])
    trie_find, by_trie = cpu(lambda: [[(s, e) for _, s, e, _ in index.spans(t)] for t in texts])
    print(f"{len(matcher.owners):,} forms, {sum(map(len, texts)):,} characters in {len(texts)} transcripts; "
          f"same spans: {'yes' if by_regex == by_trie else 'NO'}")
    print(f"{'step':<20} {'one regex':>10} {'word trie':>11} {'ratio':>7}")
    for step, old, new in (("build", regex_build, trie_build), ("find (whole corpus)", regex_find, trie_find)):
        print(f"{step:<20} {old:9.2f}s {new:10.2f}s {old / new:6.1f}x")
    compare_find(folder, matcher)


def compare_find(folder: Path, matcher: Matcher, rounds: int = 15) -> None:
    """Before and after on the passages `query find` pseudonymises: CPU seconds, best of `rounds`, taken in turn."""
    passages = find_passages(folder)
    before = Before.of(matcher)
    steps = {
        "find forms": (lambda m: [list(m.forms.spans(p)) for p in passages]),
        "fuzzy words": (lambda m: [m._fuzzy(p, []) for p in passages]),
        "pseudonymise": (lambda m: [m.pseudonymise(p) for p in passages]),
    }
    same = [before.pseudonymise(p) for p in passages] == [matcher.pseudonymise(p) for p in passages]
    print(f"\n`query find {FIND_CODE}`: {len(passages):,} distinct passages, {sum(map(len, passages)):,} characters; "
          f"same output: {'yes' if same else 'NO'}")
    print(f"{'step':<20} {'before':>10} {'after':>11} {'ratio':>7}")
    for step, run in steps.items():
        times = {before: [], matcher: []}
        for _ in range(rounds):
            for which, taken in times.items():
                taken.append(cpu(lambda: run(which))[0])  # noqa: B023 (run now)
        old, new = min(times[before]), min(times[matcher])
        print(f"{step:<20} {old * 1000:8.1f}ms {new * 1000:9.1f}ms {old / new:6.1f}x")


if __name__ == "__main__":
    main()
