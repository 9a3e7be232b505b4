"""Your own images: a folder of one subfolder per class, checked, read and sized for a CapsNet.

The layout is the one ``keras.utils.image_dataset_from_directory`` reads::

    DIR/
      cat/   0001.png  0002.jpg ...
      dog/   ...

The class names are the subfolders' names in alphabetical order (label 0 is the first), in
composed Unicode (a folder copied from macOS has the same names). Their pictures (PNG, JPEG,
BMP, GIF, TIFF, WebP, in any subfolder of a class folder) are read with Pillow as a viewer
shows them (:mod:`capsnet_lib.pictures`), converted to grey or RGB, resized to the size asked
for, and give the network float32 pixels in [0, 1]; system and hidden files are skipped. Each problem with a folder is a ``ValueError`` of one line that names the folder
or file and says what to do. The CapsNet follows the images: :func:`architecture_of` gives
its primary grid, primary capsules, parameters and memory per batch for any image size.
A trained network's predictions on such images are in :mod:`capsnet_lib.image_predictions`.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capsnet_lib.pictures import (
    COLOR_MODES,
    IMAGE_EXTENSIONS,
    check_color_mode,
    heic_error,
    image_size_of,
    is_system_name,
    list_pictures,
    normalized,
    read_image,
    read_picture,
    skipped_note,
)
from capsnet_lib.scale import Architecture, architecture_of

__all__ = [
    "Architecture",
    "FolderImages",
    "ImageFolder",
    "architecture_of",
    "files_in",
    "image_size_of",
    "load_image_folder",
    "read_image",
    "scan_image_folder",
    "split_indices",
]

SPLIT_SEED = 0  # the validation images are the same in every run on a folder


def minimum_image_size(conv_kernel: int = 9, primary_kernel: int = 9) -> int:
    """The smallest side a CapsNet takes: conv1 leaves ``side - conv_kernel + 1`` pixels, and
    the primary capsules' convolution needs ``primary_kernel`` of them (17 with the paper's 9s)."""
    return conv_kernel - 1 + primary_kernel


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def files_in(folder: Path) -> list[Path]:
    """The pictures under ``folder`` (any depth), by name; system and hidden files left out."""
    pictures, _, heic = list_pictures(Path(folder))
    if heic:
        raise heic_error(heic)
    return pictures


@dataclass
class ImageFolder:
    """A checked folder of images, one subfolder per class; only headers read so far.

    Attributes:
        path: The folder.
        class_names: Subfolder names (composed Unicode, NFC), alphabetical; label ``k`` is
            ``class_names[k]``.
        files: Every image, class by class.
        labels: Each file's label, int64 ``(n,)``.
        image_size: ``(height, width)`` the images are resized to.
        color_mode: ``"grayscale"`` (1 channel) or ``"rgb"`` (3).
        skipped: Files left out: system and hidden ones, and files that are not pictures.

    Introduced in chapter 10, beyond one centred digit.
    """

    path: Path
    class_names: list[str]
    files: list[Path]
    labels: np.ndarray
    image_size: tuple[int, int]
    color_mode: str
    skipped: list[Path] = field(default_factory=list)
    split: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _pixels: dict = field(default_factory=dict, repr=False)
    _digests: dict = field(default_factory=dict, repr=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)``: the network's input."""
        return (*self.image_size, COLOR_MODES[self.color_mode][1])

    @property
    def names(self) -> list[str]:
        """Each file's path below :attr:`path`, with ``/`` and in composed Unicode (NFC)."""
        return [normalized(f.relative_to(self.path).as_posix()) for f in self.files]

    def _load(self, i: int) -> np.ndarray:
        if i not in self._pixels:
            self._pixels[i], self._digests[i] = read_picture(
                self.files[i], self.image_size, self.color_mode
            )
        return self._pixels[i]

    def read(self, indices=None) -> np.ndarray:
        """The images (all, or those at ``indices``) as uint8 ``(n, height, width, channels)``.

        Each is decoded once and kept; a file that cannot be decoded is a ``ValueError``
        naming it and Pillow's reason.
        """
        chosen = range(len(self.files)) if indices is None else indices
        images = [self._load(int(i)) for i in chosen]
        return np.stack(images) if images else np.zeros((0, *self.image_shape), np.uint8)

    def digests(self) -> list[str]:
        """A digest of each file's bytes (every file read, once)."""
        self.read()
        return [self._digests[i] for i in range(len(self.files))]

    def skipped_note(self) -> str | None:
        """One sentence on the files skipped, or ``None``."""
        return skipped_note(self.skipped, self.path) if self.skipped else None


def _run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a training run's folder (its records, or a checkpoint)."""
    return (folder / "settings.json").is_file() or any(folder.glob("epoch-[0-9][0-9][0-9][0-9]"))


def _class_folders(path: Path) -> list[Path]:
    """The class folders of ``path``, by normalised name; system ones left out."""
    classes = sorted(
        (p for p in path.iterdir() if p.is_dir() and not is_system_name(p.name)),
        key=lambda p: normalized(p.name),
    )
    for a, b in zip(classes, classes[1:], strict=False):
        if normalized(a.name) == normalized(b.name):
            raise ValueError(
                f"{a} and {b} are two folders with one name written two ways in Unicode (as "
                "macOS and other systems write it): merge them into one"
            )
    for folder in classes:
        if _run_folder(folder):
            raise ValueError(
                f"{folder} is a training run's folder (settings.json, checkpoints), not a "
                f"class of images: move it out of {path}, keeping it (it holds the run), and "
                "keep --out outside --data-dir"
            )
    return classes


