"""The report charts as matplotlib draws them: labels that say what is drawn, and nothing clipped."""

from __future__ import annotations

from qualcode.reports.contexts import MatrixRow, MatrixTable
from qualcode.reports.plots import bars_figure, heatmap_figure


def nothing_clipped(figure) -> None:
    """Everything drawn (tick labels, axis and colour-bar labels, titles, legend) lies inside the figure."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.get_size_inches()
    tight = figure.get_tightbbox(renderer)
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01, tight
    assert tight.x1 <= width + 0.01 and tight.y1 <= height + 0.01, (tight, width, height)


def test_heatmap_full_paths_a_panel_and_scale_per_level_and_the_unit_on_each_colour_bar():
    table = MatrixTable("", ["Eastern", "Northern", "Southern"], [
        MatrixRow("hierarchy", 0, [1400, 900, 1100]),
        MatrixRow("hierarchy/academisation", 1, [300, 200, 250]),
        MatrixRow("hierarchy/academisation/forced-conversion-after-inadequate", 2, [3, 4, 9]),
        MatrixRow("markets", 0, [500, 700, 650]),
    ], "Eastern", "coded passages (count)", "locality")
    figure = heatmap_figure(table)
    scales = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"]
    panels = [axes for axes in figure.axes if axes not in scales]
    assert [[t.get_text() for t in axes.get_yticklabels()] for axes in panels] == [
        ["markets", "hierarchy"], ["hierarchy/academisation"], ["hierarchy/academisation/forced-conversion-after-inadequate"]]
    # the unit on every colour bar (in as many lines as its panel's height needs)
    assert [" ".join(axes.get_ylabel().split()) for axes in scales] == ["coded passages (count)"] * 3
    assert [axes.get_title(loc="left") for axes in panels] == ["Themes", "Codes at level 2", "Codes at level 3"]
    # each panel's scale runs over its own level's numbers: the themes' 1400 does not pale the level-3 codes
    assert [axes.collections[0].get_clim() for axes in panels] == [(500, 1400), (200, 300), (3, 9)]
    assert panels[-1].get_xlabel() == "Locality"
    nothing_clipped(figure)


def test_bars_label_and_nothing_clipped():
    figure = bars_figure(["hierarchy", "markets", "networks"], {"primary": [40.0, 20.5, 39.5], "secondary": [30, 45, 25]},
                         "% of coded passages")
    axes = figure.axes[0]
    assert axes.get_ylabel() == "% of coded passages"
    assert [t.get_text() for t in axes.get_xticklabels()] == ["hierarchy", "markets", "networks"]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["primary", "secondary"]
    nothing_clipped(figure)


def test_a_heatmap_of_percentages_names_each_columns_n():
    table = MatrixTable("", ["Eastern", "Northern"], [MatrixRow("markets", 0, [40.0, 20.5])], "Eastern",
                        "% of coded passages in the locality", "locality", [366, 1204])
    figure = heatmap_figure(table)
    panel = [axes for axes in figure.axes if axes.get_label() != "<colorbar>"][0]
    labels = panel.get_xticklabels()
    assert [t.get_text() for t in labels] == ["Eastern (N = 366)", "Northern (N = 1204)"]
    assert [t.get_fontweight() for t in labels] == ["bold", "normal"]
    scale = [axes for axes in figure.axes if axes.get_label() == "<colorbar>"][0]
    assert " ".join(scale.get_ylabel().split()) == "% of coded passages in the locality"
    nothing_clipped(figure)
