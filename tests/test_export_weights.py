"""tools/export_weights.py: what it records of a run, without training one."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import export_weights  # noqa: E402

LOG = """epoch,accuracy,loss,val_accuracy,val_loss
1,0.98,0.1,0.9910,0.05
2,0.99,0.05,0.9940,0.04
3,0.995,0.03,0.9930,0.03
"""
CONSOLE = """precision: float32
Epoch 1/3
430/430 - 281s - 653ms/step - accuracy: 0.98 - val_accuracy: 0.9910
Epoch 2/3
430/430 - 279s - 649ms/step - accuracy: 0.99 - val_accuracy: 0.9940
Epoch 3/3
430/430 - 1302s - 3s/step - accuracy: 0.995 - val_accuracy: 0.9930
"""


def fake_run(tmp_path):
    run = tmp_path / "scratch"
    run.mkdir()
    (run / "log.csv").write_text(LOG)
    settings = {"learning_rate": 1e-3, "decay": True, "decay_steps": 430, "decay_rate": 0.83}
    (run / export_weights.SETTINGS_NAME).write_text(json.dumps({**settings, "seed": 7}))
    (tmp_path / "scratch.out").write_text(CONSOLE)
    return run


def test_run_facts_choose_by_validation_and_keep_the_schedule(tmp_path):
    run = fake_run(tmp_path)
    facts = export_weights.run_facts(run, "train ...", "a CPU", tmp_path / "scratch.out")
    assert facts["chosen_epoch"] == 2 and facts["epochs_trained"] == 3
    assert facts["val_accuracy"] == 0.994
    assert facts["epoch_seconds"] == [281, 279, 1302]
    assert facts["schedule"] == {
        "learning_rate": 1e-3,
        "decay": True,
        "decay_steps": 430,
        "decay_rate": 0.83,
    }  # the seed is not part of the schedule


def test_record_only_keeps_facts_and_log_and_exports_nothing(tmp_path, monkeypatch):
    run = fake_run(tmp_path)
    shipped = {p.name: p.stat().st_mtime_ns for p in export_weights.WEIGHTS_DIR.iterdir()}
    monkeypatch.setattr(
        sys, "argv", ["export_weights.py", str(run), "--record-only", str(tmp_path / "kept")]
    )
    export_weights.main()
    record = json.loads((tmp_path / "kept" / "scratch.json").read_text())
    assert record["log"] == "scratch-log.csv" and record["chosen_epoch"] == 2
    assert (tmp_path / "kept" / "scratch-log.csv").read_text() == LOG
    assert not any(key.startswith("test_accuracy") for key in record)  # test set not consulted
    after = {p.name: p.stat().st_mtime_ns for p in export_weights.WEIGHTS_DIR.iterdir()}
    assert after == shipped  # the package's weights and records untouched


def shipped_record(weights, stages: bool) -> dict:
    """A package's weights folder (without the weights) whose record has two stages or none."""
    weights.mkdir()
    results = {"chosen_epoch": 5, "val_accuracy": 0.996, "test_accuracy_float16": 0.9958}
    record = {"config": {"routing_iterations": 3}, "sha256": "ab" * 32, **results}
    if stages:
        record["stages"] = [
            {"command": "train stage 1", "log": "capsnet-mnist-stage1-log.csv", "chosen_epoch": 12},
            {"command": "train stage 2", "log": export_weights.LOG_NAME},
        ]
        (weights / "capsnet-mnist-stage1-log.csv").write_text(LOG + "4,0.99,0.02,0.9950,0.03\n")
        (weights / export_weights.STAGE1_META).write_text("{}")
    else:
        record["command"] = "train from scratch"
    (weights / export_weights.LOG_NAME).write_text(LOG)
    (weights / export_weights.META_NAME).write_text(json.dumps(record))
    return record


@pytest.mark.parametrize("stages", [True, False], ids=["stages", "single run"])
def test_replacing_the_shipped_weights_moves_their_history_out_of_the_package(
    tmp_path, monkeypatch, stages
):
    weights = tmp_path / "weights"
    shipped = shipped_record(weights, stages)
    monkeypatch.setattr(export_weights, "WEIGHTS_DIR", weights)
    logs = [(weights / s["log"]).read_text() for s in shipped.get("stages", [])] or [LOG]
    record = export_weights.move_shipped_record(tmp_path / "kept" / "before")
    assert record == json.loads((tmp_path / "kept" / "before.json").read_text())
    assert "config" not in record and record["sha256"] == shipped["sha256"]
    assert record["test_accuracy_float16"] == shipped["test_accuracy_float16"]
    last = record["stages"][-1]  # complete, like the ones before it
    assert last["chosen_epoch"] == 5 and last["test_accuracy_float16"] == 0.9958
    for number, (stage, log) in enumerate(zip(record["stages"], logs, strict=True), start=1):
        assert stage["log"] == f"before-stage{number}-log.csv"
        assert (tmp_path / "kept" / stage["log"]).read_text() == log
    # the package keeps its shipped log (overwritten by the new run's), no stage files
    assert sorted(p.name for p in weights.iterdir()) == sorted(
        [export_weights.LOG_NAME, export_weights.META_NAME]
    )