def scan_image_folder(
    data_dir: str | Path,
    image_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    min_classes: int = 2,
    min_size: int = minimum_image_size(),
) -> ImageFolder:
    """Check a folder of class subfolders and list its images, reading their headers only.

    Pictures are PNG, JPEG, BMP, GIF, TIFF or WebP files (AVIF, HEIC where Pillow reads
    them), at any depth in a class folder; system and hidden files (``._*``, ``.DS_Store``,
    ``Thumbs.db``, ...) and other files are skipped, and counted in ``skipped``. Sizes are
    those shown, after the EXIF orientation. Class names are compared in composed Unicode.

    Args:
        data_dir: The folder: one subfolder of images per class.
        image_size: ``(height, width)`` to resize every image to; ``None``: the images'
            own size, which must then be the same for all.
        color_mode: ``"grayscale"`` or ``"rgb"`` (colour images are converted, as grey ones).
        min_classes: Classes needed (2 to train; 1 to evaluate or predict).
        min_size: The smallest side the network takes (:func:`minimum_image_size`).

    Raises:
        ValueError: One line naming the folder or file and what to do: no such folder, no
            class folders, an empty class folder, too few classes, an unreadable image,
            HEIC photos that cannot be read, a run's folder among the classes, images of
            mixed sizes without ``image_size``, images too small.

    Introduced in chapter 10, beyond one centred digit.
    """
    check_color_mode(color_mode)
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be (height, width) in pixels; got {image_size}")
    path = Path(data_dir)
    if not path.is_dir():
        raise ValueError(
            f"no folder at {path}: give a folder that holds one subfolder of images per class"
        )
    classes = _class_folders(path)
    if not classes:
        raise ValueError(
            f"{path} holds no class folders: put each class's images in a subfolder named "
            f"after the class ({path / 'cat' / '1.png'}, {path / 'dog' / '2.png'}, ...)"
        )
    files, labels, skipped = [], [], [p for p in path.iterdir() if p.is_file()]
    for label, folder in enumerate(classes):
        found, left_out, heic = list_pictures(folder)
        if heic:
            raise heic_error(heic)
        if not found:
            raise ValueError(
                f"{folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}): add some, or "
                "remove the folder"
            )
        files += found
        labels += [label] * len(found)
        skipped += left_out
    if len(classes) < min_classes:
        raise ValueError(
            f"{path} holds one class folder ({classes[0].name}): a classifier needs at least "
            "two classes; add a subfolder of images for each other class"
        )
    sizes = {}  # (height, width) -> the first file of that size
    for file in files:
        sizes.setdefault(image_size_of(file), file)
    if image_size is None:
        if len(sizes) > 1:
            (a, file_a), (b, file_b) = list(sizes.items())[:2]
            raise ValueError(
                f"{path} holds images of different sizes ({_size_text(a)}: "
                f"{file_a.relative_to(path)}; {_size_text(b)}: {file_b.relative_to(path)}): give "
                "a size to resize them all to (--image-size H W, image_size=(h, w))"
            )
        image_size = next(iter(sizes))
    if min(image_size) < min_size:
        raise ValueError(
            f"images of {_size_text(image_size)} pixels are too small for a CapsNet (a 9x9 "
            f"conv1, then 9x9 primary capsules with stride 2): it needs at least "
            f"{min_size}x{min_size}; resize them (--image-size H W, image_size=(h, w))"
        )
    return ImageFolder(
        path,
        [normalized(c.name) for c in classes],
        files,
        np.array(labels, np.int64),
        image_size,
        color_mode,
        skipped,
    )


def split_indices(
    labels: np.ndarray, validation_split: float = 0.2, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` indices: ``validation_split`` of each class (at least one
    image of every class that has two), drawn with ``seed``; each part in a seeded order.

    Introduced in chapter 10, beyond one centred digit.
    """
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1; got {validation_split}")
    rng = np.random.default_rng(seed)
    train, valid = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = min(max(round(len(members) * validation_split), 1), len(members) - 1)
        valid += list(members[:count])
        train += list(members[count:])
    if not valid:
        raise ValueError(
            f"no image left for validation ({len(labels)} images, one per class): add images"
        )
    return rng.permutation(train), rng.permutation(valid)


@dataclass
class FolderImages:
    """A folder's images split for training: float32 in [0, 1] ``(n, h, w, c)``, int labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    class_names: list[str]


def load_image_folder(
    data_dir: str | Path,
    image_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    validation_split: float = 0.2,
    seed: int = SPLIT_SEED,
) -> FolderImages:
    """A folder of class subfolders as arrays, split into training and validation images.

    The same checks and split as ``train(task="folder")``; for ``fit`` on arrays.

    Introduced in chapter 10, beyond one centred digit.
    """
    folder = scan_image_folder(data_dir, image_size, color_mode)
    train, valid = split_indices(folder.labels, validation_split, seed)
    return FolderImages(
        folder.read(train).astype(np.float32) / 255,
        folder.labels[train],
        folder.read(valid).astype(np.float32) / 255,
        folder.labels[valid],
        folder.class_names,
    )
