"""Epoch checkpoints written atomically, and resuming from the last finished epoch.

What a run leaves in its folder: ``epoch-NNNN/`` (the last two finished epochs: model with
optimizer state, and ``state.json``), ``log.csv``, ``best.weights.h5``, ``config.json``,
``settings.json`` and, while it runs, ``.lock``. Every file is written under a temporary
name, flushed to disk and renamed into place, so a ``kill -9`` or a full disk at any moment
leaves the previous version or the new one, never half of one; and if the newest checkpoint
is unreadable all the same, :func:`latest_checkpoint` falls back to the one before it.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np

CHECKPOINT_PREFIX = "epoch-"
LOG_NAME = "log.csv"
BEST_NAME = "best.weights.h5"
STATE_NAME = "state.json"
MODEL_NAME = "model.keras"
LOCK_NAME = ".lock"
KEEP_CHECKPOINTS = 2  # the newest, and one to fall back on if it cannot be read
LEFTOVER_PATTERNS = (".checkpoint-*", ".tmp-*")


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries, to the disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() else 0)
    try:
        handle = os.open(path, flags)
    except OSError:  # some systems cannot open folders
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` (and the folders themselves) to the disk."""
    path = Path(path)
    if path.is_dir():
        for child in path.rglob("*"):
            fsync_path(child)
    fsync_path(path)


def atomic_write(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then move the result over ``path`` in one step."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".tmp-{path.stem}-", suffix="".join(path.suffixes)
    )
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private
        fsync_path(Path(tmp))  # on the disk before the rename makes it visible
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_csv(path: Path, history: list[dict]) -> None:
    """Write the per-epoch history as a CSV log, atomically."""
    columns = list(history[0]) if history else ["epoch"]

    def write(tmp):
        with open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=columns)
            writer.writeheader()
            writer.writerows(history)

    atomic_write(path, write)


def finished_checkpoints(out_dir: Path) -> list[Path]:
    """Complete checkpoint folders in ``out_dir``, oldest first."""
    folders = sorted(Path(out_dir).glob(f"{CHECKPOINT_PREFIX}[0-9][0-9][0-9][0-9]"))
    return [f for f in folders if (f / STATE_NAME).is_file() and (f / MODEL_NAME).is_file()]


def latest_checkpoint(out_dir: Path):
    """``(folder, state, model)`` of the newest checkpoint that loads, or ``None``.

    A checkpoint that cannot be read (a truncated write, a full disk, a damaged or
    hand-edited file) is skipped with a warning naming it, and the one before it is used.
    """
    for folder in reversed(finished_checkpoints(out_dir)):
        try:
            state = read_state(folder / STATE_NAME)
            model = keras.models.load_model(folder / MODEL_NAME)
        except Exception as error:  # any decode error: fall back to the previous one
            warnings.warn(
                f"checkpoint {folder} cannot be read ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); using the one before it",
                stacklevel=2,
            )
            continue
        return folder, state, model
    return None


def read_state(path: Path) -> dict:
    """A checkpoint's ``state.json``, with a ``ValueError`` if it lacks what a resume needs."""
    state = json.loads(Path(path).read_text())
    if not (
        isinstance(state, dict)
        and isinstance(state.get("epoch"), int)
        and isinstance(state.get("history"), list)
        and len(state["history"]) == state["epoch"]
    ):
        raise ValueError(f"{path} does not hold an epoch and one history row per epoch")
    state.setdefault("best", None)
    state.setdefault("best_epoch", None)
    return state


def prune_checkpoints(out_dir: Path) -> None:
    """Delete all but the newest ``KEEP_CHECKPOINTS`` finished checkpoints."""
    for old in finished_checkpoints(out_dir)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Remove the temporary files and folders a killed run left behind; return them."""
    found = [p for pattern in LEFTOVER_PATTERNS for p in Path(out_dir).glob(pattern)]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


class RunLock:
    """An exclusive lock on a run's folder: a second run into it is refused at once.

    The lock is an ``flock`` on ``out_dir/.lock`` holding the owner's process id; the
    system releases it when the process ends, even after ``kill -9``.
    """

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / LOCK_NAME
        self.handle = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # Windows: no flock; runs are not locked there
            return self
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            owner = self.handle.read().strip() or "unknown"
            self.handle.close()
            self.handle = None
            raise RuntimeError(
                f"{self.path.parent} is in use by another training run (process {owner}); "
                "wait for it to finish, stop it, or train into another --out"
            ) from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()  # releases the flock
            self.handle = None
        return False


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN or infinite: a run that diverged."""


