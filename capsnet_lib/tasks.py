"""What a training run learns from: MNIST (chapters 1-9) or MultiMNIST (chapter 10).

A task names the network's class and gives the run its validation batches and each epoch's
training batches; :func:`capsnet_lib.training.train` records it with the run's settings.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from capsnet_lib.data import load_mnist, make_dataset
from capsnet_lib.model import CapsNet
from capsnet_lib.multimnist import (
    MultiMnistCapsNet,
    make_pairs,
    pairs_dataset,
    training_stream,
)

TASKS = ("mnist", "multimnist")
VALID_PAIRS_SEED = 5  # the validation pairs, the same in every run


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else a ``ValueError`` listing them."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    return task


def model_class(task: str) -> type[CapsNet]:
    """The network class a task trains."""
    if check_task(task) == "multimnist":
        return MultiMnistCapsNet
    return CapsNet


def task_data(
    task: str, limit: int | None, batch_size: int, max_shift: int, seed: int
) -> tuple[tf.data.Dataset, Callable[[int], tf.data.Dataset]]:
    """``(validation batches, epoch -> that epoch's training batches)`` for a run.

    MNIST: the paper's random shifts of up to ``max_shift`` pixels. MultiMNIST: every training
    image once per epoch with a new partner and new shifts (up to 4 pixels, the paper's);
    validation on one fixed pair per validation image.
    """
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
