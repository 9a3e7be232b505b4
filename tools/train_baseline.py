"""Train chapter 9's CNN baseline the way the CapsNet was trained, and ship its weights.

    nice -n 19 python tools/train_baseline.py --epochs 12
    python tools/train_baseline.py --epochs 1 --limit 5000 --no-export   # time an epoch first

Same data as the CapsNet: the 55,000 training images, shifted by up to 2 pixels in each
direction (``capsnet_lib.data.make_dataset(max_shift=2)``), batch 128, Adam from 1e-3 with an
exponential decay. The weights of the last epoch are written as float16 to
``capsnet_lib/weights/cnn-baseline.npz`` with a JSON (architecture, SHA-256, the command,
epochs, seconds per epoch, validation accuracy per epoch, test accuracy of the float32 and of
the shipped float16 weights, parameter count, hardware).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import keras
import numpy as np

import capsnet_lib  # noqa: F401  (starts TensorFlow quietly)
from capsnet_lib.baseline import (
    CONV_FILTERS,
    DENSE_UNITS,
    DROPOUT,
    cnn_baseline,
    compile_baseline,
    export_baseline,
    load_baseline,
)
from capsnet_lib.data import load_mnist, make_dataset
from capsnet_lib.precision import cpu_model
from capsnet_lib.pretrained import WEIGHTS_DIR


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []  # across fit() calls: the script fits one epoch per call

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self.start, 1))


def accuracy(model, images, labels) -> float:
    """Fraction of ``images`` whose largest logit is the label."""
    logits = model.predict(images, batch_size=500, verbose=0)
    return float(np.mean(logits.argmax(axis=1) == labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--decay-rate", type=float, default=0.8, help="per epoch")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, help="train on the first N images (timing runs)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    mnist = load_mnist()
    x_train, y_train = mnist.x_train[: args.limit], mnist.y_train[: args.limit]
    steps = int(np.ceil(len(x_train) / args.batch_size))
    schedule = keras.optimizers.schedules.ExponentialDecay(
        args.learning_rate, decay_steps=steps, decay_rate=args.decay_rate
    )
    model = compile_baseline(cnn_baseline(), schedule)
    timer = EpochTimer()
    history = {"val_accuracy": []}
    for epoch in range(args.epochs):
        data = make_dataset(
            x_train, y_train, args.batch_size, max_shift=2, seed=args.seed, epoch=epoch
        )
        result = model.fit(
            data,
            validation_data=(mnist.x_valid, mnist.y_valid),
            initial_epoch=epoch,
            epochs=epoch + 1,
            callbacks=[timer],
            verbose=2,
        )
        history["val_accuracy"].append(round(float(result.history["val_accuracy"][-1]), 4))
        print(f"epoch {epoch + 1}: {timer.seconds[-1]} s", flush=True)

    test32 = accuracy(model, mnist.x_test, mnist.y_test)
    print(f"test accuracy (float32): {test32:.4f}; seconds per epoch: {timer.seconds}")
    if args.no_export:
        return
    facts = {
        "conv_filters": list(CONV_FILTERS),
        "dense_units": list(DENSE_UNITS),
        "dropout": DROPOUT,
        "parameters": int(model.count_params()),
        "command": "nice -n 19 python tools/train_baseline.py " + shlex.join(sys.argv[1:]),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "schedule": {
            "learning_rate": args.learning_rate,
            "decay_rate_per_epoch": args.decay_rate,
            "max_shift": 2,
            "seed": args.seed,
        },
        "train_images": len(x_train),
        "epoch_seconds": timer.seconds,
        "total_minutes": round(sum(timer.seconds) / 60, 1),
        "val_accuracy": history["val_accuracy"],
        "test_accuracy_float32": round(test32, 4),
        "hardware": f"{cpu_model()}, 2 cores shared with other work, no GPU; "
        f"Keras {keras.__version__}",
    }
    export_baseline(model, args.out, **facts)
    test16 = accuracy(load_baseline(args.out), mnist.x_test, mnist.y_test)
    export_baseline(model, args.out, **facts, test_accuracy=round(test16, 4))
    print(f"test accuracy (shipped float16): {test16:.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
