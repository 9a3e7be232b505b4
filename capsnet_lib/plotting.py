"""Figures the chapters share: digit grids, reconstructions, training curves, receptive fields
(chapter 2) and a pose followed step by step (chapter 8). Chapter 3's routing figures are in
:mod:`capsnet_lib.plotting_routing`, chapter 10's in :mod:`capsnet_lib.plotting_multimnist`."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from capsnet_lib.figures import column_figsize


def plot_digits(images, labels=None, predictions=None, columns: int = 10, size: float = 1.2):
    """A grid of digits, titled with their labels (and predictions, red where wrong).

    Args:
        images: ``(n, 28, 28)`` or ``(n, 28, 28, 1)``.
        labels: Optional integer labels ``(n,)``.
        predictions: Optional predicted classes ``(n,)``.
        columns: Digits per row.
        size: Inches per digit, less where the grid would be wider than the column.

    Returns:
        The matplotlib figure.

    Introduced in chapter 1, input.
    """
    images = np.asarray(images).reshape(len(images), 28, 28)
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=column_figsize(columns * size, rows * size * 1.15)
    )
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="binary")
        title, color = "", "black"
        if labels is not None:
            title = f"{int(labels[i])}"
        if predictions is not None:
            title = f"{title}→{int(predictions[i])}" if title else f"{int(predictions[i])}"
            if labels is not None and int(labels[i]) != int(predictions[i]):
                color = "red"
        ax.set_title(title, fontsize=10, color=color)
    fig.tight_layout()
    return fig


def plot_reconstructions(images, reconstructions, labels=None, predictions=None, size=1.2):
    """Originals (top row) above their reconstructions (bottom row).

    Introduced in chapter 6, decoder.
    """
    images = np.asarray(images).reshape(len(images), 28, 28)
    reconstructions = np.asarray(reconstructions).reshape(len(reconstructions), 28, 28)
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=column_figsize(n * size, 2 * size * 1.2), squeeze=False)
    for i in range(n):
        for row, picture in enumerate((images[i], reconstructions[i])):
            axes[row, i].imshow(picture, cmap="binary")
            axes[row, i].axis("off")
        title = ""
        if labels is not None:
            title = f"label {int(labels[i])}"
        if predictions is not None:
            title += f"\npred {int(predictions[i])}"
        axes[0, i].set_title(title, fontsize=9)
    axes[0, 0].text(-4, 14, "input", rotation=90, va="center", ha="right", fontsize=9)
    axes[1, 0].text(-4, 14, "decoded", rotation=90, va="center", ha="right", fontsize=9)
    fig.tight_layout()
    return fig


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a training CSV log (``log.csv``) as float arrays."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        raise ValueError(f"{path} has no epochs yet")
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def plot_training_curves(log, metrics=("loss", "accuracy")):
    """Training vs validation curves per epoch from a CSV log path or :func:`read_log` output.

    Introduced in chapter 7, training.
    """
    columns = read_log(log) if isinstance(log, str | Path) else log
    fig, axes = plt.subplots(
        1, len(metrics), figsize=column_figsize(5 * len(metrics), 3.5), squeeze=False
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        for prefix, style in (("", "-o"), ("val_", "-s")):
            if prefix + metric in columns:
                name = "validation" if prefix else "training"
                ax.plot(columns["epoch"], columns[prefix + metric], style, label=name, ms=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_receptive_fields(image, fields, labels=None, size: float = 2.8):
    """One image per receptive field: the pixels the field sees, the rest faded, the field outlined.

    Args:
        image: One image, ``(28, 28)`` or ``(28, 28, 1)``, values in ``[0, 1]``.
        fields: Which pixels each field sees, boolean masks ``(k, h, w)`` shaped like the image
            (e.g. where a capsule's input has a non-zero gradient with respect to the image).
        labels: A title per field.
        size: Inches per panel, less where they would be wider than the column.

    Returns:
        The matplotlib figure, one panel per field; its ticks mark each field's first and last
        row and column.

    Introduced in chapter 2, primary capsules.
    """
    from matplotlib.patches import Rectangle

    image = np.asarray(image, dtype=float)
    image = image[..., 0] if image.ndim == 3 else image
    fields = np.asarray(fields, dtype=bool)
    fields = fields[None] if fields.ndim == 2 else fields
    if image.ndim != 2 or fields.shape[1:] != image.shape:
        raise ValueError(
            f"fields must be boolean masks shaped like the image {image.shape}; got {fields.shape}"
        )
    if labels is not None and len(labels) != len(fields):
        raise ValueError(f"{len(fields)} fields need {len(fields)} labels; got {len(labels)}")
    if not fields.reshape(len(fields), -1).any(axis=1).all():
        raise ValueError("every field must see at least one pixel")
    height, width = image.shape
    fig, axes = plt.subplots(
        1, len(fields), figsize=column_figsize(size * len(fields), size), squeeze=False
    )
    for k, (ax, field) in enumerate(zip(axes[0], fields, strict=True)):
        ax.imshow(np.where(field, image, 0.2 * image), cmap="binary", vmin=0, vmax=1)
        rows, cols = np.flatnonzero(field.any(axis=1)), np.flatnonzero(field.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
        box = (left - 0.5, top - 0.5)
        ax.add_patch(Rectangle(box, right - left + 1, bottom - top + 1, fill=False, ec="C3", lw=2))
        ax.set_xticks(sorted({0, left, right, width - 1}))
        ax.set_yticks(sorted({0, top, bottom, height - 1}))
        ax.tick_params(labelsize=7.5, length=2)
        if labels is not None:
            ax.set_title(labels[k], fontsize=9)
    fig.tight_layout()
    return fig


def plot_pose_sweep(amounts, images, reconstructions, poses, highlight=(), xlabel="shift (pixels)"):
    """One digit transformed step by step: inputs over reconstructions, its pose values below.

    Args:
        amounts: The transformation's amount at each step, ``(k,)``.
        images: The transformed digit at each step, ``(k, 28, 28)`` or ``(k, 28, 28, 1)``.
        reconstructions: The decoder's picture at each step, same shape.
        poses: The pose of the digit's own capsule at each step, ``(k, dims)``.
        highlight: Dimensions drawn in colour and named in the legend; the others grey.
        xlabel: What the amounts measure.

    Returns:
        The matplotlib figure: ``2 k`` image panels and one panel of the pose values (one
        line per dimension) and of the capsule's length (dashed) against the amount.

    Introduced in chapter 8, pose tweaking.
    """
    amounts, poses = np.asarray(amounts, float), np.asarray(poses, float)
    k = len(amounts)
    images = np.asarray(images).reshape(-1, 28, 28)
    reconstructions = np.asarray(reconstructions).reshape(-1, 28, 28)
    if poses.ndim != 2 or len(poses) != k or len(images) != k or len(reconstructions) != k:
        raise ValueError(
            f"expected {k} images, reconstructions and poses (k, dims) for {k} amounts; got "
            f"{len(images)}, {len(reconstructions)} and {poses.shape}"
        )
    fig = plt.figure(figsize=column_figsize(max(6.0, 0.9 * k), 5.2))
    grid = fig.add_gridspec(3, k, height_ratios=[1, 1, 4], hspace=0.3)
    for i in range(k):
        for row, picture in enumerate((images[i], reconstructions[i])):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(picture, cmap="binary", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            if row == 0:
                ax.set_title(f"{amounts[i]:+g}", fontsize=9)
            if i == 0:
                ax.set_ylabel("input" if row == 0 else "decoded", fontsize=9)
    ax = fig.add_subplot(grid[2, :])
    for d in range(poses.shape[1]):
        if d not in highlight:
            ax.plot(amounts, poses[:, d], color="0.75", lw=1)
    for d in highlight:
        ax.plot(amounts, poses[:, d], "-o", lw=2, ms=4, label=f"dimension {d}")
    ax.plot(amounts, np.linalg.norm(poses, axis=-1), "k--s", ms=4, label="length")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel=xlabel, ylabel="pose value / length", xticks=amounts)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
