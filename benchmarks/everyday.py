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

A run on a quiet machine (3 rounds, load average 0.2 on 2 cores, the demo project,
2026-12-03 07:28 UTC), best/median:

    command                in-process best/median   worker best/median  ratio
    code                       1.11s    1.18s       0.15s    0.20s   6.0x
    uncode                     1.17s    1.18s       0.14s    0.20s   5.8x
    memo                       1.06s    1.12s       0.15s    0.16s   6.9x
    undo (of a memo)           1.16s    1.16s       0.15s    0.18s   6.6x
    show                       1.11s    1.14s       0.20s    0.25s   4.5x
      first 50 lines           1.09s    1.12s       0.19s    0.22s   5.0x
    transcripts                1.96s    2.23s       0.44s    0.51s   4.4x
    stats                      1.14s    1.24s       0.19s    0.21s   5.9x
    codings                    5.93s    6.56s       4.49s    4.59s   1.4x
      first 50 lines           1.04s    1.24s       0.15s    0.17s   7.1x
    codebook show              1.92s    2.11s       0.20s    0.25s   8.5x
    query matrix               2.00s    2.03s       0.31s    0.31s   6.6x
    query cooccur              2.14s    2.23s       0.38s    0.43s   5.2x
    query find                 2.51s    2.58s       0.70s    0.80s   3.2x
      first 50 lines           2.44s    2.47s       0.66s    0.77s   3.2x
    query text                 2.64s    2.71s       0.85s    0.90s   3.0x
      first 50 lines           2.57s    2.65s       0.82s    0.86s   3.1x
    query framework            2.34s    2.41s       0.61s    0.68s   3.5x

An earlier run (3 rounds; 2 cores shared with other work, load average 12.6 to 14: every
process got about a seventh of a core, so read the ratios more than the seconds):

    command                in-process best/median   worker best/median  ratio
    code                       6.69s    6.78s       0.56s    0.98s   6.9x
    uncode                     6.89s    8.38s       0.64s    0.71s  11.7x
    memo                       6.13s    9.53s       0.46s    0.53s  17.8x
    undo (of a memo)           5.93s    9.52s       0.38s    0.53s  17.9x
    show                       7.80s    8.75s       0.54s    0.62s  14.1x
      first 50 lines           7.71s    8.61s       0.50s    0.58s  14.8x
    transcripts               10.52s   16.03s       1.05s    1.20s  13.4x
    stats                      3.44s    7.92s       0.52s    0.53s  15.0x
    codings                   19.86s   32.68s      15.15s   16.80s   1.9x
      first 50 lines           4.83s    9.35s       0.47s    0.62s  15.2x
    codebook show              6.58s   10.79s       0.81s    0.87s  12.4x
    query matrix               7.93s   11.21s       0.88s    1.02s  11.0x
    query cooccur              7.72s   12.84s       1.39s    1.50s   8.6x
    query find                 8.91s   14.35s       2.84s    2.93s   4.9x
      first 50 lines           8.63s   14.10s       2.71s    2.81s   5.0x
    query text                12.82s   17.94s       2.47s    3.00s   6.0x
      first 50 lines          12.38s   17.43s       2.38s    2.91s   6.0x
    query framework           11.51s   15.60s       1.58s    1.93s   8.1x

Before this change (main; in-process, the listings drawn as one rich table; load
average 8.7 to 10.6, 3 rounds, best/median): code 2.04/3.00 s, uncode 3.55/3.82,
memo 3.06/4.44, undo 3.75/4.48, show 4.56/4.78, transcripts 6.52/6.61, stats
2.94/3.12, codings 127.5/136.2 (its first line after 126.7 s: the whole table
was drawn before the first row was printed), codebook show 4.55/4.64, query
matrix 5.70/5.83, cooccur 5.51/6.40, find 13.26/13.28, text 9.06/11.29,
framework 5.83/5.85.

Through the worker, what is left is the command's own work: `query find` and
`query text` spend most of it compiling the identity key's pseudonymiser (per
run; each command runs in a fresh process), `codings` reading 27,146 codings
through the ORM after its first screen.

The commands' own work, as the worker's child runs it (imports preloaded; the demo
project, output piped to /dev/null, best of 3), main (4d27ae1) -> branch fastqueries,
on a quiet machine (2026-12-03 12:07 UTC, load average 0.2 to 0.8) and, for the CPU
time of the child (user + system), at load 3.6 to 4.8 a few minutes earlier:

    command                                  wall, quiet          CPU, loaded
    query find hierarchy/accountability      0.70 -> 0.50 s      0.59 -> 0.50 s
      first 50 lines                         0.49 -> 0.31 s
    query find .../accountability/inspection 0.53 -> 0.38 s      0.45 -> 0.37 s
    query text "pecking order"               0.46 -> 0.40 s      0.39 -> 0.41 s
      first 50 lines                         0.39 -> 0.37 s
    query framework --by participant         0.55 -> 0.52 s      0.60 -> 0.60 s
    query cooccur                            0.35 -> 0.19 s      0.37 -> 0.18 s
    codings (all 27,148 codings)             5.00 -> 0.74 s      5.47 -> 0.63 s

`codings` had computed a transcript's line starts again for every coding and read
each through the ORM; `cooccur`'s segment pairs are sought on the span index
(0.45 -> 0.1 s of SQL); `find` pseudonymises each distinct text once and gathers a
passage's codes without a pandas groupby. What is left in `find` and `text` is
mostly pseudonymising (the key's matcher, ~0.07 s CPU, and ~0.1 ms a passage) and,
for `text`, one regex pass over every participant turn (~0.1 s CPU); in `framework`
and `cooccur`, drawing the rich table even when piped.
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
