"""Two versions of qualcode side by side, under the same load: for a change on a busy machine.

Run with ``.venv/bin/python benchmarks/versions.py OTHER PROJECT [ROUNDS]``: OTHER is a
folder holding another version's ``qualcode`` package, e.g. main's, made with
``git archive main qualcode | tar -x -C /tmp/main-src``; the version compared with it is
this checkout's. Each version runs in a process that preloads what the worker preloads
(`qualcode.cli.worker._preload`) and forks a child per command, as the worker does; the
commands alternate between the two, the order flipped each round, so both meet the
same load. `code` and `uncode` are each paired with the other, so the project ends as
it began. Output: per command, best and median wall time of each version.

When several helpers share two cores, a best of 3 taken a minute apart swings by 2x;
alternating keeps the comparison fair though not the figures absolute. A run on
2026-12-03 at 14:30 UTC (load average 6 on 2 cores), 10 rounds, main -> fastpg, on the demo
project copied to PostgreSQL and, a minute later, on SQLite (no change meant there); best of 10, s:

    command        PostgreSQL        SQLite
    code           0.234 -> 0.211    0.206 -> 0.195
    uncode         0.264 -> 0.228    0.240 -> 0.233
    show           0.178 -> 0.228    0.235 -> 0.248
    transcripts    0.283 -> 0.256    0.233 -> 0.201
    stats          0.189 -> 0.174    0.159 -> 0.151
    codebook show  0.233 -> 0.200    0.216 -> 0.203
    query matrix   0.344 -> 0.308    0.297 -> 0.267
    query cooccur  0.700 -> 0.384    0.285 -> 0.296
    --help         0.066 -> 0.088    0.123 -> 0.113
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

TRANSCRIPT, CODER = "EAS-S01-HT", ["--coder", "bench"]
COMMANDS = {
    "code": ["code", TRANSCRIPT, "3", "markets", *CODER],
    "uncode": ["uncode", TRANSCRIPT, "3", "markets", *CODER],
    "show": ["show", TRANSCRIPT],
    "transcripts": ["transcripts"],
    "stats": ["stats"],
    "codebook show": ["codebook", "show"],
    "query matrix": ["query", "matrix", "--by", "locality"],
    "query cooccur": ["query", "cooccur"],
    "--help": ["--help"],
}
#: What runs before (`code` is undone by the `uncode` after it; `uncode` needs the `code` before it).
PAIRED = {"code": (None, "uncode"), "uncode": ("code", None)}


def serve() -> None:
    """Preload, then for each command line (JSON) on stdin fork a child that runs it; print its wall time."""
    from qualcode.cli import worker

    worker._preload()
    devnull = os.open(os.devnull, os.O_WRONLY)
    for line in sys.stdin:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            worker._run(json.loads(line))
            os._exit(0)
        os.waitpid(pid, 0)
        print(f"{time.perf_counter() - started:.4f}", flush=True)


def main(other: str, project: str, rounds: int) -> None:
    env = {**os.environ, "QUALCODE_WORKER": "0"}
    servers = {
        "other": subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd="/", env={**env, "PYTHONPATH": os.path.abspath(other)}),
        "this": subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, cwd="/", env=env),
    }

    def run(version: str, label: str) -> float:
        args = COMMANDS[label] + (["--project", project] if label != "--help" else [])
        servers[version].stdin.write(json.dumps(args) + "\n")
        servers[version].stdin.flush()
        return float(servers[version].stdout.readline())

    print(f"{'command':14} best other -> this   median other -> this")
    for label in COMMANDS:
        times: dict[str, list[float]] = {"other": [], "this": []}
        for n in range(rounds):
            for version in ("other", "this") if n % 2 == 0 else ("this", "other"):
                before, after = PAIRED.get(label, (None, None))
                if before:
                    run(version, before)
                times[version].append(run(version, label))
                if after:
                    run(version, after)
        other_times, this_times = times["other"], times["this"]
        print(f"{label:14} {min(other_times):.3f} -> {min(this_times):.3f}   "
              f"{statistics.median(other_times):.3f} -> {statistics.median(this_times):.3f}", flush=True)
    for server in servers.values():
        server.stdin.close()
        server.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5)
