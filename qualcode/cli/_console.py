"""The one object that owns terminal output: messages to stderr, data to stdout.

Library code never prints; commands go through a `Terminal`, so tests and pipes
get clean data on stdout while people still see progress and warnings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console


class Terminal:
    """rich is loaded on first use: a command that only reports what it did (`qualcode code`) never needs it."""

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
        self.err.print(f"[yellow]warning:[/] {escape(message)}")

    def error(self, message: str) -> None:
        self.err.print(f"[red]error:[/] {escape(message)}")

    def abort(self, message: str, code: int = 1) -> typer.Exit:
        self.error(message)
        return typer.Exit(code)

    def json(self, data: object) -> None:
        """Machine-readable output: plain JSON on stdout, no colour, no wrapping."""
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]], **kwargs) -> None:
        # Imported here, like Progress below: commands that only print a message start faster.
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left", **kwargs)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            # Text, not markup: '[inaudible]' in a transcript is words, not a style tag.
            table.add_row(*(Text("" if value is None else str(value)) for value in row))
        self.out.print(table)

    @contextmanager
    def progress(self, description: str) -> Iterator:
        """Yield a `(done, total)` callback that drives a progress bar on stderr."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
            disable=not self.err.is_terminal,
        )
        task = bar.add_task(description, total=None)
        with bar:
            yield lambda done, total: bar.update(task, completed=done, total=total)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


terminal = Terminal()
