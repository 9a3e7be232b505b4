"""The recorded runs chapters 6 and 7 show: chapter 7's is a record of the chapter's own code.

The chapter shows the curve and the test accuracy of its cells trained once on the
walkthrough's schedule (``tools/record_chapter7_run.py``). The record keeps the source of every
cell it ran; if a cell of the chapter changes its code since, the page would show a record of
other code: this test fails instead. Docstrings and comments may change.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

from capsnet_lib.recorded import load_recorded, recorded_path, same_code

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "07_training.ipynb"
# the cells the record ran and keeps: your pieces, MyCapsNet, train_step, validation,
# the schedule, the loop
RECORDED = ("07-p1", "07-p3", "07-t1", "07-t3", "07-t5", "07-t6")


def test_same_code_ignores_comments_and_docstrings_only():
    cell = 'def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n'
    assert same_code(cell, "def f(x):\n    # no docstring now\n    return 2 * x\n")
    assert same_code(cell, 'def f(x):\n    """Another docstring."""\n    return 2 * x\n')
    assert not same_code(cell, "def f(x):\n    return 3 * x\n")
    assert not same_code(cell, "def f(y):\n    return 2 * y\n")
    assert not same_code("steps = 60\n", "steps = 61\n")


def test_the_record_ships_with_the_library():
    assert recorded_path("mycapsnet-full").is_file(), (
        "chapter 7 shows its recorded full run: record it (python tools/record_chapter7_run.py)"
    )


def test_the_record_is_of_the_chapters_code():
    record = load_recorded("mycapsnet-full")
    cells = {cell.id: cell.source for cell in nbformat.read(CHAPTER, as_version=4).cells}
    assert sorted(record["code"]) == sorted(RECORDED), "the record keeps these cells' code"
    changed = [c for c in RECORDED if not same_code(record["code"][c], cells[c])]
    assert not changed, (
        f"chapter 7's cells {changed} are not the code that was recorded: record the run "
        "again (python tools/record_chapter7_run.py) or put the recorded code back"
    )


def test_the_record_is_on_the_walkthroughs_schedule():
    record = load_recorded("mycapsnet-full")
    assert (record["batch_size"], record["steps"], record["steps_per_epoch"]) == (
        50,
        11_000,
        1100,
    ), "the walkthrough's schedule: 10 epochs of 1,100 steps of 50 digits"
    assert record["validation_digits"] == 5000 and record["test_digits"] == 10_000
    assert len(record["mean_loss"]) * record["loss_every"] == record["steps"]
    assert sorted(map(int, record["validation_accuracy"])) == [1100 * e for e in range(1, 11)]


def test_the_running_page_states_the_records_time():
    """The running page tells a reader what chapter 7's full run costs, from the record."""
    record = load_recorded("mycapsnet-full")
    hours = f"{record['training_seconds'] / 3600:.1f} hours"
    running = " ".join((ROOT / "book" / "running.md").read_text(encoding="utf-8").split())
    assert f"chapter 7's recorded run of it took {hours}" in running, (
        f"book/running.md: chapter 7's recorded run took {hours}"
    )


def test_chapter_6s_pair_is_recorded_alike():
    """The pair of chapter 6 (tools/record_decoder_pair.py): two runs alike but the loss."""
    assert recorded_path("decoder-pair").is_file(), (
        "chapter 6 shows its pair of trainings: record it (python tools/record_decoder_pair.py)"
    )
    pair = load_recorded("decoder-pair")
    assert (pair["batch_size"], pair["steps_per_epoch"]) == (50, 1100)
    assert pair["epochs"] >= 2 and pair["test_digits"] == 10_000
    assert len(pair["shown_labels"]) == len(pair["shown_images"])
    for name in ("with", "without"):
        run = pair[name]
        assert len(run["validation_accuracy"]) == pair["epochs"], name
        assert len(run["right"]) == 10_000 and set(run["right"]) <= {"0", "1"}, name
        assert run["right"].count("1") == run["test_correct"], name
        assert run["test_accuracy"] == run["test_correct"] / 10_000, name
        shown = np.asarray(run["shown"])
        assert shown.shape == (len(pair["shown_labels"]), 28, 28), name
        assert shown.min() >= 0 and shown.max() <= 255, name
