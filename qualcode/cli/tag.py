"""`qualcode tag`: the full-screen tagging session, turn by turn."""

from typing import Annotated

import typer

from qualcode.cli._util import CoderOption, ProjectOption, default_coder, open_project


def tag_cli(
    transcript: Annotated[
        str | None,
        typer.Argument(help="Transcript id (default: where you stopped, else the first with uncoded turns).",
                       show_default=False),
    ] = None,
    uncoded: Annotated[
        bool, typer.Option("--uncoded", help="Skip turns that already have a manual or accepted coding.")
    ] = False,
    uncertain: Annotated[
        bool, typer.Option("--uncertain", help="Walk each transcript's turns most unsure suggestion first (run 'autocode --learn' first).")
    ] = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Tag transcripts turn by turn: accept or reject suggestions, apply codes, memo; every action is saved at once."""
    from qualcode.tagging import Tagger
    from qualcode.tui import TagApp

    opened = open_project(project)
    opened.on_busy = None  # a line on stderr would tear the full-screen session; it still waits, and then says so
    tagger = Tagger(opened, coder or default_coder(), transcript, uncoded, uncertain)
    TagApp(tagger).run()
