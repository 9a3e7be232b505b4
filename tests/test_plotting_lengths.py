"""capsnet_lib.plotting_lengths: chapter 4's lengths beside a softmax's probabilities."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from capsnet_lib.plotting_lengths import plot_lengths_beside_softmax  # noqa: E402


def example():
    image = np.zeros((28, 28, 1), np.float32)
    lengths = np.array([0.14, 0.04, 0.34, 0.06, 0.75, 0.03, 0.69, 0.06, 0.05, 0.04])
    logits = np.array([0.0, 1.0, 5.0, 0.0, 6.0, 0.0, 5.5, 0.0, 1.0, 0.0])
    probabilities = np.exp(logits) / np.exp(logits).sum()
    return image, lengths, probabilities


def bar_heights(ax):
    return np.array([patch.get_height() for patch in ax.patches])


def test_one_bar_per_class_at_its_value_on_a_shared_zero_to_one_axis():
    image, lengths, probabilities = example()
    fig = plot_lengths_beside_softmax(image, lengths, probabilities, label=4)
    picture, by_length, by_softmax = fig.axes
    np.testing.assert_allclose(bar_heights(by_length), lengths)
    np.testing.assert_allclose(bar_heights(by_softmax), probabilities)
    assert by_length.get_ylim() == by_softmax.get_ylim() and by_length.get_ylim()[0] == 0
    assert by_length.get_ylim()[1] >= 1
    assert picture.get_title() == "test digit (label 4)"
    plt.close(fig)


def test_titles_give_the_sums_and_labels_name_the_visible_bars():
    image, lengths, probabilities = example()
    fig = plot_lengths_beside_softmax(image, lengths, probabilities, softmax_of="CNN")
    _, by_length, by_softmax = fig.axes
    assert by_length.get_title() == "CapsNet: capsule lengths (sum 2.20)"
    assert by_softmax.get_title() == "CNN: softmax probabilities (sum 1.00)"
    labelled = sorted(float(text.get_text()) for text in by_length.texts)
    assert labelled == sorted(round(v, 2) for v in lengths if v >= 0.05)
    plt.close(fig)


def test_mismatched_lengths_and_probabilities_are_refused():
    image, lengths, probabilities = example()
    with pytest.raises(ValueError, match="as many lengths as probabilities"):
        plot_lengths_beside_softmax(image, lengths, probabilities[:9])
