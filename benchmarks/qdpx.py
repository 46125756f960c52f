"""Time `export qdpx` and `import FILE.qdpx` on the bundled coded project (the corpus, its gold codings twice).

Run with ``.venv/bin/python benchmarks/qdpx.py``. Builds the project as the
demo does (transcripts/, the codebook, transcripts/gold-codings.csv, loaded for two
coders so that it holds as many codings as the demo project's ~27k), then
prints wall and CPU seconds for: the export (validation against Project.xsd
included), the import into an empty project, and a second export, and checks
that the two exports hold the same codings. Both must be well under a minute.
"""

from __future__ import annotations

import tempfile
import time
import zipfile
from pathlib import Path

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.exchange.coding_tables import import_codings
from qualcode.project import init_project
from qualcode.exchange.qdpx.importer import import_qdpx
from qualcode.exchange.qdpx.writer import export_qdpx

REPO = Path(__file__).resolve().parents[1]


def timed(label: str, work):
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"{label:<40} {time.perf_counter() - started:7.2f}s wall {time.process_time() - cpu:7.2f}s CPU")
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = init_project(root / "coded")
        import_paths(project, [REPO / "transcripts"])
        load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "benchmark")
        import_codings(project, REPO / "transcripts" / "gold-codings.csv", "team")
        # A second coder with the same passages: the size of the demo project (its team and autocode, ~27k codings).
        import_codings(project, REPO / "transcripts" / "gold-codings.csv", "second", origin="accepted")
        counts = timed("export qdpx (bundled coded project)", lambda: export_qdpx(project, root / "out.qdpx"))
        print(f"  {counts}; {(root / 'out.qdpx').stat().st_size / 1e6:.1f} MB")
        empty = init_project(root / "empty")
        result = timed("import qdpx into an empty project", lambda: import_qdpx(empty, root / "out.qdpx", "benchmark"))
        for row in result.rows:
            print("  ", row)
        timed("export qdpx again", lambda: export_qdpx(empty, root / "again.qdpx"))
        first = zipfile.ZipFile(root / "out.qdpx").read("project.qde").count(b"<Coding ")
        again = zipfile.ZipFile(root / "again.qdpx").read("project.qde").count(b"<Coding ")
        print(f"codings exported {first}, after the round trip {again}")


if __name__ == "__main__":
    main()
