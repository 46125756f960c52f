"""`qualcode tag`: the full-screen tagging session, turn by turn; with `--review A,B`, two coders' disagreements."""

from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import CoderOption, ProjectOption, default_coder, open_project
from qualcode.cli.query import CodesOption, WhereOption


def tag_cli(
    transcript: Annotated[
        str | None,
        typer.Argument(help="Transcript id (default: where you stopped, else the first with uncoded turns).",
                       show_default=False),
    ] = None,
    uncoded: Annotated[
        bool, typer.Option("--uncoded", help="Skip turns that already have a manual or accepted coding.")
    ] = False,
    review: Annotated[
        str | None,
        typer.Option("--review", help="Walk the passages where two coders differ (A,B): keep A's, B's, both, or recode.",
                     show_default=False),
    ] = None,
    codes: CodesOption = None,
    unit: Annotated[str, typer.Option("--unit", "-u", help="With --review: the units compared, as for `agreement`.")] = "turn",
    where: WhereOption = None,
    uncertain: Annotated[
        bool, typer.Option("--uncertain", help="Walk each transcript's turns most unsure suggestion first (run 'autocode --learn' first).")
    ] = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Tag transcripts turn by turn: accept or reject suggestions, apply codes, memo; every action is saved at once.

    With --review A,B, resolve two coders' disagreements instead, as the resolver (--coder): each decision is
    saved at once as one undoable change, and the consensus is coded by the coder 'consensus'."""
    opened = open_project(project)
    opened.on_busy = None  # a line on stderr would tear the full-screen session; it still waits, and then says so
    opened.on_blind = None  # the session says on screen what a blind round hides
    if review is None:
        from qualcode.coding.tagging import Tagger
        from qualcode.coding.tui import TagApp

        TagApp(Tagger(opened, coder or default_coder(), transcript, uncoded, uncertain)).run()
        return
    if transcript or uncoded:
        raise terminal.abort("--review walks every disagreement of the two coders; narrow it with --codes or --where, "
                             "not a transcript or --uncoded", 2)
    from qualcode.coding.consensus import Review
    from qualcode.analysis.query_where import parse_where
    from qualcode.coding.tui_review import ReviewApp

    terminal.info(f"finding the passages where {' and '.join(review.split(','))} differ…")
    ReviewApp(Review(opened, review.split(","), coder or default_coder(), codes, unit, parse_where(where or []))).run()
