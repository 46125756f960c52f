"""What a blind round costs the commands that show or count codings, on the sample corpus.

Run with ``.venv/bin/python benchmarks/blind_rounds.py [--scale 1]``. The corpus
(`benchmarks/queries.py`'s: the gold codings as "gold") gets a perturbed
second coder's copy of half of them as "second", then each command is timed,
best of 3, in three situations, as a ratio of the first:

* no round open: what every project without rounds pays (one look at `rounds`);
* the lead, outside an open round: also looks up the rounds the viewer is in;
* a coder of an open round on half the transcripts: the codings are filtered,
  and the matrix counts from the codings instead of the tallies (which count
  everyone's).

Recorded 2026-12-03 on the shared 2-core machine under heavy load from other work
(load average 7-9, so single figures are noisy to about ±40 %), scale 1 (182
transcripts, 13,524 gold and 6,306 second codings), round on 91 transcripts:

    command                          no round       lead   round coder
    matrix code × locality             144 ms      0.62x         1.69x
    find networks                     3207 ms      1.08x         0.89x
    codings (every coding)           18482 ms      0.90x         0.63x
    show one transcript                192 ms      1.14x         0.98x

The look at `rounds` is lost in the noise for everyone outside a round. A round
coder's matrix cannot use the tallies (they count everyone's codings) and counts
from the codings' covering index instead; filtered listings have less to show.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from queries import best_ms, coded_project  # noqa: E402

from qualcode.coding.manual import codings_table  # noqa: E402
from qualcode.models import Coding, Transcript  # noqa: E402
from qualcode.analysis.overview import transcript_lines  # noqa: E402
from qualcode.analysis.query import find  # noqa: E402
from qualcode.analysis.query_matrix import matrix  # noqa: E402
from qualcode.coding.rounds import start_round  # noqa: E402


def second_coder(project, transcripts: list[str]) -> int:
    """A second coder's copy of the gold codings on `transcripts`, a tenth of them dropped (reproducibly)."""
    chance = random.Random(0)
    with project.session() as session:
        rows = session.execute(select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id, Coding.quote)
                               .where(Coding.transcript_id.in_(transcripts))).all()
        copies = [dict(transcript_id=t, start=s, end=e, code_id=c, quote=q, coder="second", origin="manual")
                  for t, s, e, c, q in rows if chance.random() > 0.1]
        session.execute(insert(Coding), copies)
    return len(copies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1)
    scale = parser.parse_args().scale
    with tempfile.TemporaryDirectory() as folder:
        project = coded_project(Path(folder), scale)
        with project.session() as session:
            ids = list(session.scalars(select(Transcript.id).order_by(Transcript.id)))
        half = ids[::2]
        print(f"second coder: {second_coder(project, half):,} codings on {len(half)} transcripts")
        commands = {
            "matrix code × locality": lambda: matrix(project, by="locality"),
            "find networks": lambda: find(project, "networks"),
            "codings (every coding)": lambda: codings_table(project),
            "show one transcript": lambda: transcript_lines(project, half[0]),
        }
        times = {name: [best_ms(run)] for name, run in commands.items()}
        start_round(project, "bench", ["gold", "second"], "lead", transcripts=half)
        for viewer in ("lead", "second"):
            project.viewer = viewer
            for name, run in commands.items():
                times[name].append(best_ms(run))
        print(f"{'command':30} {'no round':>10} {'lead':>10} {'round coder':>13}")
        for name, (plain, lead, coder) in times.items():
            print(f"{name:30} {plain:7.0f} ms {lead / plain:9.2f}x {coder / plain:12.2f}x")


if __name__ == "__main__":
    main()
