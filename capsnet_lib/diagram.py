"""The cheat sheet's figure: every tensor of a CapsNet, from the image to the loss, with its shape."""

from __future__ import annotations

import matplotlib.pyplot as plt
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


def _box(ax, x, y, title, shape, chapter):
    color = plt.get_cmap("tab10")(chapter - 1)
    ax.add_patch(
        FancyBboxPatch(
            (x - 0.46, y - 0.36),
            0.92,
            0.72,
            boxstyle="round,pad=0.02",
            facecolor=(*color[:3], 0.18),
            edgecolor=color,
            lw=1.5,
        )
    )
    text = "scalar" if shape == () else "(" + ", ".join(map(str, shape)) + ")"
    ax.text(x, y + 0.14, title, ha="center", va="center", fontsize=8.5, weight="bold")
    ax.text(x, y - 0.1, text, ha="center", va="center", fontsize=8.5, family="monospace")
    ax.text(x, y - 0.27, f"ch. {chapter}", ha="center", va="center", fontsize=7, color=color)


def _arrow(ax, start, end):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.35", lw=1.1)
    )


def plot_network_shapes(model):
    """A CapsNet's tensors as boxes with their shapes, coloured by the chapter that builds them.

    The top row is the path to the class probabilities, the second the decoder (right to
    left, from the digit capsules), the bottom the total loss.

    Args:
        model: A :class:`capsnet_lib.CapsNet` (its weights do not matter).

    Returns:
        The matplotlib figure.

    Introduced in the cheat sheet.
    """
    shapes = network_shapes(model)
    places = {name: (i, 2) for i, name in enumerate([s[0] for s in STEPS[:8]])}
    places["margin_loss"] = (7, 1)
    for x, name in zip(range(6, 0, -1), [s[0] for s in STEPS[9:15]], strict=True):
        places[name] = (x, 1)
    places["loss"] = (4, 0)
    fig, ax = plt.subplots(figsize=(13, 4.6))
    for name, title, chapter in STEPS:
        _box(ax, *places[name], title, shapes[name], chapter)
    top = [s[0] for s in STEPS[:8]]
    for a, b in zip(top[:-1], top[1:], strict=True):
        _arrow(ax, (places[a][0] + 0.47, 2), (places[b][0] - 0.47, 2))
    _arrow(ax, (7, 2 - 0.37), (7, 1 + 0.37))  # lengths -> margin loss
    _arrow(ax, (6, 2 - 0.37), (6, 1 + 0.37))  # v -> mask
    bottom = [s[0] for s in STEPS[9:15]]
    for a, b in zip(bottom[:-1], bottom[1:], strict=True):
        _arrow(ax, (places[a][0] - 0.47, 1), (places[b][0] + 0.47, 1))
    _arrow(ax, (1, 1 - 0.37), (4 - 0.47, 0.05))  # reconstruction loss -> total
    _arrow(ax, (7, 1 - 0.37), (4 + 0.47, 0.05))  # margin loss -> total
    weight = f"{model.config.reconstruction_weight:g}"
    ax.text(4, -0.5, f"margin loss + {weight} × reconstruction loss", ha="center", fontsize=8.5)
    ax.set_xlim(-0.55, 7.55)
    ax.set_ylim(-0.7, 2.45)
    ax.axis("off")
    fig.tight_layout()
    return fig
