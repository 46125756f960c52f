"""Time `qualcode autocode` on the bundled corpus against spaCy's own `nlp.pipe`, and score it.

Run with ``.venv/bin/python benchmarks/autocode.py [--limit N]``. Prints, in one run:

- spaCy's ``nlp.pipe`` over exactly the texts autocode parses (the participants'
  turns and the questions before them, same pipeline, same batch size) in words
  per second: the baseline;
- a first autocode run (parse, cache, match, store) in words per second, and its
  time as a ratio of the baseline (target: at most 1.25, i.e. 25% overhead);
- a second run, which reads the parse cache instead of parsing;
- precision, recall and F1 against ``transcripts/gold-codings.csv`` per
  top-level theme and overall (target: F1 >= 0.8);
- start-up of ``qualcode code --help`` and of a real ``qualcode code ...``
  against ``python -c pass`` (target: under 0.5 s more than bare Python).

Wall and CPU seconds are both shown: CPU time does not depend on how busy the
machine is, so ratios of CPU times are the steadier figure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.suggestions.autocode import autocode
from qualcode.suggestions.evaluation import evaluate
from qualcode.suggestions.nlp import BATCH_SIZE, load_pipeline, read_sources
from qualcode.project import Project, init_project

REPO = Path(__file__).resolve().parents[1]
QUALCODE = Path(sys.executable).parent / "qualcode"
#: The localities whose transcripts were used to prune noisy patterns (see the codebook's header).
DEVELOPMENT = ("EAS", "WES")


def timed(label: str, work) -> tuple[object, float, float]:
    """Run `work()`, print wall and CPU seconds, return its result and both times."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<40} {wall:8.2f}s wall {cpu:8.2f}s CPU")
    return result, wall, cpu


def setup(folder: Path, limit: int | None) -> tuple[Project, list[str] | None]:
    project = init_project(folder / "bench")
    import_paths(project, [REPO / "transcripts"])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "bench")
    with project.session() as session:
        ids = [source.id for source in read_sources(session)]
    return project, (ids[:limit] if limit else None)


def baseline(project: Project, ids: list[str] | None) -> tuple[int, float, float]:
    """spaCy alone: `nlp.pipe` over the texts autocode parses; returns words and seconds."""
    with project.session() as session:
        sources = read_sources(session, ids)
    texts = [text for source in sources for text in source.texts()]
    words = sum(len(text.split()) for text in texts)
    nlp = load_pipeline()
    _, wall, cpu = timed("spaCy nlp.pipe (baseline)", lambda: sum(1 for _ in nlp.pipe(texts, batch_size=BATCH_SIZE)))
    return words, wall, cpu


def startup(args: list[str], runs: int = 5) -> float:
    """Median wall seconds of a command, run `runs` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_startup(project: Project) -> None:
    bare = startup([sys.executable, "-c", "pass"])
    env_project = ["--project", str(project.root)]
    helped = startup([str(QUALCODE), "code", "--help"])
    coding = startup([str(QUALCODE), "code", "EAS-S01-HT", "3", "markets", "--coder", "bench", *env_project, "--memo", "x"])
    print(f"{'python -c pass':<40} {bare:8.3f}s")
    for label, seconds in (("qualcode code --help", helped), ("qualcode code EAS-S01-HT 3 markets", coding)):
        print(f"{label:<40} {seconds:8.3f}s  (+{seconds - bare:.3f}s over python, x{seconds / bare:.1f}; target < 0.5 s)")


def report_quality(project: Project, ids: list[str] | None) -> None:
    """Figures on the whole corpus, and on the held-out transcripts (patterns were only pruned on Eastern and Western)."""
    gold = REPO / "transcripts" / "gold-codings.csv"
    result = evaluate(project, gold, ids)
    print_figures(result)
    print(f"top-level F1 {result['overall']['f1']:.3f} (target >= 0.8)\n")
    with project.session() as session:
        held_out = [s.id for s in read_sources(session, ids) if not s.id.startswith(DEVELOPMENT)]
    print(f"held out: {len(held_out)} transcripts outside {', '.join(DEVELOPMENT)}")
    print_figures(evaluate(project, gold, held_out))


def print_figures(result: dict) -> None:
    print(f"{'theme':<12} precision  recall     F1")
    for theme, figures in [*result["per_code"].items(), ("overall", result["overall"])]:
        print(f"{theme:<12} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['f1']:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="Only the first N transcripts (a quick run).")
    limit = parser.parse_args().limit
    with tempfile.TemporaryDirectory() as folder:
        project, ids = setup(Path(folder), limit)
        load_pipeline()
        words, base_wall, base_cpu = baseline(project, ids)
        first, wall, cpu = timed("autocode, first run (parses)", lambda: autocode(project, ids))
        _, cached_wall, cached_cpu = timed("autocode, second run (cached parses)", lambda: autocode(project, ids))
        print(f"\n{first.transcripts} transcripts, {first.words:,} words in participants' turns"
              f" ({words:,} parsed, with the questions before them), {first.suggestions:,} suggestions")
        print(f"spaCy nlp.pipe   {words / base_wall:9,.0f} words/s wall {words / base_cpu:9,.0f} words/s CPU")
        print(f"autocode         {words / wall:9,.0f} words/s wall {words / cpu:9,.0f} words/s CPU")
        print(f"autocode / nlp.pipe time: x{wall / base_wall:.3f} wall, x{cpu / base_cpu:.3f} CPU (target <= x1.25)")
        print(f"cached run / first run:   x{cached_wall / wall:.3f} wall, x{cached_cpu / cpu:.3f} CPU"
              f" ({cached_wall:.1f}s)\n")
        report_quality(project, ids)
        print()
        report_startup(project)


if __name__ == "__main__":
    main()
