"""The margin loss (eq. 4) and the decoder's reconstruction loss."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def check_labels(labels: tf.Tensor, num_classes: int) -> tf.Tensor:
    """Return ``labels`` as int32 ``(batch,)``, failing loudly on anything else.

    - Shape: ``(batch,)``; ``(batch, 1)`` (what pandas and many loaders give) is squeezed.
      Any other shape is a ``ValueError``: a one-hot ``(batch, classes)`` would otherwise
      broadcast into a wrong loss without an error.
    - Values: integer class indices in ``[0, num_classes)``. ``tf.one_hot`` silently maps
      an out-of-range label to a row of zeros (a wrong loss, no error).
    - Float labels are accepted when every value is a whole number, else refused: the same
      rule eagerly (``TypeError``) and inside a graph (an assertion).

    Eagerly the errors are raised at once and name the first bad label; inside a graph
    they are assertions with the same message and the bad values.
    """
    labels = tf.convert_to_tensor(labels)
    rank = labels.shape.rank
    if rank is None:  # a graph input of unknown rank: (batch,) or (batch, 1) flatten alike
        labels = tf.reshape(labels, [-1])
    elif rank == 2 and labels.shape[-1] == 1:
        labels = tf.squeeze(labels, axis=-1)
    elif rank is not None and rank != 1:
        raise ValueError(
            f"labels must be integer class indices shaped (batch,) or (batch, 1); got shape "
            f"{tuple(labels.shape)}"
            + (" (one-hot labels? use np.argmax(labels, axis=-1))" if rank == 2 else "")
        )
    checks = []
    if not labels.dtype.is_integer:
        if labels.dtype.is_bool or not labels.dtype.is_floating:
            raise TypeError(f"labels must be integer class indices; got dtype {labels.dtype.name}")
        whole = tf.reduce_all(tf.equal(labels, tf.round(labels)))
        if tf.executing_eagerly():
            if not bool(whole):
                raise TypeError(
                    f"labels must be integer class indices; got dtype {labels.dtype.name} "
                    "with fractional values"
                )
        else:
            message = "labels must be integer class indices; got fractional float values:"
            fractional = tf.boolean_mask(labels, tf.not_equal(labels, tf.round(labels)))
            checks.append(tf.debugging.Assert(whole, [message, fractional], summarize=8))
    labels = tf.cast(labels, tf.int32)
    if tf.executing_eagerly():
        values = labels.numpy().reshape(-1)
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(
                f"label {int(bad[0])} is outside [0, {num_classes}): labels must be "
                f"integer class indices 0..{num_classes - 1}"
            )
        return labels
    outside = (labels < 0) | (labels >= num_classes)
    in_range = tf.logical_not(tf.reduce_any(outside))
    message = f"labels outside [0, {num_classes}) (labels must be integer class indices):"
    bad = tf.boolean_mask(labels, outside)
    checks.append(tf.debugging.Assert(in_range, [message, bad], summarize=8))
    with tf.control_dependencies(checks):
        return tf.identity(labels)


def check_finite_images(images) -> None:
    """Raise ``ValueError`` with the count if ``images`` hold NaN or infinite values (eager)."""
    values = np.asarray(images)
    if values.dtype.kind == "f":
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        if bad:
            raise ValueError(
                f"images hold {bad} NaN or infinite values: clean or drop those images "
                "(CapsNet would return NaN probabilities for them)"
            )


def assert_finite_images(images: tf.Tensor) -> tf.Tensor:
    """Graph-mode :func:`check_finite_images`: an assertion with the count, then the images."""
    bad = tf.reduce_sum(tf.cast(tf.logical_not(tf.math.is_finite(images)), tf.int32))
    check = tf.debugging.Assert(
        tf.equal(bad, 0), ["images hold NaN or infinite values; count:", bad]
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)


def margin_loss(
    labels: tf.Tensor,
    lengths: tf.Tensor,
    m_plus: float = 0.9,
    m_minus: float = 0.1,
    lambda_: float = 0.5,
) -> tf.Tensor:
    """Margin loss, eq. 4, averaged over the batch.

    ``L_k = T_k max(0, m+ - |v_k|)^2 + lambda (1 - T_k) max(0, |v_k| - m-)^2``,
    summed over the classes ``k``.

    Args:
        labels: Integer class indices ``(batch,)``.
        lengths: Capsule lengths ``|v_k|`` ``(batch, num_classes)``.
        m_plus: The length a present class should exceed.
        m_minus: The length an absent class should stay below.
        lambda_: Down-weights absent classes so that early training does not shrink
            every capsule.

    Returns:
        A scalar: the mean over the batch of the per-example sum over classes.

    Raises:
        ValueError: A label outside ``[0, num_classes)``.

    Introduced in chapter 4, margin loss.
    """
    lengths = tf.convert_to_tensor(lengths)
    if lengths.shape.rank != 2:
        raise ValueError(f"lengths must be shaped (batch, num_classes); got shape {lengths.shape}")
    num_classes = lengths.shape[-1]
    labels = check_labels(labels, num_classes)
    present = tf.one_hot(labels, num_classes, dtype=lengths.dtype)  # T_k
    present_loss = tf.square(tf.maximum(0.0, m_plus - lengths))
    absent_loss = tf.square(tf.maximum(0.0, lengths - m_minus))
    per_class = present * present_loss + lambda_ * (1.0 - present) * absent_loss
    return tf.reduce_mean(tf.reduce_sum(per_class, axis=-1))


def reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
    """Sum of squared pixel differences per image, averaged over the batch.

    The paper *sums* over the 784 pixels; a per-pixel mean is 784 times smaller, so
    the paper's weight of 0.0005 would become 0.392 with it.

    Args:
        images: ``(batch, 28, 28, 1)`` or ``(batch, 784)``.
        reconstructions: The decoder's output, either shape, same number of pixels.

    Returns:
        A scalar.

    Introduced in chapter 6, decoder.
    """
    images = tf.convert_to_tensor(images)
    reconstructions = tf.cast(tf.convert_to_tensor(reconstructions), images.dtype)
    pixels = int(np.prod(images.shape[1:]))
    recon_pixels = int(np.prod(reconstructions.shape[1:]))
    if pixels != recon_pixels:
        raise ValueError(
            f"images {tuple(images.shape)} and reconstructions {tuple(reconstructions.shape)} "
            f"have different numbers of pixels per image ({pixels} vs {recon_pixels})"
        )
    diff = tf.reshape(images, [-1, pixels]) - tf.reshape(reconstructions, [-1, pixels])
    return tf.reduce_mean(tf.reduce_sum(tf.square(diff), axis=-1))
