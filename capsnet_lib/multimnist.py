"""MultiMNIST (the paper's section 6): two digits of different classes overlaid on a 36x36 canvas.

Each digit is placed on the canvas shifted by up to 4 pixels in each direction from the centre
(a 28x28 digit at a corner offset of 0 to 8 pixels on each axis), and the two images are added
pixel by pixel and clipped at 1, so ink on ink stays ink. Everything is drawn from stateless
seeds: the same seed gives the same pairs, shifts and canvases on every run and every machine.

The network is the paper's CapsNet with 36x36 inputs (conv1 28x28, 10x10 primary grids: 3,200
primary capsules), trained with the margin loss summed over both digits' classes and the
reconstruction of each digit, alone, from its own capsule (:class:`MultiMnistCapsNet`).

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from capsnet_lib.data import epoch_seed, load_mnist
from capsnet_lib.inputs import assert_finite_images, assert_pixel_range
from capsnet_lib.losses import check_labels
from capsnet_lib.model import CapsNet
from capsnet_lib.ops import safe_norm

CANVAS = 36  # pixels on each side
MAX_SHIFT = 4  # each digit moves up to this far from the centre, in each direction
DIGIT = 28


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


def make_pairs(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> MultiMnist:
    """One MultiMNIST pair per image: each image with a random partner of another class.

    Args:
        images: MNIST digits ``(n, 28, 28, 1)`` in [0, 1] (e.g. ``load_mnist().x_test``).
        labels: Their classes ``(n,)``.
        seed: Chooses the partners and the shifts; the same seed, the same pairs.

    Returns:
        A :class:`MultiMnist` of ``n`` pairs, image ``i`` first in pair ``i``.

    Introduced in chapter 10, beyond one centred digit.
    """
    labels = np.asarray(labels).astype(np.int64)
    by_class, counts = _class_table(labels)
    base = tf.range(len(labels), dtype=tf.int64)
    pixels = tf.constant(_as_uint8(images))
    partner, offsets = _draw_pairs(base, tf.constant(labels), by_class, counts, [seed, 0])
    canvases, pair_labels, digits = _compose(pixels, tf.constant(labels), base, partner, offsets)
    return MultiMnist(canvases.numpy(), pair_labels.numpy(), digits.numpy())


def load_multimnist(
    split: str = "test", limit: int | None = None, seed: int | None = None
) -> MultiMnist:
    """The fixed MultiMNIST pairs the book measures with, made from MNIST's ``split``.

    ``"test"``: one pair per MNIST test image (10,000), seed 10; ``"valid"``: one per
    validation image (5,000), seed 5. ``limit`` keeps the first pairs only.

    Introduced in chapter 10, beyond one centred digit.
    """
    mnist = load_mnist()
    images, labels = {
        "test": (mnist.x_test, mnist.y_test),
        "valid": (mnist.x_valid, mnist.y_valid),
        "train": (mnist.x_train, mnist.y_train),
    }[split]
    default_seed = {"test": 10, "valid": 5, "train": 1}[split]
    pairs = make_pairs(images, labels, default_seed if seed is None else seed)
    if limit is not None:
        pairs = MultiMnist(pairs.canvases[:limit], pairs.labels[:limit], pairs.digits[:limit])
    return pairs


def pairs_dataset(pairs: MultiMnist, batch_size: int = 128) -> tf.data.Dataset:
    """Fixed pairs as batches of ``(canvases, {"labels", "digits"})`` for ``evaluate``."""
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
    labels = np.asarray(labels).astype(np.int64)
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


def two_hot(labels: tf.Tensor, num_classes: int) -> tf.Tensor:
    """``(batch, 2)`` class pairs as ``(batch, num_classes)`` targets with two ones."""
    hot = tf.one_hot(labels, num_classes)  # (batch, 2, classes)
    return tf.minimum(tf.reduce_sum(hot, axis=1), 1.0)


def pair_margin_loss(labels, lengths, m_plus=0.9, m_minus=0.1, lambda_=0.5) -> tf.Tensor:
    """Eq. 4 with two present classes: ``T_k = 1`` for both digits' classes."""
    present = two_hot(labels, lengths.shape[-1])
    present_loss = tf.square(tf.maximum(0.0, m_plus - lengths))
    absent_loss = tf.square(tf.maximum(0.0, lengths - m_minus))
    per_class = present * present_loss + lambda_ * (1.0 - present) * absent_loss
    return tf.reduce_mean(tf.reduce_sum(per_class, axis=-1))


