"""The CapsNet Keras model: conv1, primary capsules, digit capsules, mask and decoder."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import keras
import tensorflow as tf

from capsnet_lib.distribute import DistributedBuild, replica_logs
from capsnet_lib.inputs import check_arrays, check_images, check_pixel_range, checked_dataset
from capsnet_lib.layers import Decoder, DigitCapsules, Mask, PrimaryCapsules
from capsnet_lib.losses import check_labels, margin_loss, reconstruction_loss
from capsnet_lib.ops import safe_norm
from capsnet_lib.precision import PRECISIONS, resolve_precision


@dataclass
class CapsNetConfig:
    """Every setting of a :class:`CapsNet`, with the paper's values as defaults.

    ``routing_iterations`` is the paper's r = 3 everywhere (model, CLI, ``train``); the
    walkthrough's two rounds are ``routing_iterations=2``. ``precision`` is ``"float32"``
    unless Keras's global dtype policy is a mixed one (then that policy), or ``"auto"``
    (then :func:`capsnet_lib.precision.choose_precision` picks for the hardware).
    """

    routing_iterations: int = 3  # the paper's r = 3 (the walkthrough uses 2)
    num_classes: int = 10
    image_shape: tuple[int, int, int] = (28, 28, 1)
    conv_filters: int = 256
    conv_kernel: int = 9
    primary_maps: int = 32
    primary_dim: int = 8
    primary_kernel: int = 9
    primary_strides: int = 2
    digit_dim: int = 16
    weight_stddev: float = 0.1  # 0.01 measured to stall for the first ~100+ steps
    decoder_units: tuple[int, ...] = (512, 1024)
    reconstruction_weight: float = 0.0005  # times a per-image *sum* of squares
    m_plus: float = 0.9
    m_minus: float = 0.1
    lambda_: float = 0.5
    precision: str = "float32"  # "mixed_bfloat16"/"mixed_float16": convolutions only; "auto"
    xla_routing: bool = True  # compile predictions + routing with XLA (measured 4x faster)
    stop_inner_gradients: bool = False


@keras.saving.register_keras_serializable(package="capsnet_lib")
class CapsNet(DistributedBuild, keras.Model):
    """The CapsNet of Sabour et al. (2017) as a Keras model with its losses built in.

    ``compile(optimizer="adam")`` needs no loss: training minimises the margin loss
    (eq. 4) plus ``reconstruction_weight`` times the reconstruction loss, with the
    decoder masked by the true label. ``fit``, ``evaluate`` and ``train_on_batch``
    take images ``(batch, 28, 28, 1)`` float32 in [0, 1] and integer labels (other
    images are refused with what to do; see :mod:`capsnet_lib.inputs`);
    ``predict`` and calling the model give the class probabilities, the digit
    capsules' lengths ``(batch, num_classes)``. The decoder is masked by the
    prediction at inference.

    Args:
        routing_iterations: Routing rounds (the paper: 3).
        **settings: Any other field of :class:`CapsNetConfig` (e.g.
            ``reconstruction_weight``, ``precision="auto"``, ``xla_routing``), plus
            Keras ``name``. Only the convolutions follow ``precision``: capsules,
            routing and losses always compute in float32. Keras's global policy
            (``keras.mixed_precision.set_global_policy("mixed_bfloat16")``) works too.

    Introduced in chapter 7, training.
    """

    def __init__(self, routing_iterations: int = 3, **settings):
        keras_kwargs = {k: settings.pop(k) for k in ("name", "trainable") if k in settings}
        settings.pop("dtype", None)  # Keras passes it back from get_config; the config decides
        if "precision" not in settings:
            settings["precision"] = global_mixed_policy() or "float32"
        settings["precision"], _ = resolve_precision(settings["precision"])
        settings["routing_iterations"] = routing_iterations
        unknown = set(settings) - {f.name for f in dataclasses.fields(CapsNetConfig)}
        if unknown:
            raise TypeError(f"unknown CapsNet settings: {sorted(unknown)}")
        for key in ("image_shape", "decoder_units"):
            if key in settings:
                settings[key] = tuple(settings[key])
        config = CapsNetConfig(**settings)
        if config.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}; got {config.precision!r}")
        # Every layer but the convolutions computes in float32, whatever Keras's global
        # policy says: squash, routing and the losses need the range. The model's own
        # policy only casts the images given to ``model(x)``, which go to conv1 anyway; it is
        # mixed_float16 where the convolutions are, so that Keras's ``compile`` wraps the
        # optimizer in a LossScaleOptimizer (float16 gradients underflow without it).
        model_dtype = "mixed_float16" if config.precision == "mixed_float16" else "float32"
        super().__init__(dtype=model_dtype, **keras_kwargs)
        self.config = config
        conv_dtype = config.precision
        self.conv1 = keras.layers.Conv2D(
            config.conv_filters,
            config.conv_kernel,
            activation="relu",
            dtype=conv_dtype,
            name="conv1",
        )
        self.primary_capsules = PrimaryCapsules(
            config.primary_maps,
            config.primary_dim,
            config.primary_kernel,
            config.primary_strides,
            dtype=conv_dtype,
            name="primary_capsules",
        )
        self.digit_capsules = DigitCapsules(
            config.num_classes,
            config.digit_dim,
            config.routing_iterations,
            config.weight_stddev,
            xla=config.xla_routing,
            stop_inner_gradients=config.stop_inner_gradients,
            dtype="float32",
            name="digit_capsules",
        )
        self.mask = Mask(dtype="float32", name="mask")
        self.decoder = Decoder(
            config.decoder_units, config.image_shape, dtype="float32", name="decoder"
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.margin_tracker = keras.metrics.Mean(name="margin_loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.accuracy_metric = self._accuracy_metric()
        # Every sublayer is built now: resuming an optimizer needs all variables to exist.
        self.build((None, *config.image_shape))

    # -- structure ---------------------------------------------------------------

    def _accuracy_metric(self) -> keras.metrics.Metric:
        """The metric reported as ``accuracy``: the longest capsule is the label's."""
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def build(self, input_shape):
        if self.built:
            return
        shape = tuple(input_shape)
        self.conv1.build(shape)
        shape = self.conv1.compute_output_shape(shape)
        self.primary_capsules.build(shape)
        shape = self.primary_capsules.compute_output_shape(shape)
        self.digit_capsules.build(shape)
        self.decoder.build((None, self.config.num_classes, self.config.digit_dim))
        self.built = True

    def get_config(self):
        config = dataclasses.asdict(self.config)
        config["image_shape"] = list(config["image_shape"])
        config["decoder_units"] = list(config["decoder_units"])
        return {"name": self.name, **config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(**config)

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.margin_tracker,
            self.reconstruction_tracker,
            self.accuracy_metric,
        ]

    # -- forward passes ------------------------------------------------------------

    def _check_images(self, images):
        check_images(images, self.config.image_shape)
        if isinstance(images, tf.Tensor) and tf.executing_eagerly():  # model(x): not traced
            check_pixel_range(images)

    def digit_poses(self, images, training: bool = False) -> tf.Tensor:
        """Digit capsules' pose vectors ``(batch, num_classes, digit_dim)`` for ``images``.

        Introduced in chapter 8, pose tweaking.
        """
        images = tf.convert_to_tensor(images)
        self._check_images(images)
        features = self.conv1(images, training=training)  # (batch, 20, 20, 256)
        u = self.primary_capsules(features, training=training)  # (batch, 1152, 8)
        return self.digit_capsules(u, training=training)  # (batch, 10, 16)

    def reconstruct(self, poses, labels=None) -> tf.Tensor:
        """Decode (possibly tweaked) poses into images ``(batch, 28, 28, 1)``.

        Args:
            poses: ``(batch, num_classes, digit_dim)``, e.g. from :meth:`digit_poses`.
            labels: Which class's capsule to keep; ``None`` keeps the longest.

        Introduced in chapter 8, pose tweaking.
        """
        poses = tf.convert_to_tensor(poses, tf.float32)
        if labels is not None:
            labels = check_labels(labels, self.config.num_classes)
        return self.decoder(self.mask(poses) if labels is None else self.mask(poses, labels))

    def call(self, images, training=None):
        poses = self.digit_poses(images, training=training)
        return safe_norm(poses, axis=-1)  # (batch, classes): class probabilities

    def compute_losses(self, images, labels, training: bool = False):
        """Return ``(loss, margin, reconstruction, lengths)`` for a batch.

        The decoder is masked by ``labels`` when ``training``, by the prediction otherwise.
        """
        return self._losses_of_checked(
            images, check_labels(labels, self.config.num_classes), training
        )

    def _losses_of_checked(self, images, labels, training: bool):
        """:meth:`compute_losses` for labels already checked (``(batch,)`` int32)."""
        poses = self.digit_poses(images, training=training)
        lengths = safe_norm(poses, axis=-1)
        masked = self.mask(poses, labels) if training else self.mask(poses)
        reconstructions = self.decoder(masked)
        margin = margin_loss(
            labels, lengths, self.config.m_plus, self.config.m_minus, self.config.lambda_
        )
        reconstruction = reconstruction_loss(images, reconstructions)
        loss = margin + self.config.reconstruction_weight * reconstruction
        return loss, margin, reconstruction, lengths

    # -- Keras training hooks --------------------------------------------------------

    def _unpack(self, data):
        images, labels, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            raise ValueError(
                "CapsNet needs integer labels to train or evaluate: fit(images, labels)"
            )
        if sample_weight is not None:
            raise ValueError("CapsNet does not support sample weights")
        return images, check_labels(labels, self.config.num_classes)  # checked once a step

    def _record(self, loss, margin, reconstruction, labels, lengths):
        self.loss_tracker.update_state(loss)
        self.margin_tracker.update_state(margin)
        self.reconstruction_tracker.update_state(reconstruction)
        self.accuracy_metric.update_state(labels, lengths)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        images, labels = self._unpack(data)
        with tf.GradientTape() as tape:
            loss, margin, reconstruction, lengths = self._losses_of_checked(
                images, labels, training=True
            )
            # Replicas' gradients are summed: scale so that they average instead.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = loss / replicas
            if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
                scaled = self.optimizer.scale_loss(scaled)  # float16: keep gradients > 0
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return replica_logs(self._record(loss, margin, reconstruction, labels, lengths))

    def test_step(self, data):
        images, labels = self._unpack(data)
        loss, margin, reconstruction, lengths = self._losses_of_checked(
            images, labels, training=False
        )
        return replica_logs(self._record(loss, margin, reconstruction, labels, lengths))

    # -- checks of the inputs, before Keras traces anything ----------------------------

    def _checked_inputs(self, x, y=None):
        """Check arrays eagerly; return ``x``, a dataset wrapped by :meth:`_checked_dataset`."""
        if isinstance(x, tf.data.Dataset):
            return self._checked_dataset(x)
        check_arrays(x, y, self.config.image_shape, self.config.num_classes)
        return x

    def _checked_dataset(self, dataset: tf.data.Dataset) -> tf.data.Dataset:
        """The dataset with its pixels and labels checked in the input pipeline."""
        return checked_dataset(dataset, self.config.num_classes)

    def fit(self, x=None, y=None, *args, **kwargs):
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself (make_dataset)
        if isinstance(kwargs.get("validation_data"), tf.data.Dataset):
            kwargs["validation_data"] = self._checked_dataset(kwargs["validation_data"])
        return super().fit(self._checked_inputs(x, y), y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._checked_inputs(x, y), y, *args, **kwargs)

    def train_on_batch(self, x, y=None, *args, **kwargs):
        return super().train_on_batch(self._checked_inputs(x, y), y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._checked_inputs(x), *args, **kwargs)


def global_mixed_policy() -> str | None:
    """Keras's global dtype policy if it is a mixed one CapsNet supports, else ``None``."""
    name = keras.config.dtype_policy().name
    if name in PRECISIONS and name != "float32":
        return name
    if name != "float32":
        raise ValueError(
            f"Keras's global dtype policy is {name!r}; CapsNet supports float32, mixed_bfloat16 "
            "and mixed_float16: use CapsNet(precision=...) or set_global_policy('float32')"
        )
    return None
