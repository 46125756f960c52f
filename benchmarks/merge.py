"""Time `qualcode merge` of a second coder's copy of the bundled corpus, against loading the same codings as a table.

Run with ``.venv/bin/python benchmarks/merge.py``. It builds a project as
`benchmarks/tables.py` does (transcripts/, the codebook, the gold codings as
coder 'gold'), copies its folder as a second coder's copy, and there adds the
second coder's codings (`second_coder` of tests/test_agreement_bundled.py: the
gold coding perturbed, seed 16). Then, in the first project:

- baseline: `import_codings` of the second coder's codings into a copy of it
  (a table of codings checked and inserted as one undoable change, no matching);
- `merge` of the second coder's copy (its folder): every transcript matched,
  gold's codings already present, the second coder's merged, as one change;
- the same merge again (everything already present), from a `.qdpx` export of
  the copy, and `undo` of the merge.

A real run (2 cores shared with other helpers, load average about 10, hence wall far above CPU;
182 transcripts, 13,524 gold codings, 12,137 of the second coder):

    baseline: import_codings of the same codings         12.50s wall    3.34s CPU
    merge (project folder)                               14.90s wall    5.23s CPU
      codings: 25661 read, 12137 merged, 13524 already present, 0 unmatched
    merge again                                           8.65s wall    3.21s CPU
      codings: 25661 read, 0 merged, 25661 already present, 0 unmatched
    merge again from a .qdpx export                      21.64s wall    5.29s CPU
      codings: 25661 read, 0 merged, 25661 already present, 0 unmatched
    undo of the merge                                    19.97s wall    7.24s CPU
    merge / baseline: 1.19

(wall; in CPU the merge takes 1.57 times the baseline.)

The merge reads every row of the other copy (transcripts' texts, hashed, and
all its codings, not only the new ones) and records each new row for undo, as
an import (the baseline) does.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.tables import project_with_transcripts  # noqa: E402
from qualcode.coding.manual import undo  # noqa: E402
from qualcode.exchange.coding_tables import import_codings  # noqa: E402
from qualcode.exchange.merging import merge  # noqa: E402
from qualcode.project import Project  # noqa: E402
from qualcode.exchange.qdpx.writer import export_qdpx  # noqa: E402
from tests.test_agreement_bundled import GOLD, second_coder  # noqa: E402


def timed(label: str, work) -> tuple[object, float]:
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall = time.perf_counter() - started
    print(f"{label:<50} {wall:7.2f}s wall {time.process_time() - cpu:7.2f}s CPU")
    return result, wall


def copy_of(project: Project, folder: Path) -> Project:
    project.close()
    return Project.open(Path(shutil.copytree(project.root, folder)))


def tally(report) -> str:
    codings = report.as_json()["codings"]
    return (f"  codings: {codings['read']} read, {codings['merged']} merged, {codings['already_present']} already present,"
            f" {codings['unmatched']} unmatched")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        here = project_with_transcripts(root / "here", codings=False)
        import_codings(here, GOLD, "gold")
        second = second_coder(GOLD, root / "second.csv")
        there = copy_of(here, root / "there")
        import_codings(there, second, "second")
        there.close()
        baseline_project = copy_of(here, root / "baseline")
        _, baseline = timed("baseline: import_codings of the same codings",
                            lambda: import_codings(baseline_project, second, "second"))
        report, merged = timed("merge (project folder)", lambda: merge(here, there.root, "bench"))
        print(tally(report))
        report, _ = timed("merge again", lambda: merge(here, there.root, "bench"))
        print(tally(report))
        export_qdpx(there, root / "there.qdpx")
        report, _ = timed("merge again from a .qdpx export", lambda: merge(here, root / "there.qdpx", "bench"))
        print(tally(report))
        timed("undo of the merge", lambda: undo(here, "bench"))
        print(f"merge / baseline: {merged / baseline:.2f}")


if __name__ == "__main__":
    main()
