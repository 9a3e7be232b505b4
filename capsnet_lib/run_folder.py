"""A training run's folder read back: its settings and architecture checked, its results kept.

``train`` writes ``config.json`` (the network's architecture) and ``settings.json`` (the run's
settings, its seed included) when a run starts, and each checkpoint's ``state.json`` keeps a
copy of the settings. On a rerun this module reads them back, naming the file and what to do
when one is missing, garbled or edited; puts back what a run stopped at an epoch's end did not
write yet (best weights, log, pruning, a deleted settings or config file); and refuses to start
a new run over a previous run's results unless asked (``overwrite``).
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import keras

from capsnet_lib.checkpoints import (
    BEST_NAME,
    CHECKPOINT_PREFIX,
    LOG_NAME,
    MODEL_NAME,
    STATE_NAME,
    atomic_write,
    prune_checkpoints,
    write_csv,
)

CONFIG_NAME = "config.json"
SETTINGS_NAME = "settings.json"
# Settings of the training, not of the network.
TRAINING_KEYS = (
    "batch_size",
    "limit",
    "learning_rate",
    "decay",
    "decay_steps",
    "decay_rate",
    "max_shift",
    "seed",
    "task",
    # a folder of images (task "folder"): which one, and how its images are read
    "data_dir",
    "image_size",
    "color_mode",
    "class_names",
    "validation_split",
    "images",  # its pictures (names, digests) and validation images: a changed folder is seen
)
# Settings a resumed run may not change: they shape the data, the schedule or the loss.
RESUME_KEYS = (
    *TRAINING_KEYS,
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
START_OVER = "start over there with --overwrite (train(..., overwrite=True))"


class RunFolderError(ValueError):
    """A run folder's file that cannot be used as it is; the message names it and what to do."""


def read_json(path: Path, holds: str, todo: str) -> dict:
    """The JSON object in ``path``, or a :class:`RunFolderError` naming the file and ``todo``."""
    try:
        value = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunFolderError(
            f"{path} is not valid JSON ({error}); it holds {holds}: {todo}"
        ) from None
    if not isinstance(value, dict):
        raise RunFolderError(
            f"{path} holds a JSON {type(value).__name__}, not an object of {holds}: {todo}"
        )
    return value


def _listify(value):
    return value if isinstance(value, list | tuple) else [value]


def check_same_architecture(
    saved: dict, wanted: dict, where: str, todo: str = "use the same settings, or another --out"
) -> None:
    """Raise ``ValueError`` if two CapsNet configs differ in anything that shapes the weights."""
    for key in ARCHITECTURE_KEYS:
        if (
            key in saved
            and key in wanted
            and list(_listify(saved[key])) != list(_listify(wanted[key]))
        ):
            raise ValueError(
                f"{where} holds a CapsNet with {key}={saved[key]}, not {wanted[key]}: {todo}"
            )


def write_settings(out_dir: Path, settings: dict) -> None:
    """Record a run's settings (``settings.json``), so that a resumed run can be checked."""
    text = json.dumps(settings, indent=1, default=str)
    atomic_write(Path(out_dir) / SETTINGS_NAME, lambda tmp: Path(tmp).write_text(text))


def recorded_settings(out_dir: Path, state: dict) -> dict:
    """The settings a run started with: ``settings.json``, else the checkpoint's copy.

    Returns ``{}`` for a run older than both records whose ``settings.json`` is gone.
    """
    path = Path(out_dir) / SETTINGS_NAME
    kept = state.get("settings")
    if not path.is_file():
        return dict(kept or {})
    todo = (
        "correct it, or delete it to take the settings from the last checkpoint"
        if kept
        else f"correct it or put the original back; or {START_OVER}"
    )
    recorded = read_json(path, "the run's settings", todo)
    seed = recorded.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RunFolderError(f"{path}: the seed must be a whole number, not {seed!r}: {todo}")
    edited = differences(kept or {}, recorded)
    if edited:  # the checkpoint's optimizer and data would not follow an edited file
        raise RunFolderError(
            f"{path} differs from the settings the checkpoint was trained with "
            f"({'; '.join(edited)}): a run's settings cannot change when it resumes; delete the "
            f"file to take the checkpoint's, or train into another --out"
        )
    return recorded


def missing_seed(out_dir: Path) -> RunFolderError:
    """The error for a resumed run whose seed is recorded nowhere."""
    return RunFolderError(
        f"{Path(out_dir) / SETTINGS_NAME} is missing or records no seed, and the checkpoint "
        "does not either: resume with --seed and the seed the run started with, put the "
        f"file back, or {START_OVER}"
    )


