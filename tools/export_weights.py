"""Export the best weights of a training run as the shipped float16 pretrained weights.

    python tools/export_weights.py runs/pretrained [--epochs-note "..."]

Picks ``best.weights.h5`` (chosen by validation accuracy), writes
``capsnet_lib/weights/capsnet-mnist.npz`` + ``.json`` (config, SHA-256, validation
accuracy, epochs) and copies the run's ``log.csv`` beside them.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from capsnet_lib.plotting import read_log
from capsnet_lib.pretrained import WEIGHTS_DIR, export_pretrained
from capsnet_lib.training import load_trained


def main() -> None:
    """Export ``RUN/best.weights.h5`` and ``RUN/log.csv`` into the package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--command", default="", help="the training command, for the record")
    args = parser.parse_args()
    model = load_trained(args.run)
    log = read_log(args.run / "log.csv")
    best = int(log["val_accuracy"].argmax())
    export_pretrained(
        model,
        WEIGHTS_DIR,
        chosen_epoch=int(log["epoch"][best]),
        epochs_trained=int(log["epoch"][-1]),
        val_accuracy=float(log["val_accuracy"][best]),
        command=args.command,
    )
    shutil.copy(args.run / "log.csv", WEIGHTS_DIR / "capsnet-mnist-log.csv")
    print(
        f"exported epoch {int(log['epoch'][best])} (val_accuracy {log['val_accuracy'][best]:.4f})"
    )


if __name__ == "__main__":
    main()
