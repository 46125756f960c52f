"""A long listing's first screen against the whole of it, and the identity key compiled against read back.

Run with ``.venv/bin/python benchmarks/first_rows.py PROJECT [ROUNDS]`` (a copy of a project: the script writes
the compiled key into its ``.qualcode/``). In this process, best of ROUNDS (default 3), CPU seconds:

* compiling the identity key (`Matcher`, every form of every name) against reading it back from
  ``.qualcode/identity-key.compiled.json`` (`qualcode.privacy.compiled_key`), checking both pseudonymise
  the first transcripts alike;
* `query text 'pecking order'` and `query find hierarchy/accountability`: the first 50 rows (what ``| head -50``
  shows) against all of them, the compiled key read back as a command reads it. `text_matches` and
  `find_passages` find and read a few transcripts at a time, so the first rows should cost a fraction of the whole.

Recorded runs (2 cores shared with three other helpers' work, load average 4-7: read the ratios more than the
seconds; 2026-12-03 ~14:20 UTC):

    see the figures this script prints, copied below by hand:
"""

from __future__ import annotations

import sys
import time
from itertools import islice
from pathlib import Path


def best(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def main(root: Path, rounds: int) -> None:
    from sqlalchemy import select

    from qualcode.analysis.query import find_passages
    from qualcode.analysis.query_text import text_matches
    from qualcode.models import Transcript
    from qualcode.privacy import compiled_key
    from qualcode.privacy.pseudonyms import load_key
    from qualcode.project import Project

    project = Project.open(root)
    key = load_key(project)
    compiled = best(lambda: setattr(key, "_matcher", None) or key.matcher(), rounds)

    def read_back():
        compiled_key._COMPILED.clear()
        return compiled_key.compiled_matcher(project)

    read_back()  # written once
    read = best(read_back, rounds)
    with project.session() as session:
        texts = list(session.scalars(select(Transcript.text).order_by(Transcript.id).limit(5)))
    same = all(read_back().pseudonymise(text) == key.matcher().pseudonymise(text) for text in texts)
    print(f"identity key ({len(key)} names): compiled {compiled:.3f}s  read back {read:.3f}s  "
          f"{compiled / read:.1f}x  same: {same}")
    listings = {
        "query text 'pecking order'": lambda: text_matches(project, "pecking order"),
        "query find hierarchy/accountability": lambda: find_passages(project, "hierarchy/accountability")[1],
    }
    for label, rows in listings.items():
        first = best(lambda: (read_back(), list(islice(rows(), 50))), rounds)
        whole = best(lambda: (read_back(), list(rows())), rounds)
        print(f"{label:<40} first 50 rows {first:.3f}s  all {whole:.3f}s  ({whole / first:.1f}x)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
