"""Several coders on one project at once: processes coding, while a colleague renames, merges and imports.

Run with ``.venv/bin/python benchmarks/team.py [--backend sqlite|postgresql] [--processes 4] [--operations 500]``
(PostgreSQL: start the throwaway server with ``bash .ci/postgres.sh`` first; the run uses a new database on it,
dropped afterwards). ``tests/test_team.py`` runs the same race, smaller.

Each process codes passages of the small fixture corpus through the library (`apply_codes`), half of them
its own coder's (distinct passages) and half the shared coder ``team``'s, the same passage in the same order in
every process (so the processes race on identical passages). Meanwhile, through the real CLI, ``codebook rename``
and ``codebook merge`` change codes the processes are coding with, and ``import`` adds transcripts (one long
write). Afterwards every acknowledged coding (stored, or "already coded") must be in the database exactly once,
under its code's new name, no constraint broken (no duplicate passage, no coding of a missing code, the tallies
exact), and no process or command may have printed a traceback. Prints operations/s, retries and waits.

Figures from a real run (4 processes x 500 operations, 2026-12-03, a 2-core machine shared with other work; the
import adds 150 transcripts; "refused" are codings asked for with a code already renamed or merged away):

- SQLite: 2000 operations in 15.6 s, 128 operations/s; 1095 acknowledged (591 of them "already coded"), 905
  refused; 0 retries, 6 waits for a busy project (0.8 s in all; "project is busy (import by lead since 01:19),
  waiting"); nothing lost or duplicated, no constraint broken, no traceback.
- PostgreSQL 15 (loopback): 2000 operations in 20.5 s, 98 operations/s; 1167 acknowledged (622 "already
  coded"), 833 refused; 6 transactions run again after a clash (a unique or foreign key refusal, a
  serialisation failure or a deadlock), 0 waits; nothing lost or duplicated, no constraint broken, no traceback.

Before this work (issue 16), the same race stored 935 duplicate rows on SQLite and 116 on PostgreSQL, and a
merge racing the coders ended in a ForeignKeyViolation traceback; without the row lock in `codebook merge`, the
merge on PostgreSQL lost the race to new codings 8 times running and gave up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "corpus"
#: The codes the processes code with; the race renames one and merges another away.
CODES = ["team/a", "team/b", "team/tsa", "team/old"]
RENAMED = {"team/tsa": "team/alliance", "team/old": "team/a"}
SHARED = "team"


def make_project(root: Path, database_url: str | None = None):
    """The fixture corpus, coded a little, with the codes the race uses."""
    sys.path.insert(0, str(REPO))
    from qualcode.coding.codebook import add_code
    from tests.coded_fixture import make_coded_project

    corpus = root.parent / "corpus"
    shutil.copytree(FIXTURES, corpus)
    project = make_coded_project(root, corpus, database_url=database_url)
    for code in CODES:
        add_code(project, code, "tester")
    project.close()
    return project


def extra_transcripts(folder: Path, count: int) -> Path:
    """`count` new national informants' transcripts for the racing import, each a few kB of talk."""
    folder.mkdir(parents=True, exist_ok=True)
    body = (FIXTURES / "national" / "NAT-I01.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    for n in range(count):
        front = f"---\nid: NAT-X{n:03d}\ninformant_kind: NCTL\nlocality: National\ndate: 2016-01-20\nkind: full\n---\n"
        (folder / f"NAT-X{n:03d}.md").write_text(front + body * 8, encoding="utf-8")
    return folder


def passages(texts: dict[str, str]) -> list[tuple[str, int, int]]:
    """Spans of the fixture transcripts to code: many, short, overlapping."""
    spans = []
    for transcript in sorted(texts):
        size = len(texts[transcript])
        spans += [(transcript, start, min(size, start + 24)) for start in range(0, size - 1, 9)]
    return spans


def worker(root: Path, number: int, operations: int, start_at: float, out: Path) -> None:
    """Code `operations` passages, write what was acknowledged (and what went wrong) to `out` as JSON."""
    from qualcode import concurrency
    from qualcode.coding.codebook import UnknownCode
    from qualcode.coding.manual import apply_codes
    from qualcode.errors import QualcodeError
    from qualcode.models import Transcript
    from qualcode.project import Project

    project = Project.open(root)
    busy: list[str] = []
    project.on_busy = busy.append
    with project.session() as session:
        texts = {t.id: t.text for t in session.query(Transcript) if not t.id.startswith("NAT-X")}
    spans = passages(texts)
    acked, refused, errors = [], 0, []
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    for i in range(operations):
        shared = i % 2 == 0
        j = i // 2 if shared else (i // 2) * 4 + number
        transcript, begin, end = spans[(j * 7) % len(spans)]
        code = CODES[j % len(CODES)]
        coder = SHARED if shared else f"coder{number}"
        try:
            applied = apply_codes(project, transcript, [code], coder, span=(begin, end))
            acked.append([transcript, begin, end, code, coder, bool(applied.already)])
        except UnknownCode:
            refused += 1  # renamed or merged away meanwhile: the coder is told, nothing is stored
        except QualcodeError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        except Exception:  # noqa: BLE001 (what the test must never see)
            errors.append(traceback.format_exc())
    seconds = time.perf_counter() - started
    project.close()
    counts = concurrency.counts
    out.write_text(json.dumps({"acked": acked, "refused": refused, "errors": errors, "seconds": seconds,
                               "retries": counts.retries, "waits": counts.waits, "waited": counts.waited,
                               "kinds": counts.kinds, "busy": busy[:3]}), encoding="utf-8")


def _cli(root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "QUALCODE_PROJECT": str(root)}
    return subprocess.Popen([sys.executable, "-m", "qualcode", *args, "--coder", "lead"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def race(root: Path, processes: int, operations: int, imported: Path, timeout: float = 600) -> dict:
    """Run the workers and the racing commands; return what they reported."""
    start_at = time.time() + 2.0  # the workers import qualcode and read the texts first
    outs = [root.parent / f"worker{n}.json" for n in range(processes)]
    workers = [subprocess.Popen([sys.executable, __file__, "worker", str(root), str(n), str(operations), str(start_at),
                                 str(outs[n])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(processes)]
    time.sleep(max(0.0, start_at - time.time() - 0.5))  # the commands start up while the workers do
    # The import starts with the workers; the rename and the merge come once they are coding (about 0.02 s
    # an operation), so that codings race with them rather than all come after.
    commands = [_cli(root, "import", str(imported))]
    time.sleep(0.005 * operations)
    commands.append(_cli(root, "codebook", "rename", "team/tsa", "alliance"))
    time.sleep(0.005 * operations)
    commands.append(_cli(root, "codebook", "merge", "team/old", "team/a"))
    deadline = time.monotonic() + timeout
    results = []
    for process in workers + commands:
        stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        results.append({"args": process.args[2:5], "returncode": process.returncode, "stderr": stderr})
    reports = [json.loads(out.read_text(encoding="utf-8")) if out.exists() else None for out in outs]
    return {"workers": reports, "processes": results}


def problems(root: Path, outcome: dict) -> list[str]:
    """Everything that went wrong: lost or duplicated codings, broken constraints, failures, tracebacks."""
    from sqlalchemy import func, select

    from qualcode.models import Code, CodeTally, Coding
    from qualcode.analysis.overview import code_paths
    from qualcode.project import Project

    found = []
    for result in outcome["processes"]:
        if result["returncode"] != 0 or "Traceback" in result["stderr"] or "internal error" in result["stderr"]:
            found.append(f"{' '.join(result['args'])}: exit {result['returncode']}: {result['stderr'][-2000:]}")
    for n, report in enumerate(outcome["workers"]):
        if report is None:
            found.append(f"worker {n} wrote no report")
        else:
            found += [f"worker {n}: {error}" for error in report["errors"]]
    project = Project.open(root)
    with project.session() as session:
        paths = {path: id_ for id_, path in code_paths(session).items()}
        rows = session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder,
                                      func.count()).where(Coding.anchor != "unplaced")
                               .group_by(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder)).all()
        stored = {tuple(row[:5]): row[5] for row in rows}
        found += [f"stored {n} times: {key}" for key, n in stored.items() if n > 1]
        for report in filter(None, outcome["workers"]):
            for transcript, start, end, code, coder, _ in report["acked"]:
                key = (transcript, start, end, paths.get(RENAMED.get(code, code)), coder)
                if stored.get(key) != 1:
                    found.append(f"acknowledged, stored {stored.get(key, 0)} times: {transcript} {start}-{end} {code} {coder}")
        codes = set(session.scalars(select(Code.id)))
        found += [f"a coding of a missing code {c}" for c in set(session.scalars(select(Coding.code_id))) - codes]
        found += _tally_problems(session, CodeTally, Coding)
        found += [f"{old} is still there" for old in RENAMED if old in paths]
    project.close()
    return found


def _tally_problems(session, CodeTally, Coding) -> list[str]:
    from sqlalchemy import select

    from qualcode.analysis.query import COUNTED_ORIGINS

    spans: dict[tuple, set] = {}
    for code, transcript, start, end in session.execute(
            select(Coding.code_id, Coding.transcript_id, Coding.start, Coding.end)
            .where(Coding.origin.in_(COUNTED_ORIGINS), Coding.anchor != "unplaced")):
        spans.setdefault((code, transcript), set()).add((start, end))
    expected = {key: len(found) for key, found in spans.items()}
    tallies = {(c, t): n for c, t, n in session.execute(select(CodeTally.code_id, CodeTally.transcript_id, CodeTally.segments))}
    return [] if tallies == expected else [f"code_tallies differ from the codings: {set(tallies.items()) ^ set(expected.items())}"]


def summary(outcome: dict) -> dict:
    reports = [r for r in outcome["workers"] if r]
    operations = sum(len(r["acked"]) + r["refused"] for r in reports)
    seconds = max(r["seconds"] for r in reports)
    return {"operations": operations, "seconds": round(seconds, 1), "per_second": round(operations / seconds, 1),
            "acknowledged": sum(len(r["acked"]) for r in reports), "already": sum(a[5] for r in reports for a in r["acked"]),
            "refused (code renamed or merged away)": sum(r["refused"] for r in reports),
            "retries": sum(r["retries"] for r in reports),
            "clashes by kind": {k: sum(r["kinds"].get(k, 0) for r in reports) for k in ("busy", "conflict")},
            "waits": sum(r["waits"] for r in reports),
            "waited_s": round(sum(r["waited"] for r in reports), 1),
            "busy messages": sorted({m for r in reports for m in r["busy"]})[:2]}


def _postgres_database() -> tuple[str, callable]:
    import uuid

    from sqlalchemy import create_engine, text

    server = (REPO / ".ci" / "postgres.url").read_text(encoding="utf-8").strip()
    name = f"qualcode_team_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--import-transcripts", type=int, default=150)
    options = parser.parse_args()
    url, drop = _postgres_database() if options.backend == "postgresql" else (None, lambda: None)
    with tempfile.TemporaryDirectory() as folder:
        try:
            root = Path(folder) / "project"
            make_project(root, url)
            imported = extra_transcripts(Path(folder) / "more", options.import_transcripts)
            outcome = race(root, options.processes, options.operations, imported)
            found = problems(root, outcome)
        finally:
            drop()
    print(json.dumps({"backend": options.backend, **summary(outcome)}, indent=2))
    print("\n".join(found[:20]) if found else "no coding lost or duplicated, no constraint broken, no traceback")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.path.insert(0, str(REPO))
        worker(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), Path(sys.argv[6]))
    else:
        main()
