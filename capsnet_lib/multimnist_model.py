"""The network of MultiMNIST (the paper's section 6): the paper's CapsNet with 36x36 inputs
(conv1 28x28, 10x10 primary grids: 3,200 primary capsules), trained with the margin loss summed
over both digits' classes and the reconstruction of each digit, alone, from its own capsule
(:class:`MultiMnistCapsNet`); the shipped weights' loader, and what the chapter measures with
them: both digits found, each redrawn from its capsule, three digits on one canvas.

The canvases themselves are made by :mod:`capsnet_lib.multimnist`.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from capsnet_lib.inputs import assert_finite_images, assert_pixel_range, check_count
from capsnet_lib.losses import check_labels
from capsnet_lib.model import CapsNet
from capsnet_lib.multimnist import CANVAS, MultiMnist
from capsnet_lib.ops import safe_norm


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

    from capsnet_lib.pretrained import WEIGHTS_DIR, load_shipped_capsnet

    directory = Path(directory) if directory is not None else WEIGHTS_DIR
    path, meta_path = directory / WEIGHTS_NAME, directory / META_NAME
    model, meta = load_shipped_capsnet(
        MultiMnistCapsNet,
        path,
        meta_path,
        settings,
        not_found=f"MultiMNIST weights not found: expected {path} and {meta_path}",
        not_ours="it is not the record of this library's MultiMNIST weights",
    )
    model.record = {k: v for k, v in meta.items() if k not in ("config", "sha256")}
    return model


def evaluate_pairs(model: CapsNet, pairs: MultiMnist, batch_size: int = 100) -> dict:
    """Lengths, the two longest capsules and whether both are right, for fixed pairs.

    Returns a dict of NumPy arrays: ``lengths (n, 10)``, ``top2 (n, 2)`` (longest first) and
    ``both_right (n,)`` bools; the accuracy is ``both_right.mean()``.

    Introduced in chapter 10, beyond one centred digit.
    """
    check_count(batch_size, "batch_size", none_ok=False)
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


def three_digit_outcomes(lengths: np.ndarray, classes: np.ndarray) -> dict[str, int]:
    """How many canvases' three longest capsules found all three classes, two, or fewer.

    Introduced in chapter 10 (exercise 10.1).
    """
    top3 = np.argsort(-np.asarray(lengths), axis=1)[:, :3]
    hits = [len(set(t.tolist()) & set(c.tolist())) for t, c in zip(top3, classes, strict=True)]
    names = {3: THREE_DIGIT_OUTCOMES[0], 2: THREE_DIGIT_OUTCOMES[1]}
    found = [names.get(h, THREE_DIGIT_OUTCOMES[2]) for h in hits]
    return {name: found.count(name) for name in THREE_DIGIT_OUTCOMES}
