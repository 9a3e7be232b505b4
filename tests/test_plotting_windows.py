"""capsnet_lib.plotting_windows: chapter 3's coupling coefficients drawn on the digit."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from capsnet_lib.plotting_windows import (  # noqa: E402
    plot_coupling_rounds,
    plot_window_couplings,
    window_couplings,
)


def example(seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(0, 1, 1152)
    logits = rng.normal(size=(1152, 10))
    coefficients = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return rng.uniform(0, 1, (28, 28)), lengths, coefficients


def test_window_couplings_average_each_positions_32_capsules_by_their_lengths():
    _, lengths, coefficients = example()
    mean, activity = window_couplings(lengths, coefficients[:, 3])
    assert mean.shape == activity.shape == (6, 6)
    # capsule i = (6 r + q) * 32 + m: chapter 2's reshape of (6, 6, 256) into (1152, 8)
    r, q = 2, 5
    at = slice((6 * r + q) * 32, (6 * r + q + 1) * 32)
    expected = np.sum(lengths[at] * coefficients[at, 3]) / np.sum(lengths[at])
    np.testing.assert_allclose(mean[r, q], expected)
    np.testing.assert_allclose(activity[r, q], lengths[at].sum())
    even, _ = window_couplings(lengths, np.full(1152, 0.1))
    np.testing.assert_allclose(even, 0.1)


def test_one_panel_per_class_a_tile_per_window_coloured_by_its_coupling():
    image, lengths, coefficients = example(1)
    fig = plot_window_couplings(image, lengths, coefficients, [7, 2], ["a", "b"])
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in panels] == ["a", "b"]
    for ax, j in zip(panels, [7, 2], strict=True):
        tiles = {p.get_gid(): p for p in ax.patches if p.get_gid().startswith("window")}
        assert len(tiles) == 36
        mean, activity = window_couplings(lengths, coefficients[:, j])
        order = np.argsort(mean.ravel())  # darker red to darker blue along RdBu
        lowest, highest = (tiles[f"window {k // 6} {k % 6}"] for k in order[[0, -1]])
        assert lowest.get_facecolor()[0] > lowest.get_facecolor()[2]  # red
        assert highest.get_facecolor()[2] > highest.get_facecolor()[0]  # blue
        # the tile of window (r, q) is centred on its window's centre, pixel 2r + 8
        tile = tiles["window 1 4"]
        x, y = tile.get_xy()
        assert (x + tile.get_width() / 2, y + tile.get_height() / 2) == (4 * 2 + 7.5, 9.5)
        (window,) = [p for p in ax.patches if p.get_gid() == "most active window"]
        r, q = np.unravel_index(activity.argmax(), (6, 6))
        assert window.get_xy() == (2 * q - 0.5, 2 * r - 0.5) and window.get_width() == 17
    plt.close(fig)


def test_even_couplings_are_white():
    image, lengths, _ = example(2)
    fig = plot_window_couplings(image, lengths, np.full((1152, 10), 0.1), [0], ["even"])
    tile = next(p for p in fig.axes[0].patches if p.get_gid() == "window 0 0")
    white = to_rgba(plt.get_cmap("RdBu")(0.5), alpha=tile.get_alpha())
    np.testing.assert_allclose(tile.get_facecolor(), white, atol=0.01)
    plt.close(fig)


def test_coupling_rounds_draws_the_digit_and_one_heatmap_per_round():
    image, _, coefficients = example(3)
    shown = np.stack([np.full((12, 10), 0.1), coefficients[:12], coefficients[12:24]])
    fig = plot_coupling_rounds(image, "label 7", shown, range(12))
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in panels] == ["label 7", "round 1", "round 2", "round 3"]
    np.testing.assert_allclose(panels[2].images[0].get_array(), shown[1])
    plt.close(fig)


def test_coupling_spread_has_a_histogram_per_round_and_a_box_per_round():
    from capsnet_lib.plotting_windows import plot_coupling_spread

    rng = np.random.default_rng(4)
    to_predicted = [np.full(50, 0.1), rng.uniform(0, 0.3, 50), rng.uniform(0, 0.6, 50)]
    winner = [rng.uniform(0.4, 0.6, 9), rng.uniform(0.7, 0.9, 9), rng.uniform(0.9, 1, 9)]
    fig = plot_coupling_spread(to_predicted, winner)
    hist, boxes = fig.axes
    assert [t.get_text() for t in hist.get_legend().get_texts()] == [
        "round 1",
        "round 2",
        "round 3",
    ]
    assert hist.get_yscale() == "log"
    medians = [line.get_ydata()[0] for line in boxes.lines if line.get_linestyle() == "-"]
    assert len(boxes.get_xticks()) == 3 and medians
    plt.close(fig)
