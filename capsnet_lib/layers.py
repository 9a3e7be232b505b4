"""The CapsNet's layers, usable one at a time: primary capsules, digit capsules, mask, decoder."""

from __future__ import annotations

import keras
import tensorflow as tf

from capsnet_lib.losses import check_labels
from capsnet_lib.ops import safe_norm, squash
from capsnet_lib.routing import predict_vectors, routing_by_agreement


@keras.saving.register_keras_serializable(package="capsnet_lib")
class PrimaryCapsules(keras.layers.Layer):
    """A convolution whose channels are grouped into capsules, then squashed (eq. 1).

    With the paper's settings a ``(batch, 20, 20, 256)`` input becomes 32 maps of
    6x6 capsules of 8 dimensions: ``(batch, 1152, 8)``. Channels ``8m .. 8m+7`` of
    each position form the capsule of map ``m`` (channels-last order).

    Args:
        num_maps: Capsule maps (the paper: 32).
        capsule_dim: Dimensions per capsule (the paper: 8).
        kernel_size: Convolution kernel (the paper: 9).
        strides: Convolution stride (the paper: 2).
        activation: Applied before grouping; the walkthrough uses ReLU.

    Introduced in chapter 2, primary capsules.
    """

    def __init__(
        self,
        num_maps: int = 32,
        capsule_dim: int = 8,
        kernel_size: int = 9,
        strides: int = 2,
        activation: str | None = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_maps = num_maps
        self.capsule_dim = capsule_dim
        self.kernel_size = kernel_size
        self.strides = strides
        self.activation = activation
        self.conv = keras.layers.Conv2D(
            num_maps * capsule_dim,
            kernel_size,
            strides=strides,
            activation=activation,
            dtype=self.dtype_policy,
            name="conv",
        )

    def build(self, input_shape):
        self.conv.build(input_shape)

    def compute_output_shape(self, input_shape):
        _, height, width, _ = self.conv.compute_output_shape(input_shape)
        return (input_shape[0], height * width * self.num_maps, self.capsule_dim)

    def call(self, inputs):
        features = self.conv(inputs)  # (batch, 6, 6, maps * dim)
        height, width = features.shape[1], features.shape[2]
        # (batch, 6, 6, maps * dim) -> (batch, 6 * 6 * maps, dim)
        u = tf.reshape(features, [-1, height * width * self.num_maps, self.capsule_dim])
        return squash(tf.cast(u, tf.float32))

    def get_config(self):
        return {
            **super().get_config(),
            "num_maps": self.num_maps,
            "capsule_dim": self.capsule_dim,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="capsnet_lib")
class DigitCapsules(keras.layers.Layer):
    """Fully connected capsules: predictions ``W_ij u_i`` (eq. 2), then routing (Procedure 1).

    Args:
        num_capsules: Parent capsules, one per class (the paper: 10).
        capsule_dim: Dimensions per parent (the paper: 16).
        routing_iterations: Routing rounds (walkthrough: 2; paper: 3).
        weight_stddev: Standard deviation of the normal initialiser of ``W``.
        xla: Compile the predictions and routing with XLA (measured ~2x faster for
            this part on a CPU; the convolutions stay uncompiled).
        stop_inner_gradients: See :func:`capsnet_lib.routing_by_agreement`.

    Call:
        ``u`` ``(batch, num_inputs, input_dim)`` -> ``v`` ``(batch, num_capsules, capsule_dim)``.
        :meth:`route` also returns the coupling coefficients.

    Introduced in chapter 3, routing.
    """

    def __init__(
        self,
        num_capsules: int = 10,
        capsule_dim: int = 16,
        routing_iterations: int = 2,
        weight_stddev: float = 0.1,
        xla: bool = False,
        stop_inner_gradients: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if routing_iterations < 1:
            raise ValueError(f"routing_iterations must be >= 1; got {routing_iterations}")
        self.num_capsules = num_capsules
        self.capsule_dim = capsule_dim
        self.routing_iterations = routing_iterations
        self.weight_stddev = weight_stddev
        self.xla = xla
        self.stop_inner_gradients = stop_inner_gradients
        self._route_fn = tf.function(self._predict_and_route, jit_compile=True) if xla else None

    def build(self, input_shape):
        num_inputs, input_dim = input_shape[-2], input_shape[-1]
        self.W = self.add_weight(
            name="W",
            shape=(num_inputs, self.num_capsules, self.capsule_dim, input_dim),
            initializer=keras.initializers.RandomNormal(stddev=self.weight_stddev),
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_capsules, self.capsule_dim)

    def _predict_and_route(self, u, weights):
        u_hat = predict_vectors(u, weights)  # (batch, in_caps, out_caps, out_dim)
        return routing_by_agreement(u_hat, self.routing_iterations, self.stop_inner_gradients)

    def route(self, u: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(v, c)``: parent outputs and last-round coupling coefficients."""
        u = tf.cast(u, self.W.dtype)
        weights = tf.convert_to_tensor(self.W)
        if self._route_fn is not None:
            return self._route_fn(u, weights)
        return self._predict_and_route(u, weights)

    def call(self, u):
        v, _ = self.route(u)
        return v

    def get_config(self):
        return {
            **super().get_config(),
            "num_capsules": self.num_capsules,
            "capsule_dim": self.capsule_dim,
            "routing_iterations": self.routing_iterations,
            "weight_stddev": self.weight_stddev,
            "xla": self.xla,
            "stop_inner_gradients": self.stop_inner_gradients,
        }


@keras.saving.register_keras_serializable(package="capsnet_lib")
class Mask(keras.layers.Layer):
    """Zero every digit capsule but one: the label's while training, the longest otherwise.

    Call:
        ``mask(poses, labels=None)``: ``poses`` ``(batch, num_classes, capsule_dim)``,
        ``labels`` integer ``(batch,)`` or ``None`` (use the prediction). Returns the
        masked poses, same shape: the decoder sees all classes' slots, nine of them zero.

    Introduced in chapter 5, mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: count_params() and summary() work before a call

    def call(self, poses, labels=None):
        num_classes = poses.shape[1]
        if labels is None:
            labels = tf.argmax(safe_norm(poses, axis=-1), axis=-1)
        else:
            labels = check_labels(labels, num_classes)  # (batch,) or (batch, 1), in range
        keep = tf.one_hot(tf.cast(labels, tf.int32), num_classes, dtype=poses.dtype)
        return poses * keep[:, :, None]  # (batch, classes, dim)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="capsnet_lib")
class Decoder(keras.layers.Layer):
    """Three dense layers from masked digit capsules to an image (the paper's Fig. 2).

    Args:
        hidden_units: Sizes of the ReLU layers (the paper: 512, 1024).
        image_shape: Shape of one output image; a sigmoid keeps pixels in [0, 1].

    Call:
        ``(batch, num_classes, capsule_dim)`` -> ``(batch, *image_shape)``.

    Introduced in chapter 6, decoder.
    """

    def __init__(
        self,
        hidden_units: tuple[int, ...] = (512, 1024),
        image_shape: tuple[int, ...] = (28, 28, 1),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_units = tuple(hidden_units)
        self.image_shape = tuple(image_shape)
        self.flatten = keras.layers.Flatten()
        self.hidden = [
            keras.layers.Dense(units, activation="relu", name=f"hidden_{i + 1}")
            for i, units in enumerate(self.hidden_units)
        ]
        pixels = 1
        for size in self.image_shape:
            pixels *= size
        self.pixels = keras.layers.Dense(pixels, activation="sigmoid", name="pixels")
        self.reshape = keras.layers.Reshape(self.image_shape)

    def build(self, input_shape):
        features = 1
        for size in input_shape[1:]:
            features *= size
        shape = (input_shape[0], features)
        for layer in self.hidden:
            layer.build(shape)
            shape = (input_shape[0], layer.units)
        self.pixels.build(shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def call(self, masked_poses):
        x = self.flatten(masked_poses)  # (batch, classes * dim)
        for layer in self.hidden:
            x = layer(x)
        return self.reshape(self.pixels(x))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": list(self.hidden_units),
            "image_shape": list(self.image_shape),
        }
