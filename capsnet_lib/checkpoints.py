"""Epoch checkpoints written atomically, and resuming from the last finished epoch."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras

CHECKPOINT_PREFIX = "epoch-"
LOG_NAME = "log.csv"
BEST_NAME = "best.weights.h5"
STATE_NAME = "state.json"
MODEL_NAME = "model.keras"


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
        os.replace(tmp, path)
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


def latest_checkpoint(out_dir: Path) -> tuple[Path, dict] | None:
    """The newest finished checkpoint and its state (``epoch``, ``history``, ``best``)."""
    folders = finished_checkpoints(out_dir)
    if not folders:
        return None
    folder = folders[-1]
    return folder, json.loads((folder / STATE_NAME).read_text())


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: save model + optimizer, the history, the CSV log and the best weights.

    A checkpoint is a folder ``epoch-NNNN`` built under a temporary name and renamed
    into place, so a ``kill -9`` at any moment leaves either the previous checkpoint
    or the new one, never half of one. The CSV log is rewritten from the same history,
    so it never holds an epoch the checkpoint lacks.

    Args:
        out_dir: Where checkpoints, ``log.csv`` and ``best.weights.h5`` go.
        history: Rows of earlier epochs (when resuming).
        monitor: Validation metric that picks the best weights (higher is better).
        best: Its best value so far.

    Introduced in chapter 7, training.
    """

    def __init__(self, out_dir, history=None, monitor="val_accuracy", best=None):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.history = list(history or [])
        self.monitor = monitor
        self.best = best

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.history.append(row)
        value = row.get(self.monitor)
        if value is not None and (self.best is None or value > self.best):
            self.best = value
            atomic_write(self.out_dir / BEST_NAME, self.model.save_weights)
        state = {"epoch": epoch + 1, "history": self.history, "best": self.best}
        tmp = Path(tempfile.mkdtemp(dir=self.out_dir, prefix=".checkpoint-"))
        try:
            self.model.save(tmp / MODEL_NAME)
            (tmp / STATE_NAME).write_text(json.dumps(state, indent=1))
            os.replace(tmp, self.out_dir / f"{CHECKPOINT_PREFIX}{epoch + 1:04d}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        write_csv(self.out_dir / LOG_NAME, self.history)
        for old in finished_checkpoints(self.out_dir)[:-1]:
            shutil.rmtree(old, ignore_errors=True)
