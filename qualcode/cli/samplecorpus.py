"""`qualcode sample-corpus`: write the fictional sample corpus, at any scale."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal


def sample_corpus_cli(
    out: Annotated[Path, typer.Argument(help="Folder to write the corpus into (created if missing).")],
    scale: Annotated[int, typer.Option("--scale", help="Times the study's size: schools and interviews per locality.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; scale 1 seed 0 is the bundled transcripts/.")] = 0,
) -> None:
    """Write the fictional sample corpus (transcripts, metadata, gold codings, identity key)."""
    from qualcode.samplecorpus import generate

    if scale < 1:
        raise terminal.abort("--scale must be 1 or more")
    summary = generate(out, scale=scale, seed=seed, progress=None)
    terminal.info(summary.line())
