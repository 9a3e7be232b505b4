"""A network trained on your own images, used on them: the class names its run recorded, a
prediction per image file, and the accuracy on a folder laid out like the training folder
(:mod:`capsnet_lib.image_folder`). The command line's ``evaluate --data-dir`` and ``predict``
call these.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capsnet_lib.image_folder import SPLIT_SEED, scan_image_folder
from capsnet_lib.inputs import check_count
from capsnet_lib.pictures import (
    IMAGE_EXTENSIONS,
    heic_error,
    list_pictures,
    normalized,
    read_image,
    skipped_note,
)
from capsnet_lib.run_folder import SETTINGS_NAME, read_json

__all__ = [
    "check_mnist_network",
    "evaluate_folder",
    "image_files",
    "predict_files",
    "predict_two_files",
    "run_class_names",
    "run_settings",
]


def _run_dir(weights: str | Path) -> Path:
    """The run folder of a run's folder, its ``best.weights.h5`` or a checkpoint's model."""
    path = Path(weights)
    folder = path if path.is_dir() else path.parent
    if folder.name.startswith("epoch-"):  # a checkpoint's model.keras: the run is above
        folder = folder.parent
    return folder


def run_settings(weights: str | Path | None) -> dict:
    """The settings a run recorded (its ``settings.json``), or ``{}``."""
    if weights is None:
        return {}
    path = _run_dir(weights) / SETTINGS_NAME
    if not path.is_file():
        return {}
    return read_json(path, "the run's settings", "correct it, or put the original back")


def run_class_names(weights: str | Path | None, num_classes: int) -> list[str]:
    """The class names a run recorded (its ``settings.json``), else ``"0"``, ``"1"``, ...

    ``weights``: a run's folder, its ``best.weights.h5`` or a checkpoint's ``model.keras``.

    Introduced in chapter 10, beyond one centred digit.
    """
    names = run_settings(weights).get("class_names")
    if isinstance(names, list) and len(names) == num_classes:
        return [str(name) for name in names]
    return [str(k) for k in range(num_classes)]


def check_mnist_network(model, weights, recorded: dict) -> None:
    """Refuse to test a network on MNIST's digits unless it takes 28x28 grey digits in 10
    classes, saying what it takes and what to run instead."""
    shape, classes = tuple(model.config.image_shape), model.config.num_classes
    if shape == (28, 28, 1) and classes == 10:
        return
    h, w, c = shape
    trained_on = f" (trained on {recorded['data_dir']})" if recorded.get("data_dir") else ""
    raise ValueError(
        f"{weights} takes {h}x{w} {'grey' if c == 1 else 'colour'} images in {classes} "
        f"classes{trained_on}, not MNIST's 28x28 digits: evaluate it on a folder of such "
        "images, one subfolder per class (--data-dir DIR)"
    )


def _color_mode_of(model) -> tuple[tuple[int, int], str]:
    """``((height, width), color_mode)`` of the images a CapsNet takes."""
    height, width, channels = model.config.image_shape
    return (height, width), "grayscale" if channels == 1 else "rgb"


def image_files(path: str | Path) -> list[Path]:
    """``[path]`` for an image file; every picture under a folder (any depth), by name.

    System and hidden files are left out, and said once how many (printed).
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValueError(f"no image file or folder at {path}")
    files, skipped, heic = list_pictures(path)
    if heic:
        raise heic_error(heic)
    if not files:
        raise ValueError(f"{path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    if skipped:
        print(skipped_note(skipped, path), flush=True)
    return files


def _checked_files(model, files, class_names, batch_size) -> list[Path]:
    """``files`` as a list of paths (one path alone too), or a ``ValueError``."""
    if isinstance(files, str | Path):
        files = [Path(files)]
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("files is empty: give at least one image file (image_files(folder))")
    check_count(batch_size, "batch_size", none_ok=False)
    if len(class_names) != model.config.num_classes:
        raise ValueError(
            f"{len(class_names)} class names for a network of {model.config.num_classes} "
            "classes: give one name per class (run_class_names(run folder, num_classes))"
        )
    return files


def predict_files(
    model, files: list[Path], class_names: list[str], batch_size: int = 64
) -> list[tuple[Path, str, float]]:
    """``(file, class name, length of its capsule)`` for each image file, resized for ``model``.

    Every file is decoded before anything is predicted; a damaged one is a ``ValueError``
    naming it.

    Introduced in chapter 10, beyond one centred digit.
    """
    files = _checked_files(model, files, class_names, batch_size)
    lengths = _lengths_of(model, files, batch_size)  # (n, classes)
    best = lengths.argmax(axis=1)
    return [
        (f, class_names[k], float(lengths[i, k]))
        for i, (f, k) in enumerate(zip(files, best, strict=True))
    ]


def _lengths_of(model, files: list[Path], batch_size: int) -> np.ndarray:
    """The class capsules' lengths ``(n, classes)`` for image files, resized for ``model``."""
    size, color_mode = _color_mode_of(model)
    images = np.stack([read_image(f, size, color_mode) for f in files]).astype(np.float32) / 255
    return model.predict(images, batch_size=batch_size, verbose=0)


def predict_two_files(
    model, files: list[Path], class_names: list[str], batch_size: int = 64
) -> list[tuple[Path, tuple[str, str], tuple[float, float]]]:
    """``(file, two class names, their lengths)``: the two longest capsules of each image, for
    a network that names two digits on a canvas (MultiMNIST), longest first.

    Introduced in chapter 10, beyond one centred digit.
    """
    files = _checked_files(model, files, class_names, batch_size)
    lengths = _lengths_of(model, files, batch_size)
    top = np.argsort(-lengths, axis=1)[:, :2]
    return [
        (f, (class_names[a], class_names[b]), (float(row[a]), float(row[b])))
        for f, (a, b), row in zip(files, top, lengths, strict=True)
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
    ``class_names`` (compared in composed Unicode, as macOS's decomposed names are) is
    refused. ``limit`` (1 or more) takes that many images, drawn with a fixed seed.

    Returns:
        ``{"accuracy": float, "images": n, "per_class": {name: (right, images)}}``.

    Introduced in chapter 10, beyond one centred digit.
    """
    check_count(limit, "limit")
    check_count(batch_size, "batch_size", none_ok=False)
    if len(class_names) != model.config.num_classes:
        raise ValueError(
            f"{len(class_names)} class names for a network of {model.config.num_classes} classes"
        )
    size, color_mode = _color_mode_of(model)
    folder = scan_image_folder(data_dir, size, color_mode, min_classes=1)
    note = folder.skipped_note()
    if note:
        print(note, flush=True)
    index = {normalized(name): k for k, name in enumerate(class_names)}
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
