"""capsnet_lib.plotting.plot_receptive_fields: chapter 2's window of the image a capsule sees."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from capsnet_lib.plotting import plot_receptive_fields  # noqa: E402


def window(top, left, side=17, shape=(28, 28)):
    field = np.zeros(shape, bool)
    field[top : top + side, left : left + side] = True
    return field


def test_one_panel_per_field_outlined_at_its_bounds_with_ticks_there():
    image = np.random.default_rng(0).uniform(size=(28, 28, 1))
    fields = [window(2, 2), window(8, 6)]
    fig = plot_receptive_fields(image, fields, labels=["a", "b"])
    assert len(fig.axes) == 2
    for ax, (top, left), label in zip(fig.axes, [(2, 2), (8, 6)], ["a", "b"], strict=True):
        (box,) = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert box.get_xy() == (left - 0.5, top - 0.5)
        assert (box.get_width(), box.get_height()) == (17, 17)
        assert list(ax.get_xticks()) == [0, left, left + 16, 27]
        assert list(ax.get_yticks()) == [0, top, top + 16, 27]
        assert ax.get_title() == label
    plt.close(fig)


def test_the_pixels_outside_the_field_are_faded_those_inside_kept():
    image = np.random.default_rng(1).uniform(size=(28, 28))
    field = window(4, 10)
    fig = plot_receptive_fields(image, field)  # one mask alone is one field
    shown = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(shown[field], image[field])
    np.testing.assert_allclose(shown[~field], 0.2 * image[~field])
    plt.close(fig)


@pytest.mark.parametrize(
    "fields, labels",
    [
        ([window(0, 0, shape=(20, 20))], None),  # not shaped like the image
        ([window(0, 0)], ["a", "b"]),  # a label too many
        ([np.zeros((28, 28), bool)], None),  # a field that sees nothing
    ],
)
def test_wrong_arguments_say_what_was_expected(fields, labels):
    with pytest.raises(ValueError, match="field"):
        plot_receptive_fields(np.zeros((28, 28)), fields, labels=labels)
