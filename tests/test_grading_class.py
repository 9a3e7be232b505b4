"""A class's batch through the command line (issue 31): 20 small chapter-1 notebooks, each in
a student's folder, graded two at a time in bubblewrap sandboxes, killed half-way and resumed.

Chapter 1 grades fastest, and a notebook of its setup cell and its five answer cells (the
solutions', the student edition's stubs, or tricks) runs in seconds. The batch: solutions,
stubs, tricks, a crash, a killer (kills its kernel's parent), a printer (``while True:
print``), a forger (a string subclass equal to every option), a NaN, a sneak that tries the
sandbox (a startup file for later kernels, the library, a classmate's notebook, the CSV, a
process of its own session left behind, the network), a chapter-2 notebook, a stranger and a
file that is not a notebook. The batch is killed (SIGKILL) once a few rows are in the
gradebook; run again, it names what was running, skips what was graded and ends the rest.
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from capsnet_lib.grading import runner
from tests.test_grading import CHAPTER_1, kernel_env, read, student_of

SETUP = read(CHAPTER_1).cells[2].source + "\nmnist = cl.load_mnist()"
RIGHT = {n: 1 for n in ("1.1", "1.2", "1.3", "1.4", "1.5")}


def mini(answers: dict[str, str], chapter: int = 1) -> nbformat.NotebookNode:
    """The setup cell, then each exercise's label and its answer cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    for number, source in answers.items():
        k = int(number.split(".")[1])
        label = f"```{{exercise}} E\n:label: ch{chapter:02d}-ex{k}\n```"
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["solution"]
        nb.cells += [nbformat.v4.new_markdown_cell(label), cell]
    return nb


def answers_of(nb) -> dict[str, str]:
    return {n: nb.cells[cells[-1]].source for n, cells in runner.answer_cells(nb).items()}


SOLUTIONS = answers_of(read(CHAPTER_1))
STUBS = answers_of(student_of(CHAPTER_1))


def changed(**answers: str) -> dict[str, str]:
    return {**SOLUTIONS, **{k.replace("_", "."): v for k, v in answers.items()}}


def the_class(folder: Path, library_file: Path) -> dict[str, dict | str]:
    """Write the class into ``folder`` (a folder per student); the expected marks (or status)."""
    escaped = folder.parent / "escaped"
    sneak = f"""
import os, pathlib, subprocess, socket
tries = {{
    "startup": lambda: pathlib.Path(os.path.expanduser("~/.ipython/profile_default/startup"))
    .mkdir(parents=True, exist_ok=True)
    or pathlib.Path(os.path.expanduser("~/.ipython/profile_default/startup/0.py"))
    .write_text("raise SystemExit('broken by a classmate')"),
    "library": lambda: open({str(library_file)!r}, "a").write("\\nEXERCISES = []\\n"),
    "classmate": lambda: open({str(folder / "ann" / "01_input.ipynb")!r}, "w").write("{{}}"),
    "escaped": lambda: open({str(escaped)!r}, "w").write("out"),
    "network": lambda: socket.create_connection(("pypi.org", 443), timeout=3),
}}
for name, attempt in tries.items():
    try:
        attempt()
        print("done:", name)
    except Exception as error:
        print("refused:", name, type(error).__name__)
subprocess.Popen(["sh", "-c", "sleep 20; echo late > {escaped}"], start_new_session=True)
"""
    cls = {
        "ann": (changed(), RIGHT),
        "ben": (changed(), RIGHT),
        "cat": (changed(), RIGHT),
        "dan": (dict(STUBS), dict.fromkeys(RIGHT, 0)),
        "eve": (dict(STUBS), dict.fromkeys(RIGHT, 0)),
        "fay": (changed(**{"1_1": STUBS["1.1"]}), {**RIGHT, "1.1": 0}),
        "gus": (changed(**{"1_1": "prediction = 8_215_568"}), {**RIGHT, "1.1": 0}),
        "hal": (changed(**{"1_2": "prediction = 18\nraise RuntimeError('oops')"}), RIGHT),
        "ida": (changed(**{"1_3": "raise ValueError('crash')"}), {**RIGHT, "1.3": 0}),
        "jon": (  # a forger: a string that says it equals every option
            changed(
                **{
                    "1_4": "class Forged(str):\n"
                    "    def __eq__(self, other):\n"
                    "        return True\n\n"
                    "    __hash__ = str.__hash__\n\n\n"
                    "prediction = Forged('none')"
                }
            ),
            {**RIGHT, "1.4": 0},
        ),
        "kim": (
            changed(**{"1_5": SOLUTIONS["1.5"] + "\nlargest = float('nan')"}),
            {**RIGHT, "1.5": 0},
        ),
        "lea": (  # kills its kernel's parent: outside a sandbox, the grader
            changed(**{"1_3": "import os\n\nos.kill(os.getppid(), 9)"}),
            "crashed: the kernel died",
        ),
        "max": (changed(**{"1_3": "while True:\n    print('x' * 10_000)"}), "stopped: printed"),
        "ned": (changed(**{"1_1": sneak + SOLUTIONS["1.1"]}), RIGHT),
        "oli": (changed(), RIGHT),  # graded after the sneak: its startup file must not run
        "pam": (changed(**{"1_4": STUBS["1.4"]}), {**RIGHT, "1.4": 0}),
        "quinn": (changed(), RIGHT),
    }
    expected = {}
    for student, (answers, marks) in cls.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(mini(answers), folder / student / "01_input.ipynb")
        expected[student] = marks
    (folder / "rob").mkdir()
    nbformat.write(mini({"2.1": "prediction = 55"}, chapter=2), folder / "rob" / "02.ipynb")
    expected["rob"] = "not the assignment"
    (folder / "sam").mkdir()
    (folder / "sam" / "01_input.ipynb").write_text("{ not a notebook")
    expected["sam"] = "unreadable notebook"
    (folder / "tom").mkdir()
    stranger = nbformat.v4.new_notebook()
    stranger.cells = [nbformat.v4.new_code_cell("print('hello')")]
    nbformat.write(stranger, folder / "tom" / "01_input.ipynb")
    expected["tom"] = "not a chapter"
    return expected


