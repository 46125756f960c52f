"""`qualcode report ...`: quote banks per theme, locality case studies, the cross-locality summary."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import ProjectOption, complete_code_name, new_app, open_project, warn_unplaced, warn_unread
from qualcode.cli.query import WhereOption

report_app = new_app(help="Reports in HTML, Markdown or Word, each checked with 'qualcode check' before it is written.")

FormatOption = Annotated[
    str | None, typer.Option("--format", "-f", help="html, md or docx (default: from -o's suffix, else html).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Output file or folder (default: the project's reports/).")
]
PlotOption = Annotated[bool, typer.Option("--plot/--no-plot", help="Embed the code × locality heatmap.")]
CoarsenOption = Annotated[bool, typer.Option("--coarsen", help="Attribute quotes whose full line would single out a school or person in their locality by role only ('Headteacher', 'System informant interviewee').")]


@report_app.command("quotes")
def quotes_cli(
    theme: Annotated[str, typer.Option("--theme", "-t", help="Theme code; its children's quotes are included.", autocompletion=complete_code_name)],
    where: WhereOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    max_per_school: Annotated[int | None, typer.Option("--max-per-school", help="At most N quotes per school (or informant) for each code.")] = None,
    min_words: Annotated[int | None, typer.Option("--min-words", help="Leave out quotes shorter than this.")] = None,
    max_words: Annotated[int | None, typer.Option("--max-words", help="Leave out (or with --trim, shorten) quotes longer than this.")] = None,
    trim: Annotated[bool, typer.Option("--trim", help="Shorten long quotes at a sentence end, marked '...'.")] = False,
    coarsen: CoarsenOption = False,
    project: ProjectOption = None,
) -> None:
    """A quote bank: every accepted or manual coding of a theme, by code and locality, pseudonymised and attributed."""
    from qualcode.analysis.query_where import parse_where
    from qualcode.reports.render import render_report
    from qualcode.reports.quotes import Selection

    selection = Selection(max_per_school, min_words, max_words, trim, parse_where(where or []), coarsen)
    warnings: list[str] = []
    opened = open_project(project)
    path = render_report(opened, "quotes", fmt, output, warnings=warnings, theme=theme, selection=selection)
    _written(opened, [path], warnings)


def _written(project, paths: list[Path], warnings: list[str]) -> None:
    """Small-cell warnings first (the same for every report), and the transcripts nothing could be quoted
    from, then the files written."""
    for warning in warnings:
        terminal.warn(warning)
    warn_unread(project, what="quoted")
    warn_unplaced(project, "counted or quoted")
    for path in paths:
        terminal.info(f"wrote {path}")


@report_app.command("case")
def case_cli(
    locality: Annotated[str, typer.Argument(help="Locality, e.g. Eastern.")],
    fmt: FormatOption = None,
    output: OutputOption = None,
    plot: PlotOption = True,
    coarsen: CoarsenOption = False,
    project: ProjectOption = None,
) -> None:
    """A locality case study: context, themes against the other localities, key quotes, memos."""
    from qualcode.reports.render import render_report

    warnings: list[str] = []
    opened = open_project(project)
    path = render_report(opened, "case", fmt, output, warnings=warnings, locality=locality, plot=plot, coarsen=coarsen)
    _written(opened, [path], warnings)


@report_app.command("cases")
def cases_cli(
    fmt: FormatOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (default: the project's reports/).", file_okay=False)] = None,
    plot: PlotOption = True,
    coarsen: CoarsenOption = False,
    project: ProjectOption = None,
) -> None:
    """Every locality's case study and the cross-locality summary linking them."""
    from qualcode.reports.render import render_case_reports

    warnings: list[str] = []
    opened = open_project(project)
    paths = render_case_reports(opened, fmt, output, plot, coarsen=coarsen, warnings=warnings)
    _written(opened, paths, warnings)
