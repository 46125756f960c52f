"""Writing the whole sample corpus to a folder.

The layout is the contract with the importer (see the package docstring):
``partnerships.yaml``, ``identity-key.csv``, ``gold-codings.csv``, then per
locality a ``schools.yaml`` and one Markdown file per interview. Everything
is written in a fixed order with LF newlines, so the same scale and seed give
the same bytes.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qualcode.samplecorpus.compose import Composer, join_blocks, word_count
from qualcode.samplecorpus.design import Design, Interview, build_design
from qualcode.samplecorpus.interviews import compose
from qualcode.samplecorpus.names import build_world


@dataclass
class Summary:
    """What `generate` wrote, for the CLI's one-line report and for tests."""

    out: Path
    transcripts: int
    schools: int
    partnerships: int
    informants: int
    words: int
    codings: int
    names: int
    seconds: float

    def line(self) -> str:
        return (f"wrote {self.transcripts} transcripts ({self.words:,} words), {self.schools} schools, "
                f"{self.partnerships} partnerships, {self.codings:,} gold codings, {self.names} names "
                f"to {self.out} in {self.seconds:.1f}s")


def generate(out: Path, scale: int = 1, seed: int = 0, progress: Callable[[int, int], None] | None = None) -> Summary:
    """Write the sample corpus at `scale` times the study's size into `out`.

    ``scale=1, seed=0`` reproduces the bundled ``transcripts/`` folder byte
    for byte. `progress`, if given, is called with (done, total) after each
    transcript.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    started = time.perf_counter()
    out = Path(out)
    design = build_design(scale, seed)
    world = build_world(design, scale, seed)
    gold: list[tuple[str, int, int, str]] = []
    words = 0
    total = len(design.interviews)
    for done, interview in enumerate(design.interviews, start=1):
        composer = Composer(interview, design, world, seed)
        composed = join_blocks(compose(composer))
        for entity, form in composer.slots.mentions:
            if form in composed.body:
                entity.confirm(form)
        path = out / interview.folder / f"{interview.id}.md"
        _write(path, front_matter(interview) + composed.body)
        gold += [(interview.id, start, end, code) for start, end, code in composed.codings]
        words += word_count(composed.body)
        if progress:
            progress(done, total)
    _write_metadata(out, design)
    _write(out / "gold-codings.csv", _csv(["transcript", "start", "end", "code"], gold))
    key = world.book.key_rows()
    _write(out / "identity-key.csv", _csv(["name", "kind", "variants", "replacement", "refers_to"],
                                          [tuple(row.values()) for row in key]))
    informants = sum(1 for i in design.interviews if i.is_informant)
    return Summary(out, total, len(design.schools), len(design.partnerships), informants, words, len(gold), len(key),
                   time.perf_counter() - started)


def front_matter(interview: Interview) -> str:
    """The YAML header of a transcript file, fields in a fixed order."""
    if interview.is_informant:
        fields = [("id", interview.id), ("informant_kind", interview.informant_kind), ("locality", interview.locality)]
    else:
        fields = [("id", interview.id), ("participant", interview.id), ("role", interview.role), ("school", interview.school.id)]
    fields += [("date", interview.date.isoformat()), ("kind", interview.kind)]
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in fields) + "---\n"


def _write_metadata(out: Path, design: Design) -> None:
    """``partnerships.yaml`` at the top, ``schools.yaml`` in each locality folder."""
    lines = []
    for p in design.partnerships:
        lines.append(f"{p.id}:\n  kind: {p.kind}\n  locality: {p.locality}\n  members: {_flow(p.members)}\n")
        if p.lead:
            lines.append(f"  lead: {p.lead}\n")
    _write(out / "partnerships.yaml", "".join(lines))
    for folder in dict.fromkeys(s.folder for s in design.schools):
        text = []
        for school in (s for s in design.schools if s.folder == folder):
            text.append(f"{school.id}:\n")
            for key, value in school.metadata().items():
                rendered = _flow(value) if isinstance(value, list) else ("true" if value is True else "false" if value is False else value)
                text.append(f"  {key}: {rendered}\n")
        _write(out / folder / "schools.yaml", "".join(text))


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _csv(header: list[str], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
