"""Tables on screen: qualcode's quick layout prints exactly the bytes rich's Table prints, and leaves to rich
the tables it cannot draw (too wide, a line break in a cell, a cell that must fold)."""

from __future__ import annotations

import math
import random
from io import StringIO

import pytest
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from qualcode.cli._console import Terminal, _cell, _fixed_widths
from qualcode.cli._tables import Table, _Layout

VALUES = ["", None, math.nan, 0, 17, 3.25, -1.5e-7, "EAS-I01", "[inaudible]", "[bold]not bold[/]", "[/]", "\\[x]",
          "Héloïse", "naïve café", "日本語の文", "emoji 😀 here", "e\u0301", "a b  c ", "  leading", "trailing  ",
          ":smile: face", "→ ✓ — «quoted»", "Ω≈ç√", "한국어"]
LONG = ["a long passage of several words that may or may not fit the screen", "x" * 40]
LINE_BREAKS = ["two\nlines", "tab\there", "carriage\rreturn", "bell\x07"]
HEADERS = ["code", "", "transcript", ":smile:", "日本", "codings", "who", "school type", "α", "\\[x]"]
MARKUP_HEADERS = ["[x]", "[bold]b[/]"]
BOXES = [box.HEAVY_HEAD, box.SIMPLE_HEAD, box.ROUNDED, box.ASCII, box.MINIMAL, box.SIMPLE, box.SQUARE, None]
PADDINGS = [(0, 1), (0, 0), (0, 2), (0, 1, 0, 2), (1, 1), 1]
CONSOLES = [dict(force_terminal=True, color_system="truecolor"), dict(force_terminal=True, color_system="256"),
            dict(force_terminal=True, color_system="standard"), dict(force_terminal=True, color_system=None),
            dict(force_terminal=False), dict(force_terminal=True, color_system="standard", legacy_windows=False,
                                             safe_box=False, emoji=False)]


def printed(renderable, width: int, **console) -> str:
    """What a console `width` columns wide prints, set up as qualcode's Terminal sets up stdout."""
    out = Console(file=StringIO(), width=width, highlight=False, soft_wrap=False, **console)
    out.print(renderable)
    return out.file.getvalue()


def as_rich_printed_it(title, columns, rows, **kwargs) -> RichTable:
    """The table qualcode built before the quick layout: rich's Table with one Text a cell, folding."""
    widths = kwargs.pop("widths", None) or [None] * len(columns)
    table = RichTable(title=title, title_justify="left", **kwargs)
    for column, width in zip(columns, widths):
        table.add_column(column, overflow="fold", width=width)
    for row in rows:
        table.add_row(*(Text(_cell(value)) for value in row))
    return table


def quick(title, columns, rows, **kwargs) -> Table:
    return Table(title, columns, [[_cell(value) for value in row] for row in rows], title_justify="left", **kwargs)


def random_table(rng: random.Random, values: list) -> tuple:
    columns = rng.sample(HEADERS, rng.randint(1, 6))
    if rng.random() < 0.1:
        columns[0] = rng.choice(MARKUP_HEADERS)
    rows = [[rng.choice(values) for _ in columns] for _ in range(rng.randint(0, 8))]
    kwargs = {}
    if rng.random() < 0.7:
        kwargs["box"] = rng.choice(BOXES)
    for option in ("show_edge", "show_header"):
        if rng.random() < 0.3:
            kwargs[option] = rng.random() < 0.5
    if rng.random() < 0.2:
        kwargs["padding"] = rng.choice(PADDINGS)
    if rng.random() < 0.2:
        kwargs["widths"] = [rng.choice([None, None, 1, 10, 30, 60]) for _ in columns]
    title = rng.choice([None, "", "182 transcripts", "[inaudible] codes", "3 unplaced codings (not counted or quoted: "
                        "code their words again where they now are)", "coders: one :smile:"])
    return title, columns, rows, kwargs


def test_random_tables_print_as_rich_prints_them():
    """Hundreds of tables, printed both ways on consoles of many widths and colour systems: the same bytes.
    The quick layout must have drawn most of them, or the comparison proves little."""
    rng = random.Random(14)
    drawn = 0
    cases = 300
    for case in range(cases):
        title, columns, rows, kwargs = random_table(rng, VALUES + (LINE_BREAKS if case % 5 == 0 else [])
                                                    + (LONG if case % 4 == 0 else []))
        width = rng.choice([12, 60, 100, 160, 200])
        console = rng.choice(CONSOLES)
        ours = quick(title, columns, rows, **kwargs)
        expected = printed(as_rich_printed_it(title, columns, rows, **kwargs), width, **console)
        assert printed(ours, width, **console) == expected, (title, columns, rows, kwargs, width, console)
        probe = Console(file=StringIO(), width=width, **console)
        drawn += _Layout.of(ours, probe, probe.options) is not None
    assert drawn > cases / 3


