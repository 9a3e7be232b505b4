"""Figures of chapter 10: MultiMNIST canvases, and each digit drawn in its own colour."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from capsnet_lib.figures import column_figsize

# Two colours told apart with every common colour-vision deficiency (Okabe and Ito).
FIRST_COLOUR = np.array([0.90, 0.62, 0.0])  # orange
SECOND_COLOUR = np.array([0.0, 0.45, 0.70])  # blue


def two_colour(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Two grey images ``(h, w)`` or ``(h, w, 1)`` in [0, 1] as one RGB image on white: the
    first in orange ink, the second in blue, dark where both have ink."""
    first = np.asarray(first, np.float32).reshape(first.shape[0], first.shape[1], 1)
    second = np.asarray(second, np.float32).reshape(second.shape[0], second.shape[1], 1)
    ink = first * (1 - FIRST_COLOUR) + second * (1 - SECOND_COLOUR)
    return np.clip(1 - ink, 0, 1)


def _titled(ax, text: str, wrong: bool = False) -> None:
    ax.set_title(text, fontsize=9, color="red" if wrong else "black")
    ax.axis("off")


def plot_pairs(canvases, labels, digits=None, size: float = 1.3):
    """MultiMNIST canvases titled with their two classes; below each, its two digits in colour.

    Args:
        canvases: ``(n, 36, 36, 1)``.
        labels: ``(n, 2)``: the first digit's class (orange), the second's (blue).
        digits: Optional ``(n, 2, 36, 36, 1)``: each digit alone, drawn in a second row.
        size: Inches per image, less where they would be wider than the column.

    Returns:
        The matplotlib figure.

    Introduced in chapter 10, beyond one centred digit.
    """
    n, rows = len(canvases), 1 if digits is None else 2
    fig, axes = plt.subplots(
        rows, n, figsize=column_figsize(n * size, rows * size * 1.2), squeeze=False
    )
    for i in range(n):
        axes[0, i].imshow(np.asarray(canvases[i])[..., 0], cmap="binary", vmin=0, vmax=1)
        _titled(axes[0, i], f"{int(labels[i][0])} and {int(labels[i][1])}")
        if digits is not None:
            axes[1, i].imshow(two_colour(digits[i][0], digits[i][1]))
            axes[1, i].axis("off")
    fig.tight_layout()
    return fig


def plot_pair_reconstructions(canvases, drawn, labels, chosen, size: float = 1.3):
    """Canvases above, and below the two digits the network drew, each from one capsule.

    Args:
        canvases: ``(n, 36, 36, 1)``.
        drawn: ``(n, 2, 36, 36, 1)``: the decoder's output with only capsule ``chosen[i, 0]``
            kept (orange) and with only ``chosen[i, 1]`` kept (blue).
        labels: ``(n, 2)`` the true classes; ``chosen``: ``(n, 2)`` the capsules decoded.
        size: Inches per image, less where they would be wider than the column.

    Each canvas is titled with its two classes in the order of ``labels``, as in
    :func:`plot_pairs`, and the colours mean the same: a decoded class that is the first
    digit's is drawn in orange, one that is the second's in blue (a wrong one takes the
    colour left). The drawings' titles follow the colours, red where the decoded pair is not
    the true one.

    Introduced in chapter 10, beyond one centred digit.
    """
    n = len(canvases)
    fig, axes = plt.subplots(2, n, figsize=column_figsize(n * size, 2 * size * 1.25), squeeze=False)
    for i in range(n):
        true, picked = [int(c) for c in labels[i]], [int(c) for c in chosen[i]]
        first, second = drawn[i][0], drawn[i][1]
        if picked[1] == true[0] or picked[0] == true[1]:  # in the digits' order
            picked, first, second = picked[::-1], second, first
        axes[0, i].imshow(np.asarray(canvases[i])[..., 0], cmap="binary", vmin=0, vmax=1)
        _titled(axes[0, i], f"{true[0]} and {true[1]}")
        axes[1, i].imshow(two_colour(first, second))
        wrong = sorted(picked) != sorted(true)
        _titled(axes[1, i], f"drew {picked[0]}, {picked[1]}", wrong=wrong)
    fig.tight_layout()
    return fig
