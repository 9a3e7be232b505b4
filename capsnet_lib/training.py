"""Training a CapsNet with Keras ``fit``: the paper's schedule, checkpoints and resuming."""

from __future__ import annotations

import json
import math
import secrets
import sys
import zipfile
from pathlib import Path

import keras

from capsnet_lib.checkpoints import (
    BEST_NAME,
    STATE_NAME,
    EpochCheckpoint,
    RunLock,
    atomic_write,
    latest_checkpoint,
    remove_leftovers,
)
from capsnet_lib.data import epoch_seed, load_mnist, make_dataset
from capsnet_lib.model import CapsNet

CONFIG_NAME = "config.json"
SETTINGS_NAME = "settings.json"
# Settings a resumed run may not change: they shape the data, the schedule or the loss.
RESUME_KEYS = (
    "batch_size",
    "limit",
    "learning_rate",
    "decay",
    "decay_steps",
    "decay_rate",
    "max_shift",
    "seed",
    "reconstruction_weight",
    "precision",
    "m_plus",
    "m_minus",
    "lambda_",
    "weight_stddev",
)
ARCHITECTURE_KEYS = (
    "routing_iterations",
    "num_classes",
    "image_shape",
    "conv_filters",
    "conv_kernel",
    "primary_maps",
    "primary_dim",
    "primary_kernel",
    "primary_strides",
    "digit_dim",
    "decoder_units",
)


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


def check_same_architecture(saved: dict, wanted: dict, where: str) -> None:
    """Raise ``ValueError`` if two CapsNet configs differ in anything that shapes the weights."""
    for key in ARCHITECTURE_KEYS:
        if (
            key in saved
            and key in wanted
            and list(_listify(saved[key])) != list(_listify(wanted[key]))
        ):
            raise ValueError(
                f"{where} holds a CapsNet with {key}={saved[key]}, not {wanted[key]}: "
                "use the same settings, or another output folder"
            )


def restore_best_weights(out_dir: Path, folder: Path, state: dict, model) -> None:
    """Write ``best.weights.h5`` again if the run stopped between a best epoch's checkpoint
    and its best weights (the checkpoint is written first)."""
    best_path = Path(out_dir) / BEST_NAME
    if state.get("best_epoch") != state["epoch"]:
        return
    if best_path.is_file() and best_path.stat().st_mtime >= (folder / STATE_NAME).stat().st_mtime:
        return
    atomic_write(best_path, model.save_weights)


def write_settings(out_dir: Path, settings: dict) -> None:
    """Record a run's settings (``settings.json``), so that a resumed run can be checked."""
    text = json.dumps(settings, indent=1, default=str)
    atomic_write(Path(out_dir) / SETTINGS_NAME, lambda tmp: Path(tmp).write_text(text))


def read_settings(out_dir: Path) -> dict:
    """The settings a run started with (empty for runs older than the record)."""
    path = Path(out_dir) / SETTINGS_NAME
    return json.loads(path.read_text()) if path.is_file() else {}


def check_same_settings(recorded: dict, wanted: dict, out_dir: Path) -> None:
    """Refuse to resume with settings other than the run's, listing every difference."""
    differences = []
    for key in RESUME_KEYS:
        if key not in recorded:
            continue
        before, now = recorded[key], wanted.get(key, recorded[key])
        same = before == now or (
            isinstance(before, float | int)
            and isinstance(now, float | int)
            and math.isclose(before, now, rel_tol=1e-12)
        )
        if not same:
            differences.append(f"{key} {before} -> {now}")
    if differences:
        raise ValueError(
            f"{out_dir} holds a run started with other settings ({'; '.join(differences)}): "
            "resume with the run's settings, or train into another --out"
        )


