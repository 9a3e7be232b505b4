"""Ship a MultiMNIST training run's best weights (float16, SHA-256) with their record.

    python tools/export_multimnist.py runs/multimnist --command "python -m capsnet_lib ..." \
        --hardware "2-core CPU ..." [--console runs/multimnist.out]

Takes ``best.weights.h5`` (chosen by validation accuracy on the fixed validation pairs, never
on the test pairs), writes ``capsnet_lib/weights/capsnet-multimnist.npz`` + ``.json`` (config,
SHA-256, the run's facts, the test accuracy of the float16 weights on the 10,000 fixed test
pairs) and copies the run's ``log.csv`` beside them as ``capsnet-multimnist-log.csv``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import numpy as np

from capsnet_lib.multimnist import load_multimnist
from capsnet_lib.multimnist_model import (
    META_NAME,
    WEIGHTS_NAME,
    MultiMnistCapsNet,
    evaluate_pairs,
    load_pretrained_multimnist,
)
from capsnet_lib.plotting import read_log
from capsnet_lib.pretrained import WEIGHTS_DIR, sha256_of, variable_key, write_npz

LOG_NAME = "capsnet-multimnist-log.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--command", required=True)
    parser.add_argument("--hardware", required=True)
    parser.add_argument("--console", type=Path)
    args = parser.parse_args()

    config = json.loads((args.run / "config.json").read_text())
    settings = json.loads((args.run / "settings.json").read_text())
    config.pop("name", None)
    model = MultiMnistCapsNet(**{**config, "precision": "float32"})
    model.load_weights(args.run / "best.weights.h5")
    arrays = {variable_key(v): np.asarray(v.numpy()).astype(np.float16) for v in model.weights}
    path = write_npz(WEIGHTS_DIR / WEIGHTS_NAME, arrays)

    log = read_log(args.run / "log.csv")
    best = int(log["val_accuracy"].argmax())
    epoch_images = 55_000
    meta = {
        "config": config,
        "sha256": sha256_of(path),
        "command": args.command,
        "hardware": args.hardware,
        "chosen_epoch": int(log["epoch"][best]),
        "epochs_trained": int(log["epoch"][-1]),
        "pairs_seen": int(log["epoch"][-1]) * epoch_images,
        "val_accuracy": float(log["val_accuracy"][best]),
        "validation_pairs": 5000,
        "schedule": {
            k: settings[k]
            for k in ("learning_rate", "decay_steps", "decay_rate", "batch_size", "seed")
        },
    }
    if args.console:
        text = args.console.read_text()
        meta["epoch_seconds"] = [int(s) for s in re.findall(r"^\d+/\d+ - (\d+)s", text, re.M)]
    (WEIGHTS_DIR / META_NAME).write_text(json.dumps(meta, indent=1) + "\n")
    shutil.copyfile(args.run / "log.csv", WEIGHTS_DIR / LOG_NAME)

    shipped = load_pretrained_multimnist()
    test = load_multimnist("test")
    right = evaluate_pairs(shipped, test)["both_right"]
    meta["test_accuracy_float16"] = float(right.mean())
    meta["test_pairs"] = len(test)
    (WEIGHTS_DIR / META_NAME).write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{path}: test accuracy {right.mean():.4f} on {len(test):,} pairs (float16 weights)")


if __name__ == "__main__":
    main()
