"""Export the best weights of a training run as the shipped float16 pretrained weights.

    python tools/export_weights.py runs/pretrained --command "python -m capsnet_lib train ..."
        [--console runs/pretrained.log] [--hardware "2-core CPU ..."]

Picks ``best.weights.h5`` (chosen by validation accuracy, never by test accuracy), writes
``capsnet_lib/weights/capsnet-mnist.npz`` + ``.json`` (config, SHA-256, the run's facts)
and copies the run's ``log.csv`` beside them. Then it measures the test accuracy on all
10,000 MNIST test images twice, with the float32 weights and with the shipped float16 ones,
and records both in the JSON (the reproduction page reads them from there).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from capsnet_lib.data import load_mnist
from capsnet_lib.model import CapsNet
from capsnet_lib.plotting import read_log
from capsnet_lib.pretrained import META_NAME, WEIGHTS_DIR, export_pretrained, load_pretrained
from capsnet_lib.training import load_trained


def epoch_seconds(console: Path) -> list[int]:
    """Seconds per epoch from Keras's one-line-per-epoch output (``430/430 - 570s - ...``)."""
    return [int(s) for s in re.findall(r"^\d+/\d+ - (\d+)s", console.read_text(), re.M)]


def test_accuracy(model, mnist) -> float:
    """Accuracy on all test images."""
    if getattr(model, "optimizer", None) is None:
        model.compile(optimizer="adam")
    results = model.evaluate(
        mnist.x_test, mnist.y_test, batch_size=250, verbose=0, return_dict=True
    )
    return float(results["accuracy"])


def main() -> None:
    """Export ``RUN/best.weights.h5`` and ``RUN/log.csv`` into the package, then measure them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--command", default="", help="the training command, for the record")
    parser.add_argument("--console", type=Path, help="the run's console output (epoch times)")
    parser.add_argument("--hardware", default="", help="where it ran, for the record")
    args = parser.parse_args()
    model = load_trained(args.run)
    model.compile(optimizer="adam")
    log = read_log(args.run / "log.csv")
    best = int(log["val_accuracy"].argmax())
    facts = {
        "chosen_epoch": int(log["epoch"][best]),
        "epochs_trained": int(log["epoch"][-1]),
        "val_accuracy": float(log["val_accuracy"][best]),
        "command": args.command,
        "hardware": args.hardware,
        "parameters": int(model.count_params()),
    }
    if args.console:
        facts["epoch_seconds"] = epoch_seconds(args.console)
    export_pretrained(model, WEIGHTS_DIR, **facts)
    shutil.copy(args.run / "log.csv", WEIGHTS_DIR / "capsnet-mnist-log.csv")
    mnist = load_mnist()
    meta_path = WEIGHTS_DIR / META_NAME
    meta = json.loads(meta_path.read_text())
    # ``model`` has the run's precision (bfloat16 convolutions or not)
    float32 = CapsNet(**{**meta["config"], "precision": "float32"})
    float32.set_weights(model.get_weights())
    meta["test_accuracy_as_trained"] = test_accuracy(model, mnist)
    meta["test_accuracy_float32"] = test_accuracy(float32, mnist)
    meta["test_accuracy_float16"] = test_accuracy(load_pretrained(), mnist)  # shipped
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: v for k, v in meta.items() if k != "config"}, indent=1))


if __name__ == "__main__":
    main()
