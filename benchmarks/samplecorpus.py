"""Time the sample-corpus generator at scale 1 and scale 10 and print the ratio.

Run with ``.venv/bin/python benchmarks/samplecorpus.py``. Generation should
grow roughly linearly with scale; scale 10 should take well under a minute.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from qualcode.samplecorpus import generate


def timed(scale: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate(Path(tmp) / "corpus", scale=scale, seed=0)
        seconds = time.perf_counter() - started
    print(f"scale {scale:>2}: {summary.transcripts:>5} transcripts, {summary.words:>10,} words, {seconds:6.2f}s")
    return seconds


def main() -> None:
    one = timed(1)
    ten = timed(10)
    print(f"ratio scale 10 / scale 1: {ten / one:.1f}x")


if __name__ == "__main__":
    main()
