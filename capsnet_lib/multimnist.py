"""MultiMNIST (the paper's section 6): two digits of different classes overlaid on a 36x36 canvas.

Each digit is placed on the canvas shifted by up to 4 pixels in each direction from the centre
(a 28x28 digit at a corner offset of 0 to 8 pixels on each axis), and the two images are added
pixel by pixel and clipped at 1, so ink on ink stays ink. Everything is drawn from stateless
seeds: the same seed gives the same pairs, shifts and canvases on every run and every machine.

The network that reads them, its shipped weights and its measurements are in
:mod:`capsnet_lib.multimnist_model`.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from capsnet_lib.data import epoch_seed, load_mnist
from capsnet_lib.inputs import check_count, check_digits

CANVAS = 36  # pixels on each side
MAX_SHIFT = 4  # each digit moves up to this far from the centre, in each direction
DIGIT = 28
SPLIT_SEEDS = {"test": 10, "valid": 5, "train": 1}  # load_multimnist's fixed pairs


@dataclass
class MultiMnist:
    """Pairs of overlaid digits: ``canvases (n, 36, 36, 1)``, ``labels (n, 2)`` (two different
    classes), and each digit alone where it lies on its canvas, ``digits (n, 2, 36, 36, 1)``."""

    canvases: np.ndarray
    labels: np.ndarray
    digits: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def place(images: tf.Tensor, offsets: tf.Tensor) -> tf.Tensor:
    """Put 28x28 ``images (n, 28, 28, 1)`` on 36x36 canvases, top-left corner at ``offsets``.

    ``offsets (n, 2)`` are (row, column) in 0..8: 4 is the centre, 0 and 8 the largest shifts.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    room = CANVAS - DIGIT  # 8
    padded = tf.pad(images, [[0, 0], [room, room], [room, room], [0, 0]])  # (n, 44, 44, 1)
    offsets = tf.cast(offsets, tf.int32)
    rows = room - offsets[:, :1] + tf.range(CANVAS)[None]  # (n, 36): where each canvas row reads
    cols = room - offsets[:, 1:] + tf.range(CANVAS)[None]
    picked = tf.gather(padded, rows, axis=1, batch_dims=1)  # (n, 36, 44, 1)
    return tf.gather(picked, cols, axis=2, batch_dims=1)  # (n, 36, 36, 1)


def overlay(first: tf.Tensor, second: tf.Tensor) -> tf.Tensor:
    """Two canvases of digits added pixel by pixel, clipped at 1."""
    return tf.minimum(first + second, 1.0)


