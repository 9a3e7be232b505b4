"""Chapter 3's figures of the coupling coefficients in a trained network, on the digit itself."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle

from capsnet_lib.figures import column_figsize

GRID, MAPS, WINDOW, STRIDE = 6, 32, 17, 2  # primary capsules: 6x6 positions, 32 maps


def window_couplings(lengths, couplings):
    """Each window's coupling to one class, averaged over its 32 capsules by their lengths.

    The 1,152 primary capsules sit on a 6x6 grid of positions with 32 capsules each (the
    order of chapter 2's reshape); the capsules at position (r, q) all see the input window of
    rows 2r to 2r + 16 and columns 2q to 2q + 16.

    Args:
        lengths: ``(1152,)``, the primary capsules' lengths for one image.
        couplings: ``(1152,)``, their coefficients c_ij to one digit capsule j.

    Returns:
        ``(mean, activity)``, both ``(6, 6)``: the length-weighted mean coefficient of each
        window, and the sum of its capsules' lengths.

    Introduced in chapter 3, routing.
    """
    lengths = np.asarray(lengths, np.float64).reshape(GRID, GRID, MAPS)
    couplings = np.asarray(couplings, np.float64).reshape(GRID, GRID, MAPS)
    activity = lengths.sum(axis=2)  # (6, 6)
    mean = (lengths * couplings).sum(axis=2) / np.maximum(activity, 1e-12)
    return mean, activity


def plot_window_couplings(image, lengths, coefficients, classes, titles):
    """The digit under a mosaic of its 36 windows, one panel per class, coloured by coupling.

    Each window is a tile at its centre, coloured by :func:`window_couplings`: white at the
    even split 0.1, blue above, red below, on one linear scale for both sides and all panels.
    The digit's outline is drawn over the tiles; a dashed square outlines the most active
    window's 17x17 pixels.

    Args:
        image: ``(28, 28)``, the input digit.
        lengths: ``(1152,)``, its primary capsules' lengths.
        coefficients: ``(1152, 10)``, their coupling coefficients after routing.
        classes: the digit capsules to draw, one panel each.
        titles: one title per panel.

    Returns:
        The figure.

    Introduced in chapter 3, routing.
    """
    maps = [window_couplings(lengths, np.asarray(coefficients)[:, j]) for j in classes]
    values = np.array([mean for mean, _ in maps])
    spread = max(np.abs(values - 0.1).max(), 1e-3)  # one scale each side: equal shades
    norm = TwoSlopeNorm(vmin=0.1 - spread, vcenter=0.1, vmax=0.1 + spread)
    fig, axes = plt.subplots(
        1, len(classes), figsize=column_figsize(3.4 * len(classes) + 1, 3.6), layout="constrained"
    )
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("RdBu")
    for ax, (mean, activity), title in zip(axes, maps, titles, strict=True):
        ax.imshow(np.asarray(image), cmap="gray_r", vmin=0, vmax=1)
        for r, q in np.ndindex(GRID, GRID):  # the tile sits at its window's centre
            centre = STRIDE * np.array([q, r]) + WINDOW // 2
            ax.add_patch(
                Rectangle(
                    centre - STRIDE / 2 - 0.5,
                    STRIDE,
                    STRIDE,
                    facecolor=cmap(norm(mean[r, q])),
                    alpha=0.85,
                    edgecolor="0.3",
                    lw=0.3,
                    gid=f"window {r} {q}",
                )
            )
        ax.contour(np.asarray(image), levels=[0.5], colors="k", linewidths=1.2)
        r, q = np.unravel_index(activity.argmax(), activity.shape)
        ax.add_patch(
            Rectangle(
                (STRIDE * q - 0.5, STRIDE * r - 0.5),
                WINDOW,
                WINDOW,
                fill=False,
                ls="--",
                lw=1,
                edgecolor="tab:orange",
                gid="most active window",
            )
        )
        ax.set(title=title, xticks=[], yticks=[])
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(mappable, ax=axes, shrink=0.8, label="window's $c_{ij}$")
    return fig


def plot_coupling_rounds(image, title, shown, rows):
    """The digit beside one heatmap per routing round: capsules (rows) by digit capsules.

    Args:
        image: ``(28, 28)``, the input digit.
        title: the digit's panel title (its label and the predicted class).
        shown: ``(rounds, n, 10)``, the coefficients of ``n`` primary capsules after each round.
        rows: ``(n,)``, those capsules' indices, for the row labels.

    Returns:
        The figure; its colours are white at the even split 0.1.

    Introduced in chapter 3, routing.
    """
    shown = np.asarray(shown)
    rounds = len(shown)
    norm = TwoSlopeNorm(vmin=shown.min(), vcenter=0.1, vmax=shown.max())
    fig, axes = plt.subplots(
        1,
        rounds + 1,
        figsize=column_figsize(3.2 * rounds + 1.6, 3.6),
        gridspec_kw={"width_ratios": [0.5] + [1] * rounds},
        layout="constrained",
    )
    axes[0].imshow(np.asarray(image), cmap="binary")
    axes[0].axis("off")
    axes[0].set_title(title, fontsize=9)
    for round_, ax in enumerate(axes[1:]):
        im = ax.imshow(shown[round_], cmap="RdBu", norm=norm)
        ax.set(title=f"round {round_ + 1}", xlabel="digit capsule j", xticks=range(10))
        ax.set(yticks=range(len(rows)), yticklabels=list(rows))
    axes[1].set_ylabel("primary capsule i")
    fig.colorbar(im, ax=axes[1:], shrink=0.8, label="$c_{ij}$")
    return fig


def plot_coupling_spread(to_predicted, winner):
    """Left, each round's histogram of coefficients; right, box plots of the winner's length.

    Args:
        to_predicted: per round, ``(n,)``: coefficients to the predicted class (log counts).
        winner: per round, ``(n_images,)``: the longest digit capsule's length.

    Returns:
        The figure.

    Introduced in chapter 3, routing.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=column_figsize(10, 4.2), layout="constrained")
    bins = np.linspace(0, max(np.max(c) for c in to_predicted), 60)
    for round_, c in enumerate(to_predicted):
        ax1.hist(c, bins=bins, histtype="step", lw=1.5, label=f"round {round_ + 1}")
    ax1.axvline(0.1, c="0.6", ls=":")
    ax1.set(xlabel="$c_{ij}$ to the predicted class", ylabel="active primary capsules")
    ax1.set_yscale("log")
    ax1.legend()
    ax2.boxplot([np.asarray(w) for w in winner], whis=(5, 95), showfliers=False)
    ax2.set(xlabel="routing round", ylabel="length of the longest digit capsule")
    return fig
