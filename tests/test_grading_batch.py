"""The grader's batch parts (issue 31), fast: no kernel runs here.

Submissions read and fingerprinted before anything runs, a notebook of another chapter than
the assignment's, the gradebook a stopped batch resumes from, the CSV written atomically, the
rubric's points, the feedback pages, the Canvas CSV, and the refusal to grade unsealed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

import nbformat
import pytest

from capsnet_lib.grading import batch, gradebook, outputs, runner, sandbox
from capsnet_lib.grading import run_grade as run_grade_command
from tests.test_grading_rules import notebook


def test_submissions_are_read_and_fingerprinted_before_any_runs(tmp_path):
    path = tmp_path / "a.ipynb"
    nbformat.write(notebook(1, {1: "x = 1"}), path)
    data = path.read_bytes()
    (read,) = batch.read_submissions([tmp_path])
    path.write_text("{}")  # changed afterwards: what is graded is what was read
    assert read.sha256 == hashlib.sha256(data).hexdigest() and read.text == data.decode()


def test_a_notebook_of_another_chapter_than_the_assignment_is_a_row_that_says_so(tmp_path):
    path = tmp_path / "01_input.ipynb"
    nbformat.write(notebook(2, {1: "prediction = 55"}), path)
    result = runner.grade_notebook(path, chapter=1)
    assert result.status.startswith("not the assignment: a chapter 2 notebook")
    assert sorted(result.marks) == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert result.total == 0


def test_the_gradebook_resumes_a_stopped_batch(tmp_path):
    book = gradebook.Gradebook(tmp_path / "g.sqlite")
    done = runner.Result(Path("a.ipynb"), 1, "graded", {"1.1": 1, "1.2": 0}, {"1.2": "wrong"})
    book.begin("a.ipynb", "aaa")
    book.finish("a.ipynb", "aaa", done)
    book.begin("b.ipynb", "bbb")
    book.mark("b.ipynb", "bbb", "1.1", 1, None)  # then the batch died
    book.close()
    book = gradebook.Gradebook(tmp_path / "g.sqlite")
    assert book.interrupted() == ["b.ipynb"]
    assert book.graded("a.ipynb", "aaa") and not book.graded("a.ipynb", "changed")
    assert not book.graded("b.ipynb", "bbb")
    a, b = book.results(["a.ipynb", "b.ipynb"])
    assert (a.marks, a.reasons, a.status) == (done.marks, done.reasons, "graded")
    assert b.marks == {"1.1": 1} and b.status.startswith("not finished")


def test_the_csv_is_written_atomically_with_a_rubrics_points(tmp_path, monkeypatch):
    results = [runner.Result(Path("a.ipynb"), 1, "graded", {"1.1": 1, "1.2": 1, "1.3": 0})]
    target = tmp_path / "g.csv"
    target.write_text("old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(gradebook.csv, "writer", broken)
        with pytest.raises(OSError):
            gradebook.write_csv(results, target)
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    gradebook.write_csv(results, target, points={"1.1": 2, "1.3": 3})
    (row,) = csv.DictReader(open(target))
    assert (row["1.1"], row["1.2"], row["1.3"], row["total"], row["out_of"]) == (
        "2",
        "1",
        "0",
        "3",
        "6",
    )


def test_feedback_pages_and_the_canvas_csv(tmp_path):
    result = runner.Result(
        Path("class/ann/01_input.ipynb"), 1, "graded", {"1.1": 0, "1.2": 1}, {"1.1": "a <b>"}
    )
    page = outputs.feedback_page(result)
    assert page.count("<section") == 2 and "a &lt;b&gt;" in page
    assert "Explanation: A 2x2 max-pooling" in page  # 1.2's, after the deadline
    outputs.write_canvas([result], tmp_path / "c.csv", "Chapter 1", {"1.2": 4})
    rows = list(csv.reader(open(tmp_path / "c.csv")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Chapter 1"]
    assert rows[1][-1] == "5" and rows[2][0] == "ann" and rows[2][-1] == "4"
    spec = tmp_path / "a.json"
    spec.write_text('{"chapter": 1, "points": {"1.1": "two"}}')
    with pytest.raises(ValueError, match="points"):
        outputs.load_assignment(spec)


def test_without_a_sandbox_the_grader_refuses_unless_unsealed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "BWRAP", "no-such-bwrap")
    problem = sandbox.sandbox_problem()
    assert problem == "bubblewrap (bwrap) is not installed"
    args = argparse.Namespace(
        submissions=[str(tmp_path)],
        csv=tmp_path / "g.csv",
        timeout=10.0,
        chapter=None,
        gradebook=None,
        jobs=1,
        unsealed=False,
        assignment=None,
        feedback=None,
        canvas=None,
    )
    with pytest.raises(SystemExit, match="no sandbox: bubblewrap .* --unsealed"):
        run_grade_command(args)


def test_the_sandbox_starts_here():
    """bwrap works on this machine (.ci/run installs it): the class batch builds on it."""
    assert sandbox.sandbox_problem() is None
