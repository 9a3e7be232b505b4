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


def test_the_smallest_text_is_measured_as_the_page_shows_it():
    fig = plt.figure(figsize=(15, 4))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "a 9-point label", fontsize=9)
    ax.text(0.5, 0.2, "hidden", fontsize=4, visible=False)  # not drawn: not counted
    ax.text(0.5, 0.1, "", fontsize=3)  # nothing to read
    ax.axis("off")  # no tick labels either
    try:
        # saved 688 px wide, at 688 / 15 dpi: 9 pt is 9 * 688 / 15 / 72 = 5.7 px
        assert figures.smallest_text_px(fig) == pytest.approx(9 * figures.COLUMN_PX / 15 / 72)
        # saved at 100 dpi, over 1,000 px wide, the page would scale it down as much
        assert figures.smallest_text_px(fig, dpi=100) < figures.MIN_TEXT_PX
    finally:
        plt.close(fig)
    fig = plt.figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "a 9-point label", fontsize=9)
    try:
        # its tick labels (10 pt) are drawn, the 9-point label is smaller
        assert figures.smallest_text_px(fig) == pytest.approx(12.5)
        assert figures.smallest_text_px(fig, dpi=72) == pytest.approx(9)
        ax.tick_params(labelsize=5)
        assert figures.smallest_text_px(fig) == pytest.approx(5 * 100 / 72)
        with pytest.raises(figures.FigureTextTooSmall, match="'0.0' is 6.9 px tall"):
            figures.check_figure_text(fig)
        # a legend outside the axes widens the saved PNG, which the page then scales down
        ax.tick_params(labelsize=10)
        ax.plot([0, 1], label="a line " * 12)
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
        assert figures.smallest_text_px(fig) < 11
    finally:
        plt.close(fig)
    empty = plt.figure(figsize=(4, 3))
    assert figures.smallest_text_px(empty) is None
    figures.check_figure_text(empty)  # no text, nothing too small
    plt.close(empty)


def test_a_narrow_figure_with_the_usual_fonts_is_legible():
    fig, ax = plt.subplots(figsize=(7.6, 3))
    ax.plot([0, 1], [0, 1])
    ax.set(title="title", xlabel="x", ylabel="y")
    try:
        assert figures.smallest_text_px(fig) >= figures.MIN_TEXT_PX
        figures.check_figure_text(fig)
    finally:
        plt.close(fig)


