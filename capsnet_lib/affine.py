"""Affine test sets of chapter 9: MNIST test digits rotated, scaled, sheared or moved.

Everything is deterministic: a transform is bilinear resampling with TensorFlow's
``ImageProjectiveTransformV3`` (no SciPy), and where a set mixes directions (clockwise and
counter-clockwise, left and right) it alternates them by image index, not at random.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

KINDS = ("rotation", "scale", "shear", "translation")
# affNIST's ranges (Tieleman's affNIST): rotation within 20 degrees, shear within 0.2,
# horizontal and vertical scale each in [0.8, 1.2]. Its translation and 40x40 canvas we leave out.
AFFNIST_RANGES = {"rotation": 20.0, "shear": 0.2, "scale": (0.8, 1.2)}


def affine_matrix(rotation=0.0, scale=1.0, shear=0.0, dx=0.0, dy=0.0) -> np.ndarray:
    """The 2x3 forward map ``[M | t]`` of an affine change about the image centre.

    A pixel at ``p = (column, row)`` relative to the input's centre moves to ``M p + t``
    relative to the output's centre, with ``M = R(rotation) @ Shear(shear) @ diag(sx, sy)``.

    Args:
        rotation: Degrees, counter-clockwise as the image is seen (rows grow downwards).
        scale: A factor, or a pair ``(horizontal, vertical)``; 2 doubles the digit.
        shear: Horizontal shear: a point moves ``shear`` pixels sideways per pixel below
            the centre.
        dx, dy: Translation in pixels, right and down.

    Returns:
        ``(2, 3)`` float64.

    Introduced in chapter 9, robustness.
    """
    sx, sy = np.broadcast_to(np.asarray(scale, float), (2,))
    if sx <= 0 or sy <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    theta = np.deg2rad(rotation)
    cos, sin = np.cos(theta), np.sin(theta)
    rotate = np.array([[cos, sin], [-sin, cos]])  # counter-clockwise with rows pointing down
    matrix = rotate @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    return np.concatenate([matrix, [[dx], [dy]]], axis=1)


def affine_transform(images, matrices, output_size: int | None = None) -> np.ndarray:
    """Apply one forward map per image (bilinear, zero outside the input).

    Args:
        images: ``(n, h, w, 1)`` float32.
        matrices: ``(n, 2, 3)`` or one ``(2, 3)`` for all, from :func:`affine_matrix`.
        output_size: Side of the square output (default: the input's height); the
            input's centre maps to the output's centre.

    Returns:
        ``(n, output_size, output_size, 1)`` float32 NumPy array.

    Introduced in chapter 9, robustness.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be (n, h, w, c), got shape {images.shape}")
    n, height, width = images.shape[:3]
    size = height if output_size is None else int(output_size)
    matrices = np.broadcast_to(np.asarray(matrices, float), (n, 2, 3))
    inverse = np.linalg.inv(matrices[:, :, :2])  # (n, 2, 2): output offset -> input offset
    c_in = np.array([(width - 1) / 2, (height - 1) / 2])
    c_out = np.full(2, (size - 1) / 2)
    # input = inverse @ (output - c_out - t) + c_in, as [a0, a1, a2, b0, b1, b2, 0, 0]
    offset = c_in - np.einsum("nij,nj->ni", inverse, c_out + matrices[:, :, 2])  # (n, 2)
    transforms = np.concatenate(
        [inverse[:, 0], offset[:, :1], inverse[:, 1], offset[:, 1:], np.zeros((n, 2))], axis=1
    )  # (n, 8)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.constant(images),
        transforms=tf.constant(transforms, tf.float32),
        output_shape=[size, size],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    ).numpy()


def transformed(images, kind: str, amount: float) -> np.ndarray:
    """``images`` under one kind of change of size ``amount``, directions alternating.

    Args:
        images: ``(n, 28, 28, 1)``.
        kind: ``"rotation"`` (degrees; even-numbered images turn counter-clockwise, odd
            ones clockwise), ``"scale"`` (a factor, the same for all), ``"shear"`` (signs
            alternate as for rotation) or ``"translation"`` (pixels; images move right,
            down, left, up in turn).
        amount: Size of the change; 0 (scale: 1) gives the images unchanged.

    Returns:
        ``(n, 28, 28, 1)`` float32.

    Introduced in chapter 9, robustness.
    """
    n = len(images)
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    if kind == "rotation":
        matrices = [affine_matrix(rotation=s * amount) for s in sign]
    elif kind == "scale":
        matrices = [affine_matrix(scale=amount)] * n
    elif kind == "shear":
        matrices = [affine_matrix(shear=s * amount) for s in sign]
    elif kind == "translation":
        steps = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]]) * amount
        matrices = [affine_matrix(dx=dx, dy=dy) for dx, dy in steps[np.arange(n) % 4]]
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return affine_transform(images, np.stack(matrices))


def affnist_like(images, seed: int = 0) -> np.ndarray:
    """``images`` under random affine changes in affNIST's ranges, on the 28x28 canvas.

    Rotation uniform in [-20, 20] degrees, shear in [-0.2, 0.2], horizontal and vertical
    scale each in [0.8, 1.2] (:data:`AFFNIST_RANGES`), drawn with NumPy from ``seed``. Unlike
    affNIST there is no translation and no 40x40 canvas: our models take 28x28 inputs.

    Introduced in chapter 9, robustness.
    """
    rng = np.random.default_rng(seed)
    n = len(images)
    angle = rng.uniform(-1, 1, n) * AFFNIST_RANGES["rotation"]
    shear = rng.uniform(-1, 1, n) * AFFNIST_RANGES["shear"]
    scale = rng.uniform(*AFFNIST_RANGES["scale"], size=(n, 2))
    matrices = [affine_matrix(a, s, h) for a, s, h in zip(angle, scale, shear, strict=True)]
    return affine_transform(images, np.stack(matrices))


def wilson_interval(correct, n, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``correct / n`` (95% with ``z = 1.96``).

    Args:
        correct: Successes (scalar or array).
        n: Trials (scalar or array, > 0).

    Returns:
        ``(low, high)`` arrays in [0, 1].

    Introduced in chapter 9, robustness.
    """
    correct, n = np.asarray(correct, float), np.asarray(n, float)
    if np.any(n <= 0) or np.any(correct < 0) or np.any(correct > n):
        raise ValueError(f"need 0 <= correct <= n and n > 0, got {correct} of {n}")
    p = correct / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def correct_predictions(model, images, labels, batch_size: int = 250) -> np.ndarray:
    """Boolean ``(n,)``: whether ``model``'s largest output for each image is its label.

    Works for the CapsNet (capsule lengths) and the CNN baseline (logits) alike.
    """
    outputs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    return outputs.argmax(axis=1) == np.asarray(labels)
