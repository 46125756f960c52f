"""`qualcode demo`: the whole main job on the bundled corpus, as `make demo` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli.corpus import print_stats


def demo_cli(
    project: Annotated[Path, typer.Option("--project", help="Project folder to create or reuse.")] = Path(
        "demo-project"
    ),
    transcripts: Annotated[Path, typer.Option("--transcripts", help="The corpus to import.")] = Path("transcripts"),
    reports: Annotated[Path, typer.Option("--reports", help="Folder for the reports.")] = Path("reports"),
) -> None:
    """Create a project, import the bundled corpus, and write the reports."""
    from qualcode.demo import run_demo

    with terminal.progress("importing the corpus") as progress:
        result = run_demo(project, transcripts, reports, progress=progress)
    print_stats(result.stats)
    for path in result.written:
        terminal.info(f"wrote {path}")