def both_found(labels: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
    """1.0 where the two longest capsules are exactly the pair's two classes, else 0.0."""
    top = tf.math.top_k(lengths, k=2).indices  # (batch, 2)
    labels = tf.cast(labels, top.dtype)
    same = (top[:, 0] == labels[:, 0]) & (top[:, 1] == labels[:, 1])
    swapped = (top[:, 0] == labels[:, 1]) & (top[:, 1] == labels[:, 0])
    return tf.cast(same | swapped, tf.float32)


@keras.saving.register_keras_serializable(package="capsnet_lib")
class MultiMnistCapsNet(CapsNet):
    """The CapsNet for MultiMNIST: 36x36 canvases in, both digits' capsules long.

    Trains on ``(canvases, {"labels": (batch, 2), "digits": (batch, 2, 36, 36, 1)})``: the
    margin loss with both classes present, plus ``reconstruction_weight`` times the sum of
    the two reconstructions' losses, each digit decoded from its own capsule alone and
    compared with that digit alone. ``accuracy`` counts a canvas right when the two longest
    capsules are its two classes (the paper's measure). Calling it gives the lengths.

    Introduced in chapter 10, beyond one centred digit.
    """

    def __init__(self, routing_iterations: int = 3, **settings):
        settings.setdefault("image_shape", (CANVAS, CANVAS, 1))
        super().__init__(routing_iterations, **settings)

    def _accuracy_metric(self) -> keras.metrics.Metric:
        """``accuracy``: the fraction of canvases whose two longest capsules are their classes."""
        return keras.metrics.Mean(name="accuracy")

    def _unpack(self, data):
        images, targets, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if not isinstance(targets, dict) or set(targets) != {"labels", "digits"}:
            raise ValueError(
                "MultiMnistCapsNet trains on (canvases, {'labels': (batch, 2), 'digits': "
                "(batch, 2, 36, 36, 1)}): see capsnet_lib.multimnist.pairs_dataset"
            )
        if sample_weight is not None:
            raise ValueError("MultiMnistCapsNet does not support sample weights")
        labels = tf.convert_to_tensor(targets["labels"])
        flat = check_labels(tf.reshape(labels, [-1]), self.config.num_classes)
        return images, {"labels": tf.reshape(flat, [-1, 2]), "digits": targets["digits"]}

    def _losses_of_checked(self, images, targets, training: bool):
        labels, digits = targets["labels"], tf.cast(targets["digits"], tf.float32)
        poses = self.digit_poses(images, training=training)
        lengths = safe_norm(poses, axis=-1)
        margin = pair_margin_loss(
            labels, lengths, self.config.m_plus, self.config.m_minus, self.config.lambda_
        )
        pixels = int(np.prod(self.config.image_shape))
        reconstruction = 0.0
        for k in range(2):  # each digit from its own capsule, against that digit alone
            drawn = self.decoder(self.mask(poses, labels[:, k]))
            difference = tf.reshape(digits[:, k] - drawn, [-1, pixels])
            reconstruction += tf.reduce_mean(tf.reduce_sum(tf.square(difference), axis=-1))
        loss = margin + self.config.reconstruction_weight * reconstruction
        return loss, margin, reconstruction, lengths

    def compute_losses(self, images, targets, training: bool = False):
        """``(loss, margin, reconstruction, lengths)`` for canvases and their targets dict."""
        _, targets = self._unpack((images, targets))
        return self._losses_of_checked(images, targets, training)

    def _record(self, loss, margin, reconstruction, targets, lengths):
        self.loss_tracker.update_state(loss)
        self.margin_tracker.update_state(margin)
        self.reconstruction_tracker.update_state(reconstruction)
        self.accuracy_metric.update_state(both_found(targets["labels"], lengths))
        return {m.name: m.result() for m in self.metrics}

    def _checked_inputs(self, x, y=None):
        if isinstance(x, tf.data.Dataset):
            return self._checked_dataset(x)
        return super()._checked_inputs(x, None)

    def _checked_dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        """Pixels checked in the input pipeline; the labels are checked in each step."""

        def check(images, *rest):
            if images.dtype.is_floating:
                images = assert_pixel_range(assert_finite_images(images))
            return (images, *rest)

        return dataset.map(check)


WEIGHTS_NAME = "capsnet-multimnist.npz"
META_NAME = "capsnet-multimnist.json"


def load_pretrained_multimnist(directory=None, **settings) -> MultiMnistCapsNet:
    """The shipped MultiMNIST CapsNet (float16 weights, checked against their SHA-256).

    Args:
        directory: Folder holding ``capsnet-multimnist.npz`` and ``.json`` (default: the
            library's ``weights/``).
        **settings: :class:`~capsnet_lib.CapsNetConfig` fields that do not change the
            weights' shapes (e.g. ``xla_routing``); inference runs in float32.

    Returns:
        A compiled :class:`MultiMnistCapsNet`; its ``record`` holds the training facts
        (command, budget, hardware, validation accuracy).

    Introduced in chapter 10, beyond one centred digit.
    """
    from pathlib import Path

    from capsnet_lib.pretrained import WEIGHTS_DIR, assign_by_key, read_checked

    directory = Path(directory) if directory is not None else WEIGHTS_DIR
    path, meta_path = directory / WEIGHTS_NAME, directory / META_NAME
    meta, arrays = read_checked(
        path,
        meta_path,
        required=("sha256", "config"),
        not_found=f"MultiMNIST weights not found: expected {path} and {meta_path}",
        not_ours="it is not the record of this library's MultiMNIST weights",
    )
    model = MultiMnistCapsNet(**{**meta["config"], "precision": "float32", **settings})
    assign_by_key(model, arrays, path)
    model.compile(optimizer="adam")
    model.record = {k: v for k, v in meta.items() if k not in ("config", "sha256")}
    model.pretrained_facts = {  # what a page says about the network it shows (cl.page)
        "test_accuracy": meta.get("test_accuracy_float16"),
        "chosen_epoch": meta.get("chosen_epoch"),
        "epochs_trained": meta.get("epochs_trained"),
        "measured_on": f"the {meta.get('test_pairs', 10_000):,} test pairs, both digits right",
    }
    return model


def evaluate_pairs(model: CapsNet, pairs: MultiMnist, batch_size: int = 100) -> dict:
    """Lengths, the two longest capsules and whether both are right, for fixed pairs.

    Returns a dict of NumPy arrays: ``lengths (n, 10)``, ``top2 (n, 2)`` (longest first) and
    ``both_right (n,)`` bools; the accuracy is ``both_right.mean()``.

    Introduced in chapter 10, beyond one centred digit.
    """
    lengths = model.predict(pairs.canvases, batch_size=batch_size, verbose=0)
    top2 = np.argsort(-lengths, axis=1)[:, :2]
    both_right = np.asarray(both_found(pairs.labels, lengths)).astype(bool)
    return {"lengths": lengths, "top2": top2, "both_right": both_right}


def reconstruct_each(model: CapsNet, canvases: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each of two digits drawn alone from its own capsule: ``(n, 2, 36, 36, 1)``.

    ``classes (n, 2)``: which two capsules to keep, one at a time (the labels, or the two
    longest capsules); every other capsule is masked to zero, as in the paper's figure 5.

    Introduced in chapter 10, beyond one centred digit.
    """
    poses = model.digit_poses(canvases)
    drawn = [model.reconstruct(poses, classes[:, k]) for k in range(2)]
    return np.stack([np.asarray(d) for d in drawn], axis=1)


THREE_DIGIT_OUTCOMES = ("all three", "two of three", "one or none")


def three_digit_canvases(
    pairs: MultiMnist, images: np.ndarray, labels: np.ndarray, n: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` canvases of ``pairs`` with a third digit added, of a third class.

    The third digit of canvas ``i`` is drawn from ``images`` among those whose class neither
    digit of pair ``i`` has, placed with a random offset like the others and overlaid (added,
    clipped at 1). Returns ``(canvases (n, 36, 36, 1), classes (n, 3))``.

    Introduced in chapter 10 (exercise 10.1).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    thirds, classes = [], []
    for pair in pairs.labels[:n]:
        k = int(rng.choice(np.flatnonzero(~np.isin(labels, pair))))
        thirds.append(k)
        classes.append([*map(int, pair), int(labels[k])])
    offsets = rng.integers(0, 2 * MAX_SHIFT + 1, size=(len(thirds), 2))
    third = place(np.asarray(images)[thirds], offsets)
    return overlay(pairs.canvases[:n], third).numpy(), np.array(classes)


def three_digit_outcomes(lengths: np.ndarray, classes: np.ndarray) -> dict[str, int]:
    """How many canvases' three longest capsules found all three classes, two, or fewer.

    Introduced in chapter 10 (exercise 10.1).
    """
    top3 = np.argsort(-np.asarray(lengths), axis=1)[:, :3]
    hits = [len(set(t.tolist()) & set(c.tolist())) for t, c in zip(top3, classes, strict=True)]
    names = {3: THREE_DIGIT_OUTCOMES[0], 2: THREE_DIGIT_OUTCOMES[1]}
    found = [names.get(h, THREE_DIGIT_OUTCOMES[2]) for h in hits]
    return {name: found.count(name) for name in THREE_DIGIT_OUTCOMES}
