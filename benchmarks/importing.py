"""Where `qualcode import` of the bundled corpus spends its time (issue 14: import >= 5x faster than qc).

Run: `.venv/bin/python -m benchmarks.importing [--repeat 3]`. It times the installed console script
(`qualcode import transcripts`, output piped, on a fresh `qualcode init` project, in-process:
QUALCODE_WORKER=0), best of `--repeat` wall seconds with its CPU seconds, against two baselines timed
the same way in this process: a bare Python start-up and the start-up plus the modules the command
imports. Then, in this process with those modules loaded, the phases of one import: reading
(front matter, speakers), checking references, writing (one transaction), and printing the listing.

Figures from real runs on this 2-core machine, bundled corpus (182 transcripts, 636,241 words), main at
4d27ae1 against branch fastimport, taken in turns on a machine shared with other sessions (load 3.8-7),
so wall seconds are inflated about twofold and CPU seconds (user + sys) are the steadier comparison:

| measured | main | fastimport | main/fastimport |
|---|---|---|---|
| `qualcode import transcripts`, in-process: CPU, 3 runs in turns at load ~3.9 | 3.85-4.14 s | 2.90-3.16 s | 1.3x |
| same, wall (best of 3, load ~3.9) | 7.84 s | 5.82 s | 1.35x |
| `import_paths` in a loaded process, CPU (load ~6.8) | 2.49 s | 1.41 s | 1.8x |
| of which reading (front matter, speakers), CPU | 0.55 s | 0.39 s | |
| of which writing (one transaction), CPU | 1.76 s | 0.89 s | |
| of which the turns (insert, undo record), CPU | 1.25 s | 0.62 s | |
| speakers listing, piped, CPU | 0.26 s | 0.03 s | 8.7x |
| start-up + the modules the import loads, CPU (unchanged) | 0.92-0.99 s | 0.92-0.99 s | |
| served by the background worker (with `import` added to its SERVED set and preload: not committed), wall, load ~3.9 | | best 2.99 s | 1.95x the in-process best |

Where main's time went: the turns (25,601 rows) were inserted through the ORM's bulk path, which works out
each row's parameters in Python, then read back through ORM results and encoded value by value for the
undo record's digest; `session.get` loaded schools and participants again for every interview (the identity
map keeps clean rows only weakly) and loaded each new transcript once more just to expire its turns; the
speakers listing was one rich table rendered whole even into a pipe. What is left in-process is about one
second of Python start-up, SQLAlchemy and the declarative models, which only the background worker removes:
the last `make bench` (quiet machine) had qc 7.76 s against qualcode 3.76 s; scaled by the ratios above
(an estimate, not a quiet-machine run) that is ~2.9 s in-process (2.7x qc) and ~1.5 s served (~5x).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import QUALCODE, REPO, Timed, command

CORPUS = REPO / "transcripts"


def best(runs: list[Timed]) -> Timed:
    return min(runs, key=lambda run: run.wall)


def console_import(folder: Path, repeat: int) -> Timed:
    """The console script on a fresh project each time, in-process (no worker)."""
    runs = []
    for n in range(repeat):
        root = folder / f"project-{n}"
        command([QUALCODE, "init", str(root)])
        runs.append(command([QUALCODE, "import", str(CORPUS), "--project", str(root)], env={"QUALCODE_WORKER": "0"}))
    return best(runs)


def phases(folder: Path) -> dict[str, float]:
    """CPU seconds of each phase of one import, in this process with the modules loaded (steadier than wall on a shared machine)."""
    from qualcode.cli.corpus import print_speakers
    from qualcode.ingest import corpus, turns
    from qualcode.project import Project

    seconds: dict[str, float] = {}
    for module, name in ((corpus, "_read_interviews"), (corpus, "_check_references"), (corpus, "_write"),
                         (turns, "store")):
        setattr(module, name, _timed(getattr(module, name), name, seconds))
    root = folder / "phases"
    command([QUALCODE, "init", str(root)])
    started = time.process_time()
    report = corpus.import_paths(Project.open(root), [CORPUS])
    seconds["import_paths (all)"] = time.process_time() - started
    started = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        print_speakers(report.speakers)
    seconds["speakers listing (piped)"] = time.process_time() - started
    return seconds


def _timed(function, name: str, seconds: dict[str, float]):
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.process_time() - started
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    folder = Path(tempfile.mkdtemp(prefix="qualcode-importing-"))
    try:
        bare = best([command([sys.executable, "-c", "pass"]) for _ in range(repeat)])
        loaded = best([command([sys.executable, "-c", "import qualcode.cli.root, qualcode.ingest.corpus"])
                       for _ in range(repeat)])
        imported = console_import(folder, repeat)
        print(f"load {os.getloadavg()[0]:.1f}; best of {repeat} wall seconds (CPU seconds)")
        for label, run in (("python start-up", bare), ("start-up + the import's modules", loaded),
                           ("qualcode import transcripts (in-process)", imported)):
            print(f"  {label:42s} {run.wall:6.2f} s ({run.cpu:.2f} s)  {run.wall / bare.wall:5.1f}x start-up")
        print("phases in a loaded process (CPU seconds):")
        for name, value in phases(folder).items():
            print(f"  {name:42s} {value:6.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
