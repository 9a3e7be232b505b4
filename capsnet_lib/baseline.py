"""The CNN baseline of chapter 9 and its shipped float16 weights (checked by SHA-256 on load).

The paper's baseline (section 5) has three 5x5 convolutions of 256, 256 and 128 channels, two
fully connected layers of 328 and 192 units and dropout: 35.4 M parameters. Ours keeps that
layout (three 5x5 convolutions, two fully connected layers, dropout) with fewer channels and
2x2 max pooling, so that it trains in minutes on a CPU and reaches a clean test accuracy
close to the shipped CapsNet's.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from capsnet_lib.pretrained import (
    WEIGHTS_DIR,
    assign_by_key,
    read_checked,
    sha256_of,
    variable_key,
)

#: The baseline's weights in :data:`capsnet_lib.pretrained.WEIGHTS_DIR`.
BASELINE_WEIGHTS = "cnn-baseline.npz"
#: The record beside them (JSON): its layer sizes, checksum and test accuracy.
BASELINE_META = "cnn-baseline.json"
# (filters of the three 5x5 convolutions, units of the two dense layers, dropout rate)
CONV_FILTERS = (32, 64, 32)
DENSE_UNITS = (328, 192)
DROPOUT = 0.5


def cnn_baseline(
    conv_filters=CONV_FILTERS, dense_units=DENSE_UNITS, dropout: float = DROPOUT
) -> keras.Sequential:
    """A plain CNN for MNIST: 5x5 convolutions (pooled after the first two), dense, dropout.

    Args:
        conv_filters: Channels of the three 5x5 ``same``-padded ReLU convolutions; the
            first two are followed by 2x2 max pooling (28 -> 14 -> 7).
        dense_units: Units of the two ReLU dense layers after flattening.
        dropout: Dropout rate before the output layer (training only).

    Returns:
        An uncompiled ``keras.Sequential`` mapping images ``(batch, 28, 28, 1)`` to
        logits ``(batch, 10)``.

    Introduced in chapter 9, robustness.
    """
    if len(conv_filters) != 3 or len(dense_units) != 2:
        raise ValueError(
            f"expected 3 conv_filters and 2 dense_units, got {tuple(conv_filters)} and "
            f"{tuple(dense_units)}"
        )
    layers = [keras.Input((28, 28, 1))]
    for i, filters in enumerate(conv_filters):
        layers.append(
            keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name=f"conv{i + 1}")
        )
        if i < 2:
            layers.append(keras.layers.MaxPooling2D(2, name=f"pool{i + 1}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    for i, units in enumerate(dense_units):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"dense{i + 1}"))
    layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(10, name="logits"))
    return keras.Sequential(layers, name="cnn_baseline")


def compile_baseline(model, learning_rate=1e-3) -> keras.Sequential:
    """Compile ``model`` with Adam, cross-entropy on logits and accuracy; returns it."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def export_baseline(model, directory: str | Path = WEIGHTS_DIR, **facts) -> Path:
    """Write ``model``'s weights as float16 ``cnn-baseline.npz`` plus a JSON with its SHA-256.

    The JSON holds the architecture (``conv_filters``, ``dense_units``, ``dropout``), the
    checksum and ``facts`` (command, epochs, times, accuracies).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {variable_key(v): np.asarray(v.numpy()).astype(np.float16) for v in model.weights}
    path = directory / BASELINE_WEIGHTS
    np.savez_compressed(path, **arrays)
    meta = {"sha256": sha256_of(path), **facts}
    (directory / BASELINE_META).write_text(json.dumps(meta, indent=1) + "\n")
    return path


def load_baseline(directory: str | Path = WEIGHTS_DIR) -> keras.Sequential:
    """The CNN baseline shipped with the library, compiled, ready to ``predict`` or ``evaluate``.

    Args:
        directory: Folder holding ``cnn-baseline.npz`` and ``cnn-baseline.json``.

    Returns:
        A compiled :func:`cnn_baseline` model (weights stored as float16, computed in
        float32) whose ``predict`` gives logits ``(batch, 10)``.

    Raises:
        FileNotFoundError: The weights are missing (``tools/train_baseline.py`` makes them).
        ValueError: Their checksum does not match (a corrupt or partial file), or the
            JSON is not the baseline's.

    Introduced in chapter 4, lengths and the margin loss (its softmax beside the lengths).
    """
    directory = Path(directory)
    path, meta_path = directory / BASELINE_WEIGHTS, directory / BASELINE_META
    meta, arrays = read_checked(
        path,
        meta_path,
        required=("sha256", "conv_filters", "dense_units"),
        not_found=f"CNN baseline weights not found: expected {path} and {meta_path} "
        "(python tools/train_baseline.py makes them)",
        not_ours="it is not the record of the CNN baseline's weights "
        "(python tools/train_baseline.py writes it)",
    )
    model = cnn_baseline(meta["conv_filters"], meta["dense_units"], meta.get("dropout", DROPOUT))
    assign_by_key(model, arrays, path)
    return compile_baseline(model)
