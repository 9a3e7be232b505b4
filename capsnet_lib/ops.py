"""Capsule arithmetic: the vector norm and the squash non-linearity (eq. 1)."""

from __future__ import annotations

import tensorflow as tf


def safe_norm(
    s: tf.Tensor, axis: int = -1, epsilon: float = 1e-7, keepdims: bool = False
) -> tf.Tensor:
    """Euclidean norm of ``s`` along ``axis`` with a finite gradient everywhere.

    ``tf.norm`` differentiates ``sqrt(x)`` at ``x = 0`` and returns NaN for a zero
    vector; adding ``epsilon`` under the square root keeps the gradient finite
    (it is ~0 there) at the cost of a norm of ``sqrt(epsilon)`` for the zero vector.

    Args:
        s: Tensor of any shape, e.g. capsule outputs ``(batch, num_capsules, capsule_dim)``.
        axis: The axis holding the vector components.
        epsilon: Added to the squared norm before the square root.
        keepdims: Keep ``axis`` with length 1.

    Returns:
        The norms: ``s``'s shape without ``axis`` (or with it as 1 if ``keepdims``).

    Introduced in chapter 2, primary capsules.
    """
    squared_norm = tf.reduce_sum(tf.square(s), axis=axis, keepdims=keepdims)
    return tf.sqrt(squared_norm + epsilon)


def squash(s: tf.Tensor, axis: int = -1, epsilon: float = 1e-7) -> tf.Tensor:
    """The squash non-linearity, eq. 1: ``v = |s|^2 / (1 + |s|^2) * s / |s|``.

    Short vectors shrink to almost zero length, long ones to a length just below 1;
    the direction is kept. The gradient is finite at ``s = 0`` (see :func:`safe_norm`).

    Args:
        s: Tensor whose ``axis`` holds capsule vectors, e.g. ``(batch, 1152, 8)``.
        axis: The axis holding the vector components (squashing any other axis is a
            classic bug: the "capsule" would then mix unrelated numbers).
        epsilon: Keeps ``|s|`` away from zero.

    Returns:
        A tensor of ``s``'s shape whose vectors have length in ``[0, 1)``.

    Introduced in chapter 2, primary capsules.
    """
    squared_norm = tf.reduce_sum(tf.square(s), axis=axis, keepdims=True)
    scale = squared_norm / (1.0 + squared_norm) / tf.sqrt(squared_norm + epsilon)
    return scale * s
