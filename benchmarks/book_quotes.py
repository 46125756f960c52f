"""Theme accuracy of autocode on text this project did not write: the block quotes of the study's book.

Run with ``.venv/bin/python benchmarks/book_quotes.py [--seeds DIR] [--show dev] [--json]``.

The bundled corpus was written by this project in the codebook's own
vocabulary, so its F1 flatters the patterns. Here the text is the interviewees'
words as Greany & Higham (2018) published them, and the answer is where the book
put them: a quote in chapter 3 is about hierarchy, in chapter 4 markets, in
chapter 5 networks.

1. The book is the text file in the seeds folder (default ``../shared/seeds``
   beside the repository; a fresh clone has none, and the script says so and
   exits with status 2) whose opening names "Hierarchy, Markets and Networks"
   and 2018.
2. A *block quote* is a paragraph of chapters 3-5 that is followed by an
   attribution line ("Headteacher, maintained primary, Ofsted Good", "RSC
   interviewee", "Regional Schools Commissioner"), or that follows a paragraph
   ending in a colon ("The headteacher described the school as follows:") and
   is not a list item nor a heading (under eight words). An attribution run
   into the paragraph around it (a lost line break: "...catch it. Local
   authority interviewee Relations between...", or "...one argued that: It
   seems ... insane to me. Headteacher, ..., Ofsted Outstanding") is split
   off, with the quote it ends, and so are the authors' marks (Markdown
   emphasis, "(Emphasis added.)"). Footnotes (lines opening with a superscript number) are
   skipped; a quote paragraph continued by one starting in lower case (a page
   break), or followed by another quote paragraph before its attribution, is
   one quote.
3. Each quote becomes one interview transcript whose only turn is the
   participant's (no interviewer question, no attribution, since the
   attribution's words, "Regional Schools Commissioner", would give the theme
   away), imported the normal way into a temporary project. The metadata is a
   placeholder (a national partnership leader): autocode reads only the words.
4. autocode runs with the default codebook (``codebooks/hierarchy-markets-networks.yaml``,
   the one ``make demo`` loads) and a quote's suggested theme is the top-level
   code of its suggestion (none if it has none).
5. The fixed split: quotes in book order, the 1st, 3rd, 5th... are the
   *development* half, the 2nd, 4th, 6th... the *test* half. Patterns and
   matching rules may be tuned looking at the development half only
   (``--show dev`` lists its quotes with what was suggested); the test half is
   reported, never inspected.

Figures per half: theme accuracy (a quote without a suggestion counts as
wrong), coverage (the share of quotes with any suggestion), precision and
recall per book theme, and Cohen's kappa between the book's theme and the
suggested one (where "none", leadership and equity are categories of their own).

The last line is `autocode --learn` on the same quotes: its models trained on
the development half, each quote coded with the book's theme, and the test
half's learned theme (the likeliest, with no score floor) measured the same way.

Recorded 2026-12-03 (53 quotes: development 27, test 26):

=========================================  ========  ========  =====  ==============
run                                        half      accuracy  cover  kappa
=========================================  ========  ========  =====  ==============
baseline (main at 4e53c57)                 dev       0.593     0.889  0.414
                                           test      0.731     0.962  0.583
words inside a longer match count once,    dev       0.630     0.889  0.480
and everyday school words added            test      0.692     1.000  0.507
=========================================  ========  ========  =====  ==============

The bundled corpus's F1 (``benchmarks/autocode.py``) went from 0.853 to 0.851.
Tried again on 2026-12-03, on the development half only: a theme's evidence
with hits on the theme's own (root) code weighed 0.5 or 0.75, with each level
of depth weighing 0.25-1 more, and a theme's single strongest hit instead of
the sum: 16 or 17 of 27 right, none above the plain sum (17).
Of the development half's 10 misses, 3 quotes hit no pattern at all, 3 are
put under leadership or equity (their words are about moral purpose, winners
and losers), and 4 name another governance theme's things outright (a networks
quote on high-stakes accountability, one on forced academisation).
Similarity to the codes' own text (wordllama) was measured too:
``meaning.py`` has its figures; it does not reach the target either.
``autocode --learn`` trained on the development half: test half accuracy 0.538
(14 of 26), kappa 0.152: 27 examples are far too few to learn a theme's words.
Tried on the development half and dropped, since they changed nothing there:
other weights for a word and a phrase (0.3-0.5, 0.5-0.8), weighting hits on a
theme's own code down or on a third-level code up (at most one more quote right
of 27), choosing the theme of the single best-supported code (14 of 27 right,
against 17), and adding each theme's TF-IDF similarity to its codes'
definitions, inclusion notes and examples (alone 16 of 27; added to the
pattern evidence at any weight, 16-17).
``transfer.py`` trains ``autocode --learn``'s models on the bundled corpus's
whole gold coding instead (13,999 turns) and combines them with the patterns
and wordllama: test half 0.615-0.654 (its docstring has every figure).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"
CHAPTER_THEMES = {3: "hierarchy", 4: "markets", 5: "networks"}
THEMES = tuple(CHAPTER_THEMES.values())
NONE = "none"
HALVES = ("dev", "test")
#: Fewer words after a colon are a heading ("SCHOOL 3) SHARING"), not speech.
MIN_INTRODUCED_WORDS = 8

_CHAPTER = re.compile(r"^Chapter (\d+)(?: [A-Z][\w ]{0,40})?$")
_FOOTNOTE = re.compile(r"^[\u00b9\u00b2\u00b3\u2070-\u2079]+")
_STAFF = r"[A-Z][\w ,-]{0,100}, Ofsted (?:Outstanding|Good|RI|Requires Improvement|Inadequate|Satisfactory)"
_ATTRIBUTION = re.compile(
    rf"^(?:{_STAFF}|[A-Z][\w ]{{0,40}} interviewee|Regional Schools? Commissioner|RSC|Regional MAT CEO|NCTL [\w ]{{0,60}})$"
)


#: Attributions run into the paragraph around them (lost line breaks): "...catch it. Local authority
#: interviewee Relations between...", and "...one argued that: It seems ... insane to me. Headteacher, ..., Ofsted Good".
_RUN_IN = re.compile(r"(?<=[.?!]) ((?:[A-Z][a-z]+ |[A-Z]+ )(?:[a-z]+ ){0,2}interviewee)(?: (?=[A-Z])|$)")
_TRAILING = re.compile(rf"(?<=[.?!'\u2019]) ({_STAFF})$")
#: The authors' marks in a quote, not the speaker's words: Markdown emphasis ("*we are prescribing*") and its note.
_EDITORIAL = re.compile(r"\*| ?\(Emphasis added\.\)")


class SeedsMissing(Exception):
    """The book is not where the benchmark looks: a clone without the shared seeds."""


@dataclass
class Quote:
    position: int  # 1-based, in book order
    chapter: int
    theme: str
    text: str
    attribution: str | None

    @property
    def id(self) -> str:
        return f"BQ-{self.position:03d}"

    @property
    def half(self) -> str:
        return HALVES[(self.position - 1) % 2]


def find_book(seeds: Path) -> Path:
    """The 2018 book's text among the seeds."""
    if not seeds.is_dir():
        raise SeedsMissing(f"no seeds folder at {seeds}: the book's text is not in this checkout "
                           "(a CI clone has no ../shared/seeds); pass --seeds DIR")
    for path in sorted(seeds.glob("*.txt")):
        opening = path.read_text(encoding="utf-8", errors="replace")[:2000]
        if "Hierarchy, Markets and Networks" in opening and "2018" in opening:
            return path
    raise SeedsMissing(f"no text file in {seeds} opens with the title 'Hierarchy, Markets and Networks' (2018)")


