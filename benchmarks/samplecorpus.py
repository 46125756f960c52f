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
    """Wall-clock seconds for one generation; CPU seconds are printed too, as they don't depend on machine load."""
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        summary = generate(Path(tmp) / "corpus", scale=scale, seed=0)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"scale {scale:>2}: {summary.transcripts:>5} transcripts, {summary.words:>10,} words, "
          f"{seconds:6.2f}s wall, {cpu:6.2f}s CPU")
    return seconds


def main() -> None:
    one = timed(1)
    ten = timed(10)
    print(f"ratio scale 10 / scale 1: {ten / one:.1f}x")


if __name__ == "__main__":
    main()
