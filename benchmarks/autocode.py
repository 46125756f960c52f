"""Time import and `qualcode autocode` (with and without ``--learn``) on the bundled corpus, against spaCy's `nlp.pipe`.

Run with ``.venv/bin/python benchmarks/autocode.py [--limit N]``. Prints, in one run:

- the import of the corpus, wall and CPU;
- spaCy's ``nlp.pipe`` over exactly the texts autocode parses (the participants'
  turns and the questions before them), with the stock pipeline autocode
  starts from (``en_core_web_sm`` without NER, the parser replaced by
  ``senter``), in one process: the baseline;
- a first autocode run (parse, cache, match, store) in words per second, and its
  time as a ratio of the baseline;
- a second run, which reads the parse cache instead of parsing;
- ``autocode --learn``'s learning step, trained on the Eastern locality's gold
  coding (loaded as manual codings, as a team's own coding would be);
- import + autocode, and import + autocode + learning: wall, CPU, and the wall
  time it would take on a quiet two-core machine, estimated as the CPU of the
  main process (the serial part: reading, storing, training's bookkeeping)
  plus half the CPU of its worker processes (two of them, given shards of
  equal words) (target: import + autocode under 60 s);
- precision, recall and F1 against ``transcripts/gold-codings.csv`` per
  top-level theme and overall (target: F1 >= 0.8);
- start-up of ``qualcode code --help`` and of a real ``qualcode code ...``
  against ``python -c pass`` (target: under 0.5 s more than bare Python).

Wall and CPU seconds are both shown; CPU counts the worker processes too
(their rusage once they have ended). CPU time does not depend on how busy the
machine is, so ratios of CPU times are the steadier figure, and the load
average is printed with each run.

Recorded runs are at the end of this docstring.

Recorded 2026-12-03, bundled corpus (182 transcripts, 605,581 words parsed),
SQLite, 2 cores shared with other work (load average 2.3-2.7 during the run,
a test run of another helper's beside it):

    import the corpus                  2.6 s wall    2.6 s CPU
    spaCy nlp.pipe, stock (baseline)  98.9 s wall   89.6 s CPU (6,760 words/s CPU)
    autocode, first run               44.1 s wall   56.8 s CPU (3.1 own + 53.6 workers) ~29.9 s quiet
    autocode, cached parses            9.6 s wall   12.0 s CPU
    learning (3,215 EAS codings)      26.1 s wall   30.6 s CPU (8.6 own + 22.0 workers) ~19.6 s quiet
    import + autocode                 47.7 s wall   60.0 s CPU                          ~33.2 s quiet
    import + autocode --learn         73.8 s wall   90.6 s CPU                          ~52.8 s quiet
    autocode / nlp.pipe: x0.446 wall, x0.634 CPU; F1 0.851 (held out 0.852), as before the changes

An earlier run at load 4-5 (before the bulk INSERT of a run's suggestions):
import + autocode 59.6 s wall, 57.3 s CPU, ~32.7 s quiet; with --learn 95.4 s
wall, 92.3 s CPU, ~55.7 s quiet.

The same day, before these changes (spaCy's n_process=2, ruler and lemmatizer
per token, evidence recomputed per learned suggestion), through the installed
command on a fresh project (CPU of the process and its children, load 8-14):
``qualcode autocode`` 208.8 s CPU (505 s wall), ``autocode --learn`` 215.9 s
CPU; after them, 64.6 s and 102.1 s CPU, with byte-identical stored
suggestions (scores and evidence too, 13,624 pattern-based and 10,968 learned).
The "quiet" estimate assumes the two workers' shards (equal words) run side by
side on the two cores without contention, and ignores their start (a fork,
milliseconds); the main process's own CPU is counted as serial.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.suggestions.autocode import autocode
from qualcode.exchange.coding_tables import import_codings
from qualcode.suggestions.evaluation import evaluate
from qualcode.suggestions.learning import learn
from qualcode.suggestions.nlp import BATCH_SIZE, PIPELINE, load_pipeline, read_sources
from qualcode.project import Project, init_project

REPO = Path(__file__).resolve().parents[1]
QUALCODE = Path(sys.executable).parent / "qualcode"
#: The localities whose transcripts were used to prune noisy patterns (see the codebook's header).
DEVELOPMENT = ("EAS", "WES")
#: The locality whose gold coding trains `autocode --learn` (as in benchmarks/learned.py).
TRAINING_LOCALITY = "EAS"


class Times:
    """Wall and CPU seconds of a stretch of work; CPU split into this process's and its ended children's."""

    def __init__(self, wall: float = 0.0, own: float = 0.0, children: float = 0.0):
        self.wall, self.own, self.children = wall, own, children

    @property
    def cpu(self) -> float:
        return self.own + self.children

    @property
    def quiet(self) -> float:
        """Estimated wall seconds on a quiet two-core machine: the serial part plus the workers' share of two cores."""
        return self.own + self.children / 2

    def __add__(self, other: Times) -> Times:
        return Times(self.wall + other.wall, self.own + other.own, self.children + other.children)


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def timed(label: str, work) -> tuple[object, Times]:
    """Run `work()`, print wall and CPU seconds (own + children) and the load, return its result and times."""
    started, (own, children) = time.perf_counter(), _cpu()
    result = work()
    now_own, now_children = _cpu()
    times = Times(time.perf_counter() - started, now_own - own, now_children - children)
    show(label, times)
    return result, times


