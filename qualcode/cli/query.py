"""`qualcode query ...`: matrix, cooccur, find, text, framework: tables on screen, files with --csv/--xlsx/--json."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import (JsonlOption, JsonOption, NoPagerOption, ProjectOption, complete_code_name, new_app,
                                open_project, warn_unplaced, warn_unread)

query_app = new_app(help="Cross-case queries: which themes come up where, for whom, and in whose words.")

CodesOption = Annotated[
    str | None,
    typer.Option("--codes", "-c", help="Codes: comma-separated paths or globs (markets/*); a code brings its children. Default: all.",
                 autocompletion=complete_code_name),
]
WhereOption = Annotated[
    list[str] | None,
    typer.Option("--where", "-w", help="Keep only FIELD=VALUE, FIELD=V1,V2 (any of) or FIELD!=V1,V2 (none of; keeps those without the field, e.g. informants for phase). Fields: locality, phase, school_type, ofsted, role, informant_kind, designation, partnership; repeatable, once per field."),
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="Also write the table to this CSV file.", dir_okay=False)]
XlsxOption = Annotated[Path | None, typer.Option("--xlsx", help="Also write the table to this Excel file.", dir_okay=False)]
RawOption = Annotated[bool, typer.Option("--raw", help="Show the words as stored, without pseudonymising names (not for sharing).")]


def _show(table, title: str, as_json: bool, csv: Path | None, xlsx: Path | None, on_screen=None) -> None:
    """Write any export files asked for, then print the result: JSON, or a rich table of every
    column, or what `on_screen(table)` prints instead (exports and JSON always carry every column)."""
    from qualcode.analysis.query import as_rows, export_table, records

    for path in (csv, xlsx):
        if path is not None:
            terminal.info(f"wrote {export_table(table, path)}")
    if as_json:
        terminal.json(records(table))
    elif on_screen is not None:
        on_screen(table)
    else:
        terminal.table(title, *as_rows(table))


def _show_found(raw: bool, search, as_json: bool, jsonl: bool, csv: Path | None, xlsx: Path | None, on_screen) -> None:
    """`find` and `text`: warn first if the words are raw, run `search()`, show its rows (see `_show`):
    with --jsonl one record a line, else as `on_screen(table)` lists them."""
    _warn_raw(raw)
    if jsonl:
        from qualcode.analysis.query import records

        on_screen = lambda table: terminal.listing("", [], [], records=records(table))  # noqa: E731
    _show(search(), "", as_json, csv, xlsx, on_screen)


def _warn_raw(raw: bool) -> None:
    if raw:
        terminal.warn("--raw: names are not pseudonymised; do not share this output")


def _where(items: list[str] | None) -> dict[str, str]:
    from qualcode.analysis.query_where import parse_where

    return parse_where(items or [])


@query_app.command("matrix")
def matrix_cli(
    codes: CodesOption = None,
    by: Annotated[str, typer.Option("--by", "-b", help="Field(s) for the columns, comma-separated.")] = "locality",
    unit: Annotated[str, typer.Option("--unit", "-u", help="Count segments, words, transcripts, participants or schools.")] = "segments",
    rollup: Annotated[bool, typer.Option("--rollup", help="Count children's codings in their parents' rows too.")] = False,
    percent: Annotated[str | None, typer.Option("--percent", help="Show row or column percentages.")] = None,
    where: WhereOption = None,
    coarsen: Annotated[bool, typer.Option("--coarsen", help="Pool the columns that would single out a school or person in their locality (with locality in --by): a school under 'Eastern: schools', an informant under 'National: System informant interviewee'.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the table as a heatmap PNG.", dir_okay=False)] = None,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Codes × metadata: how often each code comes up in each locality, phase, grade, role..."""
    from qualcode.privacy.anonymise import min_cell_size
    from qualcode.analysis.query_matrix import matrix, small_cell_warnings

    opened = open_project(project)
    warnings: list[str] = []
    table = matrix(opened, codes, by, unit, rollup, _where(where), percent, coarsen=coarsen, warnings=warnings)
    counts = matrix(opened, codes, by, unit, rollup, _where(where), coarsen=coarsen) if percent else table
    for warning in warnings + small_cell_warnings(counts, by, unit, min_cell_size(opened)):
        terminal.warn(warning)
    what = f"{unit} ({percent} %)" if percent else unit
    if percent == "column" and unit in ("transcripts", "participants", "schools"):
        what = f"share of the {unit} in the column that have the code (%)"
    elif percent == "column":
        what = f"share of the column's coded {'passages' if unit == 'segments' else 'words'} (%)"
    if plot is not None:
        from qualcode.analysis.query_matrix import column_totals
        from qualcode.reports.plots import write_matrix_plot

        totals = column_totals(opened, codes, by, unit, _where(where), coarsen=coarsen) if percent == "column" else None
        terminal.info(f"wrote {write_matrix_plot(table, plot, what, by, totals)}")
    _show(table, f"{what} by {by}", as_json, csv, xlsx)
    warn_unplaced(opened)


