"""Record chapter 7's full-mode training of `MyCapsNet`, once, for the chapter to show.

Runs the chapter's own code cells (the reader's pieces, `MyCapsNet`, the hand-written
`train_step`, the validation and the loop) with quick mode off, that is on the walkthrough's
schedule (10 epochs of 1,100 steps of 50 digits), then measures the trained network on all
10,000 test digits, and writes `capsnet_lib/measurements/mycapsnet-full.json`:

    python tools/record_chapter7_run.py            # hours on a CPU, minutes on a GPU
    python tools/record_chapter7_run.py --trial    # quick mode, to /tmp: a minute

The record keeps the source of every cell it ran, so the chapter can check that the code on
the page is the code that was recorded (`capsnet_lib.recorded.same_code`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_training.ipynb"
OUT = ROOT / "capsnet_lib" / "measurements" / "mycapsnet-full.json"
# run as they are: setup, your pieces, MyCapsNet, building it, train_step, validation, schedule
CELLS = ("07-03", "07-p1", "07-p3", "07-p5", "07-t1", "07-t3", "07-t5")
# kept in the record: the code that trains, with the loop 07-t6 (driven by epochs here)
RECORDED = ("07-p1", "07-p3", "07-t1", "07-t3", "07-t5", "07-t6")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def run_cells(cells: dict, ids: tuple) -> dict:
    namespace: dict = {"__name__": "__main__"}
    for cell_id in ids:
        print(f"== running cell {cell_id}", flush=True)
        exec(compile(cells[cell_id], f"<{cell_id}>", "exec"), namespace)
    return namespace


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(text)
    partial.replace(path)  # a reader never sees half a file


def save_checkpoint(folder: Path, step: int, model, optimizer) -> None:
    """The weights and the optimizer's state after ``step``, in files of their own.

    ``state.json``, written after them, names the step to resume from: a kill before it
    leaves the previous checkpoint in force, a kill after it the new one, never a mix.
    """
    model.save_weights(folder / "model.part.weights.h5")
    (folder / "model.part.weights.h5").replace(folder / f"model-{step}.weights.h5")
    arrays = {f"v{i}": v.numpy() for i, v in enumerate(optimizer.variables)}
    np.savez(folder / "optimizer.part.npz", **arrays)
    (folder / "optimizer.part.npz").replace(folder / f"optimizer-{step}.npz")


def remove_checkpoint(folder: Path, step: int) -> None:
    for path in (folder / f"model-{step}.weights.h5", folder / f"optimizer-{step}.npz"):
        path.unlink(missing_ok=True)


def gpu_or_cpu() -> str:
    """The hardware the run used, as the record states it."""
    import tensorflow as tf

    gpus = [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    return f"{len(gpus)} GPU(s)" if gpus else "no GPU"


def train_resumably(ns: dict, state_dir: Path) -> float:
    """The loop of cell 07-t6, one epoch at a time, saved after each: a kill loses one epoch.

    The model, the step, the validation and the batches are the chapter's; only the driving
    of the loop differs, so that a run of hours survives an interruption.
    """
    import keras
    import numpy as np

    model, optimizer, train_step = ns["my_model"], ns["optimizer"], ns["train_step"]
    steps, every, n_valid = ns["steps"], ns["validate_every"], ns["n_valid"]
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "state.json"
    state = {"step": 0, "step_losses": [], "validation": {}, "seconds": 0.0}
    optimizer.build(model.trainable_variables)
    if state_file.is_file():
        state = json.loads(state_file.read_text())
        model.load_weights(state_dir / f"model-{state['step']}.weights.h5")
        saved = np.load(state_dir / f"optimizer-{state['step']}.npz")
        for i, variable in enumerate(optimizer.variables):
            variable.assign(saved[f"v{i}"])
        print(f"== resumed after step {state['step']:,}", flush=True)
    batches = ns["train_batches"].skip(state["step"]).take(steps - state["step"])
    progress = keras.utils.Progbar(steps, stateful_metrics=["val_accuracy"])
    started = time.time() - state["seconds"]
    for step, (images, labels) in enumerate(batches, start=state["step"] + 1):
        loss = float(train_step(images, labels))
        state["step_losses"].append(loss)
        logs = [("loss", loss)]
        if step % every == 0:
            state["validation"][str(step)] = ns["validation_accuracy"](model, n_valid)
            logs.append(("val_accuracy", state["validation"][str(step)]))
            previous = state["step"]
            state["step"], state["seconds"] = step, time.time() - started
            save_checkpoint(state_dir, step, model, optimizer)
            write_atomically(state_file, json.dumps(state))  # the checkpoint counts from here
            remove_checkpoint(state_dir, previous)
        progress.update(step, logs)
    ns["step_losses"] = state["step_losses"]
    ns["validation"] = {int(k): v for k, v in state["validation"].items()}
    return time.time() - started


def main() -> None:
    trial = "--trial" in sys.argv  # quick mode, written to /tmp: checks this script in a minute
    out = Path("/tmp/mycapsnet-trial.json") if trial else OUT
    state_dir = Path("/tmp/mycapsnet-trial") if trial else ROOT / "runs" / "chapter7-full"
    if trial:
        os.environ["CAPSNET_QUICK"] = "1"
    else:
        os.environ["CAPSNET_QUICK"] = "0"  # full mode: the walkthrough's schedule
    cells = {cell.id: cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells}
    ns = run_cells(cells, CELLS)
    seconds = train_resumably(ns, state_dir)
    mnist, model = ns["mnist"], ns["my_model"]
    correct = 0
    for start in range(0, len(mnist.x_test), 100):
        lengths, _ = model(mnist.x_test[start : start + 100])
        correct += int(np.sum(np.argmax(lengths, axis=1) == mnist.y_test[start : start + 100]))
    losses = np.asarray(ns["step_losses"], dtype=float)
    every = 50 if len(losses) % 50 == 0 else 1
    import keras
    import tensorflow as tf

    record = {
        "what": "chapter 7's MyCapsNet trained in full mode: the walkthrough's schedule",
        "batch_size": int(ns["batch_size"]),
        "steps": int(ns["steps"]),
        "steps_per_epoch": int(ns["validate_every"]),
        "validation_digits": int(ns["n_valid"]),
        "validation_accuracy": {str(k): float(v) for k, v in ns["validation"].items()},
        "loss_every": every,
        "mean_loss": [round(float(x), 5) for x in losses.reshape(-1, every).mean(axis=1)],
        "first_step_loss": float(losses[0]),
        "test_digits": len(mnist.x_test),
        "test_correct": correct,
        "test_accuracy": correct / len(mnist.x_test),
        "training_seconds": round(seconds),
        "hardware": f"{os.cpu_count()}-core {cpu_name()}, {gpu_or_cpu()}",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "code": {cell_id: cells[cell_id] for cell_id in RECORDED},
    }
    write_atomically(out, json.dumps(record, indent=1) + "\n")
    print(f"test accuracy {record['test_accuracy']:.2%} after {seconds / 3600:.1f} h; {out}")


if __name__ == "__main__":
    main()