def show(label: str, times: Times) -> None:
    load = os.getloadavg()[0]
    print(f"{label:<44} {times.wall:7.1f}s wall {times.cpu:7.1f}s CPU ({times.own:.1f} own + {times.children:.1f}"
          f" workers) ~{times.quiet:.1f}s quiet; load {load:.1f}")


def setup(folder: Path, limit: int | None) -> tuple[Project, list[str] | None, Times]:
    project = init_project(folder / "bench")
    _, imported = timed("import the corpus", lambda: import_paths(project, [REPO / "transcripts"]))
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "bench")
    with project.session() as session:
        ids = [source.id for source in read_sources(session)]
    return project, (ids[:limit] if limit else None), imported


def baseline(project: Project, ids: list[str] | None) -> tuple[int, Times]:
    """spaCy alone: the stock pipeline's `nlp.pipe` over the texts autocode parses, in one process."""
    with project.session() as session:
        sources = read_sources(session, ids)
    texts = [text for source in sources for text in source.texts()]
    words = sum(len(text.split()) for text in texts)
    nlp = importlib.import_module(PIPELINE).load(exclude=["ner", "parser"])
    nlp.enable_pipe("senter")
    _, times = timed("spaCy nlp.pipe, stock pipeline (baseline)",
                     lambda: sum(1 for _ in nlp.pipe(texts, batch_size=BATCH_SIZE)))
    return words, times


def ended_workers(result):
    """`result`, once joblib's worker processes have ended, so that their CPU is counted."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    return result


def capture(work) -> str:
    """What `work()` prints."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        work()
    return out.getvalue()


def train_on_gold(project: Project, folder: Path) -> int:
    """The training locality's gold codings, loaded as a coder's manual codings; returns how many."""
    lines = (REPO / "transcripts" / "gold-codings.csv").read_text(encoding="utf-8").splitlines()
    training = folder / "training.csv"
    training.write_text("\n".join([lines[0], *(line for line in lines[1:] if line.startswith(TRAINING_LOCALITY))]) + "\n")
    return import_codings(project, training, "gold").added


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
    if held_out:
        print_figures(evaluate(project, gold, held_out))


def print_figures(result: dict) -> None:
    print(f"{'theme':<12} precision  recall     F1")
    for theme, figures in [*result["per_code"].items(), ("overall", result["overall"])]:
        print(f"{theme:<12} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['f1']:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="Only the first N transcripts (a quick run).")
    limit = parser.parse_args().limit
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        project, ids, imported = setup(Path(folder), limit)
        _, loaded = timed("load the pipeline", load_pipeline)
        words, base = baseline(project, ids)
        first, coded = timed("autocode, first run (parses)", lambda: autocode(project, ids))
        _, cached = timed("autocode, second run (cached parses)", lambda: autocode(project, ids))
        quality = capture(lambda: report_quality(project, ids))  # before the gold coding is loaded as training
        trained = train_on_gold(project, Path(folder))
        learned, learning = timed(f"autocode --learn: learning ({trained:,} {TRAINING_LOCALITY} codings)",
                                  lambda: ended_workers(learn(project, ids)))
        show("import + autocode", imported + loaded + coded)
        show("import + autocode --learn", imported + loaded + coded + learning)
        print(f"\n{first.transcripts} transcripts, {first.words:,} words in participants' turns"
              f" ({words:,} parsed, with the questions before them), {first.suggestions:,} suggestions,"
              f" {learned.suggestions:,} learned suggestions ({len(learned.modelled)} codes modelled)")
        print(f"spaCy nlp.pipe   {words / base.wall:9,.0f} words/s wall {words / base.cpu:9,.0f} words/s CPU")
        print(f"autocode         {words / coded.wall:9,.0f} words/s wall {words / coded.cpu:9,.0f} words/s CPU")
        print(f"autocode / nlp.pipe time: x{coded.wall / base.wall:.3f} wall, x{coded.cpu / base.cpu:.3f} CPU")
        print(f"cached run / first run:   x{cached.wall / coded.wall:.3f} wall, x{cached.cpu / coded.cpu:.3f} CPU\n")
        print(quality)
        report_startup(project)


if __name__ == "__main__":
    main()