def non_finite_weights(model) -> list[str]:
    """Paths of ``model``'s variables that hold a NaN or an infinity."""
    return [v.path for v in model.weights if not np.isfinite(np.asarray(v.numpy())).all()]


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raise :class:`TrainingDiverged` at the first batch whose loss is NaN or infinite.

    Keras's ``TerminateOnNaN`` only asks ``fit`` to stop, and ``fit`` still ends the epoch:
    its callbacks (the checkpoint, the best weights) would see the diverged weights.

    Introduced in chapter 7, training.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDiverged(
                f"the loss became {float(loss)} at epoch {self.epoch + 1}, step {batch + 1}"
            )


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: save model + optimizer, the history, the CSV log and the best weights.

    A checkpoint is a folder ``epoch-NNNN`` built under a temporary name and renamed
    into place, so a ``kill -9`` at any moment leaves either the previous checkpoint
    or the new one, never half of one. The best weights, the CSV log (rewritten from the
    same history) and the pruning of old checkpoints come after it, so whatever stops the
    run between them can be redone from the checkpoint (``train`` does, on a rerun). An
    epoch whose logs or weights hold a NaN or an infinity is never saved: it raises
    :class:`TrainingDiverged` and leaves the folder as the previous epoch left it.

    Args:
        out_dir: Where checkpoints, ``log.csv`` and ``best.weights.h5`` go.
        history: Rows of earlier epochs (when resuming).
        monitor: Validation metric that picks the best weights (higher is better).
        best: Its best value so far.
        best_epoch: The epoch that reached it.
        settings: The run's settings, kept in each checkpoint's ``state.json``.

    Introduced in chapter 7, training.
    """

    def __init__(
        self,
        out_dir,
        history=None,
        monitor="val_accuracy",
        best=None,
        best_epoch=None,
        settings=None,
    ):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.history = list(history or [])
        self.monitor = monitor
        self.best = best
        self.best_epoch = best_epoch
        self.settings = settings

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        bad = [f"{k} {v}" for k, v in row.items() if not math.isfinite(v)]
        bad_weights = non_finite_weights(self.model)
        if bad or bad_weights:
            what = "; ".join(bad) or f"non-finite weights in {bad_weights[0]}"
            raise TrainingDiverged(f"epoch {epoch + 1} ended with {what}")
        self.history.append(row)
        value = row.get(self.monitor)
        improved = value is not None and (self.best is None or value > self.best)
        if improved:
            self.best, self.best_epoch = value, epoch + 1
        state = {
            "epoch": epoch + 1,
            "history": self.history,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "settings": self.settings,
        }
        tmp = Path(tempfile.mkdtemp(dir=self.out_dir, prefix=".checkpoint-"))
        try:
            self.model.save(tmp / MODEL_NAME)
            (tmp / STATE_NAME).write_text(json.dumps(state, indent=1, default=str))
            fsync_tree(tmp)
            target = self.out_dir / f"{CHECKPOINT_PREFIX}{epoch + 1:04d}"
            if target.exists():  # an unreadable checkpoint of this epoch, trained again
                stale = Path(tempfile.mkdtemp(dir=self.out_dir, prefix=".checkpoint-stale-"))
                os.replace(target, stale / target.name)
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
            fsync_path(self.out_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # Only once the epoch's checkpoint is in place: the best weights and the log.
        if improved:
            atomic_write(self.out_dir / BEST_NAME, self.model.save_weights)
        write_csv(self.out_dir / LOG_NAME, self.history)
        prune_checkpoints(self.out_dir)
