"""Time `export codings` and `import --codings` as XLSX and CSV on the bundled coded project.

Run with ``.venv/bin/python benchmarks/tables.py [PROJECT]``. Without PROJECT it builds the project as
`benchmarks/qdpx.py` does (transcripts/, the codebook, the gold codings as the
team's), then prints wall and CPU seconds for: the export of every coding (with
its words pseudonymised and every metadata field) as .xlsx and as .csv, the
import of each into a project with the same transcripts and codebook (every row
checked, one undoable change), and checks that the imported codings are the
exported ones. With PROJECT (a project `qualcode demo --project PROJECT` made:
the gold codings and autocode's suggestions) it exports that project's codings.

A real run (2 cores shared with other work, load average 7; 182 transcripts, 13,524 codings):

    export codings .xlsx                            7.31s wall    4.49s CPU
      13524 codings; 2.7 MB
    import --codings .xlsx (same transcripts)       8.08s wall    7.86s CPU
      13524 added, 13524 stored; same codings as exported: True
    export codings .csv                             0.97s wall    0.94s CPU
      13524 codings; 5.3 MB
    import --codings .csv (same transcripts)        3.06s wall    2.96s CPU
      13524 added, 13524 stored; same codings as exported: True

On the project `qualcode demo --project /tmp/tabdemo` made (27,146 codings: the
gold codings and autocode's suggestions; load average 3.5), after the import
stopped compiling a regular expression per row:

    export codings .xlsx                           14.26s wall   10.55s CPU
      27146 codings; 4.4 MB
    import --codings .xlsx (same transcripts)      23.38s wall   15.73s CPU
      27146 added, 27146 stored; same codings as exported: True
    export codings .csv                             4.50s wall    2.85s CPU
      27146 codings; 11.0 MB
    import --codings .csv (same transcripts)        9.39s wall    6.32s CPU
      27146 added, 27146 stored; same codings as exported: True
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from qualcode.coding.codebook import load_codebook_file
from qualcode.exchange.coding_tables import export_codings, import_codings
from qualcode.ingest.corpus import import_paths
from qualcode.models import Coding
from qualcode.project import find_project, init_project

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "codebooks" / "hierarchy-markets-networks.yaml"


def timed(label: str, work):
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label:<44} {time.perf_counter() - started:7.2f}s wall {time.process_time() - cpu:7.2f}s CPU")
    return result


def project_with_transcripts(root: Path, codings: bool):
    project = init_project(root)
    import_paths(project, [REPO / "transcripts"])
    load_codebook_file(project, CODEBOOK, "benchmark")
    if codings:
        import_codings(project, REPO / "transcripts" / "gold-codings.csv", "team")
    return project


def spans(project) -> set[tuple]:
    with project.session() as session:
        return set(session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.coder)))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        coded = find_project(Path(sys.argv[1])) if len(sys.argv) > 1 else project_with_transcripts(root / "coded", codings=True)
        for suffix in ("xlsx", "csv"):
            path = root / f"codings.{suffix}"
            counts = timed(f"export codings .{suffix}", lambda: export_codings(coded, path))
            print(f"  {counts['codings']} codings; {path.stat().st_size / 1e6:.1f} MB")
            empty = project_with_transcripts(root / f"into-{suffix}", codings=False)
            result = timed(f"import --codings .{suffix} (same transcripts)", lambda: import_codings(empty, path, "benchmark"))
            with empty.session() as session:
                stored = session.scalar(select(func.count()).select_from(Coding))
            print(f"  {result.added} added, {stored} stored; same codings as exported: {spans(empty) == spans(coded)}")


if __name__ == "__main__":
    main()
