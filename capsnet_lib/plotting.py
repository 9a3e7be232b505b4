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


def plot_routing_2d(predictions, coefficients, outputs, size: float = 2.4):
    """Routing by agreement on 2-D predictions, one row per parent and one column per round.

    Each child's prediction for a parent is an arrow from the origin, numbered by its child
    and coloured (and thickened) by its coupling coefficient in that round; the parent's
    output of that round is the black arrow.

    Args:
        predictions: ``u_hat`` for one example, ``(num_inputs, num_outputs, 2)``.
        coefficients: The coupling coefficients of each round, ``(rounds, num_inputs, num_outputs)``.
        outputs: The parents' outputs of each round, ``(rounds, num_outputs, 2)``.
        size: Inches per panel.

    Returns:
        The matplotlib figure (``num_outputs * rounds`` panels and a colour bar).

    Introduced in chapter 3, routing.
    """
    from matplotlib.colors import Normalize

    predictions, coefficients = np.asarray(predictions), np.asarray(coefficients)
    outputs = np.asarray(outputs)
    if predictions.ndim != 3 or predictions.shape[-1] != 2:
        raise ValueError(
            f"predictions must be shaped (num_inputs, num_outputs, 2); got {predictions.shape}"
        )
    num_inputs, num_outputs, _ = predictions.shape
    rounds = len(coefficients)
    if coefficients.shape != (rounds, num_inputs, num_outputs) or outputs.shape != (
        rounds,
        num_outputs,
        2,
    ):
        raise ValueError(
            f"for predictions {predictions.shape}, coefficients must be shaped "
            f"(rounds, {num_inputs}, {num_outputs}) and outputs (rounds, {num_outputs}, 2); "
            f"got {coefficients.shape} and {outputs.shape}"
        )
    norm, cmap = Normalize(0, 1), plt.get_cmap("plasma_r")
    limit = 1.15 * max(np.abs(predictions).max(), np.abs(outputs).max(), 1.0)
    fig, axes = plt.subplots(
        num_outputs, rounds, figsize=(size * rounds + 1.2, size * num_outputs), squeeze=False
    )
    for j, r in np.ndindex(num_outputs, rounds):
        ax = axes[j, r]
        ax.axhline(0, c="0.85", lw=0.5)
        ax.axvline(0, c="0.85", lw=0.5)
        for i in range(num_inputs):
            c = coefficients[r, i, j]
            style = dict(arrowstyle="-|>", color=cmap(norm(c)), lw=0.5 + 3 * c)
            ax.annotate("", predictions[i, j], (0, 0), arrowprops=style)
            ax.text(*(predictions[i, j] * 1.12), str(i), fontsize=8, ha="center", va="center")
        style = dict(arrowstyle="-|>", color="black", lw=2.5, ls="--")
        ax.annotate("", outputs[r, j], (0, 0), arrowprops=style)
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xticks=[], yticks=[])
        if j == 0:
            ax.set_title(f"round {r + 1}")
        if r == 0:
            ax.set_ylabel(f"parent {j}")
    fig.colorbar(
        plt.cm.ScalarMappable(norm, cmap), ax=axes, shrink=0.8, label="coupling coefficient"
    )
    return fig