def finished(book: Path) -> int:
    if not book.exists():
        return 0
    with sqlite3.connect(book) as db:
        try:
            return db.execute("SELECT count(*) FROM submissions WHERE finished").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.mark.slow
def test_a_class_batch_sealed_resumable_with_feedback_and_an_lms_csv(tmp_path):
    import capsnet_lib.grading.ch01 as ch01

    library_file = Path(ch01.__file__)
    library_before = hashlib.sha256(library_file.read_bytes()).hexdigest()
    folder = tmp_path / "submissions"
    expected = the_class(folder, library_file)
    assert len(expected) == 20
    before = {p: p.read_bytes() for p in folder.rglob("*.ipynb")}
    command = [sys.executable, "-m", "capsnet_lib", "grade", str(folder), "--csv", "g.csv"]
    command += ["--chapter", "1", "--jobs", "2", "--timeout", "120"]
    command += ["--feedback", "feedback", "--canvas", "canvas.csv"]
    started = time.monotonic()
    first = subprocess.Popen(command, cwd=tmp_path, env=kernel_env(), start_new_session=True)
    while finished(tmp_path / "g.sqlite") < 5 and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)  # the grader dies half-way: nothing is lost
    first.wait()
    time.sleep(3)  # its sandboxes end with it: their lifelines closed
    left = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout
    assert not left.strip(), "sandboxes outlived the grader"
    done_before = finished(tmp_path / "g.sqlite")
    assert 5 <= done_before < 20
    second = subprocess.run(
        command, cwd=tmp_path, env=kernel_env(), capture_output=True, text=True, timeout=900
    )
    took = time.monotonic() - started
    assert second.returncode == 0, second.stderr[-3000:]
    assert "stopped while grading" in second.stdout
    print(f"class batch: {took:.0f} s, {done_before} graded before the kill")

    rows = {Path(row["file"]).parent.name: row for row in csv.DictReader(open(tmp_path / "g.csv"))}
    assert sorted(rows) == sorted(expected)
    for student, want in expected.items():
        row = rows[student]
        if isinstance(want, dict):
            got = {n: int(row[n]) for n in want}
            assert row["status"] == "graded" and got == want, (student, row)
        else:
            assert row["status"].startswith(want), (student, row)
            if student in ("rob", "sam", "tom"):
                assert row["total"] == "0", (student, row)
            else:  # what it answered before it stopped counts
                assert row["1.1"] == "1" and row["1.3"] == "0", (student, row)
    # sealed: nothing of the sneak reached the library, a classmate, later kernels, the host
    assert hashlib.sha256(library_file.read_bytes()).hexdigest() == library_before
    assert {p: p.read_bytes() for p in folder.rglob("*.ipynb")} == before
    time.sleep(max(0.0, 21 - (time.monotonic() - started)))
    assert not (tmp_path / "escaped").exists()
    # a feedback page each, a section per exercise; the Canvas CSV
    pages = sorted((tmp_path / "feedback").glob("*.html"))
    assert len(pages) == 20
    page = (tmp_path / "feedback" / "gus_01_input.html").read_text()
    assert page.count("<section") == 5 and "the network has 11,749,120 parameters" in page
    canvas = list(csv.reader(open(tmp_path / "canvas.csv")))
    assert canvas[0][:2] == ["Student", "ID"] and canvas[1][0] == "Points Possible"
    assert {r[0]: r[-1] for r in canvas[2:]}["ann"] == "5"
    # run again: everything graded with the same fingerprint is skipped
    again = time.monotonic()
    third = subprocess.run(
        command, cwd=tmp_path, env=kernel_env(), capture_output=True, text=True, timeout=300
    )
    assert third.returncode == 0 and time.monotonic() - again < 60
    assert list(csv.DictReader(open(tmp_path / "g.csv"))) == list(rows.values())


ZOOM = """def zoom_transform(factor, size=28):
    c = (size - 1) / 2
    return {open}1 / factor, 0.0, c - c / factor, 0.0, 1 / factor, c - c / factor, 0.0, 0.0{close}
"""


@pytest.mark.slow
def test_a_type_is_the_type_itself_not_its_name(tmp_path):
    """8.4 asks for a list: a class of the student's called ``list`` is not one (it passed)."""
    from capsnet_lib.grading.sandbox import Sandbox

    forged = "class list(tuple):\n    pass\n\n\n" + ZOOM.format(open="list((", close="))")
    nb = nbformat.v4.new_notebook()
    label = nbformat.v4.new_markdown_cell("```{exercise} E\n:label: ch08-ex4\n```")
    cell = nbformat.v4.new_code_cell(forged)
    cell.metadata["tags"] = ["solution"]
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"), label, cell]
    nbformat.write(nb, tmp_path / "08.ipynb")
    result = runner.grade_notebook(tmp_path / "08.ipynb", 120, sandbox=Sandbox())
    assert result.status == "graded", result
    # the values are right (8 numbers that zoom): only the type is not a list
    assert result.marks["8.4"] == 0 and result.reasons["8.4"] == "expected a list of 8 numbers"