def differences(recorded: dict, wanted: dict) -> list[str]:
    """``"key before -> now"`` for each of :data:`RESUME_KEYS` that both have and that differ."""
    found = []
    for key in RESUME_KEYS:
        if key not in recorded or key not in wanted:
            continue
        before, now = recorded[key], wanted[key]
        same = before == now or (
            isinstance(before, float | int)
            and isinstance(now, float | int)
            and math.isclose(before, now, rel_tol=1e-12)
        )
        if not same:
            found.append(f"{key} {before} -> {now}")
    return found


def check_same_settings(recorded: dict, wanted: dict, out_dir: Path) -> None:
    """Refuse to resume with settings other than the run's, listing every difference."""
    found = differences(recorded, wanted)
    if found:
        raise ValueError(
            f"{out_dir} holds a run started with other settings ({'; '.join(found)}; "
            f"recorded in {SETTINGS_NAME}): resume with the run's settings, train into another "
            f"--out, or {START_OVER}"
        )


def previous_results(out_dir: Path) -> list[str]:
    """Names of the results of an earlier run in ``out_dir`` (log, best weights, checkpoints)."""
    out_dir = Path(out_dir)
    found = [name for name in (LOG_NAME, BEST_NAME) if (out_dir / name).exists()]
    found += sorted(p.name for p in out_dir.glob(f"{CHECKPOINT_PREFIX}[0-9][0-9][0-9][0-9]"))
    return found


def refuse_to_overwrite(out_dir: Path) -> None:
    """Raise :class:`RunFolderError` if a new run would replace an earlier run's results."""
    found = previous_results(out_dir)
    if found:
        raise RunFolderError(
            f"{out_dir} holds a previous run's results ({', '.join(found)}) but no checkpoint "
            "that can be resumed (epoch-NNNN/ with model.keras and state.json): train into "
            f"another --out, or {START_OVER}, which deletes them"
        )


def clear_run(out_dir: Path) -> None:
    """Delete a run's files from ``out_dir`` (``--overwrite``): checkpoints, log, weights, records."""
    out_dir = Path(out_dir)
    for folder in out_dir.glob(f"{CHECKPOINT_PREFIX}[0-9][0-9][0-9][0-9]"):
        shutil.rmtree(folder)
    for name in (LOG_NAME, BEST_NAME, CONFIG_NAME, SETTINGS_NAME):
        (out_dir / name).unlink(missing_ok=True)


def repair_run(out_dir: Path, folder: Path, state: dict, model) -> None:
    """Put back what a run stopped after ``folder``'s checkpoint did not write, or a user deleted.

    The best weights (if that epoch was the best), ``log.csv`` (from the checkpoint's
    history), ``config.json``, ``settings.json``; and old checkpoints are pruned. A rerun
    then leaves the folder as an uninterrupted run would.
    """
    out_dir = Path(out_dir)
    restore_best_weights(out_dir, folder, state, model)
    write_csv(out_dir / LOG_NAME, state["history"])
    config, config_path = model.get_config(), out_dir / CONFIG_NAME
    if config_path.is_file():
        todo = "put the original back, or delete it to have it written again from the checkpoint"
        saved = read_json(config_path, "the architecture of the run's network", todo)
        check_same_architecture(saved, config, f"{config_path} (the checkpoint does not)", todo)
    else:
        atomic_write(config_path, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=1)))
    if not (out_dir / SETTINGS_NAME).is_file() and state.get("settings"):
        write_settings(out_dir, state["settings"])
    prune_checkpoints(out_dir)


def restore_best_weights(out_dir: Path, folder: Path, state: dict, model) -> None:
    """Write ``best.weights.h5`` again where it is missing or older than its epoch's checkpoint.

    The run stopped between a best epoch's checkpoint and its best weights (the checkpoint is
    written first), or the file was deleted: it is rebuilt from that epoch's checkpoint while
    one is kept, and a warning says so when none is.
    """
    best_path, best_epoch = Path(out_dir) / BEST_NAME, state.get("best_epoch")
    if best_epoch == state["epoch"]:
        if (
            best_path.is_file()
            and best_path.stat().st_mtime >= (folder / STATE_NAME).stat().st_mtime
        ):
            return
        atomic_write(best_path, model.save_weights)
        return
    if best_epoch is None or best_path.is_file():
        return
    try:
        kept = keras.models.load_model(
            Path(out_dir) / f"{CHECKPOINT_PREFIX}{best_epoch:04d}" / MODEL_NAME
        )
    except Exception:  # noqa: BLE001 - pruned, or unreadable: nothing to rebuild it from
        warnings.warn(
            f"{best_path} (epoch {best_epoch}'s weights) is missing and no checkpoint holds "
            "that epoch any more: it is written again at the next epoch that beats its "
            f"val_accuracy ({state.get('best')})",
            stacklevel=3,
        )
        return
    atomic_write(best_path, kept.save_weights)
