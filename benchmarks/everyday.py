"""Wall time of each everyday command, run in-process and through the background worker.

Run with ``.venv/bin/python benchmarks/everyday.py PROJECT [ROUNDS]`` on a project
`qualcode demo --project PROJECT` made (the bundled corpus, autocode's suggestions
and the team's 13,524 codings). Each command runs as a user runs it: the installed
`qualcode` script in a new process, output piped, ROUNDS times (default 5); the
table gives the best and the median wall time with the worker off
(``QUALCODE_WORKER=0``: every run imports everything itself) and on (a warm
worker), and their ratio. The commands that change the project (`code`, `uncode`,
`memo`) are each followed by `undo`, so the project ends as it began. For the
long listings the time to the first screen (50 lines) is given as well: piped,
they print row by row.

Figures from real runs are in the README's "Performance" section.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUALCODE = Path(sys.executable).parent / "qualcode"
SCREEN = 50

CODE = ["code", "NOR-S03-HT", "12", "equity"]
#: (label, arguments, how many undos afterwards, a long listing?)
COMMANDS = [
    ("code", CODE, 1, False),
    ("uncode", ["uncode", "NOR-S03-HT", "12", "equity"], 2, False),
    ("memo", ["memo", "benchmark memo"], 1, False),
    ("undo (of a memo)", ["undo"], 0, False),
    ("show", ["show", "NOR-S03-HT"], False, True),
    ("transcripts", ["transcripts"], False, False),
    ("stats", ["stats"], False, False),
    ("codings", ["codings"], False, True),
    ("codebook show", ["codebook", "show"], False, False),
    ("query matrix", ["query", "matrix"], False, False),
    ("query cooccur", ["query", "cooccur"], False, False),
    ("query find", ["query", "find", "equity"], False, True),
    ("query text", ["query", "text", "academy"], False, True),
    ("query framework", ["query", "framework", "--by", "participant"], False, False),
]


def run(args: list[str], project: Path, worker: bool) -> tuple[float, float]:
    """Wall seconds to the first screen and to the end of one run of `qualcode ARGS`."""
    env = {**os.environ, "QUALCODE_WORKER": "1" if worker else "0", "QUALCODE_CODER": "bench", "COLUMNS": "160"}
    started = time.perf_counter()
    process = subprocess.Popen([str(QUALCODE), *args, "--project", str(project)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
    first = None
    for number, _ in enumerate(process.stdout, 1):
        if number == SCREEN:
            first = time.perf_counter() - started
    process.wait()
    total = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"qualcode {' '.join(args)} failed with exit code {process.returncode}")
    return first or total, total


def measure(project: Path, rounds: int, worker: bool) -> dict[str, list[tuple[float, float]]]:
    """Each command's (first screen, total) times over `rounds` rounds."""
    times: dict[str, list[tuple[float, float]]] = {label: [] for label, *_ in COMMANDS}
    if worker:
        run(["stats"], project, worker)  # start the worker; it serves from the next command on
        time.sleep(3)
    for _ in range(rounds):
        for label, args, undos, _long in COMMANDS:
            if label == "uncode":
                run(CODE, project, worker)
            elif label.startswith("undo"):
                run(["memo", "to undo"], project, worker)
            times[label].append(run(args, project, worker))
            for _ in range(undos):
                run(["undo"], project, worker)
    return times


def main() -> None:
    project = Path(sys.argv[1]).resolve()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"{rounds} rounds on {project}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    before = measure(project, rounds, worker=False)
    after = measure(project, rounds, worker=True)
    print(f"{'command':<20} {'in-process best/median':>24} {'worker best/median':>20} {'ratio':>6}")
    for label, *_rest, long in COMMANDS:
        old, new = [t for _, t in before[label]], [t for _, t in after[label]]
        print(f"{label:<20} {min(old):10.2f}s {statistics.median(old):7.2f}s {min(new):10.2f}s {statistics.median(new):7.2f}s"
              f" {statistics.median(old) / statistics.median(new):5.1f}x")
        if long:
            old, new = [f for f, _ in before[label]], [f for f, _ in after[label]]
            print(f"{'  first ' + str(SCREEN) + ' lines':<20} {min(old):10.2f}s {statistics.median(old):7.2f}s"
                  f" {min(new):10.2f}s {statistics.median(new):7.2f}s {statistics.median(old) / statistics.median(new):5.1f}x")


if __name__ == "__main__":
    main()
