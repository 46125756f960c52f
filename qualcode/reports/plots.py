"""Plots for reports, drawn with matplotlib off screen and embedded, never linked.

HTML gets inline SVG with text as text and cells as vector shapes: no base64
blob in the page, so `qualcode check` reads a report's every line as words
(random base64 letters can look like someone's initials). Word gets PNG.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from qualcode.reports.contexts import MatrixRow, MatrixTable, doc


@dataclass
class Chart:
    """A plot drawn on demand in the format the report needs."""

    draw: Callable[[str], bytes] = doc("Draws the plot as 'svg' or 'png' bytes.")
    alt: str = doc("What the plot shows, for screen readers and captions.")

    def svg(self) -> str:
        """Inline SVG markup (without the XML prolog), for HTML."""
        text = self.draw("svg").decode("utf-8")
        return text[text.index("<svg") :]

    def png(self) -> bytes:
        return self.draw("png")


def heatmap_chart(table: MatrixTable) -> Chart:
    return Chart(lambda fmt: heatmap(table, fmt), f"Heatmap of {table.unit} per theme and {table.axis}")


def bars_chart(groups: list[str], series: dict[str, list[float]], ylabel: str, alt: str) -> Chart:
    return Chart(lambda fmt: bars(groups, series, ylabel, fmt), alt)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "qualcode"
    import matplotlib.pyplot as plt

    return plt


def _save(figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # "tight": the saved image grows to hold every label, so a long code path or colour-bar label is never cut off.
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None, bbox_inches="tight")
    _pyplot().close(figure)
    return buffer.getvalue()


def heatmap(table: MatrixTable, fmt: str = "png") -> bytes:
    return _save(heatmap_figure(table), fmt)


def heatmap_figure(table: MatrixTable):
    """Codes × columns, shaded by `table.unit` (the numbers are in the table beside it), full code paths as
    row labels, the report's own column in bold.

    Each level of the codebook is a panel of its own with its own colour scale:
    a theme's rolled-up count holds its children's, and on one scale it would
    leave them all pale.
    """
    plt = _pyplot()
    levels = sorted({row.depth for row in table.rows})
    panels = [[row for row in table.rows if row.depth == level] for level in levels] or [[]]
    label_width = max((len(row.code) for row in table.rows), default=10)
    # the column labels are slanted at 30 degrees: half their length goes down, the rest to the left
    column_width = max((len(label) for label in _column_labels(table)), default=8)
    figure, grid = plt.subplots(
        len(panels), 1, squeeze=False, dpi=110, height_ratios=[max(len(rows), 1) for rows in panels],
        figsize=(1.8 + 0.07 * max(label_width, column_width) + 1.1 * len(table.columns),
                 1.4 + 0.04 * column_width + 0.28 * len(table.rows) + 0.6 * len(panels)),
    )
    for n, (axes, rows) in enumerate(zip(grid[:, 0], panels)):
        mesh = axes.pcolormesh([row.values for row in reversed(rows)] or [[0] * len(table.columns)], cmap="Blues",
                               edgecolors="white", linewidth=0.5)
        axes.set_yticks([y + 0.5 for y in range(len(rows))], [row.code for row in reversed(rows)], fontsize=8)
        last = n == len(panels) - 1
        axes.set_xticks([x + 0.5 for x in range(len(table.columns))], _column_labels(table) if last else [],
                        rotation=30, ha="right")
        for label, column in zip(axes.get_xticklabels(), table.columns):
            label.set_fontweight("bold" if column == table.highlight else "normal")
        if len(panels) > 1:
            axes.set_title("Themes" if levels[n] == 0 else f"Codes at level {levels[n] + 1}", fontsize=9, loc="left")
        scale = figure.colorbar(mesh, ax=axes, label=_wrapped(table.unit, figure, max(len(rows), 1) / len(table.rows or [0])))
        scale.solids.set_rasterized(False)  # vector, like the cells: no embedded bitmap
    grid[-1, 0].set_xlabel(table.axis.capitalize())
    figure.tight_layout()
    return figure


def _wrapped(label: str, figure, share: float) -> str:
    """The colour-bar label in lines that fit beside a panel given `share` of the figure's height: a long
    label on a short panel would run off the figure."""
    import textwrap

    inches = (figure.get_size_inches()[1] - 1.3) * share
    return textwrap.fill(label, max(12, int(inches / 0.075)))


def _column_labels(table: MatrixTable) -> list[str]:
    """Column names, each with its N when the numbers are percentages of it."""
    if not table.totals:
        return table.columns
    return [f"{column} (N = {n})" for column, n in zip(table.columns, table.totals)]


def bars(groups: list[str], series: dict[str, list[float]], ylabel: str, fmt: str = "png") -> bytes:
    return _save(bars_figure(groups, series, ylabel), fmt)


def bars_figure(groups: list[str], series: dict[str, list[float]], ylabel: str):
    """Grouped bars: one group per entry of `groups` (e.g. themes), one bar per series (e.g. phase)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(1.5 + 1.3 * len(groups), 3.6), dpi=110)
    width = 0.8 / max(len(series), 1)
    for n, (name, values) in enumerate(series.items()):
        axes.bar([i + n * width for i in range(len(groups))], values, width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(groups))], groups)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


def write_matrix_plot(table, path, unit: str, axis: str, totals=None):
    """A `query_matrix.matrix` DataFrame drawn as a heatmap, PNG or SVG by the file's suffix; `unit` says what its
    numbers are (counts or percentages), for the colour bar, `axis` what its columns are, and `totals` (a
    Series by column, `query_matrix.column_totals`) the N that percentages are of, shown on each column."""
    rows = [MatrixRow(str(code), str(code).count("/"), [float(v) for v in values])
            for code, values in zip(table.index, table.values.tolist())]
    columns = [str(c) for c in table.columns]
    ns = [] if totals is None else [int(totals.get(column, 0)) for column in columns]
    fmt = "svg" if path.suffix.lower() == ".svg" else "png"
    path.write_bytes(heatmap(MatrixTable("", columns, rows, None, unit, axis, ns), fmt))
    return path