@query_app.command("cooccur")
def cooccur_cli(
    codes: CodesOption = None,
    within: Annotated[str, typer.Option("--within", help="Together in the same segment, turn or transcript.")] = "segment",
    near: Annotated[int, typer.Option("--near", min=0, help="With --within segment: codings up to N characters apart count as together.")] = 0,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the N most frequent pairs.")] = None,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Which codes come up together: counts and Jaccard similarity for every pair."""
    from qualcode.analysis.query_cooccur import cooccur

    opened = open_project(project)
    table = cooccur(opened, codes, within, near)
    _show(table.head(top) if top else table, f"codes together within a {within}", as_json, csv, xlsx)
    warn_unplaced(opened)


@query_app.command("find")
def find_cli(
    codes: Annotated[list[str], typer.Argument(help="Codes (each with its children).", autocompletion=complete_code_name)],
    mode_and: Annotated[bool, typer.Option("--and", help="Passages of the first code that overlap every other code.")] = False,
    mode_not: Annotated[bool, typer.Option("--not", help="Passages of the first code that overlap none of the others.")] = False,
    where: WhereOption = None,
    context: Annotated[int, typer.Option("--context", min=0, help="Characters of context before and after.")] = 0,
    raw: RawOption = False,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    jsonl: JsonlOption = False,
    no_pager: NoPagerOption = False,
    project: ProjectOption = None,
) -> None:
    """Coded passages (any of the CODES by default) with their metadata and attribution lines (on a terminal,
    through the pager)."""
    from qualcode.analysis.query import find, find_passages

    if mode_and and mode_not:
        raise terminal.abort("choose --and or --not, not both")
    mode = "and" if mode_and else "not" if mode_not else "or"
    opened = open_project(project)
    if as_json or jsonl or csv or xlsx:
        def search():
            return find(opened, codes, mode, _where(where), context, raw)

        _show_found(raw, search, as_json, jsonl, csv, xlsx,
                    lambda table: _list_passages(len(table), table.to_dict("records"), not no_pager))
    else:  # only the listing: each passage pseudonymised as it is printed
        _warn_raw(raw)
        _list_passages(*find_passages(opened, codes, mode, _where(where), context, raw), not no_pager)
    warn_unplaced(opened, "found")


def _list_passages(count: int, found, paged: bool) -> None:
    """`found`: rows with `PASSAGE_COLUMNS` (`qualcode.analysis.query.find_passages`), read as they are printed."""
    passages = ((p["transcript"], p["lines"], p["codes"],
                 f"{p['before']}[{p['text']}]{p['after']}" if p["before"] or p["after"] else p["text"], p["attribution"])
                for p in found)
    terminal.listing(f"{count} passages", ["transcript", "lines", "codes", "passage", "attribution"], passages,
                     paged=paged)


@query_app.command("text")
def text_cli(
    pattern: Annotated[str, typer.Argument(help="Word or phrase; * matches the rest of a word.")],
    lemma: Annotated[bool, typer.Option("--lemma", help="Match any form of the words (school finds schools).")] = False,
    fuzzy: Annotated[bool, typer.Option("--fuzzy", help="Match misspellings and near forms too.")] = False,
    where: WhereOption = None,
    context: Annotated[int, typer.Option("--context", min=0, help="Characters shown either side.")] = 40,
    raw: RawOption = False,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    jsonl: JsonlOption = False,
    no_pager: NoPagerOption = False,
    project: ProjectOption = None,
) -> None:
    """Keyword in context over what participants said (on a terminal, through the pager), found as it is printed:
    how many comes after the rows."""
    from qualcode.analysis.query_text import text_matches, text_search

    opened = open_project(project)
    if as_json or jsonl or csv or xlsx:
        def search():
            with _parsing(lemma) as progress:
                return text_search(opened, pattern, lemma, fuzzy, _where(where), context, raw, progress)

        _show_found(raw, search, as_json, jsonl, csv, xlsx,
                    lambda table: _list_matches(table.to_dict("records"), not no_pager))
    else:  # only the listing: each match found and pseudonymised as it is printed
        _warn_raw(raw)
        with _parsing(lemma) as progress:
            found = text_matches(opened, pattern, lemma, fuzzy, _where(where), context, raw, progress)
        _list_matches(found, not no_pager)
    warn_unread(opened)


def _parsing(lemma: bool):
    """A progress bar for a lemma search, which parses the corpus first; a words or fuzzy search has none to show
    (a bar drawn for the moment its first rows take would only flicker)."""
    return terminal.progress("parsing") if lemma else nullcontext()


def _list_matches(found, paged: bool) -> None:
    """`found`: rows with `KWIC_COLUMNS` (`qualcode.analysis.query_text.text_matches`), read as they are printed;
    how many there were comes after them, as only then is it known."""
    columns = ["transcript", "line", "left", "match", "right"]
    count = 0

    def rows():
        nonlocal count
        for count, match in enumerate(found, 1):  # the footer reads `count`
            yield [match[c] for c in columns]

    terminal.listing("", columns, rows(), paged=paged, footer=lambda: f"{count} matches")


@query_app.command("framework")
def framework_cli(
    by: Annotated[str, typer.Option("--by", "-b", help="Cases: school or participant.")] = "school",
    codes: CodesOption = None,
    passages: Annotated[bool, typer.Option("--passages", help="Cells hold the coded passages, not their count.")] = False,
    where: WhereOption = None,
    coarsen: Annotated[bool, typer.Option("--coarsen", help="Pool the rows whose case would be a single school or person in its locality: by locality and role ('Eastern: Headteacher'), or locality ('Eastern: schools').")] = False,
    raw: RawOption = False,
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """A framework matrix: cases × themes (the top-level codes unless --codes names others)."""
    from qualcode.analysis.framework import framework

    opened = open_project(project)
    warnings: list[str] = []
    table = framework(opened, by, codes, "passages" if passages else "count", _where(where), raw, coarsen, warnings)
    for warning in warnings:
        terminal.warn(warning)
    _show(table, f"{by} × theme", as_json, csv, xlsx)
    warn_unplaced(opened)
