"""Time `qualcode anonymise scan` on the bundled corpus against plain `nlp.pipe`, and measure name recall.

Run with ``.venv/bin/python benchmarks/anonymise_scan.py``. Prints, in one run:

- the scan (key matching, patterns, NER on the distinct sentences that could
  hold a name) against plain ``nlp.pipe`` of the same NER-only pipeline over
  every transcript's whole text, as a ratio; the scan must finish in under 60 s;
- recall of the corpus's fictional names (every one is in
  ``transcripts/identity-key.csv``): key + NER + patterns, and NER + patterns
  alone (an empty key), and NER alone;
- pseudonymisation speed in quotes per second.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from qualcode.privacy import namescan, pseudonyms
from qualcode.privacy.pseudonyms import IdentityKey
from qualcode.ingest.corpus import import_paths
from qualcode.project import Project, init_project

REPO = Path(__file__).resolve().parents[1]


def timed(label: str, work):
    """Run `work()`, print wall and CPU seconds (CPU does not depend on machine load), return its result and seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<44} {seconds:7.2f}s wall {cpu:7.2f}s CPU")
    return result, seconds


def plain_pipe(project: Project) -> None:
    """The baseline: the same entity recogniser over every transcript's whole text, as one would first write it."""
    texts = list(namescan._texts(project, None).values())
    for _ in namescan.ner_pipeline().pipe(texts, batch_size=8):
        pass


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = init_project(Path(tmp) / "study")
        import_paths(project, [REPO / "transcripts"])
        truth = IdentityKey(None, settings=pseudonyms.anonymise_settings(project))
        truth.import_csv(REPO / "transcripts" / "identity-key.csv")
        truth.path = project.root / pseudonyms.KEY_FILE
        truth.save()
        namescan.ner_pipeline()  # loading the model is not part of either measurement
        _, scan_seconds = timed("anonymise scan (key in place)", lambda: namescan.scan(project))
        found, _ = timed("find names, empty key", lambda: namescan.find_names(project, IdentityKey(None, settings=truth.settings)))
        _, pipe_seconds = timed("plain nlp.pipe (NER only), whole texts", lambda: plain_pipe(project))
        print(f"scan / plain nlp.pipe: {scan_seconds / pipe_seconds:.2f}x; scan under 60 s: {scan_seconds < 60}")
        report_recall(project, truth, found)
        report_speed(truth)


def report_recall(project: Project, truth: IdentityKey, found: list[namescan.Found]) -> None:
    keyed = [namescan.Found(t, m.start, m.end, m.owner.kind, "key") for t, text in namescan._texts(project, None).items()
             for m in truth.matcher().matches(text)]
    print(f"recall key + NER + patterns:  {namescan.recall(project, truth, found + keyed):.4f}")
    print(f"recall NER + patterns alone:  {namescan.recall(project, truth, found):.4f}")
    print(f"recall NER alone:             {namescan.recall(project, truth, [f for f in found if f.source == 'ner']):.4f}")


def report_speed(key: IdentityKey) -> None:
    quote = ("When we had a safeguarding crisis, Mr Naylor was round here within the hour, and the "
             "Sycamore Learning Trust sent someone from Elmstead Rise the next day. ") * 2
    quotes = [quote] * 1000
    key.pseudonymise(quote)
    _, seconds = timed("pseudonymise 1,000 quotes", lambda: [key.pseudonymise(q) for q in quotes])
    print(f"pseudonymise: {len(quotes) / seconds:,.0f} quotes/s")


if __name__ == "__main__":
    main()
