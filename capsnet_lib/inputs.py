"""Checks of what a CapsNet is given, before Keras traces anything: images and labels.

Pixels outside [0, 1] are refused, not warned about. Every network of this library is trained
on MNIST scaled to [0, 1], and the commonest mistake, images left in 0-255, does not fail: it
answers a few points worse, or far worse, with nothing to say so. A warning printed once among
Keras's progress lines is easy to miss, and a notebook goes on with the wrong number; an error
names the fix (``images / 255``) and costs one line to act on. A small tolerance lets through
the rounding of resampled or float16 images.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf

from capsnet_lib.losses import assert_finite_images, check_finite_images, check_labels

PIXEL_TOLERANCE = 0.01  # resampling and float16 round a pixel of 1 to at most this far above


def check_images(images, image_shape: tuple[int, ...]) -> None:
    """Raise ``ValueError``/``TypeError`` unless ``images`` are floats ``(batch, *image_shape)``."""
    expected = tuple(image_shape)
    shape = tuple(images.shape)
    dtype = tf.as_dtype(images.dtype)
    if len(shape) != 1 + len(expected) or tuple(shape[1:]) != expected:
        hint = ""
        if shape[1:] == expected[:2]:
            hint = " (add a channel axis: images[..., None])"
        elif shape == expected:
            hint = " (one image? add a batch axis: image[None])"
        raise ValueError(
            f"CapsNet expects images shaped (batch, {', '.join(map(str, expected))}); "
            f"got {shape}{hint}"
        )
    if not dtype.is_floating:
        raise TypeError(
            f"CapsNet expects float images in [0, 1]; got dtype {dtype.name} "
            "(convert with images.astype('float32') / 255)"
        )


def check_count(value, name: str, none_ok: bool = True) -> None:
    """Refuse a count (a limit, a batch size) that is not a whole number, 1 or more.

    A slice would take 0 as "nothing" and -5 as "all but 5", without a word; ``None``
    (where ``none_ok``) means all.
    """
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"{name} must be a whole number, 1 or more{', or None' if none_ok else ''}; "
            f"got {value!r}"
        )


def check_digits(images, labels, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits and their labels checked: floats ``(n, 28, 28, 1)`` in [0, 1], as many
    whole labels from 0 to ``num_classes - 1``; returned as NumPy arrays."""
    images = np.asarray(images)
    shape = tuple(images.shape)
    if images.ndim == 3 and shape[1:] == (28, 28):
        raise ValueError(
            f"digits must be shaped (n, 28, 28, 1); got {shape}: add a channel axis "
            "(images[..., None])"
        )
    if images.ndim != 4 or shape[1:] != (28, 28, 1):
        raise ValueError(f"digits must be shaped (n, 28, 28, 1), as MNIST's; got {shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"digits must be floats in [0, 1], as load_mnist gives them; got dtype "
            f"{images.dtype} (convert with images.astype('float32') / 255)"
        )
    if not len(images):
        raise ValueError("got 0 digits: give at least one of each class")
    check_finite_images(images)
    check_pixel_range(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"{len(images)} digits but labels shaped {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.floating) or not np.all(labels == np.round(labels)):
            raise TypeError(f"labels must be whole numbers; got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must be from 0 to {num_classes - 1}; got {labels.min()} to {labels.max()}"
        )
    return images, labels.astype(np.int64)


def pixel_range_error(low: float, high: float) -> str | None:
    """What is wrong with images whose pixels span ``[low, high]``, or ``None``."""
    if high > 1 + PIXEL_TOLERANCE:
        hint = (
            "images scaled 0-255? divide them by 255 (images / 255)"
            if high > 10
            else "standardized images? give the pixels in [0, 1] instead"
        )
        return f"CapsNet expects pixels in [0, 1], as it was trained; these reach {high:g}: {hint}"
    if low < -PIXEL_TOLERANCE:
        return (
            f"CapsNet expects pixels in [0, 1], as it was trained; these go down to {low:g}: "
            "standardized or centred images? give the pixels in [0, 1] instead"
        )
    return None


def check_pixel_range(images) -> None:
    """Raise ``ValueError`` if finite ``images`` (eager) leave [0, 1] by more than the tolerance."""
    values = np.asarray(images)
    if values.size:
        message = pixel_range_error(float(values.min()), float(values.max()))
        if message:
            raise ValueError(message)


def assert_pixel_range(images: tf.Tensor) -> tf.Tensor:
    """Graph-mode :func:`check_pixel_range`: an assertion with the extremes, then the images."""
    low, high = tf.reduce_min(images), tf.reduce_max(images)
    in_range = tf.logical_and(high <= 1 + PIXEL_TOLERANCE, low >= -PIXEL_TOLERANCE)
    message = "CapsNet expects pixels in [0, 1] (0-255 images? divide them by 255); min, max:"
    check = tf.debugging.Assert(tf.logical_or(tf.size(images) == 0, in_range), [message, low, high])
    with tf.control_dependencies([check]):
        return tf.identity(images)


def check_arrays(x, y, image_shape: tuple[int, ...], num_classes: int) -> None:
    """Check images and labels given as arrays: shape, type, count, finite values, range."""
    if isinstance(x, np.ndarray | tf.Tensor):
        check_images(x, image_shape)
        if x.shape[0] == 0:
            raise ValueError("got 0 images: give at least one")
        check_finite_images(x)
        check_pixel_range(x)
    if isinstance(y, np.ndarray | tf.Tensor | list):
        check_labels(np.asarray(y), num_classes)
        if hasattr(x, "shape") and len(y) != x.shape[0]:
            raise ValueError(f"{x.shape[0]} images but {len(y)} labels")


def checked_dataset(dataset: tf.data.Dataset, num_classes: int) -> tf.data.Dataset:
    """The dataset with its images and labels checked in the input pipeline.

    The train step's own label check is a graph assertion, and XLA (``jit_compile=True``,
    Keras's default where a GPU is visible) drops assertions; the input pipeline is never
    compiled with XLA, so a bad label or pixel stops training there. An empty dataset is
    refused at once (Keras would answer with no numbers, or fail in its own code).
    """
    if int(dataset.cardinality()) == 0:
        raise ValueError("the dataset is empty: give at least one batch of images")

    def check(*batch):
        images, labels, weights = keras.utils.unpack_x_y_sample_weight(batch)
        if isinstance(images, tf.Tensor) and images.dtype.is_floating:
            images = assert_pixel_range(assert_finite_images(images))
        if labels is None:
            return images
        labels = check_labels(labels, num_classes)
        return (images, labels) if weights is None else (images, labels, weights)

    return dataset.map(check)