@pytest.fixture
def checking_shell(monkeypatch):
    """An IPython shell (not the global one) with the book's figure formatter and check."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv(figures.CHECK_ENV, "1")
    shell = InteractiveShell()
    figures._install(shell)
    figures._install_the_check(shell)
    shell.run_cell("import matplotlib.pyplot as plt\nplt.close('all')")
    yield shell
    plt.close("all")


@pytest.mark.parametrize(
    "cell",
    [
        "fig, ax = plt.subplots(figsize=(15, 3))\nax.text(0, 0, 'label', fontsize=9)",
        "fig = plt.figure(figsize=(6, 3))\nfig.text(0, 0, 'tiny', fontsize=5)\nfig",
        # shown and closed within the cell: found by the PNG formatter
        "fig = plt.figure(figsize=(6, 3))\nfig.text(0, 0, 'tiny', fontsize=5)\n"
        "get_ipython().display_formatter.format(fig)\nplt.close(fig)",
    ],
)
def test_a_cell_whose_figure_text_is_too_small_fails(checking_shell, cell):
    result = checking_shell.run_cell(cell)
    assert isinstance(result.error_in_exec, figures.FigureTextTooSmall), cell
    assert "px tall on the page" in str(result.error_in_exec)
    plt.close("all")
    assert checking_shell.run_cell("1 + 1").success  # the next cell is not blamed for it


def test_a_cell_with_legible_figures_runs_and_shows_its_value(checking_shell):
    result = checking_shell.run_cell(
        "fig, ax = plt.subplots(figsize=(7, 3))\nax.plot([0, 1])\nax.set_title('fine')\n6 * 7"
    )
    assert result.success and result.result == 42
    assert checking_shell.run_cell("x = 1").success  # a cell that ends without an expression
    # ';' still hides the value
    assert checking_shell.run_cell("6 * 7;", store_history=True).result is None


def _library_figures():
    """Each plotting function of capsnet_lib, called as the chapters call it, made-up data."""
    import numpy as np

    from capsnet_lib import plotting, plotting_lengths, plotting_routing, plotting_windows
    from capsnet_lib import plotting_multimnist as multimnist

    rng = np.random.default_rng(0)

    def digits(n):
        return rng.random((n, 28, 28))

    def classes(*shape):
        return rng.integers(0, 10, shape)

    def field(top, left):
        mask = np.zeros((28, 28), bool)
        mask[top : top + 9, left : left + 9] = True
        return mask

    log = {key: rng.random(5) for key in ("loss", "val_loss", "accuracy", "val_accuracy")}
    return {
        "plot_digits": lambda: plotting.plot_digits(digits(20), classes(20), columns=10),
        "plot_reconstructions": lambda: plotting.plot_reconstructions(
            digits(10), digits(10), classes(10), classes(10)
        ),
        "plot_training_curves": lambda: plotting.plot_training_curves(
            {"epoch": np.arange(5), **log}
        ),
        "plot_receptive_fields": lambda: plotting.plot_receptive_fields(
            digits(1)[0], [field(2, 2), field(10, 8)], ["capsules 224-255", "864-895"]
        ),
        "plot_pose_sweep": lambda: plotting.plot_pose_sweep(
            np.arange(-4, 5), digits(9), digits(9), rng.normal(size=(9, 16)), (3, 7)
        ),
        "plot_lengths_beside_softmax": lambda: plotting_lengths.plot_lengths_beside_softmax(
            digits(1)[0], rng.random(10), np.full(10, 0.1), label=3
        ),
        "plot_pairs": lambda: multimnist.plot_pairs(
            rng.random((8, 36, 36, 1)), classes(8, 2), rng.random((8, 2, 36, 36, 1))
        ),
        "plot_pair_reconstructions": lambda: multimnist.plot_pair_reconstructions(
            rng.random((8, 36, 36, 1)),
            rng.random((8, 2, 36, 36, 1)),
            classes(8, 2),
            classes(8, 2),
        ),
        "plot_routing_2d": lambda: plotting_routing.plot_routing_2d(
            rng.normal(size=(6, 2, 2)),
            rng.dirichlet(np.ones(2), (3, 6)),
            rng.normal(size=(3, 2, 2)),
        ),
        "plot_prediction_blocks": plotting_routing.plot_prediction_blocks,
        "plot_agreement_parts": lambda: plotting_routing.plot_agreement_parts(
            rng.random(3), rng.random(3), rng.random(3)
        ),
        "plot_window_couplings": lambda: plotting_windows.plot_window_couplings(
            digits(1)[0],
            rng.random(1152),
            rng.dirichlet(np.ones(10), 1152),
            [5, 3],
            ["to 5, the winner", "to 3, the runner-up"],
        ),
        "plot_coupling_rounds": lambda: plotting_windows.plot_coupling_rounds(
            digits(1)[0],
            "label 3\npredicted 3",
            rng.dirichlet(np.ones(10), (3, 12)),
            np.arange(12) * 90,
        ),
        "plot_coupling_spread": lambda: plotting_windows.plot_coupling_spread(
            [rng.random(500) for _ in range(3)], [rng.random(100) for _ in range(3)]
        ),
    }


@pytest.mark.parametrize("name", list(_library_figures()))
def test_the_library_figures_are_legible_on_the_page(name):
    fig = _library_figures()[name]()
    try:
        figures.check_figure_text(fig)
        assert fig.get_figwidth() * figures.column_dpi(fig) <= figures.COLUMN_PX + 1
    finally:
        plt.close("all")
