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


def plot_prediction_blocks(
    num_inputs: int = 1152,
    num_outputs: int = 10,
    output_dim: int = 16,
    input_dim: int = 8,
    shown: int = 3,
    highlight: tuple[int, int] = (1, 2),
):
    """The product ``u_hat_j|i = W_ij u_i`` (eq. 2) as blocks: a grid of matrices times vectors.

    Three panels, drawn to scale (one unit per number): the ``(num_inputs, num_outputs)``
    grid of ``output_dim x input_dim`` matrices ``W``; the children's ``input_dim``-vectors
    ``u`` (one per row, used by every matrix of the row); the ``(num_inputs, num_outputs)``
    grid of ``output_dim``-vectors ``u_hat``. Only the first ``shown`` rows and columns and
    the last of each are drawn; one product is coloured. Every block is a patch whose gid is
    ``"W"``, ``"u"`` or ``"u_hat"``; each panel's title gives its shape.

    Args:
        num_inputs, num_outputs, output_dim, input_dim: The shape of ``W``.
        shown: Rows and columns drawn before the dots (the last one is drawn too).
        highlight: ``(row, column)`` of the coloured product, among the first ``shown``.

    Returns:
        The matplotlib figure.

    Introduced in chapter 3, routing.
    """
    from matplotlib.patches import Rectangle

    if not (0 <= highlight[0] < shown and 0 <= highlight[1] < shown):
        raise ValueError(
            f"highlight must be among the first {shown} rows and columns; got {highlight}"
        )
    rows, columns = [*range(shown), num_inputs - 1], [*range(shown), num_outputs - 1]
    scale, gap, dots = 0.1, 0.4, 0.7  # a number is 0.1 units; blocks 0.4 apart; dots 0.7
    height, width = output_dim * scale, input_dim * scale
    row_top = [-k * (height + gap) - (dots if k == shown else 0) for k in range(len(rows))]
    lit_colour, colour = "tab:orange", "0.92"
    fig, ax = plt.subplots()

    def block(x, top, block_width, gid, lit):
        face = lit_colour if lit else colour
        rectangle = Rectangle((x, top - height), block_width, height, gid=gid, facecolor=face)
        ax.add_patch(rectangle).set(edgecolor="0.3", lw=0.8)

    def grid(x0, block_width, gid):
        """One grid panel of blocks; returns its right edge."""
        xs = [
            x0 + m * (block_width + gap) + (dots if m == shown else 0) for m in range(len(columns))
        ]
        for k, top in enumerate(row_top):
            for m, x in enumerate(xs):
                block(x, top, block_width, gid, (k, m) == highlight)
            ax.text(
                (xs[shown - 1] + block_width + xs[shown]) / 2,
                top - height / 2,
                "…",
                ha="center",
                va="center",
            )
        for m, j in enumerate(columns):
            ax.text(xs[m] + block_width / 2, 0.15, f"j={j}", ha="center", fontsize=7)
            ax.text(
                xs[m] + block_width / 2,
                row_top[shown] + dots / 2 + 0.05,
                "⋮",
                ha="center",
                va="center",
            )
        return xs[-1] + block_width

    for i, top in zip(rows, row_top, strict=True):
        ax.text(-0.2, top - height / 2, f"i={i}", ha="right", va="center", fontsize=7)
    w_right = grid(0, width, "W")
    middle = row_top[1] - height / 2
    ax.text(w_right + 0.9, middle, "×", fontsize=18, ha="center", va="center")
    u_x = w_right + 1.8
    for k, top in enumerate(row_top):
        # the vector drawn upright: input_dim numbers tall, 2 wide
        ax.add_patch(
            Rectangle(
                (u_x, top - height / 2 - width / 2),
                2 * scale,
                width,
                gid="u",
                facecolor=lit_colour if k == highlight[0] else colour,
                edgecolor="0.3",
                lw=0.8,
            )
        )
    ax.text(u_x + scale, row_top[shown] + dots / 2 + 0.05, "⋮", ha="center", va="center")
    ax.text(u_x + 1.0, middle, "=", fontsize=18, ha="center", va="center")
    hat_x = u_x + 1.8
    right = grid(hat_x, 2 * scale, "u_hat")
    bottom = row_top[-1] - height - 0.3
    titles = [
        (
            w_right / 2,
            f"W: ({num_inputs}, {num_outputs}, {output_dim}, {input_dim})\n"
            f"matrices of {output_dim}×{input_dim}",
        ),
        (u_x + scale, f"u: ({num_inputs}, {input_dim})\n{input_dim}-vectors"),
        (
            (hat_x + right) / 2,
            f"û: ({num_inputs}, {num_outputs}, {output_dim})\n{output_dim}-vectors",
        ),
    ]
    for x, title in titles:
        ax.text(x, bottom, title, ha="center", va="top", fontsize=9)
    i, j = rows[highlight[0]], columns[highlight[1]]
    ax.text(
        (right - 0.6) / 2,
        bottom - 1.1,
        f"orange: one product, $\\hat{{u}}_{{{j}|{i}}} = W_{{{i}{j}}}\\, u_{{{i}}}$: "
        f"({output_dim}×{input_dim}) times ({input_dim}) gives ({output_dim});\n"
        f"each row's $u_i$ multiplies all {num_outputs} matrices of its row",
        ha="center",
        va="top",
        fontsize=9,
    )
    ax.set(xlim=(-1.2, right + 0.3), ylim=(bottom - 1.9, 0.6), aspect="equal")
    ax.axis("off")
    fig.set_size_inches(0.55 * (right + 1.5), 0.55 * (2.5 - bottom))
    return fig


