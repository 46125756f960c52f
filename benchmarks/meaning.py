"""Meaning, not just words: does similarity to the codebook's own text lift the theme of the book quotes?

Run with ``.venv/bin/python benchmarks/meaning.py [--seeds DIR] [--bundled DIR]`` after
``.venv/bin/pip install wordllama`` (not a qualcode dependency: see below).

Issue 15's item 4 asks whether a package that ships its model weights (nothing
fetched at run time) can tell what a passage is about where the codebook's
patterns cannot. `wordllama` (MIT, 19 MB wheel, 16 MB of static token
embeddings distilled from Llama 3's, numpy only) is the one found that does:
`fasttextembed`'s wheel (22 KB) holds no weights, and model2vec and
sentence-transformers fetch theirs from a model hub. wordllama 0.4.0's own
loader looks for the tokenizer under ``wordllama/tokenizer/`` while the wheel
ships it under ``wordllama/tokenizers/``, and so downloads it; pointing its
cache at the package folder with downloads disabled (`load_model`) loads both
files from the wheel, checked with no network, ``HF_HUB_OFFLINE=1`` and an
empty ``HOME``.

Text: the block quotes of ``book_quotes.py`` (the book: text this project did
not write), its development and test halves. Each code's text is its
definition, inclusion note and example from the demo's codebook; a quote's
similarity to a code is the best cosine over those three fields, to a theme
the best over its codes. *Centred* subtracts each code's mean similarity over
the quotes, since some definitions (equity's) are close to every passage.
Pattern evidence per theme is autocode's own (`CodebookMatcher.theme_totals`).
Ways of combining, each chosen on the development half only:

- ``patterns``: the theme with the most pattern evidence (autocode today);
- ``similarity``: the most similar theme, patterns ignored;
- ``fallback``: patterns, and similarity where no pattern hit;
- ``patterns + a*sim``: pattern evidence plus `a` times the similarity.

Recorded 2026-12-03 (wordllama 0.4.0.post1, 256 dimensions; accuracy on the
development / test half, coverage 1.000 wherever similarity takes part):

==============================  =============  =============
variant                         raw            centred
==============================  =============  =============
patterns (autocode)             0.630 / 0.692  (same)
similarity alone                0.407 / 0.385  0.556 / 0.385
fallback                        0.630 / 0.692  0.704 / 0.692
patterns + 1*sim                0.630 / 0.769  0.704 / 0.731
==============================  =============  =============

On the bundled corpus (``--bundled DIR``: text this project wrote), the
fallback gives the 375 of its 13,999 turns no pattern hit a theme, and its F1
falls from 0.851 to 0.840 (precision 0.837 to 0.815, recall 0.866 to 0.867):
most turns the patterns are silent on carry no gold theme.

Similarity alone is far worse than the patterns; the best variant on the
development half (centred, either way of combining) gains two of its 27 quotes
and at most one of the test half's 26, short of 0.80. Centring also makes a
turn's theme depend on which other turns are coded with it. So wordllama is
not added to qualcode; the figures stay here. Speed, for the record: loading
the model takes 2-6 s on this (shared, 2-core) machine, and it embeds the
quotes and the codes' fields some 25 times as fast as the spaCy pipeline
parses the quotes (printed below).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import book_quotes  # noqa: E402

FIELDS = ("definition", "include", "example")
WEIGHTS = (0.5, 1.0, 2.0)


def load_model():
    """wordllama's model from the files inside its wheel, never downloading (see the module docstring)."""
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def pattern_evidence(folder: Path, quotes: list[book_quotes.Quote]) -> tuple[list[dict[str, float]], list[dict], list[str], float]:
    """Autocode's evidence per theme for each quote, the codebook's codes (path and fields), and the quotes' texts.

    Also returns the seconds spaCy took to parse the quotes (the speed baseline).
    """
    from sqlalchemy import select

    from qualcode.analysis.overview import code_paths
    from qualcode.coding.codebook import load_codebook_file
    from qualcode.ingest.corpus import import_paths
    from qualcode.models import Code
    from qualcode.project import init_project
    from qualcode.suggestions.matching import CodebookMatcher, select_codes
    from qualcode.suggestions.nlp import load_pipeline, parse_sources, read_sources

    book_quotes.write_transcripts(quotes, folder / "quotes")
    project = init_project(folder / "project")
    import_paths(project, [folder / "quotes"])
    load_codebook_file(project, book_quotes.CODEBOOK, "benchmark")
    with project.session() as session:
        sources, paths = read_sources(session), code_paths(session)
        matcher = CodebookMatcher(load_pipeline(), select_codes(session, None), paths)
        codes = [{"path": paths[code.id], **{f: getattr(code, f) or code.title or code.name for f in FIELDS}}
                 for code in session.scalars(select(Code))]
    started = time.perf_counter()
    parsed = {p.source.id: p for p in parse_sources(project, sources)}
    parsing = time.perf_counter() - started
    project.close()
    ordered = [parsed[quote.id] for quote in quotes]
    evidence = [matcher.theme_totals(matcher.evidence(p.docs[0])) for p in ordered]
    return evidence, codes, [p.docs[0].text for p in ordered], parsing


def theme_similarity(model, texts: list[str], codes: list[dict], centred: bool) -> list[dict[str, float]]:
    """Each text's similarity to each theme: the best over the theme's codes of the best over their fields."""
    import numpy as np

    passages = model.embed(texts, norm=True)
    fields = np.stack([model.embed([code[f] for code in codes], norm=True) for f in FIELDS], axis=1)
    similarity = np.einsum("pd,cfd->pcf", passages, fields).max(axis=2)
    if centred:
        similarity = similarity - similarity.mean(axis=0, keepdims=True)
    themes = sorted({code["path"].split("/")[0] for code in codes})
    columns = {t: [i for i, code in enumerate(codes) if code["path"].split("/")[0] == t] for t in themes}
    return [{t: float(row[columns[t]].max()) for t in themes} for row in similarity]


