"""What a training run learns from: MNIST (chapters 1-9), MultiMNIST or a folder of your own
images (chapter 10).

A task names the network's class and gives the run its validation batches and each epoch's
training batches; :func:`capsnet_lib.training.train` records it with the run's settings. The
folder task also records the folder, the image size, the colour mode, the class names and its
pictures (names, digests, the validation images: a resume on a changed folder is refused, or
goes on with its split), sizes the network for them, and checks all of it before a network is
built (:mod:`capsnet_lib.folder_runs`). Options a task does not use are refused, not recorded.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from capsnet_lib.data import load_mnist, make_dataset
from capsnet_lib.folder_runs import FolderRun, check_memory, check_places, choose_split
from capsnet_lib.image_folder import (
    SPLIT_SEED,
    ImageFolder,
    minimum_image_size,
    scan_image_folder,
    split_indices,
)
from capsnet_lib.model import CapsNet, CapsNetConfig
from capsnet_lib.multimnist import MAX_SHIFT as MULTIMNIST_SHIFT
from capsnet_lib.multimnist import make_pairs, pairs_dataset, training_stream
from capsnet_lib.multimnist_model import MultiMnistCapsNet
from capsnet_lib.run_folder import ARCHITECTURE_KEYS

TASKS = ("mnist", "multimnist", "folder")
DEFAULT_MAX_SHIFT = 2  # train()'s, the paper's for MNIST
# CapsNet settings that change its size for an image size: its architecture but for the
# routing rounds and what the images themselves set
SHAPE_KEYS = tuple(
    k for k in ARCHITECTURE_KEYS if k not in ("routing_iterations", "num_classes", "image_shape")
)
VALID_PAIRS_SEED = 5  # the validation pairs, the same in every run


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else a ``ValueError`` listing them."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    return task


def check_seed(seed) -> None:
    """Refuse a seed that is not a whole number from 0 to 2**32 - 1, naming the option."""
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(
            f"seed (--seed) must be a whole number from 0 to {2**32 - 1}; got {seed!r}"
        )


def resolve_task(
    task: str | None,
    data_dir: str | Path | None,
    max_shift: int | None = None,
    seed: int | None = None,
    **folder_options,
) -> str:
    """The task a run trains: ``task``, or (``None``) ``"folder"`` with ``data_dir``, else
    ``"mnist"``; a ``ValueError`` where ``data_dir``, a folder option, ``max_shift`` (not
    used by MultiMNIST, whose digits move up to 4 pixels) or ``seed`` does not fit it."""
    if task is None:
        task = "mnist" if data_dir is None else "folder"
    check_task(task)
    check_seed(seed)
    if task == "folder" and data_dir is None:
        raise ValueError("task 'folder' trains on a folder of images: give it (--data-dir DIR)")
    given = [k for k, v in {"data_dir": data_dir, **folder_options}.items() if v is not None]
    if task != "folder" and given:
        raise ValueError(f"{', '.join(given)}: only for a folder of images, not task {task!r}")
    if task == "multimnist" and max_shift not in (None, DEFAULT_MAX_SHIFT):
        raise ValueError(
            f"max_shift={max_shift} (--max-shift): MultiMNIST does not use it; its digits move "
            f"up to {MULTIMNIST_SHIFT} pixels from the centre, the paper's: leave it out"
        )
    return task


def folder_settings(
    data_dir: str | Path,
    image_size: tuple[int, int] | None,
    color_mode: str | None,
    validation_split: float | None,
    run: FolderRun | None = None,
    **settings,
) -> tuple[ImageFolder, dict]:
    """A checked folder, and the settings a run on it records (the network's shape included).

    Everything is checked before a network is built: the run's folder outside the images'
    (``run.out_dir``), the memory the images' size needs, every picture decoded, and, for a
    resumed run, that the folder has not changed since it started (``run.keep_split``: go on
    with its split). The folder's images are then held in memory, read once.

    ``settings``: the run's other CapsNet settings (kernels), which set the smallest size.
    """
    fixed = [k for k in ("num_classes", "image_shape") if k in settings]
    if fixed:
        raise ValueError(f"{' and '.join(fixed)}: set by the folder's images, not given")
    run = run or FolderRun()
    if run.out_dir is not None:
        check_places(run.out_dir, data_dir)
    shapes = {k: v for k, v in settings.items() if k in SHAPE_KEYS}
    config = CapsNetConfig(**shapes)
    folder = scan_image_folder(
        Path(data_dir).resolve(),
        image_size,
        color_mode or "rgb",
        min_size=minimum_image_size(config.conv_kernel, config.primary_kernel),
    )
    validation_split = 0.2 if validation_split is None else validation_split
    train, valid = split_indices(folder.labels, validation_split)  # refused before a build
    check_memory(folder, run, **shapes)
    note = folder.skipped_note()
    if note:
        print(note, flush=True)
    folder.read()  # every picture decoded now: a damaged one is named before anything is built
    train, valid, record = choose_split(folder, train, valid, run)
    folder.split = (train, valid)
    return folder, {
        "data_dir": str(folder.path),
        "image_size": list(folder.image_size),
        "color_mode": folder.color_mode,
        "class_names": list(folder.class_names),
        "validation_split": validation_split,
        "num_classes": len(folder.class_names),
        "image_shape": list(folder.image_shape),
        "images": record,
    }


def model_class(task: str) -> type[CapsNet]:
    """The network class a task trains."""
    if check_task(task) == "multimnist":
        return MultiMnistCapsNet
    return CapsNet


def task_data(
    task: str,
    limit: int | None,
    batch_size: int,
    max_shift: int,
    seed: int,
    folder: ImageFolder | None = None,
    validation_split: float = 0.2,
) -> tuple[tf.data.Dataset, Callable[[int], tf.data.Dataset]]:
    """``(validation batches, epoch -> that epoch's training batches)`` for a run.

    MNIST: the paper's random shifts of up to ``max_shift`` pixels. MultiMNIST: every training
    image once per epoch with a new partner and new shifts (up to 4 pixels, the paper's);
    validation on one fixed pair per validation image. A folder: ``validation_split`` of each
    class held out (the same images in every run), the rest shifted as MNIST.
    """
    if check_task(task) == "folder":
        return _folder_data(folder, validation_split, limit, batch_size, max_shift, seed)
    mnist = load_mnist(limit=limit)
    if check_task(task) == "multimnist":
        valid = pairs_dataset(
            make_pairs(mnist.x_valid, mnist.y_valid, VALID_PAIRS_SEED), batch_size
        )

        def multimnist_epoch(epoch: int) -> tf.data.Dataset:
            return training_stream(mnist.x_train, mnist.y_train, batch_size, seed, epoch)

        return valid, multimnist_epoch

    valid = make_dataset(mnist.x_valid, mnist.y_valid, batch_size, shuffle=False)

    def mnist_epoch(epoch: int) -> tf.data.Dataset:
        # Each epoch's order and shifts follow from (seed, epoch): two runs with one seed see
        # the same batches, and a resumed run goes on where the first one stopped.
        return make_dataset(
            mnist.x_train,
            mnist.y_train,
            batch_size,
            shuffle=True,
            max_shift=max_shift,
            seed=seed,
            epoch=epoch,
        )

    return valid, mnist_epoch


def _folder_data(folder, validation_split, limit, batch_size, max_shift, seed):
    """:func:`task_data` for a folder: its images read once, kept as bytes, scaled per batch."""
    if folder.split is not None:  # chosen by folder_settings (the run's, on a resume)
        train, valid = folder.split
    else:
        train, valid = split_indices(folder.labels, validation_split, SPLIT_SEED)
    train, valid = train[:limit], valid[:limit]
    x_train, y_train = folder.read(train), folder.labels[train]  # uint8 (n, h, w, c)
    x_valid, y_valid = folder.read(valid), folder.labels[valid]

    def scaled(dataset: tf.data.Dataset) -> tf.data.Dataset:
        return dataset.map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y))

    valid_data = scaled(make_dataset(x_valid, y_valid, batch_size, shuffle=False))

    def folder_epoch(epoch: int) -> tf.data.Dataset:
        return scaled(
            make_dataset(
                x_train,
                y_train,
                batch_size,
                shuffle=True,
                max_shift=max_shift,
                seed=seed,
                epoch=epoch,
            )
        )

    return valid_data, folder_epoch