def plot_agreement_parts(agreeing, others, lengths=None):
    """Round by round, the winning parent's input ``s_j`` split into two parts, as bars.

    The part from the children whose predictions agree with the parent's output points
    along it (a bar up), the part from the others against it (a bar down); their sum, the
    length of ``s_j`` along its output, is the black dot.

    Args:
        agreeing: ``(rounds,)``: the agreeing children's part of ``s_j``, measured along
            the output's direction.
        others: ``(rounds,)``: the other children's part, measured the same way.
        lengths: Optional ``(rounds,)``: the output's length after each round, written
            above the dots.

    Returns:
        The matplotlib figure.

    Introduced in chapter 3, routing.
    """
    agreeing, others = np.asarray(agreeing, float), np.asarray(others, float)
    if agreeing.ndim != 1 or others.shape != agreeing.shape:
        raise ValueError(
            f"agreeing and others must be shaped (rounds,) alike; got {agreeing.shape} and "
            f"{others.shape}"
        )
    if lengths is not None and np.shape(lengths) != agreeing.shape:
        raise ValueError(f"lengths must be shaped {agreeing.shape}; got {np.shape(lengths)}")
    rounds = np.arange(1, len(agreeing) + 1)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.bar(rounds, agreeing, width=0.6, color="tab:blue", label="children that agree")
    ax.bar(rounds, others, width=0.6, color="tab:red", label="the other children")
    net = agreeing + others
    ax.plot(rounds, net, "ko-", label="their sum: $\\mathbf{s}_j$ along $\\mathbf{v}_j$")
    if lengths is not None:
        for r, total, length in zip(rounds, net, lengths, strict=True):
            ax.annotate(
                f"$\\|\\mathbf{{v}}_j\\|$ = {length:.2f}",
                (r, total),
                xytext=(10, -4),
                textcoords="offset points",
                fontsize=8,
            )
    ax.axhline(0, c="0.3", lw=0.8)
    ax.set(
        xticks=rounds,
        xlabel="routing round",
        ylabel="part of $\\mathbf{s}_j$ along $\\mathbf{v}_j$",
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def plot_receptive_fields(image, fields, labels=None, size: float = 2.8):
    """One image per receptive field: the pixels the field sees, the rest faded, the field outlined.

    Args:
        image: One image, ``(28, 28)`` or ``(28, 28, 1)``, values in ``[0, 1]``.
        fields: Which pixels each field sees, boolean masks ``(k, h, w)`` shaped like the image
            (e.g. where a capsule's input has a non-zero gradient with respect to the image).
        labels: A title per field.
        size: Inches per panel.

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
    fig, axes = plt.subplots(1, len(fields), figsize=(size * len(fields), size), squeeze=False)
    for k, (ax, field) in enumerate(zip(axes[0], fields, strict=True)):
        ax.imshow(np.where(field, image, 0.2 * image), cmap="binary", vmin=0, vmax=1)
        rows, cols = np.flatnonzero(field.any(axis=1)), np.flatnonzero(field.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
        box = (left - 0.5, top - 0.5)
        ax.add_patch(Rectangle(box, right - left + 1, bottom - top + 1, fill=False, ec="C3", lw=2))
        ax.set_xticks(sorted({0, left, right, width - 1}))
        ax.set_yticks(sorted({0, top, bottom, height - 1}))
        ax.tick_params(labelsize=7, length=2)
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
    fig = plt.figure(figsize=(max(6.0, 0.9 * k), 5.2))
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
