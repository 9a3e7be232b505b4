"""capsnet_lib.plotting_routing.plot_routing_2d: chapter 3's routing of 2-D predictions."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from capsnet_lib.plotting_routing import plot_routing_2d  # noqa: E402

ROUNDS, CHILDREN, PARENTS = 3, 4, 2


def example():
    rng = np.random.default_rng(0)
    predictions = rng.normal(size=(CHILDREN, PARENTS, 2))
    logits = rng.normal(size=(ROUNDS, CHILDREN, PARENTS))
    coefficients = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    outputs = rng.normal(size=(ROUNDS, PARENTS, 2)) * 0.5
    return predictions, coefficients, outputs


def arrows(ax):
    return [text for text in ax.texts if isinstance(text, Annotation)]


def test_one_panel_per_parent_and_round_with_an_arrow_per_child_and_one_for_the_output():
    predictions, coefficients, outputs = example()
    fig = plot_routing_2d(predictions, coefficients, outputs)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == PARENTS * ROUNDS and len(fig.axes) == PARENTS * ROUNDS + 1
    grid = np.array(panels).reshape(PARENTS, ROUNDS)
    for j, r in np.ndindex(PARENTS, ROUNDS):
        found = arrows(grid[j, r])
        assert len(found) == CHILDREN + 1
        # each child's arrow ends at its prediction; the last one is the parent's output
        np.testing.assert_allclose([a.xy for a in found[:-1]], predictions[:, j])
        np.testing.assert_allclose(found[-1].xy, outputs[r, j])
    assert [ax.get_title() for ax in grid[0]] == ["round 1", "round 2", "round 3"]
    plt.close(fig)


def test_colour_and_width_follow_the_coupling_coefficient():
    predictions, coefficients, outputs = example()
    fig = plot_routing_2d(predictions, coefficients, outputs)
    grid = np.array(fig.axes[:-1]).reshape(PARENTS, ROUNDS)
    cmap = plt.get_cmap("plasma_r")
    for j, r in np.ndindex(PARENTS, ROUNDS):
        children = arrows(grid[j, r])[:-1]
        for i, arrow in enumerate(children):
            c = coefficients[r, i, j]
            np.testing.assert_allclose(arrow.arrow_patch.get_edgecolor(), to_rgba(cmap(c)))
        widths = [a.arrow_patch.get_linewidth() for a in children]
        assert np.argsort(widths).tolist() == np.argsort(coefficients[r, :, j]).tolist()
    plt.close(fig)


@pytest.mark.parametrize(
    "change",
    [
        lambda p, c, v: (p[..., :1], c, v),  # 1-D predictions
        lambda p, c, v: (p[0], c, v),  # no child axis
        lambda p, c, v: (p, c[:, :, :1], v),  # coefficients for one parent only
        lambda p, c, v: (p, c, v[:2]),  # outputs for fewer rounds than coefficients
    ],
)
def test_shapes_that_do_not_fit_are_refused(change):
    with pytest.raises(ValueError, match="shaped"):
        plot_routing_2d(*change(*example()))
