"""Time the queries and the demo reports on the bundled corpus and on the sample corpus at scale 10.

Run with ``.venv/bin/python benchmarks/queries.py [--scale 1 10]``. Each
corpus is generated, imported, given the codebook and its gold codings as
accepted codings, then each query runs a few times and the best time is
printed in ms, and as a ratio of the baseline: reading every counted coding
with its speaker's metadata into pandas (`coded_segments`), the first step of
counting a matrix the obvious way. Targets (issue 5): a full code × locality matrix under 100 ms
at scale 10; all `make demo` reports under 20 s at scale 1.

Recorded 2026-11-23 on the shared 2-core development machine, best of 3:
before (dd833e8) -> after migration 0003 and the matrix and co-occurrence
SQL (load 1-2.5 from other work) -> after migration 0004's code tallies
(quiet machine):

    scale 10 (1,820 transcripts, 135,399 codings)
    baseline: every coding into pandas                            1583 ms
    matrix code × locality                      655 ->   177-213 ->   63 ms (x0.04)
    matrix rolled up × phase,ofsted (schools)  1414 ->   602-719 ->  732 ms
    cooccur within turn                        6423 ->  1047-1068 -> 1132 ms
    scale 1
    baseline: every coding into pandas                             147 ms
    matrix code × locality                       71 ->    29 ->   15 ms (x0.11)
    cooccur within turn                         671 ->    96 ->   99 ms
    all demo reports (14 files)                28.7 ->  15.6 ->  16.1 s

The plain matrix reads the database's tallies of distinct coded spans per
code and transcript (28,075 rows at scale 10) instead of the 135,399 codings;
a rolled-up matrix still counts from the codings' covering index (a span
coded with a code and its child is one segment of the parent), and so does
a matrix of words or of designations and partnerships (counted in pandas).
The framework's count cells are the rolled-up matrix's numbers summed per
school or participant (same query); before that they were counted from the
baseline's frame. `query framework` as the worker's child runs it
(/tmp/prof/time.py: imports preloaded, output to /dev/null, best of 3), main
(6af6b18) -> branch fastframework, 2026-12-03 14:30 UTC, before and after run
alternately, 2 cores at load average 4.7 to 6 (the seconds are inflated by
the load, read the ratios; the same commands took 0.34 s, 0.47 s and 2.19 s
before on a quieter machine):

    demo project, SQLite                       0.54 -> 0.27 s  (x2.0)
      --by participant                         0.79 -> 0.36 s  (x2.2)
    demo project, PostgreSQL                   0.61 -> 0.17 s  (x3.7)
      --by participant                         0.57 -> 0.26 s  (x2.2)
    scale 10, SQLite                           3.26 -> 0.90 s  (x3.6)
      --by participant                         3.21 -> 1.00 s  (x3.2)

PostgreSQL right after an import (branch pganalyze, 2026-12-03 16:30 UTC, load
average 2-3.5): two fresh copies of the demo project with autovacuum off, one
without statistics (as a project was until autovacuum came by) and one with
the ANALYZE qualcode now runs after a bulk write; the library's queries, best
of 5, interleaved, without -> with statistics: matrix rolled up 102 -> 81 ms,
matrix of words 634 -> 472 ms, find 470 -> 337 ms, text 580 -> 414 ms,
framework by school 82 -> 56 ms, by participant 105 -> 59 ms, codings listing
413 -> 233 ms (a second run: the same within the noise, framework and codings
x0.9 and x1.07); co-occurrence within a turn 312 -> 461 ms until it ran with
Memoize off (SET LOCAL for that query), then 262 -> 273 ms. SQLite with an
ANALYZE: no query faster beyond the noise, co-occurrence within a segment
x1.2-1.3 slower, so SQLite is not analysed.

What is left is mostly the one SQL query (~50 ms on the demo project, ~0.4-0.6 s
at scale 10 under that load: 135,399 codings through the span index, each
rolled up to its theme and counted once per span) and, by participant, the
small-cell check over every participant (`small_cells`, ~0.2 s at scale 10).

`query find` reads its passages' rows in one Core query (`coded_spans`)
instead of a `coded_segments` frame per code: in this script at scale 1
(2026-12-03 17:08 UTC, load 1.7), the rows of `find rsc,la-role` took 11 ms
in SQL against 53 ms from `coded_segments`. As the worker's child runs
`query find hierarchy/accountability` on the demo project (/tmp/prof/first.py,
first 50 lines piped, best of 5; /tmp/prof/time.py, whole, best of 3), main
(52f19a4) -> branch fastfindsql, alternately, 17:09-17:15 UTC, load 2.5:

    first screen, SQLite                       0.122 -> 0.088 s  (x1.4)
    first screen, PostgreSQL                   0.137 -> 0.095 s  (x1.4)
    whole listing, SQLite                      0.268 -> 0.224 s  (x1.2)
    whole listing, PostgreSQL                  0.294 -> 0.265 s  (x1.1)

In the child, `find_passages` itself went from 117-123 ms to 60-72 ms; what
is left before the first row is opening the project and its first
connection, `select_codes` (~25 ms cold, `code_paths` runs its two queries
twice) and the identity key (~15 ms); the whole listing is mostly
pseudonymising 1,631 passages.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.analysis.framework import framework
from qualcode.exchange.coding_tables import import_codings
from qualcode.project import Project, init_project
from qualcode.analysis.query import COUNTED_ORIGINS, _frame_spans, coded_segments, coded_spans, find
from qualcode.analysis.query_matrix import matrix
from qualcode.analysis.query_cooccur import cooccur
from qualcode.analysis.query_text import text_search
from qualcode.samplecorpus import generate

REPO = Path(__file__).resolve().parents[1]


def coded_project(folder: Path, scale: int) -> Project:
    corpus = folder / "corpus"
    generate(corpus, scale=scale, seed=0)
    project = init_project(folder / "project")
    started = time.perf_counter()
    import_paths(project, [corpus])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "bench")
    codings = import_codings(project, corpus / "gold-codings.csv", "gold", origin="accepted").added
    shutil.copy(corpus / "identity-key.csv", project.root / "identity-key.csv")
    print(f"scale {scale}: imported with {codings:,} codings in {time.perf_counter() - started:.1f}s")
    return project


def best_ms(run: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def queries(project: Project) -> dict[str, Callable[[], object]]:
    return {
        "matrix code × locality": lambda: matrix(project, by="locality"),
        "matrix rolled up × phase,ofsted (schools)": lambda: matrix(project, by="phase,ofsted", unit="schools", rollup=True),
        "matrix × designation (words)": lambda: matrix(project, by="designation", unit="words"),
        "cooccur within segment, near 200": lambda: cooccur(project, within="segment", near=200),
        "cooccur within turn": lambda: cooccur(project, within="turn"),
        "find rsc OR la-role": lambda: find(project, "rsc,la-role", mode="or"),
        "find's rows, in SQL (coded_spans)": lambda: coded_spans(project, ["rsc", "la-role"]),
        "find's rows, from coded_segments (before)": lambda: _frame_spans(project, ["rsc", "la-role"], None, COUNTED_ORIGINS),
        "text 'pecking order'": lambda: text_search(project, "pecking order"),
        "framework school × theme": lambda: framework(project, by="school"),
        "framework participant × theme": lambda: framework(project, by="participant"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 10])
    scales = parser.parse_args().scale
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            project = coded_project(Path(tmp), scale)
            baseline = best_ms(lambda: coded_segments(project))
            print(f"  {'baseline: every coding into pandas':<45} {baseline:9.0f} ms")
            for name, run in queries(project).items():
                ms = best_ms(run)
                print(f"  {name:<45} {ms:9.0f} ms  x{ms / baseline:.2f}")
            if scale == 1:
                from qualcode.reports.render import render_demo_reports

                started = time.perf_counter()
                written = render_demo_reports(project, Path(tmp) / "reports")
                print(f"  all demo reports ({len(written)} files){'':<19} {time.perf_counter() - started:9.1f} s")


if __name__ == "__main__":
    main()
