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

The trie finds slower in a long text (a Python step per word that can start a
form, against the regex engine's C loop), so a run breaks even at some
2 to 4 million characters (the whole corpus): every everyday command pseudonymises far less.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from qualcode.privacy.name_index import FormIndex
from qualcode.privacy.pseudonyms import IdentityKey, Matcher


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


if __name__ == "__main__":
    main()
