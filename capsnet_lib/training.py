"""Training a CapsNet with Keras ``fit``: the paper's schedule, checkpoints and resuming."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import keras

from capsnet_lib.checkpoints import (
    EpochCheckpoint,
    RunLock,
    StopOnNonFiniteLoss,
    TrainingDiverged,
    atomic_write,
    latest_checkpoint,
    remove_leftovers,
)
from capsnet_lib.data import epoch_seed
from capsnet_lib.folder_runs import FolderRun
from capsnet_lib.model import CapsNet
from capsnet_lib.run_folder import (
    CONFIG_NAME,
    RESUME_KEYS,
    SETTINGS_NAME,
    TRAINING_KEYS,
    RunFolderError,
    check_same_architecture,
    check_same_settings,
    clear_run,
    missing_seed,
    read_json,
    recorded_settings,
    refuse_to_overwrite,
    repair_run,
    write_settings,
)
from capsnet_lib.scale import architecture_of
from capsnet_lib.tasks import folder_settings, model_class, resolve_task, task_data
from capsnet_lib.trained import initial_weights, load_trained

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
        batch_size: Images per step.
        routing_iterations: Routing rounds (the paper: 3).
        limit: Train and validate on the first ``limit`` images only.
        learning_rate: Adam's initial learning rate.
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
        **settings: Other :class:`~capsnet_lib.CapsNetConfig` fields.

    Returns:
        ``(model, history)``: the model after the last epoch and one dict per epoch.

    Introduced in chapter 7, training.
    """
    settings.setdefault("precision", "auto")
    task = resolve_task(
        task,
        data_dir,
        max_shift,
        seed,
        image_size=image_size,
        color_mode=color_mode,
        validation_split=validation_split,
        keep_split=keep_split or None,
    )
    folder, folder_run = None, {}
    if task == "folder":
        run = FolderRun(out_dir, batch_size, routing_iterations, keep_split, overwrite)
        folder, folder_run = folder_settings(
            data_dir, image_size, color_mode, validation_split, run, **settings
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir):
        remove_leftovers(out_dir)
        if overwrite:
            clear_run(out_dir)
        run_settings = {
            "batch_size": batch_size,
            "routing_iterations": routing_iterations,
            "limit": limit,
            "learning_rate": learning_rate,
            "decay": decay,
            "decay_steps": decay_steps,
            "decay_rate": decay_rate,
            "max_shift": max_shift,
            "seed": seed,
            "task": task,
            **folder_run,
            **settings,
        }
        found = latest_checkpoint(out_dir)
        if found is not None:
            model, state = _resume(out_dir, found, run_settings)
        else:
            refuse_to_overwrite(out_dir)
            model, state = _start(out_dir, run_settings, init_weights)
        seed, history = run_settings["seed"], state["history"]
        if state["epoch"] >= epochs:
            return model, history
        if folder is not None:
            valid_data, epoch_data = task_data(
                task, limit, batch_size, max_shift, seed, folder, folder_run["validation_split"]
            )
            if verbose != 0:
                print(_describe_folder_run(folder, model, batch_size), flush=True)
        else:
            valid_data, epoch_data = task_data(task, limit, batch_size, max_shift, seed)
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        checkpoint = EpochCheckpoint(
            out_dir,
            history,
            best=state["best"],
            best_epoch=state["best_epoch"],
            settings=state["settings"],
        )
        for epoch in range(state["epoch"], epochs):
            train_data = epoch_data(epoch)
            keras.utils.set_random_seed(epoch_seed(seed, epoch))
            try:
                model.fit(
                    train_data,
                    validation_data=valid_data,
                    epochs=epoch + 1,
                    initial_epoch=epoch,
                    callbacks=[StopOnNonFiniteLoss(), checkpoint, RunProgbar(epochs)],
                    shuffle=False,  # the dataset shuffles itself
                    verbose=verbose,
                )
            except TrainingDiverged as error:
                kept = (
                    f"epoch {epoch}'s checkpoint, log, best weights" if epoch else "no checkpoint"
                )
                raise TrainingDiverged(
                    f"{error}: training diverged, and epoch {epoch + 1} was not saved "
                    f"({out_dir} keeps {kept}). Try a smaller learning rate (--learning-rate; "
                    f"this run's: {learning_rate:g}), e.g. ten times smaller, in another --out, "
                    "or start this one over with --overwrite"
                ) from None
        return model, checkpoint.history


def _resume(out_dir: Path, found, run_settings: dict) -> tuple[CapsNet, dict]:
    """Check a run's folder against the settings asked for, repair it; ``(model, state)``."""
    folder, state, model = found
    recorded = recorded_settings(out_dir, state)
    if run_settings["seed"] is None:  # continue the run's stream
        run_settings["seed"] = recorded.get("seed")
        if run_settings["seed"] is None:
            raise missing_seed(out_dir)
    check_same_settings(recorded, run_settings, out_dir)
    asked = {k: v for k, v in run_settings.items() if k not in TRAINING_KEYS}
    check_same_architecture(model.get_config(), asked, str(out_dir))
    repair_run(out_dir, folder, state, model)
    state["settings"] = {**recorded, **run_settings}
    return model, state


def _start(out_dir: Path, run_settings: dict, init_weights) -> tuple[CapsNet, dict]:
    """A new run's model, compiled, with its ``config.json`` and ``settings.json`` written."""
    if run_settings["seed"] is None:  # drawn once and recorded, so that a resumed run continues it
        run_settings["seed"] = _earlier_seed(out_dir)
        if run_settings["seed"] is None:
            run_settings["seed"] = secrets.randbelow(2**31)
    keras.utils.set_random_seed(run_settings["seed"])
    network = model_class(run_settings["task"])
    model = network(**{k: v for k, v in run_settings.items() if k not in TRAINING_KEYS})
    if init_weights is not None:
        model.set_weights(initial_weights(init_weights, model).get_weights())
    model.compile(
        optimizer=paper_optimizer(
            run_settings["learning_rate"],
            run_settings["decay"],
            run_settings["decay_steps"],
            run_settings["decay_rate"],
        )
    )
    config = model.get_config()
    atomic_write(
        out_dir / CONFIG_NAME, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=1))
    )
    settings = {**{k: config[k] for k in RESUME_KEYS if k in config}, **run_settings}
    write_settings(out_dir, settings)
    return model, {
        "epoch": 0,
        "history": [],
        "best": None,
        "best_epoch": None,
        "settings": settings,
    }


def _earlier_seed(out_dir: Path) -> int | None:
    """The seed of a run that stopped before its first checkpoint: a rerun repeats it."""
    try:
        seed = read_json(out_dir / SETTINGS_NAME, "a run's settings", "").get("seed")
    except (OSError, RunFolderError):  # nothing to resume: the file is written again
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


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
        **{
            k: config[k]
            for k in (
                "conv_filters",
                "conv_kernel",
                "primary_maps",
                "primary_dim",
                "primary_kernel",
                "primary_strides",
                "digit_dim",
                "decoder_units",
                "routing_iterations",
            )
        },
    )
    h, w = folder.image_size
    return "\n".join(
        [
            f"images: {folder.path}, {len(folder.files)} in {len(folder.class_names)} classes "
            f"({counts}), read as {h}x{w} {folder.color_mode}",
            shape.describe(),
        ]
    )
