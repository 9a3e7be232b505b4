"""Export the best weights of a training run as the shipped float16 pretrained weights.

    python tools/export_weights.py runs/pretrained --command "python -m capsnet_lib train ..."
        [--console runs/pretrained.log] [--hardware "2-core CPU ..."] [--continues-shipped]

Picks ``best.weights.h5`` (chosen by validation accuracy, never by test accuracy), writes
``capsnet_lib/weights/capsnet-mnist.npz`` + ``.json`` (config, SHA-256, the run's facts)
and copies the run's ``log.csv`` beside them. Then it measures the test accuracy on all
10,000 MNIST test images twice, with the float32 weights and with the shipped float16 ones,
and records both in the JSON (the reproduction page reads them from there).

With ``--continues-shipped`` (a run started with ``--init-weights pretrained``), the shipped
weights' record and log become stage 1 (``capsnet-mnist-stage1.json`` and
``capsnet-mnist-stage1-log.csv``) and the JSON lists both stages, each with its command,
schedule, epochs and times, so that the reproduction page shows the whole history. A further
fine-tuning adds a stage the same way (the previous last stage's log becomes
``capsnet-mnist-stageN-log.csv``).

With ``--resumes-last-stage`` (the shipped last stage's own run, resumed to more epochs with
the same command), the earlier stages are kept and the last one's record is replaced by the
longer run's.

With ``--replaces-shipped STEM`` (a run from scratch, better on validation than the shipped
weights), their record and logs move out of the package to ``STEM.json`` and
``STEM-stageN-log.csv``, and the package holds the new run's alone.

With ``--record-only FOLDER`` (a run that is not shipped, kept for the reproduction page),
nothing is exported and the test set is not consulted: the run's facts and log are written
to ``FOLDER/RUN.json`` and ``FOLDER/RUN-log.csv``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from capsnet_lib.data import load_mnist
from capsnet_lib.model import CapsNet
from capsnet_lib.plotting import read_log
from capsnet_lib.pretrained import (
    META_NAME,
    WEIGHTS_DIR,
    WEIGHTS_NAME,
    export_pretrained,
    load_pretrained,
    sha256_of,
)
from capsnet_lib.training import SETTINGS_NAME, load_trained

STAGE1_META = "capsnet-mnist-stage1.json"
STAGE1_LOG = "capsnet-mnist-stage1-log.csv"
LOG_NAME = "capsnet-mnist-log.csv"
TEST_KEYS = ("test_accuracy_as_trained", "test_accuracy_float32", "test_accuracy_float16")
RESULT_KEYS = ("chosen_epoch", "val_accuracy", "parameters", *TEST_KEYS)
SCHEDULE_KEYS = ("learning_rate", "decay", "decay_steps", "decay_rate", "batch_size")


def epoch_seconds(console: Path) -> list[int]:
    """Seconds per epoch from Keras's one-line-per-epoch output (``430/430 - 570s - ...``)."""
    return [int(s) for s in re.findall(r"^\d+/\d+ - (\d+)s", console.read_text(), re.M)]


def run_facts(run: Path, command: str, hardware: str, console: Path | None) -> dict:
    """What a run's folder (and its console output) says: chosen epoch, schedule, times."""
    log = read_log(run / "log.csv")
    best = int(log["val_accuracy"].argmax())
    facts = {
        "chosen_epoch": int(log["epoch"][best]),
        "epochs_trained": int(log["epoch"][-1]),
        "val_accuracy": float(log["val_accuracy"][best]),
        "command": command,
        "hardware": hardware,
    }
    if console:
        facts["epoch_seconds"] = epoch_seconds(console)
    settings_path = run / SETTINGS_NAME
    settings = json.loads(settings_path.read_text()) if settings_path.is_file() else {}
    facts["schedule"] = {k: settings[k] for k in SCHEDULE_KEYS if k in settings}
    return facts


