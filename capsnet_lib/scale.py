"""The arithmetic of scale: what a CapsNet for a given image size holds and needs per batch.

With valid convolutions (no padding), an ``H x W`` image gives conv1 ``(H - 8) x (W - 8)``
positions and primary grids of ``((H - 17) // 2 + 1) x ((W - 17) // 2 + 1)`` (the paper's 9x9
kernels, stride 2): 32 capsules per position. Every primary capsule predicts every class
capsule, so ``u_hat`` holds ``batch x primary capsules x classes x 16`` numbers, and the
matrices ``W`` ``primary capsules x classes x 16 x 8``: both grow with the image's area times the
number of classes. A 28x28 digit gives 6x6 grids (1,152 capsules); a 32x32 image 8x8 (2,048).

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass

from capsnet_lib.model import CapsNetConfig

FLOAT32 = 4  # bytes


@dataclass(frozen=True)
class Architecture:
    """What a CapsNet for one image size is made of, and its memory for one batch.

    Attributes:
        image_shape: ``(height, width, channels)`` in.
        num_classes: Class capsules.
        conv1_grid: ``(height, width)`` of conv1's output.
        primary_grid: ``(height, width)`` of each primary capsule map.
        primary_capsules: ``primary_grid`` area times the maps (the paper: 32).
        parameters: Weights to train (as ``model.count_params()``).
        batch_size: Images per batch the memory is counted for.
        u_hat_bytes: The predictions ``u_hat`` ``(batch, primary_capsules, num_classes,
            16)``, float32.
        activation_bytes: Every tensor of one forward pass, each counted once, float32: the
            images, conv1's output, the primary convolution's output and its squashed
            capsules, ``u_hat``, the routing logits and couplings of each round, the class
            capsules, the decoder's layers and the reconstruction. XLA fuses the products
            inside routing, so the ``u_hat``-sized tensors they would make are not counted;
            training keeps these activations for the gradients and adds as much again for
            them, so count about twice this, plus four times the parameters' bytes (weights,
            gradients and Adam's two moments).
        multiply_adds: One image's forward pass, layer by layer (outputs times products
            per output): ``"conv1"``, ``"primary capsules"`` (their convolution),
            ``"predictions û"``, ``"routing"`` (each round's weighted sum, and an agreement
            between rounds) and ``"decoder"``. Chapter 1 counts them by hand for 28x28.

    Introduced in chapter 10, beyond one centred digit.
    """

    image_shape: tuple[int, int, int]
    num_classes: int
    conv1_grid: tuple[int, int]
    primary_grid: tuple[int, int]
    primary_capsules: int
    parameters: int
    batch_size: int
    u_hat_bytes: int
    activation_bytes: int
    multiply_adds: dict[str, int]

    @property
    def training_bytes(self) -> int:
        """Memory to train on one batch, float32: twice the activations (kept for the
        gradients), and four times the parameters (weights, gradients, Adam's two moments)."""
        return 2 * self.activation_bytes + 4 * self.parameters * FLOAT32

    def describe(self) -> str:
        """A few lines for a person: the layers' sizes, parameters and memory per batch."""
        h, w, c = self.image_shape
        maps = self.primary_capsules // (self.primary_grid[0] * self.primary_grid[1])
        mib = 2**20
        return "\n".join(
            [
                f"input {h}x{w}x{c} -> conv1 {self.conv1_grid[0]}x{self.conv1_grid[1]} -> "
                f"primary capsules: {self.primary_grid[0]}x{self.primary_grid[1]} grids x {maps} "
                f"maps = {self.primary_capsules:,} capsules -> {self.num_classes} class "
                f"capsules -> decoder -> {h}x{w}x{c} reconstruction",
                f"parameters: {self.parameters:,}",
                f"memory per batch of {self.batch_size} (float32, forward pass): u_hat "
                f"({self.batch_size}, {self.primary_capsules}, {self.num_classes}, 16) "
                f"{self.u_hat_bytes / mib:,.1f} MiB; all activations {self.activation_bytes / mib:,.1f}"
                " MiB (training keeps them for the gradients: about twice that)",
            ]
        )


def _grid(size: int, kernel: int, stride: int = 1) -> int:
    """Positions of a valid convolution along one side."""
    return (size - kernel) // stride + 1


def architecture_of(
    image_shape: tuple[int, int, int],
    num_classes: int,
    batch_size: int = 128,
    **config,
) -> Architecture:
    """A CapsNet's sizes and memory per batch for ``image_shape`` and ``num_classes``.

    Args:
        image_shape: ``(height, width, channels)``, e.g. ``(32, 32, 3)``.
        num_classes: Classes (class capsules).
        batch_size: Images per batch for the memory counts.
        **config: Other :class:`~capsnet_lib.CapsNetConfig` fields (kernels, maps, routing
            rounds, decoder), the paper's values by default.

    Returns:
        An :class:`Architecture`; its ``describe()`` prints it.

    Introduced in chapter 10, beyond one centred digit.
    """
    for name, value in (("num_classes", num_classes), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a whole number, 1 or more; got {value!r}")
    known = {f.name for f in dataclasses.fields(CapsNetConfig)}
    unknown = set(config) - known
    if unknown:
        raise TypeError(f"unknown CapsNet settings: {sorted(unknown)}")
    cfg = CapsNetConfig(image_shape=tuple(image_shape), num_classes=num_classes, **config)
    h, w, c = cfg.image_shape
    conv1 = (_grid(h, cfg.conv_kernel), _grid(w, cfg.conv_kernel))
    grid = tuple(_grid(s, cfg.primary_kernel, cfg.primary_strides) for s in conv1)
    if min(grid) < 1:
        raise ValueError(
            f"a {h}x{w} image is too small for this CapsNet: it needs at least "
            f"{cfg.conv_kernel - 1 + cfg.primary_kernel} pixels on each side"
        )
    primary_channels = cfg.primary_maps * cfg.primary_dim
    n = grid[0] * grid[1] * cfg.primary_maps  # primary capsules
    pixels = h * w * c
    decoder_in = num_classes * cfg.digit_dim
    widths = [decoder_in, *cfg.decoder_units, pixels]
    parameters = (
        cfg.conv_kernel**2 * c * cfg.conv_filters
        + cfg.conv_filters  # conv1
        + cfg.primary_kernel**2 * cfg.conv_filters * primary_channels
        + primary_channels  # primary capsules' convolution
        + n * num_classes * cfg.digit_dim * cfg.primary_dim  # W
        + sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))  # decoder
    )
    u_hat = batch_size * n * num_classes * cfg.digit_dim
    activations = batch_size * (
        pixels  # the images
        + conv1[0] * conv1[1] * cfg.conv_filters
        + 2 * n * cfg.primary_dim  # the convolution's output, squashed
        + n * num_classes * cfg.digit_dim  # u_hat
        + 2 * cfg.routing_iterations * n * num_classes  # logits b and couplings c, each round
        + num_classes * cfg.digit_dim
        + sum(cfg.decoder_units)
        + pixels  # the reconstruction
    )
    pose = n * num_classes * cfg.digit_dim  # numbers in u_hat, per image
    multiply_adds = {
        "conv1": conv1[0] * conv1[1] * cfg.conv_filters * (cfg.conv_kernel**2 * c),
        "primary capsules": grid[0]
        * grid[1]
        * primary_channels
        * (cfg.primary_kernel**2 * cfg.conv_filters),
        "predictions û": pose * cfg.primary_dim,
        "routing": (2 * cfg.routing_iterations - 1) * pose,  # sums, and agreements between
        "decoder": sum(a * b for a, b in zip(widths, widths[1:], strict=False)),
    }
    return Architecture(
        image_shape=(h, w, c),
        num_classes=num_classes,
        conv1_grid=conv1,
        primary_grid=grid,
        primary_capsules=n,
        parameters=parameters,
        batch_size=batch_size,
        u_hat_bytes=u_hat * FLOAT32,
        activation_bytes=activations * FLOAT32,
        multiply_adds=multiply_adds,
    )


def machine_memory() -> int | None:
    """This machine's memory in bytes (``None`` where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def largest_fitting_size(
    image_size: tuple[int, int],
    channels: int,
    num_classes: int,
    batch_size: int,
    budget: int,
    **config,
) -> tuple[int, int] | None:
    """The largest ``(height, width)`` of ``image_size``'s shape whose training memory per
    batch fits in ``budget`` bytes, or ``None`` where even the smallest does not.

    Introduced in chapter 10, beyond one centred digit.
    """
    height, width = image_size
    smallest = config.get("conv_kernel", 9) - 1 + config.get("primary_kernel", 9)

    def size_at(scale: float) -> tuple[int, int]:
        return max(smallest, int(height * scale)), max(smallest, int(width * scale))

    def fits(size: tuple[int, int]) -> bool:
        shape = (*size, channels)
        return architecture_of(shape, num_classes, batch_size, **config).training_bytes <= budget

    if not fits(size_at(0)):
        return None
    low, high = 0.0, 1.0
    for _ in range(40):  # bisection on the scale
        middle = (low + high) / 2
        low, high = (middle, high) if fits(size_at(middle)) else (low, middle)
    return size_at(low)
