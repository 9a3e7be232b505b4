"""MNIST, read from the four IDX files, and the tf.data pipeline with the paper's shifts."""

from __future__ import annotations

import gzip
import hashlib
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
# SHA-256 of each file's *decompressed* bytes: re-gzipped copies of MNIST still match.
FILES = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}
VALIDATION_SIZE = 5000


class MnistFileError(ValueError):
    """A missing, truncated or corrupt MNIST file."""


@dataclass
class Mnist:
    """MNIST split as in the walkthrough: images ``(n, 28, 28, 1)`` float32, labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _data_dir() -> Path | None:
    value = os.environ.get("CAPSNET_DATA_DIR")
    return Path(value).expanduser() if value else None


def _download(filename: str) -> Path:
    import keras

    try:
        path = keras.utils.get_file(filename, MIRROR + filename, cache_subdir="capsnet_mnist")
    except Exception as error:  # any network failure: say what to do instead
        raise MnistFileError(
            f"could not download {MIRROR + filename} ({error}). Offline, put the four MNIST "
            "IDX .gz files in a folder and set CAPSNET_DATA_DIR to it."
        ) from None
    return Path(path)


def locate(filename: str) -> Path:
    """Path of an MNIST file: in ``$CAPSNET_DATA_DIR`` if set, else downloaded once and cached."""
    data_dir = _data_dir()
    if data_dir is None:
        return _download(filename)
    path = data_dir / filename
    if not path.is_file():
        raise MnistFileError(
            f"MNIST file {filename} not found in {data_dir} (CAPSNET_DATA_DIR). Put the four "
            "IDX files there (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), or unset "
            "CAPSNET_DATA_DIR to download them."
        )
    return path


def read_idx(path: str | Path, sha256: str | None = None) -> np.ndarray:
    """Read a gzipped IDX file into a uint8 array, checking its header, size and checksum."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError) as error:
        raise MnistFileError(
            f"{path} is corrupt or truncated ({error}); delete it and fetch it again"
        ) from None
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise MnistFileError(
            f"{path} is corrupt: its SHA-256 does not match MNIST's; fetch it again"
        )
    if len(raw) < 8 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise MnistFileError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    offset = 4 + 4 * ndim
    if len(raw) != offset + int(np.prod(dims)):
        raise MnistFileError(f"{path} is truncated: header says {tuple(dims)}, data is shorter")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_mnist(limit: int | None = None, validation_size: int = VALIDATION_SIZE) -> Mnist:
    """Load MNIST: 55,000 training, 5,000 validation and 10,000 test images.

    The validation images are the first ``validation_size`` of the official training
    set, as in TensorFlow 1's ``input_data`` used by the walkthrough.

    Args:
        limit: Keep only the first ``limit`` images of each split (quick runs), 1 or more.
        validation_size: Training images held out for validation.

    Returns:
        A :class:`Mnist` with images float32 in [0, 1] shaped ``(n, 28, 28, 1)`` and
        integer labels ``(n,)``.

    Raises:
        MnistFileError: A file is missing (says where it looked and how to set
            ``CAPSNET_DATA_DIR``), truncated or corrupt (names the file).

    Introduced in chapter 1, input.
    """
    # A slice would take limit=0 as "nothing" and limit=-5 as "all but 5", without a word.
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1
    ):
        raise ValueError(
            f"limit must be a whole number of images, 1 or more, or None; got {limit!r}"
        )
    if not 0 <= validation_size < 60_000:
        raise ValueError(f"validation_size must be 0 to 59,999 images; got {validation_size}")
    arrays = {key: read_idx(locate(name), sha) for key, (name, sha) in FILES.items()}

    def images(raw):
        return (raw.astype(np.float32) / 255.0)[..., None]  # (n, 28, 28, 1)

    x_all, y_all = images(arrays["train_images"]), arrays["train_labels"].astype(np.int64)
    split = slice(0, limit)
    return Mnist(
        x_train=x_all[validation_size:][split],
        y_train=y_all[validation_size:][split],
        x_valid=x_all[:validation_size][split],
        y_valid=y_all[:validation_size][split],
        x_test=images(arrays["test_images"])[split],
        y_test=arrays["test_labels"].astype(np.int64)[split],
    )


def random_shift(images: tf.Tensor, max_shift: int = 2, seed=None) -> tf.Tensor:
    """Shift each image of a batch by up to ``max_shift`` pixels in each direction, zero-filled.

    Args:
        images: ``(batch, h, w, c)``.
        max_shift: Largest shift in pixels (0: the images unchanged).
        seed: ``None`` (a fresh draw each call), or a pair of integers (a tensor of shape
            ``(2,)``): a stateless draw, the same for the same pair on every run and in any
            order, which is what a parallel ``tf.data`` map needs to be repeatable.
    """
    if max_shift == 0:
        return images
    height, width = images.shape[1], images.shape[2]
    pad = [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]]
    padded = tf.pad(images, pad)  # (batch, h + 2s, w + 2s, c)
    shape = [tf.shape(images)[0], 2]
    if seed is None:
        offsets = tf.random.uniform(shape, 0, 2 * max_shift + 1, dtype=tf.int32)
    else:
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        offsets = tf.random.stateless_uniform(shape, seed, 0, 2 * max_shift + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(height)[None]  # (batch, h)
    cols = offsets[:, 1:] + tf.range(width)[None]  # (batch, w)
    picked_rows = tf.gather(padded, rows, axis=1, batch_dims=1)  # (batch, h, w + 2s, c)
    return tf.gather(picked_rows, cols, axis=2, batch_dims=1)  # (batch, h, w, c)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch`` of a run seeded with ``seed`` (epoch 0: ``seed`` itself)."""
    return seed if epoch == 0 else (seed * 1_000_003 + epoch) % 2**31


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 128,
    shuffle: bool = True,
    max_shift: int = 0,
    seed: int | None = None,
    drop_remainder: bool = False,
    epoch: int = 0,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline: shuffle, batch, shift (the paper: up to 2 pixels), prefetch.

    Args:
        images: ``(n, 28, 28, 1)`` float32 in [0, 1].
        labels: Integer labels ``(n,)``.
        batch_size: Images per batch; no size is baked into the model.
        shuffle: Shuffle (again on every pass over the dataset).
        max_shift: Random translation in pixels (0: none; training in the paper: 2).
        seed: Makes shuffling and shifts repeatable: the same seed gives the same batches,
            in the same order, with the same shifts, on every run.
        drop_remainder: Drop a last, smaller batch.
        epoch: With ``seed``, which epoch's order and shifts to give: ``train`` builds
            each epoch's dataset with its number, so a resumed run does not replay epoch 1.

    Returns:
        A dataset of ``(images, labels)`` batches.

    Introduced in chapter 1, input (its shifted training images).
    """
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    stream = None if seed is None else epoch_seed(seed, epoch)
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=stream, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if max_shift and stream is None:
        dataset = dataset.map(
            lambda x, y: (random_shift(x, max_shift), y), num_parallel_calls=tf.data.AUTOTUNE
        )
    elif max_shift:
        # Batch i of the stream is shifted by the stateless pair (stream, i): repeatable
        # whatever order the parallel map runs in.
        dataset = dataset.enumerate().map(
            lambda i, batch: (random_shift(batch[0], max_shift, [stream, i]), batch[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
