"""capsnet_lib.figures: a notebook's figures saved at the width the book's column shows."""

from __future__ import annotations

import base64
import struct

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from capsnet_lib import figures  # noqa: E402


def png_width(data: str) -> int:
    return struct.unpack(">I", base64.b64decode(data)[16:20])[0]


@pytest.mark.parametrize("inches", [16, 13, 7.6, 4])
def test_a_figure_is_at_most_as_wide_as_the_column(inches):
    fig = plt.figure(figsize=(inches, 3))
    fig.add_subplot().plot([0, 1], [0, 1])
    try:
        width = png_width(figures.png_at_column_width(fig))
    finally:
        plt.close(fig)
    assert width <= figures.COLUMN_PX, f"a {inches}-inch figure is saved {width} px wide"
    # a small figure keeps its own resolution: only wide ones are scaled down
    expected_dpi = min(100, figures.COLUMN_PX / inches)
    assert figures.column_dpi(plt.figure(figsize=(inches, 3), dpi=100)) == pytest.approx(
        expected_dpi
    )
    plt.close("all")


def test_the_formatter_is_installed_only_in_ipython(monkeypatch):
    assert figures.fit_figures_to_the_page() is False  # plain Python: nothing to do
    monkeypatch.setenv("CAPSNET_FULL_SIZE_FIGURES", "1")
    assert figures.fit_figures_to_the_page() is False
