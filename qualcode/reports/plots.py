"""Plots for reports, drawn with matplotlib off screen and kept as PNG bytes (embedded, never linked)."""

from __future__ import annotations

import base64
import io

from qualcode.reports.contexts import MatrixTable


def heatmap(table: MatrixTable) -> bytes:
    """Codes × localities, shaded by share (the numbers are in the table beside it); the report's own locality in bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [row.values for row in table.rows]
    figure, axes = plt.subplots(figsize=(1.6 + 1.1 * len(table.columns), 1.2 + 0.28 * len(table.rows)), dpi=110)
    image = axes.imshow(values, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(table.columns)), table.columns, rotation=30, ha="right")
    axes.set_yticks(range(len(table.rows)), ["  " * row.depth + row.code.rsplit("/", 1)[-1] for row in table.rows], fontsize=8)
    for label in axes.get_xticklabels():
        label.set_fontweight("bold" if label.get_text() == table.highlight else "normal")
    figure.colorbar(image, ax=axes, label="% of coded passages")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def bars(groups: list[str], series: dict[str, list[float]], ylabel: str) -> bytes:
    """Grouped bars: one group per entry of `groups` (e.g. themes), one bar per series (e.g. phase)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(1.5 + 1.3 * len(groups), 3.6), dpi=110)
    width = 0.8 / max(len(series), 1)
    for n, (name, values) in enumerate(series.items()):
        axes.bar([i + n * width for i in range(len(groups))], values, width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(groups))], groups)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_of(uri: str) -> bytes:
    """The PNG bytes back from a data: URI, for Word documents."""
    return base64.b64decode(uri.split(",", 1)[1])


def write_matrix_plot(table, path):
    """A `query.matrix` DataFrame drawn as a heatmap PNG at `path`."""
    from qualcode.reports.contexts import MatrixRow

    rows = [MatrixRow(str(code), 0, [float(v) for v in values]) for code, values in zip(table.index, table.values.tolist())]
    path.write_bytes(heatmap(MatrixTable("", [str(c) for c in table.columns], rows, None)))
    return path
