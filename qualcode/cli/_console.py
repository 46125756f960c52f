"""The one object that owns terminal output: messages to stderr, data to stdout.

Library code never prints; commands go through a `Terminal`, so tests and pipes
get clean data on stdout while people still see progress and warnings.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

import typer

from qualcode.cli._tables import CONTROL, Table

if TYPE_CHECKING:
    from rich.console import Console


def _json(data: object, **options) -> str:
    """Strict JSON: a missing value pandas reads as NaN becomes null, since NaN is not JSON and
    a script in R or JavaScript (or jq --strict) stops at it. Checked first, as most output has none."""
    options = dict(ensure_ascii=False, default=str, allow_nan=False, **options)
    try:
        return json.dumps(data, **options)
    except ValueError:
        return json.dumps(_nulled(data), **options)


def _nulled(data: object) -> object:
    """`data` with every NaN or infinite float (at any depth) replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _nulled(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_nulled(value) for value in data]
    return data


class Terminal:
    """rich is loaded on first use: a command that only reports what it did (`qualcode code`) never needs it."""

    #: A progress bar is on screen: messages go through rich, which draws them above it.
    _drawing = False

    @cached_property
    def out(self) -> Console:
        from rich.console import Console

        # Piped output is data: give tables room rather than the 80 columns rich assumes.
        out = Console(highlight=False, soft_wrap=False)
        if not out.is_terminal and "COLUMNS" not in os.environ:
            out.width = 160
        return out

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        # Messages are never wrapped: an editor or grep must see `file:line: message` whole.
        return Console(stderr=True, highlight=False, soft_wrap=True)

    def info(self, message: str) -> None:
        """A plain message on stderr, as it is: no markup, no wrapping."""
        typer.echo(message, err=True)

    def warn(self, message: str) -> None:
        self._message(WARNING, message)

    def error(self, message: str) -> None:
        self._message(ERROR, message)

    def _message(self, label: str, message: str) -> None:
        """`label message` on stderr as rich prints it, written straight to the stream where that gives the same
        bytes: rich's print costs ~0.4 ms a line, and `query framework --by participant` warns 141 times. rich
        prints it if the message has what rich would change (markup-like brackets, :emoji: codes, control
        characters, a final backslash, which rich's escape doubles) or a progress bar is on screen (rich draws
        the message above it)."""
        from rich._emoji_replace import _emoji_replace

        if (self._drawing or "[" in message or message.endswith("\\") or CONTROL.search(message)
                or _emoji_replace(message) != message):
            self.err.print(f"{label} {escape(message)}")
            return
        stream = self.err.file
        stream.write(f"{self._labels[label]} {message}\n")
        stream.flush()

    @cached_property
    def _labels(self) -> dict[str, str]:
        """'warning:' and 'error:' as rich prints them on stderr (coloured on a terminal), rendered once."""
        labels = {}
        for label in (WARNING, ERROR):
            with self.err.capture() as captured:
                self.err.print(label, end="")
            labels[label] = captured.get()
        return labels

    def abort(self, message: str, code: int = 1) -> typer.Exit:
        self.error(message)
        return typer.Exit(code)

    def json(self, data: object) -> None:
        """Machine-readable output: plain JSON on stdout, no colour, no wrapping."""
        typer.echo(_json(data, indent=2))

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]], **kwargs) -> None:
        """rich's table of `rows` under `columns`, as plain text (see qualcode.cli._tables for how it is drawn fast)."""
        self.out.print(Table(title, columns, [[_cell(value) for value in row] for row in rows], title_justify="left", **kwargs))

    def listing(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], records: Iterable[dict] | None = None,
                paged: bool = True, footer: Callable[[], str] | None = None, **kwargs) -> None:
        """A long listing, printed as it comes: never one table of thousands of rows before the first.

        On a terminal: tables of `CHUNK` rows with the first chunk's column widths, through the
        pager if `paged`, then the line `footer()` gives once the rows are out (what is known only
        then, such as how many there were). Piped: `title` on stderr, then a tab-separated header and
        rows (tabs and line breaks in a value become spaces), then `footer()` on stderr; or, if
        `records` is given, one JSON object per line."""
        if records is not None:
            with self._quiet_when_closed():
                for record in records:
                    self.out.file.write(_json(record) + "\n")
            return
        if not self.out.is_terminal:
            if self._plain_rows(title, columns, rows, kwargs.get("show_header", True)) and footer is not None:
                self.info(footer())
            return
        with self.paged(paged), self._quiet_when_closed():
            self._chunked_tables(title, columns, rows, **kwargs)
            if footer is not None:
                self.out.print(footer(), markup=False, style="italic")

    def _plain_rows(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], header: bool) -> bool:
        """Whether every row went out (not if the reader went away first)."""
        if title:
            self.info(title)
        file = self.out.file
        with self._quiet_when_closed():
            if header:
                file.write("\t".join(columns) + "\n")
            for n, row in enumerate(rows):
                file.write("\t".join(_plain(value) for value in row) + "\n")
                if n < CHUNK:
                    # The first screen goes out row by row, as the rows may still be being found; and a reader that
                    # has had enough (`| head`) stops the search at the next row, not a buffer's worth later.
                    file.flush()
            return True
        return False

    def _chunked_tables(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], **kwargs) -> None:
        from itertools import islice

        from rich import box

        rows = iter(rows)
        chunk = list(islice(rows, CHUNK))
        widths = _fixed_widths(columns, chunk, self.out.width, kwargs.get("padding", (0, 1)))
        style = {"box": box.SIMPLE_HEAD, "show_edge": False, **kwargs}
        self.table(title, columns, chunk, widths=widths, **style)
        style["show_header"] = False
        while chunk := list(islice(rows, CHUNK)):
            self.table(None, columns, chunk, widths=widths, **style)

    @contextmanager
    def paged(self, enabled: bool = True) -> Iterator[None]:
        """Send what the block prints through the pager, when stdout is a terminal and a pager is set."""
        from qualcode.cli import pager

        command = pager.pager_command() if enabled and self.out.is_terminal else None
        if command is None:
            yield
            return
        from rich.console import Console

        screen = self.out
        stream = open(pager.launcher(command), "w", encoding=screen.encoding, errors="replace")
        self.__dict__["out"] = Console(file=stream, force_terminal=True, width=screen.width, height=screen.height,
                                       color_system=screen.color_system, highlight=False, soft_wrap=False)
        try:
            with self._quiet_when_closed():
                yield
        finally:
            self.__dict__["out"] = screen
            try:
                stream.close()
            except BrokenPipeError:
                pass
            pager.wait()

    @contextmanager
    def _quiet_when_closed(self) -> Iterator[None]:
        """The reader went away (the pager quit, `| head` had enough): stop printing, quietly, as git does."""
        try:
            yield
        except BrokenPipeError:
            # Nothing more can reach the reader; point the output at nothing so the last flush does not fail too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.file.fileno())
            os.close(devnull)

    @contextmanager
    def progress(self, description: str) -> Iterator:
        """Yield a `(done, total)` callback that drives a progress bar on stderr (none, and no rich.progress, in a pipe)."""
        if not self.err.is_terminal:
            yield lambda done, total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(description, total=None)
        self._drawing = True
        try:
            with bar:
                yield lambda done, total: bar.update(task, completed=done, total=total)
        finally:
            self._drawing = False


