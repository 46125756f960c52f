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