def record_only(run: Path, facts: dict, folder: Path) -> None:
    """Keep a run that is not shipped: its facts and log in ``folder``, named after the run.

    No weights are exported and the test set is not consulted (the run was not chosen).
    """
    folder.mkdir(parents=True, exist_ok=True)
    log_name = f"{run.name}-log.csv"
    shutil.copy(run / "log.csv", folder / log_name)
    (folder / f"{run.name}.json").write_text(
        json.dumps({**facts, "log": log_name}, indent=1) + "\n"
    )
    print(json.dumps(facts, indent=1))


def test_accuracy(model, mnist) -> float:
    """Accuracy on all test images."""
    if getattr(model, "optimizer", None) is None:
        model.compile(optimizer="adam")
    results = model.evaluate(
        mnist.x_test, mnist.y_test, batch_size=250, verbose=0, return_dict=True
    )
    return float(results["accuracy"])


def keep_shipped_as_stage1() -> dict:
    """Copy the shipped weights' record and log to the stage-1 files; return stage 1."""
    shipped = json.loads((WEIGHTS_DIR / META_NAME).read_text())
    if "stages" in shipped:
        raise SystemExit("the shipped weights already have stages: extend this tool first")
    stage = {k: v for k, v in shipped.items() if k not in ("config", "sha256")}
    stage.setdefault(
        "schedule",
        {
            "learning_rate": 1e-3,
            "decay": True,
            "decay_steps": 2000,
            "decay_rate": 0.96,
            "batch_size": 128,
        },
    )
    stage["log"] = STAGE1_LOG
    (WEIGHTS_DIR / STAGE1_META).write_text(json.dumps(stage, indent=1) + "\n")
    shutil.copy(WEIGHTS_DIR / LOG_NAME, WEIGHTS_DIR / STAGE1_LOG)
    return stage


def keep_shipped_stages() -> list[dict]:
    """The stages behind the shipped weights, the last one's log copied to a stage file of its own.

    The first fine-tuning turns the shipped record into stage 1 (:func:`keep_shipped_as_stage1`);
    a later one keeps the recorded stages and completes the last with its chosen epoch and
    test accuracies (until now the JSON's top level).
    """
    shipped = json.loads((WEIGHTS_DIR / META_NAME).read_text())
    if "stages" not in shipped:
        return [keep_shipped_as_stage1()]
    stages = shipped["stages"]
    log_name = f"capsnet-mnist-stage{len(stages)}-log.csv"
    last = {**stages[-1], **{k: shipped[k] for k in RESULT_KEYS if k in shipped}, "log": log_name}
    shutil.copy(WEIGHTS_DIR / LOG_NAME, WEIGHTS_DIR / log_name)
    return [*stages[:-1], last]


def move_shipped_record(stem: Path) -> dict:
    """Move the shipped weights' record and logs out of the package, to ``STEM.json`` and
    ``STEM-stageN-log.csv``; return the record.

    For a run from scratch that replaces the shipped weights: their history (every stage's
    command, schedule, log and test accuracies) stays readable for the reproduction page,
    while the package keeps only the records of the weights it ships.
    """
    shipped = json.loads((WEIGHTS_DIR / META_NAME).read_text())
    stages = shipped.get("stages") or [{**shipped, "log": LOG_NAME}]
    stages[-1] = {**stages[-1], **{k: shipped[k] for k in RESULT_KEYS if k in shipped}}
    stem.parent.mkdir(parents=True, exist_ok=True)
    moved = []
    for number, stage in enumerate(stages, start=1):
        log_name = f"{stem.name}-stage{number}-log.csv"
        shutil.copy(WEIGHTS_DIR / stage["log"], stem.parent / log_name)
        moved.append({k: v for k, v in stage.items() if k != "config"} | {"log": log_name})
    record = {k: v for k, v in shipped.items() if k not in ("config", "log")}
    record["stages"] = moved
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    for stage in stages:
        if stage["log"] != LOG_NAME:  # the shipped log itself is overwritten by the new run's
            (WEIGHTS_DIR / stage["log"]).unlink()
    (WEIGHTS_DIR / STAGE1_META).unlink(missing_ok=True)
    return record


