"""Record chapter 6's pair of trainings, with and without the reconstruction loss, once.

Two `cl.CapsNet` trained alike (the walkthrough's batches of 50, Adam, the same seed and so
the same batches in the same order), for a few epochs on the 55,000 training digits:

- **with**: the paper's loss, margin + 0.0005 x the summed squared error of the decoder;
- **without**: the margin loss alone reaches the capsules. Its decoder still trains, on
  poses it cannot change (``tf.stop_gradient``): it reads what the capsules carry without
  being asked to, so the two decoders' errors say what the reconstruction loss put there.

Then both are measured on the 10,000 test digits (accuracy; reconstruction error, the
decoder masked by the label), and the record keeps the reconstructions of a few test digits
for the chapter's figure. Written to ``capsnet_lib/measurements/decoder-pair.json``::

    python tools/record_decoder_pair.py            # an hour on two busy CPU cores
    python tools/record_decoder_pair.py --trial    # a few steps, to /tmp: a minute

Resumable: each epoch's weights and optimizer state are kept in ``runs/decoder-pair/``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "capsnet_lib" / "measurements" / "decoder-pair.json"
EPOCHS, BATCH, SEED, VALIDATION = 2, 50, 42, 5000
SHOWN = 8  # test digits whose reconstructions the record keeps


def save_checkpoint(folder: Path, epoch: int, model, optimizer) -> None:
    """The weights and the optimizer's state after ``epoch``, in files of their own.

    ``state.json``, written after them, names the epoch to resume from: a kill before it
    leaves the previous checkpoint in force, a kill after it the new one, never a mix.
    """
    model.save_weights(folder / "model.part.weights.h5")
    (folder / "model.part.weights.h5").replace(folder / f"model-{epoch}.weights.h5")
    arrays = {f"v{i}": v.numpy() for i, v in enumerate(optimizer.variables)}
    np.savez(folder / "optimizer.part.npz", **arrays)
    (folder / "optimizer.part.npz").replace(folder / f"optimizer-{epoch}.npz")


def remove_checkpoint(folder: Path, epoch: int) -> None:
    for path in (folder / f"model-{epoch}.weights.h5", folder / f"optimizer-{epoch}.npz"):
        path.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(text)
    partial.replace(path)


def make_model(reconstructs: bool):
    """A CapsNet whose capsules feel the reconstruction loss, or one whose do not."""
    import tensorflow as tf

    import capsnet_lib as cl

    class MarginOnlyCapsNet(cl.CapsNet):
        """The decoder trains on the poses, but its loss sends them no gradient."""

        def _losses_of_checked(self, images, labels, training):
            poses = self.digit_poses(images, training=training)
            lengths = cl.safe_norm(poses, axis=-1)
            masked = self.mask(poses, labels) if training else self.mask(poses)
            reconstructions = self.decoder(tf.stop_gradient(masked))
            margin = cl.margin_loss(labels, lengths)
            reconstruction = cl.reconstruction_loss(images, reconstructions)
            return margin + 0.0005 * reconstruction, margin, reconstruction, lengths

    return cl.CapsNet() if reconstructs else MarginOnlyCapsNet()


def train(name: str, reconstructs: bool, mnist, steps_per_epoch: int, state_dir: Path):
    """Train one of the pair, an epoch at a time, saved after each; return it and its log."""
    import keras

    import capsnet_lib as cl

    keras.utils.set_random_seed(SEED)
    model = make_model(reconstructs)
    model.compile(optimizer=keras.optimizers.Adam())
    model.compute_losses(mnist.x_train[:2], mnist.y_train[:2], training=True)  # build all
    model.optimizer.build(model.trainable_variables)
    folder = state_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "state.json"
    state = {"epochs": 0, "validation": [], "seconds": 0.0}
    if state_file.is_file():
        state = json.loads(state_file.read_text())
        model.load_weights(folder / f"model-{state['epochs']}.weights.h5")
        saved = np.load(folder / f"optimizer-{state['epochs']}.npz")
        for i, variable in enumerate(model.optimizer.variables):
            variable.assign(saved[f"v{i}"])
        print(f"== {name}: resumed after epoch {state['epochs']}", flush=True)
    n_valid = min(VALIDATION, len(mnist.x_valid))
    for epoch in range(state["epochs"], EPOCHS):
        started = time.time()
        batches = cl.make_dataset(
            mnist.x_train, mnist.y_train, BATCH, seed=SEED, drop_remainder=True, epoch=epoch
        ).take(steps_per_epoch)
        print(f"== {name}: epoch {epoch + 1}/{EPOCHS}", flush=True)
        model.fit(batches, epochs=1, verbose=2)
        logs = model.evaluate(
            mnist.x_valid[:n_valid],
            mnist.y_valid[:n_valid],
            batch_size=100,
            verbose=0,
            return_dict=True,
        )
        state["validation"].append(round(float(logs["accuracy"]), 4))
        state["epochs"], state["seconds"] = epoch + 1, state["seconds"] + time.time() - started
        save_checkpoint(folder, epoch + 1, model, model.optimizer)
        write_atomically(state_file, json.dumps(state))  # the checkpoint counts from here
        remove_checkpoint(folder, epoch)
        print(f"== {name}: validation {state['validation'][-1]:.2%}", flush=True)
    return model, state


def measure(model, mnist) -> dict:
    """Predictions, accuracy, margin and reconstruction loss on the test digits.

    The decoder is masked by the label, as in training: its error says how well the poses of
    the right capsule describe the digit.
    """
    predictions, margins, errors = [], [], []
    for start in range(0, len(mnist.x_test), 100):
        images, labels = mnist.x_test[start : start + 100], mnist.y_test[start : start + 100]
        _, margin, reconstruction, lengths = model.compute_losses(images, labels, training=True)
        predictions += np.argmax(lengths, axis=1).tolist()
        margins.append(float(margin))
        errors.append(float(reconstruction))
    correct = int(np.sum(np.asarray(predictions) == mnist.y_test))
    shown = model.reconstruct(model.digit_poses(mnist.x_test[:SHOWN]), mnist.y_test[:SHOWN])
    return {
        "test_correct": correct,
        "test_accuracy": correct / len(mnist.x_test),
        "test_margin_loss": round(float(np.mean(margins)), 5),
        "test_reconstruction_loss": round(float(np.mean(errors)), 3),
        # per test digit, 1 where it is read right: for the pair's paired comparison
        "right": "".join(np.where(np.asarray(predictions) == mnist.y_test, "1", "0")),
        "shown": np.round(255 * np.asarray(shown)[..., 0]).astype(int).tolist(),
    }


def hardware(tf) -> str:
    """The machine the pair trained on, as the record states it."""
    gpus = tf.config.list_physical_devices("GPU")
    cpu = platform.processor() or "CPU"
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    ):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()}-core {cpu}, " + (f"{len(gpus)} GPU(s)" if gpus else "no GPU")


def main() -> None:
    global EPOCHS
    trial = "--trial" in sys.argv
    import keras
    import tensorflow as tf

    import capsnet_lib as cl

    mnist = cl.load_mnist(limit=600 if trial else None)
    if trial:
        EPOCHS = 1
    steps = len(mnist.x_train) // BATCH
    out = Path("/tmp/decoder-pair-trial.json") if trial else OUT
    state_dir = Path("/tmp/decoder-pair-trial") if trial else ROOT / "runs" / "decoder-pair"
    record = {
        "what": "chapter 6's pair: a CapsNet trained with and without the reconstruction loss",
        "epochs": EPOCHS,
        "batch_size": BATCH,
        "steps_per_epoch": steps,
        "seed": SEED,
        "optimizer": "Adam, Keras defaults",
        "validation_digits": min(VALIDATION, len(mnist.x_valid)),
        "test_digits": len(mnist.x_test),
        "shown_labels": [int(y) for y in mnist.y_test[:SHOWN]],
        "shown_images": np.round(255 * mnist.x_test[:SHOWN, ..., 0]).astype(int).tolist(),
        "hardware": hardware(tf),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    for name, reconstructs in (("with", True), ("without", False)):
        model, state = train(name, reconstructs, mnist, steps, state_dir)
        record[name] = {
            "validation_accuracy": state["validation"],
            "training_seconds": round(state["seconds"]),
            **measure(model, mnist),
        }
        print(f"== {name}: test {record[name]['test_accuracy']:.2%}", flush=True)
    write_atomically(out, json.dumps(record) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
