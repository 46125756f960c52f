"""A long listing's first screen against the whole of it, and the identity key compiled against read back.

Run with ``.venv/bin/python benchmarks/first_rows.py PROJECT [ROUNDS]`` (a copy of a project: the script writes
the compiled key into its ``.qualcode/``). In this process, best of ROUNDS (default 3), CPU seconds:

* compiling the identity key (`Matcher`, every form of every name) against reading it back from
  ``.qualcode/identity-key.compiled.json`` (`qualcode.privacy.compiled_key`), checking both pseudonymise
  the first transcripts alike;
* `query text 'pecking order'` and `query find hierarchy/accountability`: the first 50 rows (what ``| head -50``
  shows) against all of them, the compiled key read back as a command reads it. `text_matches` and
  `find_passages` find and read a few transcripts at a time, so the first rows should cost a fraction of the whole.

A recorded run (2 cores shared with three other helpers' work, load average 6: read the ratios more than the
seconds; 2026-12-03 14:32 UTC):

    the bundled corpus (/tmp/dp copy)
    identity key (212 names): compiled 0.071s  read back 0.014s  5.1x  same: True
    query text 'pecking order'               first 50 rows 0.196s  all 0.350s  (1.8x)
    query find hierarchy/accountability      first 50 rows 0.124s  all 0.402s  (3.3x)
    sample-corpus --scale 10 (/tmp/p10 copy)
    identity key (1956 names): compiled 0.570s  read back 0.062s  9.1x  same: True
    query text 'pecking order'               first 50 rows 0.339s  all 3.116s  (9.2x)
    query find hierarchy/accountability      first 50 rows 0.665s  all 3.443s  (5.2x)

'pecking order' is said early in the bundled corpus's transcript order but its 50th match is in the 60th
transcript or so, hence the smaller ratio there; `find`'s count (its codings' SQL and pandas) is known before
its first row, which keeps its first screen at scale 10 near 0.7 s of CPU.
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