def _class_table(labels: np.ndarray, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``(by_class (classes, most), counts (classes,))``: the indices of each class's images."""
    counts = np.bincount(labels, minlength=num_classes)
    if (counts == 0).any():
        missing = [int(c) for c in np.flatnonzero(counts == 0)]
        raise ValueError(f"MultiMNIST needs images of every class; none of class {missing}")
    by_class = np.zeros((num_classes, counts.max()), np.int64)
    for c in range(num_classes):
        by_class[c, : counts[c]] = np.flatnonzero(labels == c)
    return by_class, counts


def _draw_pairs(base, labels, by_class, counts, seed):
    """For the images at indices ``base``: a partner of another class and both offsets.

    ``seed`` is a stateless pair: the same pair gives the same draw on every run.
    """
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    n = tf.shape(base)[0]
    num_classes = tf.shape(counts)[0]
    own = tf.gather(labels, base)
    step = tf.random.stateless_uniform([n], seed, 1, num_classes, dtype=tf.int32)
    other = (own + tf.cast(step, own.dtype)) % tf.cast(num_classes, own.dtype)  # never own
    where = tf.random.stateless_uniform([n], seed + [0, 1], 0, 1)
    slot = tf.cast(where * tf.cast(tf.gather(counts, other), tf.float32), tf.int64)
    partner = tf.gather_nd(by_class, tf.stack([tf.cast(other, tf.int64), slot], axis=1))
    offsets = tf.random.stateless_uniform(
        [n, 2, 2], seed + [0, 2], 0, 2 * MAX_SHIFT + 1, dtype=tf.int32
    )
    return partner, offsets


def _compose(images, labels, base, partner, offsets):
    """Canvases, label pairs and separate digits for index pairs ``(base, partner)``."""
    first = place(tf.cast(tf.gather(images, base), tf.float32) / 255.0, offsets[:, 0])
    second = place(tf.cast(tf.gather(images, partner), tf.float32) / 255.0, offsets[:, 1])
    pair_labels = tf.stack([tf.gather(labels, base), tf.gather(labels, partner)], axis=1)
    return overlay(first, second), pair_labels, tf.stack([first, second], axis=1)


def _as_uint8(images: np.ndarray) -> np.ndarray:
    """MNIST images ``(n, 28, 28, 1)`` in [0, 1] as uint8 (a quarter of the memory in a graph)."""
    return np.round(np.asarray(images) * 255).astype(np.uint8)


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number, 0 or more; got {seed!r}")


def make_pairs(
    images: np.ndarray, labels: np.ndarray, seed: int = 0, limit: int | None = None
) -> MultiMnist:
    """One MultiMNIST pair per image: each image with a random partner of another class.

    Args:
        images: MNIST digits ``(n, 28, 28, 1)``, floats in [0, 1] (e.g.
            ``load_mnist().x_test``); uint8 or 0-255 digits, or digits without their channel
            axis, are refused with what to do.
        labels: Their classes ``(n,)``, every class present.
        seed: Chooses the partners and the shifts; the same seed, the same pairs.
        limit: Make the first ``limit`` pairs only (the same pairs, sooner).

    Returns:
        A :class:`MultiMnist` of ``n`` pairs, image ``i`` first in pair ``i``.

    Introduced in chapter 10, beyond one centred digit.
    """
    images, labels = check_digits(images, labels)
    _check_seed(seed)
    check_count(limit, "limit")
    by_class, counts = _class_table(labels)
    base = tf.range(len(labels), dtype=tf.int64)
    pixels = tf.constant(_as_uint8(images))
    partner, offsets = _draw_pairs(base, tf.constant(labels), by_class, counts, [seed, 0])
    kept = slice(0, limit)  # every partner is drawn; only the first pairs are drawn on canvases
    canvases, pair_labels, digits = _compose(
        pixels, tf.constant(labels), base[kept], partner[kept], offsets[kept]
    )
    return MultiMnist(canvases.numpy(), pair_labels.numpy(), digits.numpy())


def load_multimnist(
    split: str = "test", limit: int | None = None, seed: int | None = None
) -> MultiMnist:
    """The fixed MultiMNIST pairs the book measures with, made from MNIST's ``split``.

    ``"test"``: one pair per MNIST test image (10,000), seed 10; ``"valid"``: one per
    validation image (5,000), seed 5; ``"train"``: one per training image (55,000), seed 1.
    ``limit`` (1 or more) keeps the first pairs only.

    Introduced in chapter 10, beyond one centred digit.
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(
            f"split must be one of {', '.join(map(repr, SPLIT_SEEDS))}; got {split!r}"
            + (" (the validation split is 'valid')" if split == "validation" else "")
        )
    check_count(limit, "limit")
    if seed is not None:
        _check_seed(seed)
    mnist = load_mnist()
    images, labels = {
        "test": (mnist.x_test, mnist.y_test),
        "valid": (mnist.x_valid, mnist.y_valid),
        "train": (mnist.x_train, mnist.y_train),
    }[split]
    default_seed = SPLIT_SEEDS[split]
    return make_pairs(images, labels, default_seed if seed is None else seed, limit)


def pairs_dataset(pairs: MultiMnist, batch_size: int = 128) -> tf.data.Dataset:
    """Fixed pairs as batches of ``(canvases, {"labels", "digits"})`` for ``evaluate``."""
    check_count(batch_size, "batch_size", none_ok=False)
    targets = {"labels": pairs.labels, "digits": pairs.digits}
    dataset = tf.data.Dataset.from_tensor_slices((pairs.canvases, targets))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def training_stream(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 128,
    seed: int = 0,
    epoch: int = 0,
) -> tf.data.Dataset:
    """One epoch of fresh pairs: every image once, in a shuffled order, each with a new partner.

    Batch ``i`` of epoch ``e`` is drawn from the stateless pair ``(epoch_seed(seed, e), i)``:
    repeatable, and a resumed run continues the same stream.
    """
    images, labels = check_digits(images, labels)
    check_count(batch_size, "batch_size", none_ok=False)
    by_class, counts = _class_table(labels)
    pixels = tf.constant(_as_uint8(images))
    label_tensor = tf.constant(labels)
    stream = epoch_seed(seed, epoch)

    def make_batch(i, base):
        partner, offsets = _draw_pairs(base, label_tensor, by_class, counts, [stream, i])
        canvases, pair_labels, digits = _compose(pixels, label_tensor, base, partner, offsets)
        return canvases, {"labels": pair_labels, "digits": digits}

    order = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=stream)
    batches = order.batch(batch_size).enumerate()
    return batches.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def three_digit_canvases(
    pairs: MultiMnist, images: np.ndarray, labels: np.ndarray, n: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` canvases of ``pairs`` with a third digit added, of a third class.

    The third digit of canvas ``i`` is drawn from ``images`` among those whose class neither
    digit of pair ``i`` has, placed with a random offset like the others and overlaid (added,
    clipped at 1). Returns ``(canvases (n, 36, 36, 1), classes (n, 3))``.

    Introduced in chapter 10 (exercise 10.1).
    """
    check_count(n, "n", none_ok=False)
    images, labels = check_digits(images, labels)
    rng = np.random.default_rng(seed)
    thirds, classes = [], []
    for pair in pairs.labels[:n]:
        k = int(rng.choice(np.flatnonzero(~np.isin(labels, pair))))
        thirds.append(k)
        classes.append([*map(int, pair), int(labels[k])])
    offsets = rng.integers(0, 2 * MAX_SHIFT + 1, size=(len(thirds), 2))
    third = place(np.asarray(images)[thirds], offsets)
    return overlay(pairs.canvases[:n], third).numpy(), np.array(classes)
