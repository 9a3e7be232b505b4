"""Chapter 3's figure helpers: the block picture of eq. 2 and the parts of the winner's input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from capsnet_lib.plotting_routing import plot_agreement_parts, plot_prediction_blocks  # noqa: E402


def blocks(fig, gid):
    return [patch for patch in fig.axes[0].patches if patch.get_gid() == gid]


def texts(fig):
    return [text.get_text() for text in fig.axes[0].texts]


def test_the_block_picture_draws_a_grid_of_matrices_times_vectors_to_scale():
    fig = plot_prediction_blocks(shown=3)
    W, u, u_hat = blocks(fig, "W"), blocks(fig, "u"), blocks(fig, "u_hat")
    assert len(W) == len(u_hat) == 4 * 4 and len(u) == 4  # 3 rows/columns and the last
    # a matrix is 16 numbers tall and 8 wide; a child's vector 8 tall; a prediction 16 tall
    assert {(round(p.get_width(), 6), round(p.get_height(), 6)) for p in W} == {(0.8, 1.6)}
    assert {round(p.get_height(), 6) for p in u} == {0.8}
    assert {round(p.get_height(), 6) for p in u_hat} == {1.6}
    shown = texts(fig)
    for title in ("W: (1152, 10, 16, 8)", "u: (1152, 8)", "û: (1152, 10, 16)"):
        assert any(text.startswith(title) for text in shown), title
    assert "i=1151" in shown and "j=9" in shown
    plt.close(fig)


def test_one_product_is_coloured_in_each_panel():
    fig = plot_prediction_blocks(highlight=(1, 2))
    orange = to_rgba("tab:orange")
    for gid in ("W", "u", "u_hat"):
        lit = [p for p in blocks(fig, gid) if p.get_facecolor() == orange]
        assert len(lit) == 1, gid
    assert any("W_{12}" in text for text in texts(fig))
    plt.close(fig)


def test_other_shapes_and_a_highlight_outside_the_drawn_blocks():
    fig = plot_prediction_blocks(32, 5, 4, 2, shown=2, highlight=(0, 1))
    assert len(blocks(fig, "W")) == 9
    assert any(text.startswith("W: (32, 5, 4, 2)") for text in texts(fig))
    plt.close(fig)
    with pytest.raises(ValueError, match="highlight"):
        plot_prediction_blocks(shown=3, highlight=(3, 0))


def test_the_parts_are_bars_up_and_down_and_their_sum_is_the_line():
    agreeing, others = np.array([3.8, 4.6, 6.1]), np.array([-2.8, -2.6, -2.3])
    fig = plot_agreement_parts(agreeing, others, lengths=[0.55, 0.81, 0.93])
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, [*agreeing, *others])
    (line,) = ax.lines[:1]
    np.testing.assert_allclose(line.get_ydata(), agreeing + others)
    assert [t.get_text() for t in ax.texts][-1].endswith("0.93")
    plt.close(fig)


@pytest.mark.parametrize(
    "arguments",
    [
        ([1.0, 2.0], [-1.0]),  # rounds differ
        ([[1.0, 2.0]], [[-1.0, -2.0]]),  # not one value per round
        ([1.0, 2.0], [-1.0, -1.0], [0.5]),  # lengths for fewer rounds
    ],
)
def test_parts_that_do_not_fit_are_refused(arguments):
    with pytest.raises(ValueError, match="shaped"):
        plot_agreement_parts(*arguments)
