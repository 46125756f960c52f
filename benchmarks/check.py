"""Time `qualcode check` on a 200-quote report, against a naive fuzzy scan of every transcript per quote.

Run with ``.venv/bin/python benchmarks/check.py [--scale 1 10]``. For each
scale the sample corpus is generated and imported, a Markdown report of 200
quotes (participants' words from the gold coding, each with the attribution
rendered from its speaker's metadata) is written, and checked. The baseline is
what the checker avoids: a rapidfuzz alignment of each quote against every
transcript (timed on 10 quotes and scaled to 200, since it is slow).
Targets (issue 6): under 2 s at scale 1, under 10 s at scale 10.

Recorded 2026-11-23 on the 2-core development machine, scale 10: 14.8 s
(index 10.5 s) before, 6.3 s (index 2.9 s) after turns were read as rows only
when a speaker is asked for, text folded with str.replace, own ids masked by
shape, and exact matching narrowed to transcripts holding a quote's inner words.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz

from qualcode.reports.attribution import render, speaker_for
from qualcode.reports.check import Corpus, check_report
from qualcode.ingest.corpus import import_paths
from qualcode.models import Transcript
from qualcode.project import Project, init_project
from qualcode.samplecorpus import generate

QUOTES = 200
NAIVE_SAMPLE = 10


def build(folder: Path, scale: int) -> tuple[Project, Path]:
    corpus = folder / "corpus"
    generate(corpus, scale=scale, seed=0)
    project = init_project(folder / "project")
    import_paths(project, [corpus])
    return project, corpus / "gold-codings.csv"


def write_report(project: Project, gold: Path, path: Path) -> list[str]:
    """200 quotes from gold passages spoken by participants, each with its rendered attribution."""
    rows = list(csv.DictReader(gold.open(encoding="utf-8")))
    random.Random(0).shuffle(rows)
    quotes, blocks = [], ["# Benchmark report", ""]
    with project.session() as session:
        for row in rows:
            transcript = session.get(Transcript, row["transcript"])
            text = " ".join(transcript.text[int(row["start"]) : int(row["end"])].split())
            if len(text.split()) < 12 or any(t.role != "participant" for t in transcript.turns if t.start <= int(row["start"]) < t.end):
                continue
            line = render(project.settings, speaker_for(transcript.participant))
            blocks += [f"> {text}", "", line, ""]
            quotes.append(text)
            if len(quotes) == QUOTES:
                break
    path.write_text("\n".join(blocks), encoding="utf-8")
    return quotes


def naive_seconds(project: Project, quotes: list[str]) -> float:
    """A fuzzy alignment of each quote against every transcript, scaled from a sample to all quotes."""
    with project.session() as session:
        texts = [t.text for t in session.query(Transcript)]
    started = time.perf_counter()
    for quote in quotes[:NAIVE_SAMPLE]:
        max(fuzz.partial_ratio_alignment(quote, text).score for text in texts)
    return (time.perf_counter() - started) * len(quotes) / NAIVE_SAMPLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    for scale in args.scale:
        with tempfile.TemporaryDirectory() as folder:
            project, gold = build(Path(folder), scale)
            report = Path(folder) / "report.md"
            quotes = write_report(project, gold, report)
            started = time.perf_counter()
            corpus = Corpus(project)
            indexed = time.perf_counter() - started
            result = check_report(project, report, corpus=corpus)
            total = time.perf_counter() - started
            naive = naive_seconds(project, quotes)
            errors = len(result.errors)
            print(f"scale {scale}: {result.quotes} quotes checked in {total:.2f}s "
                  f"(index {indexed:.2f}s), {errors} errors; naive full scan {naive:.1f}s "
                  f"= {naive / total:.0f}x slower")


if __name__ == "__main__":
    main()
