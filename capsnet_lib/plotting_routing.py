"""Figures of chapter 3, routing by agreement: 2-D predictions routed round by round, the
product ``W_ij @ u_i`` drawn as blocks, and how much of the winning parent's ``s_j`` comes from
the children that agree."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from capsnet_lib.figures import column_figsize


def plot_routing_2d(predictions, coefficients, outputs, size: float = 2.4):
    """Routing by agreement on 2-D predictions, one row per parent and one column per round.

    Each child's prediction for a parent is an arrow from the origin, numbered by its child
    and coloured (and thickened) by its coupling coefficient in that round; the parent's
    output of that round is the black arrow.

    Args:
        predictions: ``u_hat`` for one example, ``(num_inputs, num_outputs, 2)``.
        coefficients: The coupling coefficients of each round, ``(rounds, num_inputs, num_outputs)``.
        outputs: The parents' outputs of each round, ``(rounds, num_outputs, 2)``.
        size: Inches per panel, less where they would be wider than the column.

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
        num_outputs,
        rounds,
        figsize=column_figsize(size * rounds + 1.2, size * num_outputs),
        squeeze=False,
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
            ax.text(xs[m] + block_width / 2, 0.15, f"j={j}", ha="center", fontsize=7.5)
            ax.text(
                xs[m] + block_width / 2,
                row_top[shown] + dots / 2 + 0.05,
                "⋮",
                ha="center",
                va="center",
            )
        return xs[-1] + block_width

    for i, top in zip(rows, row_top, strict=True):
        ax.text(-0.2, top - height / 2, f"i={i}", ha="right", va="center", fontsize=7.5)
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


def plot_agreement_parts(agreeing, others, lengths=None, lengths_prefix: str = ""):
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
        lengths_prefix: Written before each length's name, e.g. ``"median "`` when the
            lengths summarise many digits.

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
                f"{lengths_prefix}$\\|\\mathbf{{v}}_j\\|$ = {length:.2f}",
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
