"""Speaker detection on the bundled corpus: the same turns as the previous parser, and its speed.

Run with ``.venv/bin/python benchmarks/speakers.py``. It reads every bundled
transcript, finds its turns with `qualcode.ingest.speakers.read_speakers` and with
the parser qualcode used before it (copied below as the baseline: one regex
per line, known labels only), checks that both give the same turns (speaker,
span, and interviewer/notes against participant), and prints the best of 5
times of each and their ratio, then the time of a whole import into a new
SQLite project.

Recorded 2026-12-02 on the shared 2-core machine (other work running, so
figures vary by run): all 182 transcripts give the same turns as before
(25,601 turns); the previous parser 73-106 ms, the speakers module
180-320 ms (x2.0-3.1: it tries six label forms, not two, and reads every
line-start label whatever it names, to report what it could not read). The
whole import is faster all the same, since YAML front matter is now parsed
once and by libyaml: 1.19 s against 1.62 s for the import at the commit
before (25d4b0d), best of 3 each, run one after the other on the same
machine (whole import here: 1.22-1.59 s).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from qualcode.config import Settings
from qualcode.ingest.corpus import import_paths
from qualcode.project import init_project
from qualcode.ingest.speakers import PARTICIPANT, SpeakerRules, read_speakers
from qualcode.ingest.transcript import parse_text_file

REPO = Path(__file__).resolve().parents[1]

# The previous parser (qualcode/ingest/transcript.py before the speakers module), kept as the baseline.
_OLD_TURN = re.compile(
    r"^(?:\*\*(?P<bold>[^*\n:]{1,60}?):\*\*|(?P<plain>[A-Z][\w'.\-]*(?: [\w'.\-]+){0,4}):)[ \t]*"
)
_OLD_INTERVIEWER = frozenset({"interviewer", "researcher", "int", "q", "note", "notes"})


def old_parse_turns(text: str, labels: frozenset[str]) -> list[tuple[str, int, int]]:
    turns: list[tuple[str, int, int]] = []
    speaker: str | None = None
    start = end = offset = 0
    for line in text.split("\n"):
        match = _OLD_TURN.match(line)
        if match and match.group("plain") and match.group("plain").lower() not in labels:
            match = None
        if match:
            if speaker is not None:
                turns.append((speaker, start, end))
            speaker = (match.group("bold") or match.group("plain")).strip()
            start = end = offset + match.end()
            if line[match.end():].strip():
                end = offset + len(line.rstrip())
        elif speaker is not None and line.strip():
            if end == start:
                start = offset + (len(line) - len(line.lstrip()))
            end = offset + len(line.rstrip())
        offset += len(line) + 1
    if speaker is not None:
        turns.append((speaker, start, end))
    return [turn for turn in turns if turn[2] > turn[1]]


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    settings = Settings.load(None)
    vocabularies = settings.vocabularies
    labels = frozenset(
        name.lower() for name in [*_OLD_INTERVIEWER, "interviewee", "respondent", "participant",
                                  *vocabularies.values["role"], *vocabularies.aliases.get("role", {})]
    )
    files = [f for f in sorted((REPO / "transcripts").rglob("*.md")) if not f.name.upper().startswith("README")]
    parsed = [parse_text_file(f) for f in files]
    rules = [SpeakerRules.from_settings(settings, p.meta) for p in parsed]

    different = 0
    for transcript, rule in zip(parsed, rules):
        new = [(t.speaker, t.start, t.end, t.role != PARTICIPANT) for t in read_speakers(transcript.text, rule).turns]
        old = [(s, a, b, s.lower() in _OLD_INTERVIEWER) for s, a, b in old_parse_turns(transcript.text, labels)]
        different += new != old
    turns = sum(len(old_parse_turns(p.text, labels)) for p in parsed)
    print(f"{len(parsed)} transcripts, {turns:,} turns; transcripts whose turns differ from the previous parser: {different}")

    old_time = best_of(5, lambda: [old_parse_turns(p.text, labels) for p in parsed])
    new_time = best_of(5, lambda: [read_speakers(p.text, r) for p, r in zip(parsed, rules)])
    print(f"previous parser  {old_time * 1000:7.0f} ms")
    print(f"speakers module  {new_time * 1000:7.0f} ms  (x{new_time / old_time:.2f} the previous parser's time)")

    with tempfile.TemporaryDirectory() as folder:
        project = init_project(Path(folder) / "project")
        began = time.perf_counter()
        import_paths(project, [REPO / "transcripts"])
        print(f"whole import     {time.perf_counter() - began:7.2f} s  (read, validate, store 182 transcripts)")
        project.close()
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