def same_arrays(a: Path, b: Path) -> bool:
    """Whether two ``.npz`` files hold the same arrays under the same names."""
    with np.load(a) as first, np.load(b) as second:
        return sorted(first.files) == sorted(second.files) and all(
            np.array_equal(first[name], second[name]) for name in first.files
        )


def export_unless_same(model, facts: dict) -> None:
    """Export into the package; weights equal to the shipped ones keep the shipped file.

    (The arrays are compared, not the bytes: files written before ``write_npz`` carry
    ``np.savez``'s time stamps, so the same weights could differ in bytes.)
    """
    shipped = WEIGHTS_DIR / WEIGHTS_NAME
    with tempfile.TemporaryDirectory() as folder:
        export_pretrained(model, Path(folder), **facts)
        fresh = Path(folder) / WEIGHTS_NAME
        meta = json.loads((Path(folder) / META_NAME).read_text())
        if shipped.is_file() and same_arrays(fresh, shipped):
            print("the chosen weights are the shipped ones: their file stays as it is")
            meta["sha256"] = sha256_of(shipped)
        else:
            shutil.copy(fresh, shipped)
        (WEIGHTS_DIR / META_NAME).write_text(json.dumps(meta, indent=1) + "\n")


def main() -> None:
    """Export ``RUN/best.weights.h5`` and ``RUN/log.csv`` into the package, then measure them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--command", default="", help="the training command, for the record")
    parser.add_argument("--console", type=Path, help="the run's console output (epoch times)")
    parser.add_argument("--hardware", default="", help="where it ran, for the record")
    parser.add_argument(
        "--continues-shipped",
        action="store_true",
        help="the run fine-tuned the shipped weights: keep their record as stage 1",
    )
    parser.add_argument(
        "--resumes-last-stage",
        action="store_true",
        help="the run is the shipped last stage's, resumed: replace that stage's record",
    )
    parser.add_argument(
        "--replaces-shipped",
        type=Path,
        metavar="STEM",
        help="a run from scratch replaces the shipped weights: move their record and logs "
        "to STEM.json and STEM-stageN-log.csv",
    )
    parser.add_argument(
        "--record-only",
        type=Path,
        metavar="FOLDER",
        help="a run not shipped: keep its facts and log in FOLDER, export nothing",
    )
    args = parser.parse_args()
    chosen = [args.continues_shipped, args.resumes_last_stage, bool(args.replaces_shipped)]
    if sum(chosen) > 1:
        parser.error(
            "--continues-shipped adds a stage, --resumes-last-stage replaces one, "
            "--replaces-shipped starts anew: pick one"
        )
    facts = run_facts(args.run, args.command, args.hardware, args.console)
    if args.record_only:
        if any(chosen):
            parser.error("--record-only exports nothing: it takes no other option of these")
        record_only(args.run, facts, args.record_only)
        return
    stages = []
    if args.continues_shipped:
        stages = keep_shipped_stages()
    elif args.resumes_last_stage:
        stages = json.loads((WEIGHTS_DIR / META_NAME).read_text()).get("stages", [])[:-1]
        if not stages:
            raise SystemExit("the shipped weights have a single stage: export without options")
    elif args.replaces_shipped:
        move_shipped_record(args.replaces_shipped)
    model = load_trained(args.run)
    model.compile(optimizer="adam")
    facts["parameters"] = int(model.count_params())
    if stages:
        stage = {k: facts[k] for k in ("command", "hardware", "epochs_trained", "schedule")}
        stage["epoch_seconds"] = facts.get("epoch_seconds", [])
        facts["stages"] = [*stages, {**stage, "log": LOG_NAME}]
    else:
        facts["log"] = LOG_NAME
    export_unless_same(model, facts)
    shutil.copy(args.run / "log.csv", WEIGHTS_DIR / LOG_NAME)
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
