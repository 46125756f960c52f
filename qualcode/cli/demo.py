"""`qualcode demo`: the whole main job on the bundled corpus, as `make demo` runs it."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli.corpus import print_stats


def demo_cli(
    project: Annotated[Path, typer.Option("--project", help="Project folder to create or reuse.")] = Path(
        "demo-project"
    ),
    transcripts: Annotated[Path, typer.Option("--transcripts", help="The corpus to import (with identity-key.csv and gold-codings.csv).")] = Path("transcripts"),
    codebook: Annotated[Path, typer.Option("--codebook", help="The codebook to load.")] = Path("codebooks/hierarchy-markets-networks.yaml"),
    reports: Annotated[Path, typer.Option("--reports", help="Folder for the reports.")] = Path("reports"),
) -> None:
    """Import the bundled corpus, code it, and write the checked reports."""
    from qualcode.demo import run_demo

    with terminal.progress("working") as progress:
        result = run_demo(project, transcripts, reports, codebook, progress=progress, step=terminal.info)
    print_stats(result.stats)
    overall = result.evaluation["overall"]
    rows = [("overall", *(f"{overall[k]:.2f}" for k in ("precision", "recall", "f1")))]
    rows += [(code, *(f"{v[k]:.2f}" for k in ("precision", "recall", "f1"))) for code, v in result.evaluation["per_code"].items()]
    terminal.table("autocode against the gold coding (top-level themes)", ["theme", "precision", "recall", "F1"], rows)
    for path in result.written:
        terminal.info(f"wrote {path}")
    terminal.info(f"\nStart with {reports / 'cases.html'}: the localities side by side, each linked to its case"
                  f" study; then the quote banks (quotes-*.html). The coded project is in {project}/: try"
                  f" 'qualcode query matrix --by locality --project {project}'.")
