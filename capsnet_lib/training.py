"""Training a CapsNet with Keras ``fit``: the paper's schedule, checkpoints and resuming."""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from capsnet_lib.checkpoints import EpochCheckpoint, StopOnNonFiniteLoss, TrainingDiverged
from capsnet_lib.data import epoch_seed
from capsnet_lib.model import CapsNet
from capsnet_lib.run_folder import SETTINGS_NAME
from capsnet_lib.run_plan import RunPlan, open_run, plan_run
from capsnet_lib.scale import architecture_of
from capsnet_lib.tasks import SHAPE_KEYS
from capsnet_lib.trained import load_trained

__all__ = ["SETTINGS_NAME", "load_trained", "paper_optimizer", "train"]


def paper_optimizer(
    learning_rate: float = 1e-3,
    decay: bool = True,
    decay_steps: int = 2000,
    decay_rate: float = 0.96,
) -> keras.optimizers.Adam:
    """Adam, with the official code's exponential decay (x0.96 every 2,000 steps) if ``decay``.

    ``decay_steps`` and ``decay_rate`` change the schedule: CapsNet-Keras decays x0.9 per
    epoch, which at batch 128 on 55,000 images is ``decay_steps=430, decay_rate=0.9``.

    Introduced in chapter 7, training.
    """
    if decay:
        learning_rate = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=decay_steps, decay_rate=decay_rate
        )
    return keras.optimizers.Adam(learning_rate)


class RunProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting epochs out of the whole run ("Epoch 3/30", not "3/3").

    ``train`` calls ``fit`` once per epoch, so ``fit`` alone only knows the epochs up to now.
    """

    def __init__(self, total_epochs: int):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params({**params, "epochs": self.total_epochs})


def train(
    out_dir: str | Path,
    epochs: int,
    batch_size: int = 128,
    routing_iterations: int = 3,
    limit: int | None = None,
    learning_rate: float = 1e-3,
    decay: bool = True,
    max_shift: int = 2,
    seed: int | None = None,
    verbose: int | str = "auto",
    decay_steps: int = 2000,
    decay_rate: float = 0.96,
    init_weights: str | Path | None = None,
    overwrite: bool = False,
    task: str | None = None,
    data_dir: str | Path | None = None,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    validation_split: float | None = None,
    keep_split: bool = False,
    distribute: str | tf.distribute.Strategy | None = None,
    **settings,
) -> tuple[CapsNet, list[dict]]:
    """Train on MNIST, MultiMNIST or a folder of images, validating every epoch; run it again to resume after an interruption.

    Each finished epoch is checkpointed atomically in ``out_dir`` (model, optimizer,
    history), with ``log.csv`` and the best weights by validation accuracy
    (``best.weights.h5``). If ``out_dir`` already has a checkpoint, training resumes
    after its epoch with the optimizer's state; ``epochs`` is the total to reach. A rerun
    also writes what a run stopped at an epoch's end had not written yet (its log line, its
    best weights), so that the folder ends as an uninterrupted run leaves it. A folder that
    holds a previous run's results without a checkpoint to resume is left alone unless
    ``overwrite``. A loss or weights that become NaN or infinite stop the run with
    :class:`~capsnet_lib.checkpoints.TrainingDiverged`; that epoch is not saved.

    Args:
        out_dir: Output folder (created if missing).
        epochs: Total epochs.
        batch_size: Images per step: under a strategy, the global batch, split over the
            replicas (e.g. 64 on each of two GPUs for 128).
        routing_iterations: Routing rounds (the paper: 3).
        limit: Train and validate on the first ``limit`` images only.
        learning_rate: Adam's initial learning rate; not scaled under a strategy (the replicas'
            gradients are averaged, so a step is the one device's step on the same batch).
        decay: Decay it by 0.96 every 2,000 steps (the official code).
        max_shift: Random shifts in pixels (the paper: 2).
        seed: Seeds Keras, shuffling and shifts.
        decay_steps: Steps per decay of the learning rate by ``decay_rate``.
        decay_rate: Factor of each decay.
        init_weights: Start a new run from these weights instead of random ones
            (``"pretrained"``: the shipped weights; else a ``.weights.h5``/``.keras``
            file or training folder). Ignored when resuming.
        task: ``"mnist"`` (the default without ``data_dir``), ``"multimnist"`` (chapter 10: a
            :class:`~capsnet_lib.multimnist_model.MultiMnistCapsNet` on 36x36 pairs of digits, each
            placed within 4 pixels of the centre; ``max_shift`` is not used), or ``"folder"``
            (the default with ``data_dir``).
        data_dir: A folder of images, one subfolder per class (chapter 10; see
            :mod:`capsnet_lib.image_folder`). The network follows its images: input, primary
            capsules, classes, decoder output. The folder, image size, colour mode and class
            names are recorded, and a resumed run must give the same; before training, what
            was built and its memory per batch are printed (unless ``verbose=0``).
        image_size: ``(height, width)`` to resize the folder's images to (default: their own
            size, which must then be the same for all).
        color_mode: ``"rgb"`` (default) or ``"grayscale"``.
        validation_split: The share of each class held out for validation (default 0.2; the
            same images in every run on the folder).
        keep_split: Resume on a folder that changed since the run started, validating on
            the run's validation images still there (else refused, saying what changed).
        overwrite: Start a new run in ``out_dir``, deleting a previous run's checkpoints,
            log, best weights and records (``--overwrite``).
        verbose: Keras ``fit`` verbosity (``"auto"``: a progress bar on a terminal,
            one line per epoch otherwise).
        distribute: ``None`` (one device), ``"mirrored"`` (every local GPU, or the logical CPU
            devices of ``CAPSNET_CPU_DEVICES``), ``"multi-worker"`` (the workers ``TF_CONFIG``
            names; only the chief writes ``out_dir``, which every worker must be able to read),
            or a ``tf.distribute.Strategy`` (see :mod:`capsnet_lib.distribute`). Not recorded:
            a run may resume on other devices, with the same settings.
        **settings: Other :class:`~capsnet_lib.CapsNetConfig` fields.

    Returns:
        ``(model, history)``: the model after the last epoch and one dict per epoch.

    Introduced in chapter 7, training.
    """
    plan = plan_run(
        out_dir,
        epochs,
        batch_size=batch_size,
        routing_iterations=routing_iterations,
        limit=limit,
        learning_rate=learning_rate,
        decay=decay,
        decay_steps=decay_steps,
        decay_rate=decay_rate,
        max_shift=max_shift,
        seed=seed,
        task=task,
        data_dir=data_dir,
        image_size=image_size,
        color_mode=color_mode,
        validation_split=validation_split,
        keep_split=keep_split,
        init_weights=init_weights,
        overwrite=overwrite,
        verbose=verbose,
        distribute=distribute,
        **settings,
    )
    try:
        with plan.lock():
            model, state = open_run(plan)
            if state["epoch"] >= epochs:
                return model, state["history"]
            return model, _fit_epochs(plan, model, state)
    finally:
        plan.close()


def _fit_epochs(plan: RunPlan, model: CapsNet, state: dict) -> list[dict]:
    """Train from the state's epoch to the plan's last, one ``fit`` per epoch; the history."""
    seed, batch_size = plan.settings["seed"], plan.settings["batch_size"]
    valid_data, epoch_data = plan.data()
    if plan.folder is not None and plan.verbose != 0:
        print(_describe_folder_run(plan.folder, model, batch_size), flush=True)
    if plan.strategy is not None and plan.verbose != 0:
        replicas = plan.strategy.num_replicas_in_sync
        print(
            f"distributed over {replicas} replicas: {batch_size} images a step in all, "
            f"{batch_size / replicas:g} on each",
            flush=True,
        )
    checkpoint = EpochCheckpoint(
        plan.write_dir,
        state["history"],
        best=state["best"],
        best_epoch=state["best_epoch"],
        settings=state["settings"],
    )
    for epoch in range(state["epoch"], plan.epochs):
        keras.utils.set_random_seed(epoch_seed(seed, epoch))
        try:
            model.fit(
                epoch_data(epoch),
                validation_data=valid_data,
                epochs=epoch + 1,
                initial_epoch=epoch,
                callbacks=[StopOnNonFiniteLoss(), checkpoint, RunProgbar(plan.epochs)],
                shuffle=False,  # the dataset shuffles itself
                verbose=plan.verbose,
            )
        except TrainingDiverged as error:
            kept = f"epoch {epoch}'s checkpoint, log, best weights" if epoch else "no checkpoint"
            raise TrainingDiverged(
                f"{error}: training diverged, and epoch {epoch + 1} was not saved "
                f"({plan.out_dir} keeps {kept}). Try a smaller learning rate (--learning-rate; "
                f"this run's: {plan.settings['learning_rate']:g}), e.g. ten times smaller, in "
                "another --out, or start this one over with --overwrite"
            ) from None
    return checkpoint.history


def _describe_folder_run(folder, model: CapsNet, batch_size: int) -> str:
    """What a run on a folder trains: its images, the network built for them, memory per batch."""
    counts = ", ".join(
        f"{name} {int((folder.labels == k).sum())}" for k, name in enumerate(folder.class_names)
    )
    config = model.get_config()
    shape = architecture_of(
        config["image_shape"],
        config["num_classes"],
        batch_size,
        **{k: config[k] for k in (*SHAPE_KEYS, "routing_iterations")},
    )
    h, w = folder.image_size
    return "\n".join(
        [
            f"images: {folder.path}, {len(folder.files)} in {len(folder.class_names)} classes "
            f"({counts}), read as {h}x{w} {folder.color_mode}",
            shape.describe(),
        ]
    )
