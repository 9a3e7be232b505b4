"""The cheat sheet's figure: every tensor of a CapsNet, from the image to the loss, with its shape."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# (name, what it is, chapter that builds it); shapes come from the model
STEPS = [
    ("images", "image", 1),
    ("conv1", "conv1", 2),
    ("primary_conv", "primary conv.", 2),
    ("u", "primary capsules $\\mathbf{u}_i$", 2),
    ("u_hat", "predictions $\\hat{\\mathbf{u}}_{j|i}$", 3),
    ("c", "coupling $c_{ij}$", 3),
    ("v", "digit capsules $\\mathbf{v}_j$", 3),
    ("lengths", "lengths $\\|\\mathbf{v}_j\\|$", 4),
    ("margin_loss", "margin loss", 4),
    ("decoder_input", "masked, flattened", 5),
    ("hidden_1", "dense, ReLU", 6),
    ("hidden_2", "dense, ReLU", 6),
    ("pixels", "dense, sigmoid", 6),
    ("reconstruction", "reconstruction", 6),
    ("reconstruction_loss", "reconstruction loss", 6),
    ("loss", "total loss", 6),
]


def network_shapes(model) -> dict[str, tuple]:
    """The shape of every tensor of ``model`` (a :class:`capsnet_lib.CapsNet`), batch as ``"b"``.

    Read from the model's layers (their ``compute_output_shape`` and weights), not typed in.

    Introduced in the cheat sheet.
    """
    image = (None, *model.config.image_shape)
    conv1 = model.conv1.compute_output_shape(image)
    primary_conv = model.primary_capsules.conv.compute_output_shape(conv1)
    u = model.primary_capsules.compute_output_shape(conv1)
    num_inputs, num_classes, digit_dim, _ = model.digit_capsules.W.shape
    decoder = model.decoder
    shapes = {
        "images": image,
        "conv1": conv1,
        "primary_conv": primary_conv,
        "u": u,
        "u_hat": (None, num_inputs, num_classes, digit_dim),
        "c": (None, num_inputs, num_classes),
        "v": model.digit_capsules.compute_output_shape(u),
        "lengths": (None, num_classes),
        "margin_loss": (),
        "decoder_input": (None, num_classes * digit_dim),
        "hidden_1": (None, decoder.hidden[0].units),
        "hidden_2": (None, decoder.hidden[1].units),
        "pixels": (None, decoder.pixels.units),
        "reconstruction": decoder.compute_output_shape((None, num_classes, digit_dim)),
        "reconstruction_loss": (),
        "loss": (),
    }
    return {k: tuple("b" if n is None else int(n) for n in s) for k, s in shapes.items()}


# four steps a row, read as a snake: the image to the primary capsules left to right, on to
# the lengths right to left; the decoder from the digit capsules, down and back; the losses
PLACES = {
    "images": (0, 3),
    "conv1": (1, 3),
    "primary_conv": (2, 3),
    "u": (3, 3),
    "u_hat": (3, 2),
    "c": (2, 2),
    "v": (1, 2),
    "lengths": (0, 2),
    "margin_loss": (0, 1),
    "decoder_input": (1, 1),
    "hidden_1": (2, 1),
    "hidden_2": (3, 1),
    "pixels": (3, 0),
    "reconstruction": (2, 0),
    "reconstruction_loss": (1, 0),
    "loss": (0, 0),
}
# two steps a row, for a phone: the same snake down to the lengths, then the decoder down
# the right column and the losses back up the left one, to the total loss
NARROW_PLACES = {
    "images": (0, 7),
    "conv1": (1, 7),
    "primary_conv": (1, 6),
    "u": (0, 6),
    "u_hat": (0, 5),
    "c": (1, 5),
    "v": (1, 4),
    "lengths": (0, 4),
    "margin_loss": (0, 3),
    "decoder_input": (1, 3),
    "hidden_1": (1, 2),
    "hidden_2": (1, 1),
    "pixels": (1, 0),
    "reconstruction": (0, 0),
    "reconstruction_loss": (0, 1),
    "loss": (0, 2),
}
LAYOUTS = {4: PLACES, 2: NARROW_PLACES}  # by the number of boxes a row
# each arrow joins two neighbouring boxes of every layout
ARROWS = [
    ("images", "conv1"),
    ("conv1", "primary_conv"),
    ("primary_conv", "u"),
    ("u", "u_hat"),
    ("u_hat", "c"),
    ("c", "v"),
    ("v", "lengths"),
    ("lengths", "margin_loss"),
    ("v", "decoder_input"),
    ("decoder_input", "hidden_1"),
    ("hidden_1", "hidden_2"),
    ("hidden_2", "pixels"),
    ("pixels", "reconstruction"),
    ("reconstruction", "reconstruction_loss"),
    ("reconstruction_loss", "loss"),
    ("margin_loss", "loss"),
]
HALF_WIDTH, HALF_HEIGHT = 0.42, 0.34  # of a box, in units of the grid
LINE = 0.13  # a line of 9 pt text below the boxes, in units of the grid (1.25 inch)


def _box(ax, x, y, title, shape, chapter):
    color = plt.get_cmap("tab10")(chapter - 1)
    ax.add_patch(
        FancyBboxPatch(
            (x - HALF_WIDTH, y - HALF_HEIGHT),
            2 * HALF_WIDTH,
            2 * HALF_HEIGHT,
            boxstyle="round,pad=0.02",
            facecolor=(*color[:3], 0.18),
            edgecolor=color,
            lw=1.5,
        )
    )
    text = "scalar" if shape == () else "(" + ", ".join(map(str, shape)) + ")"
    ax.text(x, y + 0.16, title, ha="center", va="center", fontsize=9, weight="bold")
    ax.text(x, y - 0.06, text, ha="center", va="center", fontsize=9, family="monospace")
    ax.text(x, y - 0.24, f"ch. {chapter}", ha="center", va="center", fontsize=8, color=color)


def _arrow(ax, places, a, b):
    (xa, ya), (xb, yb) = places[a], places[b]
    dx, dy = np.sign(xb - xa), np.sign(yb - ya)  # one step right, left, up or down
    gap_x, gap_y = HALF_WIDTH + 0.03, HALF_HEIGHT + 0.03
    start = (xa + dx * gap_x, ya + dy * gap_y)
    end = (xb - dx * gap_x, yb - dy * gap_y)
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.35", lw=1.1)
    )


def plot_network_shapes(model, columns: int = 4):
    """A CapsNet's tensors as boxes with their shapes, coloured by the chapter that builds them.

    Four boxes a row, read as a snake: the top row from the image to the primary capsules
    (left to right), the second on to the lengths (right to left), the third the margin loss
    and the decoder's first layers (from the digit capsules, left to right), the bottom the
    reconstruction and the losses (right to left), ending in the total loss. With
    ``columns=2``, a tall version for a phone's screen: the same snake two boxes a row down to
    the lengths, then the decoder down the right column and the losses up the left one.

    Args:
        model: A :class:`capsnet_lib.CapsNet` (its weights do not matter).
        columns: Boxes a row, 4 or 2.

    Returns:
        The matplotlib figure.

    Introduced in the cheat sheet.
    """
    if columns not in LAYOUTS:
        raise ValueError(f"columns must be one of {sorted(LAYOUTS)}; got {columns!r}")
    places = LAYOUTS[columns]
    shapes = network_shapes(model)
    rows = 1 + max(y for _, y in places.values())
    weight = f"{model.config.reconstruction_weight:g}"
    notes = [
        f"total loss = margin loss + {weight} × reconstruction loss",
        "mask: keeps the label's capsule (the prediction's at test time)",
        "reconstruction loss: the reconstruction against the image",
    ]
    width = 100 if columns == 4 else 46  # characters a line holds at 9 pt
    lines = [textwrap.fill(note, width, subsequent_indent="    ") for note in notes]
    footer = "\n".join(lines)
    bottom = -0.4 - LINE * footer.count("\n") - LINE - 0.08
    top = rows - 0.58
    fig, ax = plt.subplots(figsize=(1.85 * columns, 1.25 * (top - bottom)))
    for name, title, chapter in STEPS:
        _box(ax, *places[name], title, shapes[name], chapter)
    for a, b in ARROWS:
        _arrow(ax, places, a, b)
    ax.text(-HALF_WIDTH, -0.42, footer, ha="left", va="top", fontsize=9, linespacing=1.3)
    ax.set_xlim(-0.49, columns - 0.51)
    ax.set_ylim(bottom, top)
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig
