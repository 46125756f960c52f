"""How much the database grows when `qualcode autocode` is run again: the change log's share of it.

Run with ``.venv/bin/python benchmarks/autocode_growth.py [--limit N]`` (N transcripts
of the bundled corpus; all by default). Imports the corpus, loads the codebook,
runs autocode once, then twice more over the same transcripts, and prints after
each run the bytes the SQLite file uses (pages in use, after a checkpoint) and
the bytes of the change log's undo records. Uses the real spaCy pipeline; the
reruns read the parse cache.

Measured on the whole bundled corpus (182 transcripts, 13,622 suggestions),
2-core machine, 2026-12-02:

=================  ===========================  ===========================
                   before (change log per row)  after (run id, rerun keeps)
=================  ===========================  ===========================
first run          +5.95 MB (log 0.81 MB)       +5.32 MB (log 0.01 MB)
rerun 1            +8.79 MB (log 8.72 MB)       +0.00 MB (log 0.01 MB)
rerun 2            +7.95 MB (log 16.65 MB)      +0.00 MB (log 0.01 MB)
=================  ===========================  ===========================

(The change log holds the codebook load and, per run, its run id and the
suggestions it replaced: an unchanged rerun records one empty change of a few
hundred bytes.)
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from qualcode.coding.codebook import load_codebook_file
from qualcode.ingest.corpus import import_paths
from qualcode.suggestions.autocode import autocode
from qualcode.suggestions.nlp import read_sources
from qualcode.project import init_project

REPO = Path(__file__).resolve().parents[1]


def used_bytes(database: Path) -> tuple[int, int]:
    """Bytes in the file's pages that hold data, and bytes of undo records in `changes`."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size"))
        log = connection.execute("SELECT COALESCE(SUM(LENGTH(inverse)), 0) FROM changes").fetchone()[0]
    return (pages - free) * size, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N transcripts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = init_project(Path(folder) / "growth")
        import_paths(project, [REPO / "transcripts"])
        load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "bench")
        with project.session() as session:
            ids = [source.id for source in read_sources(session)]
        ids = ids[: args.limit] if args.limit else ids
        database = Path(folder) / "growth" / "qualcode.db"
        print(f"{len(ids)} transcripts")
        previous = used_bytes(database)[0]
        for run in ("first run", "rerun 1", "rerun 2"):
            report = autocode(project, ids)
            size, log = used_bytes(database)
            print(f"{run:<10} {report.suggestions:6d} suggestions  database {size / 1e6:7.2f} MB"
                  f"  (+{(size - previous) / 1e6:6.2f} MB)  change log {log / 1e6:6.2f} MB")
            previous = size
        project.close()


if __name__ == "__main__":
    main()
