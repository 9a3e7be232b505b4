"""Folders of images to train on, written from arrays: a small coloured one made offline from
MNIST digits, and Fashion-MNIST or CIFAR-10 from ``keras.datasets`` (downloaded by Keras).

Each is written in the layout :mod:`capsnet_lib.image_folder` reads (one subfolder of PNGs
per class), so ``python -m capsnet_lib train --data-dir DIR`` takes it like any of your own.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from capsnet_lib.data import load_mnist
from capsnet_lib.inputs import check_count

EXAMPLE_DIGITS = {"one": 1, "seven": 7, "zero": 0}  # the example folder's classes
KERAS_DATASETS = {
    "mnist": [str(k) for k in range(10)],
    "fashion_mnist": [
        "t-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle-boot",
    ],
    "cifar10": [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ],
}


def write_arrays_as_folder(
    directory: str | Path, images: np.ndarray, labels: np.ndarray, class_names: list[str]
) -> Path:
    """Write images as ``directory/<class name>/<index>.png``; return ``directory``.

    Args:
        directory: Created if missing.
        images: ``(n, h, w)``, ``(n, h, w, 1)`` or ``(n, h, w, 3)``: uint8, or floats in [0, 1].
        labels: Integer labels ``(n,)`` (or ``(n, 1)``, as CIFAR-10's), indices of ``class_names``.
        class_names: One folder name per class.

    Introduced in chapter 10, beyond one centred digit.
    """
    directory = Path(directory)
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (n, h, w): a grey PNG
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if not len(images):
        raise ValueError("got 0 images: give at least one")
    names = [str(name) for name in class_names]
    bad = [n for n in names if not n or n.startswith(".") or "/" in n or "\\" in n]
    if bad or len(set(names)) != len(names):
        raise ValueError(
            f"class_names must be distinct folder names (not empty, hidden or with a slash); "
            f"got {class_names!r}"
        )
    if labels.min() < 0 or labels.max() >= len(names):
        raise ValueError(
            f"labels must be from 0 to {len(names) - 1} (one per class name); got "
            f"{labels.min()} to {labels.max()}"
        )
    for name in class_names:
        (directory / name).mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(directory / class_names[int(label)] / f"{i:05d}.png")
    return directory


def write_example_folder(
    directory: str | Path,
    n_per_class: int = 20,
    size: tuple[int, int] = (32, 32),
    seed: int = 0,
) -> Path:
    """Write a small folder of coloured images, offline: MNIST's 0s, 1s and 7s, tinted.

    Three classes (``one``, ``seven``, ``zero``), ``n_per_class`` PNGs each, ``size`` pixels
    (height, width): each digit in a random bright colour on a random dark background,
    at a random place, so that the shape, not the colour, tells the classes apart. The same
    ``seed`` writes the same files. Needs the MNIST files the book reads.

    Introduced in chapter 10, beyond one centred digit.
    """
    check_count(n_per_class, "n_per_class", none_ok=False)
    height, width = size
    if min(height, width) < 1:
        raise ValueError(f"size must be (height, width) in pixels; got {size}")
    side = min(28, height, width)
    rng = np.random.default_rng(seed)
    mnist = load_mnist()
    images, labels = [], []
    for label, digit in enumerate(EXAMPLE_DIGITS.values()):
        picked = rng.choice(np.flatnonzero(mnist.y_train == digit), n_per_class, replace=False)
        for index in picked:
            ink = mnist.x_train[index, :, :, 0]  # (28, 28) in [0, 1]
            if side < 28:
                ink = (
                    np.asarray(
                        Image.fromarray(np.uint8(ink * 255)).resize((side, side), Image.BILINEAR)
                    )
                    / 255.0
                )
            canvas = np.zeros((height, width))
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
            canvas[top : top + side, left : left + side] = ink
            background = rng.uniform(0, 0.3, 3)  # a dark colour
            colour = rng.uniform(0.5, 1, 3)  # a bright one
            # (h, w, 3): the background where there is no ink, the digit's colour where there is
            images.append(background * (1 - canvas[..., None]) + colour * canvas[..., None])
            labels.append(label)
    return write_arrays_as_folder(
        directory, np.stack(images), np.array(labels), list(EXAMPLE_DIGITS)
    )


def write_keras_dataset(
    directory: str | Path,
    name: str = "fashion_mnist",
    split: str = "train",
    limit: int | None = None,
) -> Path:
    """Write a dataset of ``keras.datasets`` as a folder of class subfolders (downloads it).

    Args:
        directory: Where to write it.
        name: ``"fashion_mnist"`` (28x28 grey), ``"cifar10"`` (32x32 colour) or ``"mnist"``.
        split: ``"train"`` or ``"test"``.
        limit: Write only the first ``limit`` images.

    Introduced in chapter 10, beyond one centred digit.
    """
    import keras

    if name not in KERAS_DATASETS:
        raise ValueError(f"name must be one of {', '.join(KERAS_DATASETS)}; got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    check_count(limit, "limit")
    train, test = getattr(keras.datasets, name).load_data()
    images, labels = train if split == "train" else test
    return write_arrays_as_folder(directory, images[:limit], labels[:limit], KERAS_DATASETS[name])
