"""Codings exchanged as CSV (`transcript,start,end,code`): the bundled gold codings, or another tool's export.

The gold codings of the bundled corpus are the quickest way to a coded
project for tests and the demo, without waiting for autocode.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from qualcode.coding.manual import ORIGINS
from qualcode.concurrency import retried
from qualcode.errors import Problem, QualcodeError
from qualcode.models import Coding, Transcript
from qualcode.analysis.overview import code_paths
from qualcode.project import Project


@retried
def load_codings_csv(project: Project, path: Path, coder: str, origin: str = "accepted") -> int:
    """Add every row of a `transcript,start,end,code` CSV as a coding; return how many were added.

    All rows are checked first (known transcript, known code path, span inside
    the text) and nothing is written if any is wrong, as for an import. Rows
    already present for this coder are skipped, so loading twice is harmless.
    """
    if origin not in ORIGINS:
        raise QualcodeError(f"origin must be one of: {', '.join(ORIGINS)}")
    rows = _read_rows(path)
    with project.session() as session:
        ids_by_path = {p: i for i, p in code_paths(session).items()}
        texts = dict(session.execute(select(Transcript.id, Transcript.text)).all())
        existing = set(session.execute(
            select(Coding.transcript_id, Coding.start, Coding.end, Coding.code_id).where(Coding.coder == coder)
        ).all())
        problems = [p for line, row in rows if (p := _problem(path, line, row, texts, ids_by_path))]
        if problems:
            raise QualcodeError("\n".join(map(str, problems[:20])) + f"\n{len(problems)} problems; nothing was loaded")
        new = []
        for _, row in rows:
            key = (row["transcript"], int(row["start"]), int(row["end"]), ids_by_path[row["code"]])
            if key in existing:
                continue
            existing.add(key)
            new.append(Coding(transcript_id=key[0], start=key[1], end=key[2], code_id=key[3], coder=coder,
                              origin=origin, quote=texts[key[0]][key[1]:key[2]]))
        session.add_all(new)
        return len(new)


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"transcript", "start", "end", "code"} - set(reader.fieldnames or [])
        if missing:
            raise QualcodeError(f"{path}: missing columns {', '.join(sorted(missing))}")
        return [(number, row) for number, row in enumerate(reader, start=2)]


def _problem(path: Path, line: int, row: dict[str, str], texts: dict[str, str], codes: dict[str, int]) -> Problem | None:
    if row["transcript"] not in texts:
        return Problem(path, line, "transcript", f"no transcript '{row['transcript']}'")
    if row["code"] not in codes:
        return Problem(path, line, "code", f"no code '{row['code']}'; load the codebook first")
    if not (row["start"].isdigit() and row["end"].isdigit()):
        return Problem(path, line, "start", "start and end must be character offsets")
    if not 0 <= int(row["start"]) < int(row["end"]) <= len(texts[row["transcript"]]):
        return Problem(path, line, "end", f"span {row['start']}-{row['end']} is outside the transcript")
    return None