def extract_quotes(text: str) -> list[Quote]:
    """The block quotes of chapters 3-5, in book order (see the module docstring for the rule)."""
    paragraphs = [(chapter, line) for chapter, line in _paragraphs(text) if chapter in CHAPTER_THEMES]
    quotes: list[Quote] = []
    current: list[str] = []
    started = 0  # the chapter of the quote being read
    for index, (chapter, line) in enumerate(paragraphs):
        previous = paragraphs[index - 1][1] if index else ""
        following = paragraphs[index + 1][1] if index + 1 < len(paragraphs) else ""
        attributed = _ATTRIBUTION.match(following) is not None
        quoted = _ATTRIBUTION.match(line) is None and (
            attributed or _introduced(previous, line) or (bool(current) and line[:1].islower())
        )
        if quoted:
            started = chapter if not current else started
            current.append(line)
        if current and (not quoted or attributed or index + 1 == len(paragraphs)):
            quotes.append(Quote(len(quotes) + 1, started, CHAPTER_THEMES[started], " ".join(current),
                                following if attributed else None))
            current = []
    return quotes


def _paragraphs(text: str) -> list[tuple[int, str]]:
    """Non-blank lines (the text has one paragraph a line) with their chapter, footnotes left out."""
    chapter = 0
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _FOOTNOTE.match(line):
            continue
        heading = _CHAPTER.match(line)
        if heading:
            chapter = int(heading.group(1))
            continue
        found.extend((chapter, part) for part in _split_run_in(_EDITORIAL.sub("", line)) if part)
    return found