def _listify(value):
    return value if isinstance(value, list | tuple) else [value]


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
    **settings,
) -> tuple[CapsNet, list[dict]]:
    """Train on MNIST, validating every epoch; run it again to resume after an interruption.

    Each finished epoch is checkpointed atomically in ``out_dir`` (model, optimizer,
    history), with ``log.csv`` and the best weights by validation accuracy
    (``best.weights.h5``). If ``out_dir`` already has a checkpoint, training resumes
    after its epoch with the optimizer's state; ``epochs`` is the total to reach.

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
        verbose: Keras ``fit`` verbosity (``"auto"``: a progress bar on a terminal,
            one line per epoch otherwise).
        **settings: Other :class:`~capsnet_lib.CapsNetConfig` fields.

    Returns:
        ``(model, history)``: the model after the last epoch and one dict per epoch.

    Introduced in chapter 7, training.
    """
    settings.setdefault("precision", "auto")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(out_dir):
        remove_leftovers(out_dir)
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
            **settings,
        }
        found = latest_checkpoint(out_dir)
        if found is not None:
            folder, state, model = found
            recorded = read_settings(out_dir)
            if seed is None and recorded.get("seed") is not None:
                seed = run_settings["seed"] = recorded["seed"]  # continue the run's stream
            check_same_settings(recorded, run_settings, out_dir)
            check_same_architecture(
                model.get_config(),
                {"routing_iterations": routing_iterations, **settings},
                str(out_dir),
            )
            initial_epoch, history, best = state["epoch"], state["history"], state["best"]
            best_epoch = state.get("best_epoch")
            restore_best_weights(out_dir, folder, state, model)
        else:
            if seed is None:  # drawn once and recorded, so that a resumed run continues it
                seed = run_settings["seed"] = secrets.randbelow(2**31)
            keras.utils.set_random_seed(seed)
            model = CapsNet(routing_iterations=routing_iterations, **settings)
            if init_weights is not None:
                model.set_weights(initial_weights(init_weights, model).get_weights())
            model.compile(optimizer=paper_optimizer(learning_rate, decay, decay_steps, decay_rate))
            atomic_write(
                out_dir / CONFIG_NAME,
                lambda tmp: Path(tmp).write_text(json.dumps(model.get_config(), indent=1)),
            )
            config = model.get_config()
            write_settings(
                out_dir, {**{k: config[k] for k in RESUME_KEYS if k in config}, **run_settings}
            )
            initial_epoch, history, best, best_epoch = 0, [], None, None
        if initial_epoch >= epochs:
            return model, history
        mnist = load_mnist(limit=limit)
        valid_data = make_dataset(mnist.x_valid, mnist.y_valid, batch_size, shuffle=False)
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        checkpoint = EpochCheckpoint(out_dir, history, best=best, best_epoch=best_epoch)
        for epoch in range(initial_epoch, epochs):
            # Each epoch's order and shifts follow from (seed, epoch): two runs with one seed
            # see the same batches, and a resumed run goes on where the first one stopped.
            train_data = make_dataset(
                mnist.x_train,
                mnist.y_train,
                batch_size,
                shuffle=True,
                max_shift=max_shift,
                seed=seed,
                epoch=epoch,
            )
            keras.utils.set_random_seed(epoch_seed(seed, epoch))
            model.fit(
                train_data,
                validation_data=valid_data,
                epochs=epoch + 1,
                initial_epoch=epoch,
                callbacks=[checkpoint, RunProgbar(epochs)],
                shuffle=False,  # the dataset shuffles itself
                verbose=verbose,
            )
        return model, checkpoint.history


def initial_weights(source: str | Path, like: CapsNet) -> CapsNet:
    """The model whose weights a fine-tuning run starts from (same architecture as ``like``)."""
    from capsnet_lib.pretrained import load_pretrained

    model = load_pretrained() if str(source) == "pretrained" else load_trained(source)
    wanted = like.get_config()
    check_same_architecture(model.get_config(), wanted, str(source))
    return model


def load_trained(path: str | Path, routing_iterations: int | None = None) -> CapsNet:
    """Load a CapsNet from a ``.keras`` file, a ``.weights.h5`` file or a training folder.

    A ``.weights.h5`` takes its architecture from ``config.json`` beside it when there
    is one; a mismatch between weights and architecture is a ``ValueError``.

    Introduced in chapter 7, training.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "best.weights.h5"
    if not path.is_file():
        raise FileNotFoundError(f"no weights at {path}")
    if path.suffix == ".keras":
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{path} is not a model file of this library (a .keras file is a zip archive; "
                "this one is not: truncated or another format)"
            )
        try:
            return keras.models.load_model(path)
        except (OSError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{path} is not a model file of this library ({error}); use a .keras file "
                "that capsnet_lib or Keras wrote"
            ) from None
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"{path}: expected a .keras or .weights.h5 file")
    config_path = path.parent / CONFIG_NAME
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    config.pop("name", None)
    if routing_iterations is not None:
        config["routing_iterations"] = routing_iterations
    config.setdefault("routing_iterations", 3)
    model = CapsNet(**config)
    try:
        model.load_weights(path)
    except OSError as error:  # h5py: "file signature not found", truncated files, ...
        raise ValueError(
            f"{path} is not a weights file of this library (it cannot be read as HDF5: "
            f"{str(error).splitlines()[0]}); use a best.weights.h5 or .keras file that "
            "capsnet_lib wrote"
        ) from None
    except (ValueError, KeyError) as error:
        raise ValueError(
            f"{path} does not fit a CapsNet with {config_path.name if config else 'default'} "
            f"settings: {str(error).splitlines()[0]}"
        ) from None
    return model
