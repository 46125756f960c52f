"""Drawing a table on screen: qualcode's quick layout (qualcode/cli/_tables.py) against rich's Table.

Run with ``.venv/bin/python benchmarks/screen_tables.py [PROJECT] [ROUNDS]``. With PROJECT (a project
`qualcode demo --project PROJECT` made) the table is the one `qualcode transcripts` prints (182 rows × 10
columns on the demo project); without, a table of the same shape made up here. Both ways print the same table
into a console 160 columns wide (as piped output is) and on a colour terminal, best of ROUNDS (default 5) in this
process; the script checks that they print the same bytes and gives the ratio.

A real run (2 cores shared with other work, load average ~5, so read the ratio more than the seconds;
the demo project, 2026-12-03 11:42 UTC):

    table of 182 rows x 10 columns
    piped          rich Table   0.617s   quick layout  0.0104s   59.4x   same bytes: True
    terminal       rich Table   0.686s   quick layout  0.0104s   66.2x   same bytes: True

Through the worker (a child of the warm worker, output to /dev/null, best of 5, the child's CPU seconds,
main's code against this one in the same minutes): `transcripts` 0.44 → 0.11 s CPU, `query framework --by
participant` 0.66 → 0.40 s (its table and its 141 warnings; the rest is the query), `query matrix` 0.19 →
0.13 s, `codebook show` 0.13 → 0.12 s, `query cooccur` 0.33 → 0.34 s (a table of 25 rows: its time is the query).
"""

from __future__ import annotations

import sys
import time
from io import StringIO
from pathlib import Path

from rich.console import Console

from qualcode.cli._console import _cell
from qualcode.cli._tables import Table


def demo_rows(project: str) -> tuple[list[str], list[list[str]]]:
    """The columns and rows `qualcode transcripts` prints (see qualcode/cli/corpus.py)."""
    from qualcode.analysis.overview import transcript_table
    from qualcode.project import find_project

    table = transcript_table(find_project(Path(project)), None)
    table["who"] = table["role"].fillna(table["informant_kind"] + " (informant)")
    columns = ["transcript", "who", "school", "locality", "phase", "school_type", "ofsted", "kind", "words", "codings"]
    return [c.replace("_", " ") for c in columns], table[columns].fillna("").astype(str).values.tolist()


def made_up_rows() -> tuple[list[str], list[list[str]]]:
    columns = ["transcript", "who", "school", "locality", "phase", "school type", "ofsted", "kind", "words", "codings"]
    rows = [[f"EAS-S{i:02}-{i % 7}", "Headteacher" if i % 3 else "RSC (informant)", f"EAS-S{i:02}", "Eastern",
             "Primary", "Academy converter", "Requires improvement" if i % 4 else "", "interview", str(3000 + 17 * i),
             str(40 + i % 90)] for i in range(182)]
    return columns, rows


def best_time(table, rounds: int, **console) -> tuple[float, str]:
    """Best wall time of printing `table`, and what it printed."""
    best = float("inf")
    for _ in range(rounds):
        out = Console(file=StringIO(), width=160, highlight=False, soft_wrap=False, **console)
        start = time.perf_counter()
        out.print(table)
        best = min(best, time.perf_counter() - start)
    return best, out.file.getvalue()


def main() -> None:
    project = sys.argv[1] if len(sys.argv) > 1 else None
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    columns, rows = demo_rows(project) if project else made_up_rows()
    quick = Table(f"{len(rows)} transcripts", columns, [[_cell(v) for v in row] for row in rows], title_justify="left")
    print(f"table of {len(rows)} rows x {len(columns)} columns")
    for name, console in (("piped", {}), ("terminal", {"force_terminal": True, "color_system": "truecolor"})):
        slow, expected = best_time(quick.rich_table(), rounds, **console)
        fast, printed = best_time(quick, rounds, **console)
        print(f"{name:<14} rich Table {slow:7.3f}s   quick layout {fast:7.4f}s  {slow / fast:5.1f}x   "
              f"same bytes: {printed == expected}")


if __name__ == "__main__":
    main()
