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
    return Chart(lambda fmt: heatmap(table, fmt), "Heatmap of the share of coded passages per theme and locality")


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
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    _pyplot().close(figure)
    return buffer.getvalue()


def heatmap(table: MatrixTable, fmt: str = "png") -> bytes:
    """Codes × localities, shaded by share (the numbers are in the table beside it); the report's own locality in bold."""
    plt = _pyplot()
    values = [row.values for row in reversed(table.rows)]
    figure, axes = plt.subplots(figsize=(1.6 + 1.1 * len(table.columns), 1.2 + 0.28 * len(table.rows)), dpi=110)
    mesh = axes.pcolormesh(values, cmap="Blues", edgecolors="white", linewidth=0.5)
    axes.set_xticks([x + 0.5 for x in range(len(table.columns))], table.columns, rotation=30, ha="right")
    labels = ["  " * row.depth + row.code.rsplit("/", 1)[-1] for row in reversed(table.rows)]
    axes.set_yticks([y + 0.5 for y in range(len(table.rows))], labels, fontsize=8)
    for label in axes.get_xticklabels():
        label.set_fontweight("bold" if label.get_text() == table.highlight else "normal")
    scale = figure.colorbar(mesh, ax=axes, label="% of coded passages")
    scale.solids.set_rasterized(False)  # vector, like the cells: no embedded bitmap
    figure.tight_layout()
    return _save(figure, fmt)


def bars(groups: list[str], series: dict[str, list[float]], ylabel: str, fmt: str = "png") -> bytes:
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
    return _save(figure, fmt)


def write_matrix_plot(table, path):
    """A `query.matrix` DataFrame drawn as a heatmap, PNG or SVG by the file's suffix."""
    rows = [MatrixRow(str(code), 0, [float(v) for v in values]) for code, values in zip(table.index, table.values.tolist())]
    fmt = "svg" if path.suffix.lower() == ".svg" else "png"
    path.write_bytes(heatmap(MatrixTable("", [str(c) for c in table.columns], rows, None), fmt))
    return path