def decide(evidence: dict[str, float], similarity: dict[str, float], variant: str, weight: float = 0.0) -> str:
    """One quote's theme under a way of combining (ties go to the theme first by name, as in autocode)."""
    if variant == "patterns" or (variant == "fallback" and evidence):
        scores = evidence
    elif variant in ("similarity", "fallback"):
        scores = similarity
    else:
        scores = {t: evidence.get(t, 0.0) + weight * s for t, s in similarity.items()}
    return max(sorted(scores), key=scores.__getitem__) if scores else book_quotes.NONE


def accuracy(quotes: list[book_quotes.Quote], themes: list[str], half: str) -> str:
    chosen = [(q, t) for q, t in zip(quotes, themes) if q.half == half]
    right = sum(q.theme == t for q, t in chosen)
    covered = sum(t != book_quotes.NONE for _, t in chosen)
    return f"{right / len(chosen):.3f} ({right}/{len(chosen)}, cover {covered / len(chosen):.2f})"


def bundled_fallback(model, folder: Path, centred: bool) -> None:
    """The bundled corpus's F1 before and after similarity suggests a theme for each turn no pattern hit.

    The fallback is the variant that adds suggestions rather than moving them,
    so this asks whether the turns the patterns are silent on (in text written
    in the codebook's own words) are turns worth suggesting anything for.
    """
    from sqlalchemy import select

    from qualcode.analysis.overview import code_paths
    from qualcode.models import Code, Coding
    from qualcode.suggestions.autocode import autocode, store_suggestions
    from qualcode.suggestions.evaluation import evaluate
    from qualcode.suggestions.matching import Suggestion, trimmed
    from qualcode.suggestions.nlp import read_sources
    from learned import open_corpus

    project = open_corpus(folder)
    autocode(project)
    gold = book_quotes.REPO / "transcripts" / "gold-codings.csv"
    before = evaluate(project, gold)["overall"]
    with project.session() as session:
        sources, paths = read_sources(session), code_paths(session)
        codes = [{"path": paths[code.id], **{f: getattr(code, f) or code.title or code.name for f in FIELDS}}
                 for code in session.scalars(select(Code))]
        said = set(session.execute(select(Coding.transcript_id, Coding.start).where(Coding.coder == "autocode")).all())
    turns = [(source.id, *trimmed(source.text, p.start, p.end)) for source in sources for p in source.passages]
    texts = {source.id: source.text for source in sources}
    similarity = theme_similarity(model, [texts[t][s:e] for t, s, e in turns], codes, centred)
    themes = {path: code_id for code_id, path in paths.items() if "/" not in path}
    found = [Suggestion(t, s, e, themes[max(sorted(sim), key=sim.__getitem__)], 0.0)
             for (t, s, e), sim in zip(turns, similarity) if (t, s) not in said and e > s]
    with project.session() as session:
        store_suggestions(session, sources, found, "meaning", "suggested")
    after = evaluate(project, gold)["overall"]
    project.close()
    print(f"\nbundled corpus ({len(turns)} turns, {len(found)} without a pattern suggestion), "
          f"{'centred' if centred else 'raw'} similarity where no pattern hit:")
    for label, figs in (("patterns", before), ("+ fallback", after)):
        print(f"  {label:<11} precision {figs['precision']:.3f} recall {figs['recall']:.3f} F1 {figs['f1']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=book_quotes.SEEDS, help="Folder holding the book's text.")
    parser.add_argument("--bundled", type=Path, metavar="DIR",
                        help="Also measure the fallback on the bundled corpus, in this project folder (made if missing).")
    args = parser.parse_args()
    try:
        book = book_quotes.find_book(args.seeds)
        started = time.perf_counter()
        model = load_model()
    except book_quotes.SeedsMissing as exc:
        print(f"meaning: not run: {exc}", file=sys.stderr)
        return 2
    except ImportError:
        print("meaning: not run: wordllama is not installed (.venv/bin/pip install wordllama)", file=sys.stderr)
        return 2
    loading = time.perf_counter() - started
    logging.disable(logging.INFO)  # wordllama's import sets up logging, and the project's migrations would talk
    quotes = book_quotes.extract_quotes(book.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        evidence, codes, texts, parsing = pattern_evidence(Path(folder), quotes)
    started = time.perf_counter()
    similarity = {centred: theme_similarity(model, texts, codes, centred) for centred in (False, True)}
    embedding = (time.perf_counter() - started) / 2
    variants = [("patterns", "patterns", 0.0), ("similarity", "similarity", 0.0), ("fallback", "fallback", 0.0),
                *((f"patterns + {w:g}*sim", "sum", w) for w in WEIGHTS)]
    print(f"{'variant':<20} {'centred':<8} {'development half':<26} test half")
    for label, variant, weight in variants:
        for centred in (False, True):
            themes = [decide(e, s, variant, weight) for e, s in zip(evidence, similarity[centred])]
            print(f"{label:<20} {'yes' if centred else 'no':<8} {accuracy(quotes, themes, 'dev'):<26} "
                  f"{accuracy(quotes, themes, 'test')}")
    print(f"\nwordllama: loaded in {loading:.2f} s; embedding the quotes and the codes' fields took "
          f"{embedding:.3f} s against {parsing:.3f} s for spaCy to parse the quotes (ratio {parsing / embedding:.0f})")
    if args.bundled:
        bundled_fallback(model, args.bundled, centred=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
