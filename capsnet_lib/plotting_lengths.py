"""Chapter 4's figure: one digit's ten capsule lengths beside a softmax's ten probabilities."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from capsnet_lib.figures import column_figsize

# Okabe and Ito's blue and vermilion: told apart with every common colour-vision deficiency.
LENGTH_COLOUR = "#0072B2"
SOFTMAX_COLOUR = "#D55E00"


def _bars(ax, values, colour, title: str, ylabel: str) -> None:
    classes = np.arange(len(values))
    ax.bar(classes, values, color=colour, width=0.7)
    for k, value in zip(classes, values, strict=True):
        if value >= 0.05:  # a label on every bar that can be seen
            ax.text(k, value + 0.02, f"{value:.2f}", ha="center", fontsize=8)
    ax.set(xticks=classes, ylim=(0, 1.08), xlabel="class", ylabel=ylabel, title=title)
    ax.spines[["top", "right"]].set_visible(False)


def plot_lengths_beside_softmax(
    image, lengths, probabilities, label=None, softmax_of: str = "CNN", size: float = 2.6
):
    """A digit, its ten capsule lengths and a softmax's ten probabilities, on one 0-1 scale.

    Args:
        image: ``(28, 28)`` or ``(28, 28, 1)``.
        lengths: ``(10,)`` the digit capsules' lengths, each in ``[0, 1)``.
        probabilities: ``(10,)`` a softmax's output for the same digit (they sum to 1).
        label: Optional true class, shown in the image's title.
        softmax_of: What the probabilities are the softmax of, for the third panel's title.
        size: About the bar charts' height in inches (less where the figure would be wider
            than the column); the digit's panel spans both.

    Returns:
        The matplotlib figure: the image on the left; on the right the lengths (titled with
        their sum) above the probabilities (titled with theirs), on the same 0-1 axis.

    Introduced in chapter 4, lengths and the margin loss.
    """
    lengths = np.asarray(lengths, dtype=float).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=float).reshape(-1)
    if lengths.shape != probabilities.shape:
        raise ValueError(
            f"expected as many lengths as probabilities, got {lengths.shape} and "
            f"{probabilities.shape}"
        )
    # the digit on the left, the two bar charts one above the other: both read at the
    # column's width, their titles in full
    fig, named = plt.subplot_mosaic(
        [["digit", "lengths"], ["digit", "softmax"]],
        figsize=column_figsize(size * 2.9, size * 1.75),
        width_ratios=[1, 2.6],
        layout="constrained",
    )
    axes = [named["digit"], named["lengths"], named["softmax"]]
    axes[0].imshow(np.asarray(image).reshape(28, 28), cmap="binary")
    axes[0].set_title("test digit" if label is None else f"test digit (label {int(label)})")
    axes[0].axis("off")
    _bars(
        axes[1],
        lengths,
        LENGTH_COLOUR,
        f"CapsNet: capsule lengths (sum {lengths.sum():.2f})",
        "length $|v_k|$",
    )
    _bars(
        axes[2],
        probabilities,
        SOFTMAX_COLOUR,
        f"{softmax_of}: softmax probabilities (sum {probabilities.sum():.2f})",
        "probability",
    )
    return fig
