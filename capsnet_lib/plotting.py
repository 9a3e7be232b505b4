"""Figures the chapters share: digit grids, reconstructions, training curves."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def plot_digits(images, labels=None, predictions=None, columns: int = 10, size: float = 1.2):
    """A grid of digits, titled with their labels (and predictions, red where wrong).

    Args:
        images: ``(n, 28, 28)`` or ``(n, 28, 28, 1)``.
        labels: Optional integer labels ``(n,)``.
        predictions: Optional predicted classes ``(n,)``.
        columns: Digits per row.
        size: Inches per digit.

    Returns:
        The matplotlib figure.

    Introduced in chapter 1, input.
    """
    images = np.asarray(images).reshape(len(images), 28, 28)
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size * 1.15))
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
    fig, axes = plt.subplots(2, n, figsize=(n * size, 2 * size * 1.2), squeeze=False)
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
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
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