@pytest.mark.parametrize("console", CONSOLES[:5])
def test_listing_chunks_and_the_tables_commands_print(console):
    """The shapes the commands print: the default table (heavy head, edges, a title) and a listing's chunk
    (simple head, no edges, fixed widths, a following chunk without header or title)."""
    columns = ["transcript", "who", "school", "words", "codings"]
    rows = [[f"EAS-{i:03}", "Headteacher [inaudible]" if i % 7 else None, "Ørsted Academy", i * 37, math.nan]
            for i in range(40)]
    widths = _fixed_widths(columns, rows, 100, (0, 1))
    for kwargs in ({}, {"box": box.SIMPLE_HEAD, "show_edge": False, "widths": widths},
                   {"box": box.SIMPLE_HEAD, "show_edge": False, "show_header": False, "widths": widths}):
        for title in ("40 transcripts", None):
            expected = printed(as_rich_printed_it(title, columns, rows, **dict(kwargs)), 100, **console)
            ours = quick(title, columns, rows, **kwargs)
            assert printed(ours, 100, **console) == expected
            probe = Console(file=StringIO(), width=100, **console)
            assert _Layout.of(ours, probe, probe.options) is not None


@pytest.mark.parametrize("rows, width, kwargs", [
    ([["a passage far too long for the screen it is printed on"]], 30, {}),  # too wide: rich folds it
    ([["two\nlines"]], 80, {}),  # a line break in a value
    ([["tab\tinside"]], 80, {}),  # rich expands tabs
    ([["longer than ten"]], 80, {"widths": [10]}),  # a fixed width that folds the cell
    ([["fine"]], 80, {"expand": True}),  # an option the quick layout does not draw
    ([["fine", "x"]], 80, {}),  # more cells than columns
    ([[""]], 80, {"show_header": False}),  # a column with nothing in it
], ids=["too-wide", "line-break", "tab", "folds", "expand", "ragged", "empty-column"])
def test_rich_draws_what_the_quick_layout_cannot(rows, width, kwargs):
    columns = ["passage"]
    table = Table("t", columns, rows, title_justify="left", **kwargs)
    console = Console(file=StringIO(), width=width, force_terminal=True)
    assert _Layout.of(table, console, console.options) is None
    # ...and then prints what rich prints (where rich can print it at all).
    if len(rows[0]) == len(columns):
        assert printed(table, width, force_terminal=True) == printed(as_rich_printed_it("t", columns, rows, **kwargs),
                                                                     width, force_terminal=True)


def test_markup_in_a_heading_is_left_to_rich():
    """rich reads headings as markup ('[bold]b[/]' is a bold b): the quick layout leaves styled headings to it."""
    table = Table(None, ["[bold]b[/]"], [["x"]])
    console = Console(file=StringIO(), width=80, force_terminal=True)
    assert _Layout.of(table, console, console.options) is None
    assert "\x1b[1m" in printed(table, 80, force_terminal=True, color_system="standard")


MESSAGES = ["EAS-I01: 'RSC interviewee' in Eastern fits 1 person; that row may identify it: use --coarsen",
            "interviews/a.docx:12: no speaker label [inaudible]", "a :smile: here", "back\\slash \\[x]", "tab\there",
            "two\nlines", "日本語 — «ok»", "", "trailing  ", "x" * 300, "ends with a backslash\\", "C:\\path:12:3"]


@pytest.mark.parametrize("console", CONSOLES)
def test_warnings_and_errors_print_as_rich_prints_them(console):
    """Messages are written straight to stderr where that gives rich's bytes: the same text, coloured as rich
    colours it on a terminal, plain when piped; rich still prints those it would change (markup, :emoji:, tabs)."""
    terminal = Terminal()
    terminal.__dict__["err"] = Console(file=StringIO(), highlight=False, soft_wrap=True, width=80, **console)
    reference = Console(file=StringIO(), highlight=False, soft_wrap=True, width=80, **console)
    for message in MESSAGES:
        terminal.warn(message)
        terminal.error(message)
        reference.print(f"[yellow]warning:[/] {escape(message)}")
        reference.print(f"[red]error:[/] {escape(message)}")
    assert terminal.err.file.getvalue() == reference.file.getvalue()
    assert "_labels" in terminal.__dict__  # the plain messages were written straight out


@pytest.mark.parametrize("terminal_like", [False, True])
def test_a_listing_prints_each_row_before_it_reads_the_next_and_its_footer_after_them(terminal_like, capsys):
    """The rows may still be being found: the first is out before the second is asked for (piped: through the
    pipe at once, not when a buffer fills; on a terminal: in the first chunk), and the footer, asked for once
    every row is out, counts them all."""
    import os
    import select

    reader, writer = os.pipe()
    term = Terminal()
    term.__dict__["out"] = Console(file=StringIO() if terminal_like else open(writer, "w", encoding="utf-8"),
                                   width=100, force_terminal=terminal_like, highlight=False, soft_wrap=False)
    read = []

    def rows():
        for n in range(150):
            if n == 1 and not terminal_like:  # what a reader at the other end of the pipe has got by now
                assert select.select([reader], [], [], 0)[0] and b"EAS-000\t0\n" in os.read(reader, 65536)
            if n == 101 and terminal_like:
                assert "EAS-099" in term.out.file.getvalue()  # the first chunk went out before row 101 was found
            read.append(n)
            yield [f"EAS-{n:03}", n]

    term.listing("", ["transcript", "n"], rows(), paged=False, footer=lambda: f"{len(read)} rows")
    messages = capsys.readouterr().err
    if terminal_like:
        shown = term.out.file.getvalue()
        assert shown.rstrip().splitlines()[-1] == "\x1b[3m150 rows\x1b[0m" and "EAS-149" in shown
    else:
        term.out.file.close()
        rest = b""
        while chunk := os.read(reader, 65536):
            rest += chunk
        assert messages == "150 rows\n" and rest.decode().splitlines()[-1] == "EAS-149\t149"
    os.close(reader)