def _split_run_in(line: str) -> list[str]:
    """A paragraph that ran into a quote's attribution, as the paragraphs it should have been."""
    trailing = _TRAILING.search(line)
    if trailing is None:
        return _RUN_IN.split(line)
    body = line[: trailing.start()].rstrip()
    intro, colon, quote = body.rpartition(": ")
    parts = [intro + ":", quote] if colon and quote[:1].isupper() else [body]
    return [*parts, trailing.group(1)]


def _introduced(previous: str, line: str) -> bool:
    """Speech the paragraph before announces with a colon: not an item of a list, nor a heading."""
    return previous.endswith(":") and not line.startswith("-") and len(line.split()) >= MIN_INTRODUCED_WORDS


def write_transcripts(quotes: list[Quote], folder: Path) -> None:
    """One interview transcript per quote, the participant's single turn being the quote."""
    folder.mkdir(parents=True, exist_ok=True)
    for quote in quotes:
        (folder / f"{quote.id}.md").write_text(
            f"---\nid: {quote.id}\ninformant_kind: Partnership leader\nlocality: National\nkind: full\n---\n"
            f"Participant: {quote.text}\n",
            encoding="utf-8",
        )


def suggested_themes(folder: Path, quotes: list[Quote], codebook: Path = CODEBOOK) -> tuple[dict[str, str], dict[str, str]]:
    """Import the quotes into a fresh project and autocode them: each quote's suggested theme, and its learned one.

    The learned themes are `autocode --learn`'s models trained on the
    development half with the book's theme as each quote's coding, predicting
    the test half (development quotes are NONE there).
    """
    from sqlalchemy import select

    from qualcode.suggestions.autocode import autocode
    from qualcode.coding.codebook import load_codebook_file
    from qualcode.ingest.corpus import import_paths
    from qualcode.models import Coding
    from qualcode.analysis.overview import code_paths
    from qualcode.project import init_project

    write_transcripts(quotes, folder / "quotes")
    project = init_project(folder / "project")
    try:
        import_paths(project, [folder / "quotes"])
        load_codebook_file(project, codebook, "benchmark")
        autocode(project)
        with project.session() as session:
            paths = code_paths(session)
            rows = session.execute(select(Coding.transcript_id, Coding.code_id).where(Coding.origin == "suggested")).all()
        learned = learned_themes(project, quotes)
    finally:
        project.close()
    themes = {quote.id: NONE for quote in quotes}
    themes.update({transcript: paths[code_id].split("/")[0] for transcript, code_id in rows})
    return themes, learned


def learned_themes(project, quotes: list[Quote]) -> dict[str, str]:
    """The theme `autocode --learn`'s models give each test quote, trained on the development half's book themes.

    As in `learn`, but with no score floor: every test quote gets the likeliest theme.
    """
    from qualcode.suggestions.learning import read_turns, train

    by_id = {quote.id: quote for quote in quotes}
    turns = read_turns(project)
    for turn in turns:
        quote = by_id[turn.transcript]
        turn.labels, turn.coded = ({quote.theme}, True) if quote.half == "dev" else (set(), False)
    models = train(turns)
    themes = {quote.id: NONE for quote in quotes}
    themes.update({p.turn.transcript: p.path.split("/")[0] for p in models.predict([t for t in turns if not t.coded])})
    return themes