#: Rows per table in a long listing on a terminal: the first screen is out after this many.
CHUNK = 100

#: How messages on stderr begin (rich markup: yellow and red on a terminal).
WARNING, ERROR = "[yellow]warning:[/]", "[red]error:[/]"


def _cell(value: object) -> str:
    """A value as shown: nothing for None or a missing number (NaN)."""
    return "" if value is None or value != value else str(value)


def _plain(value: object) -> str:
    """A value on one line of a tab-separated row."""
    return " ".join(_cell(value).replace("\t", " ").splitlines())


def _fixed_widths(columns: Sequence[str], rows: list[Sequence[object]], total: int, padding) -> list[int]:
    """Column widths from the first rows, so the following tables line up under them: each column as wide
    as its widest value; if they do not fit, the widest columns give way alike (their words fold onto more lines)."""
    gap = 2 * (padding[1] if isinstance(padding, tuple) else padding) if padding else 0
    widths = [max([len(str(column))] + [len(_plain(row[i])) for row in rows]) for i, column in enumerate(columns)]
    room = total - (gap + 1) * len(columns)
    cap = max(widths, default=0)
    while sum(min(width, cap) for width in widths) > room and cap > 8:
        cap -= 1
    return [min(width, cap) for width in widths]


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


terminal = Terminal()
