"""capsnet_lib.plotting.plot_pose_sweep: chapter 8's digit shifted step by step."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from capsnet_lib.plotting import plot_pose_sweep  # noqa: E402

STEPS, DIMS = 5, 16


def example():
    rng = np.random.default_rng(0)
    amounts = np.arange(STEPS) - STEPS // 2
    images = rng.uniform(size=(STEPS, 28, 28, 1))
    reconstructions = rng.uniform(size=(STEPS, 28, 28))
    poses = rng.normal(size=(STEPS, DIMS)) * 0.2
    return amounts, images, reconstructions, poses


def test_two_rows_of_pictures_and_one_panel_of_pose_values_and_length():
    amounts, images, reconstructions, poses = example()
    fig = plot_pose_sweep(amounts, images, reconstructions, poses, highlight=[3, 7])
    assert len(fig.axes) == 2 * STEPS + 1
    pictures, curves = fig.axes[:-1], fig.axes[-1]
    shown = np.array([ax.images[0].get_array() for ax in pictures[0::2]])
    np.testing.assert_array_equal(shown, images[..., 0])  # inputs, in order
    decoded = np.array([ax.images[0].get_array() for ax in pictures[1::2]])
    np.testing.assert_array_equal(decoded, reconstructions)
    lines = curves.get_lines()
    drawn = [line for line in lines if len(line.get_xdata()) == STEPS]
    assert len(drawn) == DIMS + 1  # every dimension and the length
    legend = [text.get_text() for text in curves.get_legend().get_texts()]
    assert legend == ["dimension 3", "dimension 7", "length"]
    by_label = {line.get_label(): line for line in drawn}
    np.testing.assert_allclose(by_label["dimension 7"].get_ydata(), poses[:, 7])
    np.testing.assert_allclose(by_label["length"].get_ydata(), np.linalg.norm(poses, axis=-1))
    plt.close(fig)


def test_mismatched_lengths_are_refused():
    amounts, images, reconstructions, poses = example()
    with pytest.raises(ValueError, match="expected 5"):
        plot_pose_sweep(amounts, images[:4], reconstructions, poses)
    with pytest.raises(ValueError, match=r"\(k, dims\)"):
        plot_pose_sweep(amounts, images, reconstructions, poses[:, :, None])