def figures(quotes: list[Quote], suggested: dict[str, str]) -> dict:
    """Accuracy, coverage, per-theme precision and recall, and Cohen's kappa for one set of quotes."""
    from sklearn.metrics import cohen_kappa_score

    gold = [quote.theme for quote in quotes]
    mine = [suggested[quote.id] for quote in quotes]
    per_theme = {}
    for theme in THEMES:
        hits = sum(g == m == theme for g, m in zip(gold, mine))
        said, truth = mine.count(theme), gold.count(theme)
        per_theme[theme] = {"precision": round(hits / said, 3) if said else 0.0,
                            "recall": round(hits / truth, 3) if truth else 0.0, "quotes": truth, "suggested": said}
    return {
        "quotes": len(quotes),
        "accuracy": round(sum(g == m for g, m in zip(gold, mine)) / len(quotes), 3),
        "coverage": round(sum(m != NONE for m in mine) / len(quotes), 3),
        "kappa": round(float(cohen_kappa_score(gold, mine)), 3),
        "per_theme": per_theme,
        "suggested": dict(Counter(mine)),
    }


def report(quotes: list[Quote], suggested: dict[str, str], learned: dict[str, str]) -> dict:
    """The figures for each half and for all quotes, and the learned themes' on the test half."""
    result = {half: figures([q for q in quotes if q.half == half], suggested) for half in HALVES}
    result["all"] = figures(quotes, suggested)
    result["learned_test"] = figures([q for q in quotes if q.half == "test"], learned)
    return result


def print_report(result: dict) -> None:
    print(f"{'half':<6} {'quotes':>6} {'accuracy':>9} {'coverage':>9} {'kappa':>6}   "
          + "  ".join(f"{theme[:5]:>5} P/R" for theme in THEMES))
    for half in (*HALVES, "all"):
        figs = result[half]
        themes = "  ".join(f"{figs['per_theme'][t]['precision']:.2f}/{figs['per_theme'][t]['recall']:.2f}" for t in THEMES)
        print(f"{half:<6} {figs['quotes']:>6} {figs['accuracy']:>9.3f} {figs['coverage']:>9.3f} {figs['kappa']:>6.3f}   {themes}")
    figs = result["learned_test"]
    right = round(figs["accuracy"] * figs["quotes"])
    print(f"autocode --learn trained on the development half: test half accuracy {figs['accuracy']:.3f} "
          f"({right} of {figs['quotes']}), kappa {figs['kappa']:.3f}")


def show(quotes: list[Quote], suggested: dict[str, str], half: str) -> None:
    """The quotes of one half with the book's theme and the suggested one (for tuning on the development half)."""
    for quote in quotes:
        if quote.half == half:
            mark = "  " if suggested[quote.id] == quote.theme else "XX"
            print(f"{mark} {quote.id} ch{quote.chapter} {quote.theme:<9} -> {suggested[quote.id]:<10} {quote.text}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="Folder holding the book's text.")
    parser.add_argument("--codebook", type=Path, default=CODEBOOK, help="Codebook file (default: the demo's).")
    parser.add_argument("--show", choices=["dev"], help="List the development half's quotes with their suggestions.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    try:
        book = find_book(args.seeds)
    except SeedsMissing as exc:
        print(f"book_quotes: not run: {exc}", file=sys.stderr)
        return 2
    quotes = extract_quotes(book.read_text(encoding="utf-8"))
    counts = Counter((quote.half, quote.theme) for quote in quotes)
    print(f"{len(quotes)} block quotes in {book.name}: "
          + ", ".join(f"{half} {sum(counts[half, t] for t in THEMES)} ({', '.join(f'{t} {counts[half, t]}' for t in THEMES)})"
                      for half in HALVES), file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        suggested, learned = suggested_themes(Path(folder), quotes, args.codebook)
    result = report(quotes, suggested, learned)
    if args.show:
        show(quotes, suggested, args.show)
    if args.json:
        print(json.dumps({"quotes": [asdict(q) | {"half": q.half} for q in quotes], **result}, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
