"""Tables on screen: the bytes rich's Table prints, without its general layout where a table does not need it.

rich's Table measures, pads and wraps every cell as a renderable of its own, ~30 µs a cell at each step: a quarter
of a second for the 182 × 10 table of `qualcode transcripts`, most of the command. Nearly every table qualcode
prints has one line of plain text a cell and fits the screen; its layout is then arithmetic: each column as wide
as its widest cell, the cells padded and joined with the box's characters. `Table` does that arithmetic and hands
anything else (a cell that must fold, a line break in a value, a table wider than the screen, a style it does not
know) to rich's Table, so what reaches the screen is the same either way; tests/test_console_tables.py compares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table as RichTable

#: The Table options laid out here; any other (expand, show_lines, row_styles...) is left to rich.
_OWN_OPTIONS = frozenset({"box", "show_edge", "show_header", "padding", "title_justify"})

#: Characters rich removes, expands or measures as nothing: a cell with one is left to rich.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Table:
    """A table of plain-text cells (already strings; never markup) with rich's Table options, printed with
    `console.print`. `widths` fixes column widths (None: as wide as the widest cell), as rich's columns do."""

    def __init__(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]],
                 widths: Sequence[int | None] | None = None, **options) -> None:
        self.title = title
        self.columns = list(columns)
        self.rows = rows
        self.widths = list(widths) if widths else [None] * len(self.columns)
        self.options = options

    def rich_table(self) -> RichTable:
        """The same table as rich lays it out: what is printed when the quick layout does not apply."""
        from rich.table import Table as RichTable
        from rich.text import Text

        table = RichTable(title=self.title, **self.options)
        for column, width in zip(self.columns, self.widths):
            table.add_column(column, overflow="fold", width=width)
        for row in self.rows:
            # Text, not markup: '[inaudible]' in a transcript is words, not a style tag.
            table.add_row(*(Text(cell) for cell in row))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = _Layout.of(self, console, options)
        if layout is None:
            yield self.rich_table()
            return
        if self.title:
            # As rich does: the title's markup is read and it wraps to the table's width (a few µs, once).
            title = console.render_str(self.title, style="table.title", highlight=False)
            yield from console.render(title, options.update(width=layout.table_width, justify=self.options.get(
                "title_justify", "center"), highlight=False, height=None))
        yield from layout.lines(self.rows)


class _Layout:
    """Column widths, padding and box of a table that fits: where each character of each line goes."""

    def __init__(self, table: Table, console: Console, options: ConsoleOptions, headers: list[str] | None,
                 contents: list[int], padding: tuple[int, int]) -> None:
        from rich import box as boxes

        box = table.options.get("box", boxes.HEAVY_HEAD)
        if box is not None:
            box = box.substitute(options, safe=console.safe_box)
            box = box if headers is not None else box.get_plain_headed_box()
        self.box = box
        self.edge = box is not None and table.options.get("show_edge", True)
        self.headers = headers
        self.contents = contents
        self.left, self.right = padding
        self.widths = [width + self.left + self.right for width in contents]
        self.table_width = sum(self.widths) + _border_width(table)
        self.header_style = console.get_style("table.header")

    @classmethod
    def of(cls, table: Table, console: Console, options: ConsoleOptions) -> _Layout | None:
        """The layout rich's Table would choose, if it is one this module draws (else None: rich draws it)."""
        from rich.cells import cell_len
        from rich.padding import Padding

        columns, rows = table.columns, table.rows
        if set(table.options) - _OWN_OPTIONS or not columns or any(len(row) != len(columns) for row in rows):
            return None
        top, right, bottom, left = Padding.unpack(table.options.get("padding", (0, 1)))
        if top or bottom or CONTROL.search("".join("".join(row) for row in rows)):
            return None
        show_header = table.options.get("show_header", True)
        headers = _headers(console, options, columns) if show_header else None
        if show_header and headers is None:
            return None
        contents = []
        for index, fixed in enumerate(table.widths):
            widest = max(map(cell_len, (row[index] for row in rows)), default=0)
            if headers is not None:
                widest = max(widest, cell_len(headers[index]))
            if fixed is not None and widest > fixed:
                return None  # rich folds the longer cells onto more lines
            contents.append(widest if fixed is None else fixed)
        # A column with nothing in it is drawn by rich (it renders the empty cell at width 0, as one blank).
        if min(contents) < 1 or sum(contents) + (left + right) * len(columns) > options.max_width - _border_width(table):
            return None
        return cls(table, console, options, headers, contents, (left, right))

    def lines(self, rows: Sequence[Sequence[str]]) -> Iterator:
        """The table's segments, line by line. Borders and body cells carry no style (rich gives them none),
        so a body line is one segment; header cells are styled as rich styles them, padding apart from words."""
        from rich.cells import cell_len
        from rich.segment import Segment

        box, edge = self.box, self.edge
        if edge:
            yield Segment(box.get_top(self.widths) + "\n")
        count = len(rows) + (self.headers is not None)
        if self.headers is not None:
            yield from self._header_line(self._row_box(0, count))
            if box is not None:
                yield Segment(box.get_row(self.widths, "head", edge=edge) + "\n")
        left, right = " " * self.left, " " * self.right
        contents = self.contents
        for index, row in enumerate(rows, start=count - len(rows)):
            start, divider, end = self._row_box(index, count)
            cells = divider.join([f"{left}{cell}{' ' * (width - cell_len(cell))}{right}"
                                  for cell, width in zip(row, contents)])
            yield Segment(f"{start}{cells}{end}\n")
        if edge:
            yield Segment(box.get_bottom(self.widths) + "\n")

    def _row_box(self, index: int, count: int) -> tuple[str, str, str]:
        """The left edge, divider and right edge of the `index`th line of `count` (the header counts): rich
        draws the first with the box's head characters, the last with its foot ones, the rest with its middle."""
        box = self.box
        if box is None:
            return "", "", ""
        if index == 0:
            characters = box.head_left, box.head_vertical, box.head_right
        elif index == count - 1:
            characters = box.foot_left, box.foot_vertical, box.foot_right
        else:
            characters = box.mid_left, box.mid_vertical, box.mid_right
        return characters if self.edge else ("", characters[1], "")

    def _header_line(self, characters: tuple[str, str, str]) -> Iterator:
        from rich.cells import cell_len
        from rich.segment import Segment

        style = self.header_style
        start, divider, end = characters
        if start:
            yield Segment(start)
        for index, (header, width) in enumerate(zip(self.headers, self.contents)):
            if index:
                yield Segment(divider)
            if self.left:
                yield Segment(" " * self.left, style)
            yield Segment(header + " " * (width - cell_len(header)), style)
            if self.right:
                yield Segment(" " * self.right, style)
        yield Segment(end + "\n")


def _headers(console: Console, options: ConsoleOptions, columns: list[str]) -> list[str] | None:
    """Column headings as rich shows them (read as markup, with :emoji: codes), or None if one is
    styled by its markup or has a control character: rich draws those."""
    headers = []
    for column in columns:
        text = console.render_str(column, highlight=False, markup=options.markup)
        if text.spans or text.style or CONTROL.search(text.plain):
            return None
        headers.append(text.plain)
    return headers


def _border_width(table: Table) -> int:
    """Characters the box adds to a line, as rich counts them: both edges, and one between each two columns."""
    if table.options.get("box", True) is None:
        return 0
    return 2 * table.options.get("show_edge", True) + len(table.columns) - 1
