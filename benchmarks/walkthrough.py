"""The walkthrough's CapsNet graph (Géron's TF1 notebook), transcribed to TF2 as the baseline.

Its predictions tile ``W`` over the batch and the primary capsules over the parents, then
run one ``tf.matmul`` of ``(batch, 1152, 10, 16, 8) x (batch, 1152, 10, 8, 1)``; each
routing round tiles the parents' outputs back over the 1,152 children. Everything else
(conv layers, margin loss, label mask, decoder, Adam) is as in ``capsnet_lib``.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def safe_norm(s, axis=-1, epsilon=1e-7, keepdims=False):
    return tf.sqrt(tf.reduce_sum(tf.square(s), axis=axis, keepdims=keepdims) + epsilon)


def squash(s, axis=-1, epsilon=1e-7):
    squared_norm = tf.reduce_sum(tf.square(s), axis=axis, keepdims=True)
    return squared_norm / (1.0 + squared_norm) * s / tf.sqrt(squared_norm + epsilon)


class WalkthroughCapsNet(keras.Model):
    """The walkthrough's graph with a variable number of routing rounds."""

    def __init__(self, routing_iterations: int = 2):
        super().__init__()
        self.routing_iterations = routing_iterations
        self.conv1 = keras.layers.Conv2D(256, 9, activation="relu")
        self.conv2 = keras.layers.Conv2D(256, 9, strides=2, activation="relu")
        self.W = self.add_weight(
            shape=(1, 1152, 10, 16, 8), initializer=keras.initializers.RandomNormal(stddev=0.1)
        )
        self.decoder = [
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(1024, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
        ]

    def digit_caps(self, images):
        batch_size = tf.shape(images)[0]
        caps1 = squash(tf.reshape(self.conv2(self.conv1(images)), [-1, 1152, 8]))
        W_tiled = tf.tile(self.W, [batch_size, 1, 1, 1, 1])  # (batch, 1152, 10, 16, 8)
        caps1_tiled = tf.tile(caps1[:, :, None, :, None], [1, 1, 10, 1, 1])  # (b, 1152, 10, 8, 1)
        u_hat = tf.matmul(W_tiled, caps1_tiled)  # (batch, 1152, 10, 16, 1)
        raw_weights = tf.zeros([batch_size, 1152, 10, 1, 1])
        for round_ in range(self.routing_iterations):
            routing_weights = tf.nn.softmax(raw_weights, axis=2)
            weighted_sum = tf.reduce_sum(routing_weights * u_hat, axis=1, keepdims=True)
            v = squash(weighted_sum, axis=-2)  # (batch, 1, 10, 16, 1)
            if round_ < self.routing_iterations - 1:
                v_tiled = tf.tile(v, [1, 1152, 1, 1, 1])
                raw_weights += tf.matmul(u_hat, v_tiled, transpose_a=True)  # (b, 1152, 10, 1, 1)
        return v

    def loss_on(self, images, labels):
        v = self.digit_caps(images)
        lengths = safe_norm(v, axis=-2)[:, 0, :, 0]  # (batch, 10)
        T = tf.one_hot(labels, 10)
        margin = tf.reduce_mean(
            tf.reduce_sum(
                T * tf.square(tf.maximum(0.0, 0.9 - lengths))
                + 0.5 * (1.0 - T) * tf.square(tf.maximum(0.0, lengths - 0.1)),
                axis=1,
            )
        )
        masked = tf.reshape(v * tf.reshape(T, [-1, 1, 10, 1, 1]), [-1, 160])
        for layer in self.decoder:
            masked = layer(masked)
        squared = tf.square(tf.reshape(images, [-1, 784]) - masked)
        return margin + 0.0005 * tf.reduce_mean(tf.reduce_sum(squared, axis=1))


def make_train_step(model: WalkthroughCapsNet, optimizer: keras.optimizers.Optimizer):
    """One Adam step of the walkthrough's graph, as a ``tf.function``."""

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = model.loss_on(images, labels)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    return train_step
