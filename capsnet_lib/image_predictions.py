"""A network trained on your own images, used on them: the class names its run recorded, a
prediction per image file, and the accuracy on a folder laid out like the training folder
(:mod:`capsnet_lib.image_folder`). The command line's ``evaluate --data-dir`` and ``predict``
call these.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capsnet_lib.image_folder import (
    IMAGE_EXTENSIONS,
    SPLIT_SEED,
    files_in,
    image_size_of,
    read_image,
    scan_image_folder,
)
from capsnet_lib.run_folder import SETTINGS_NAME, read_json

__all__ = ["evaluate_folder", "image_files", "predict_files", "run_class_names"]


def run_class_names(weights: str | Path | None, num_classes: int) -> list[str]:
    """The class names a run recorded (its ``settings.json``), else ``"0"``, ``"1"``, ...

    ``weights``: a run's folder, its ``best.weights.h5`` or a checkpoint's ``model.keras``.

    Introduced in chapter 10, beyond one centred digit.
    """
    if weights is not None:
        path = Path(weights)
        folder = path if path.is_dir() else path.parent
        if folder.name.startswith("epoch-"):  # a checkpoint's model.keras: the run is above
            folder = folder.parent
        if (folder / SETTINGS_NAME).is_file():
            todo = "correct it, or put the original back"
            settings = read_json(folder / SETTINGS_NAME, "the run's settings", todo)
            names = settings.get("class_names")
            if isinstance(names, list) and len(names) == num_classes:
                return [str(name) for name in names]
    return [str(k) for k in range(num_classes)]


def _color_mode_of(model) -> tuple[tuple[int, int], str]:
    """``((height, width), color_mode)`` of the images a CapsNet takes."""
    height, width, channels = model.config.image_shape
    return (height, width), "grayscale" if channels == 1 else "rgb"


def image_files(path: str | Path) -> list[Path]:
    """``[path]`` for an image file; every image under a folder (any depth), by name."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValueError(f"no image file or folder at {path}")
    files = files_in(path)
    if not files:
        raise ValueError(f"{path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def predict_files(
    model, files: list[Path], class_names: list[str], batch_size: int = 64
) -> list[tuple[Path, str, float]]:
    """``(file, class name, length of its capsule)`` for each image file, resized for ``model``.

    Introduced in chapter 10, beyond one centred digit.
    """
    size, color_mode = _color_mode_of(model)
    for file in files:
        image_size_of(file)  # a bad file is named before anything is predicted
    images = np.stack([read_image(f, size, color_mode) for f in files]).astype(np.float32) / 255
    lengths = model.predict(images, batch_size=batch_size, verbose=0)  # (n, classes)
    best = lengths.argmax(axis=1)
    return [
        (f, class_names[k], float(lengths[i, k]))
        for i, (f, k) in enumerate(zip(files, best, strict=True))
    ]


def evaluate_folder(
    model,
    data_dir: str | Path,
    class_names: list[str],
    batch_size: int = 64,
    limit: int | None = None,
) -> dict:
    """Accuracy of ``model`` on a folder of class subfolders named as its classes.

    The folder may hold some of the classes only; a subfolder whose name is not one of
    ``class_names`` is refused. ``limit`` takes that many images, drawn with a fixed seed.

    Returns:
        ``{"accuracy": float, "images": n, "per_class": {name: (right, images)}}``.

    Introduced in chapter 10, beyond one centred digit.
    """
    size, color_mode = _color_mode_of(model)
    folder = scan_image_folder(data_dir, size, color_mode, min_classes=1)
    index = {name: k for k, name in enumerate(class_names)}
    unknown = [name for name in folder.class_names if name not in index]
    if unknown:
        raise ValueError(
            f"{folder.path / unknown[0]}: the network knows no class {unknown[0]!r} (its "
            f"classes: {', '.join(class_names)}): rename the folder to one of them, or move it out"
        )
    labels = np.array([index[folder.class_names[k]] for k in folder.labels], np.int64)
    chosen = np.arange(len(labels))
    if limit is not None:
        chosen = np.random.default_rng(SPLIT_SEED).permutation(len(labels))[:limit]
    images = folder.read(chosen).astype(np.float32) / 255
    lengths = model.predict(images, batch_size=batch_size, verbose=0)
    right = lengths.argmax(axis=1) == labels[chosen]
    per_class = {}
    for name in folder.class_names:
        members = labels[chosen] == index[name]
        if members.any():
            per_class[name] = (int(right[members].sum()), int(members.sum()))
    return {"accuracy": float(right.mean()), "images": len(chosen), "per_class": per_class}
