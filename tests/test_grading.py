"""The grader (``python -m capsnet_lib grade``): it cannot be fooled from inside a notebook.

Fast tests check its parts (finding the exercises, reading harvested values, the CSV). The
slow ones execute chapter 1, the cheapest chapter (about 12 s a notebook), as the original,
as the student edition and as copies with one trick per exercise; and small notebooks that
never end, kill their kernel, are not chapters or are not notebooks, in one batch through
the command line. Grading every chapter's solutions and stubs takes about 30 minutes on
two cores, too long for `make test`: it is its own suite, marked ``grade_all``, run with
``make grade-all`` (not deselected quietly: ``make unit`` names it in its ``-m``), one test
per chapter (``pytest tests/test_grading.py -m grade_all -k 03_routing`` grades one).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from capsnet_lib.grading import batch, gradebook, runner
from capsnet_lib.grading.harvest import Missing, harvest_cell_source, read_harvest
from capsnet_lib.grading.spec import Exercise, Probe

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTER_1 = NOTEBOOKS / "01_input.ipynb"
GRADED = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

_spec = importlib.util.spec_from_file_location("student_edition", ROOT / "tools/student_edition.py")
se = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("student_edition", se)
_spec.loader.exec_module(se)


def read(path: Path):
    return nbformat.read(path, as_version=4)


def student_of(path: Path):
    return se.student_edition(read(path), path.name)[0]


def answer_cell(nb, number: str):
    return nb.cells[runner.answer_cells(nb)[number][-1]]


def check_cell(nb, number: str):
    call = re.compile(rf'check\(\s*"{re.escape(number)}"')
    return next(c for c in nb.cells if runner.is_check(c) and call.search(c.source))


def kernel_env() -> dict[str, str]:
    env = dict(os.environ, CAPSNET_QUICK="1", TF_CPP_MIN_LOG_LEVEL="2")
    shared_mnist = ROOT.parent / "shared" / "data" / "mnist"
    if "CAPSNET_DATA_DIR" not in env and shared_mnist.is_dir():
        env["CAPSNET_DATA_DIR"] = str(shared_mnist)
    return env


@pytest.fixture(autouse=True)
def _data_dir(monkeypatch):
    for key, value in kernel_env().items():
        monkeypatch.setenv(key, value)


# -- the parts ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.stem)
def test_every_exercise_has_a_spec_and_an_answer_cell(path):
    """Original and student edition: the same exercises, each with answer cells and a spec."""
    original, student = read(path), student_of(path)
    in_original, in_student = runner.answer_cells(original), runner.answer_cells(student)
    chapter = int(path.name[:2])
    specs = [exercise.number for exercise in runner.chapter_exercises(chapter)]
    assert sorted(in_original) == sorted(in_student) == sorted(specs)
    assert all(in_original.values()) and all(in_student.values())
    assert runner.chapter_of(in_original) == runner.chapter_of(in_student) == chapter


def test_a_chapter_without_specs_is_not_gradable():
    assert runner.chapter_exercises(99) is None


def _write_harvest(tmp_path, **arrays) -> Path:
    path = tmp_path / "h.npz"
    np.savez(path, **arrays)
    return path


def test_harvest_reads_plain_values_only(tmp_path):
    exercise = Exercise("1.1", {"x": "x", "t": Probe("t", "text"), "w": Probe("w", "arrays")}, None)
    path = _write_harvest(
        tmp_path,
        __notes__=np.array("{}"),
        x=np.array([1.0, 2.0]),
        t=np.array("B"),
        **{"w#0": np.ones(3), "w#count": np.array(1.0)},
    )
    values = read_harvest(exercise, path)
    assert values["x"].tolist() == [1.0, 2.0] and values["t"] == "B"
    assert [w.tolist() for w in values["w"]] == [[1.0, 1.0, 1.0]]
    assert not path.exists()  # read once, before a later cell could rewrite it

    pickled = tmp_path / "p.npz"
    np.savez(pickled, __notes__=np.array("{}"), x=np.array([object()], dtype=object))
    assert isinstance(read_harvest(Exercise("1.1", {"x": "x"}, None), pickled)["x"], Missing)
    texts = _write_harvest(tmp_path, __notes__=np.array("{}"), x=np.array("1"), t=np.array(1.0))
    values = read_harvest(Exercise("1.1", {"x": "x", "t": Probe("t", "text")}, None), texts)
    assert isinstance(values["x"], Missing) and isinstance(values["t"], Missing)
    gone = read_harvest(exercise, tmp_path / "never-written.npz")
    assert all(isinstance(value, Missing) for value in gone.values())


def test_each_harvest_cell_writes_to_its_own_random_path(tmp_path):
    exercise = runner.chapter_exercises(1)[0]
    (one, first), (two, second) = (harvest_cell_source(exercise, {}, tmp_path) for _ in range(2))
    assert first != second and first.parent == tmp_path and str(first) in one
    compile(one, "harvest", "exec")


def test_the_csv_has_a_row_per_notebook(tmp_path):
    results = [
        runner.Result(Path("a.ipynb"), 1, "graded", {"1.1": 1, "1.2": 0}, {"1.2": "wrong"}),
        runner.Result(Path("b.ipynb"), None, "not a chapter: no exercises found"),
        runner.Result(Path("c.ipynb"), 2, "graded", {"2.1": 1}),
    ]
    gradebook.write_csv(results, tmp_path / "grades.csv")
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert list(rows[0]) == [
        "file",
        "chapter",
        "status",
        "1.1",
        "1.2",
        "2.1",
        "total",
        "out_of",
        "reasons",
    ]
    assert [row["total"] for row in rows] == ["1", "0", "1"]
    assert rows[0]["reasons"] == "1.2: wrong" and rows[1]["status"].startswith("not a chapter")
    assert rows[2]["1.1"] == "" and rows[2]["2.1"] == "1"


# -- chapter 1 for real: solutions, stubs and tricks -----------------------------------------


def _tampered_1(nb):
    """1.1: a wrong prediction, and `check` rebound to print "correct"; 1.2: deletes `check`
    and the check cell; 1.4: answers with a string whose == is always true. 1.3 and 1.5 stay
    right."""
    answer_cell(nb, "1.1").source = (
        "prediction = 8_215_568\n\n\n"
        "def check(exercise, test, explain=''):\n"
        '    print(f"Exercise {exercise}: correct ✓")'
    )
    answer_cell(nb, "1.2").source = "prediction = 5\ndel check"
    nb.cells.remove(check_cell(nb, "1.2"))
    answer_cell(nb, "1.4").source = (
        "class AlwaysEqual(str):\n"
        "    def __eq__(self, other):\n"
        "        return True\n\n"
        "    __hash__ = str.__hash__\n\n\n"
        "prediction = AlwaysEqual('none')"
    )
    return {"1.1": 0, "1.2": 0, "1.3": 1, "1.4": 0, "1.5": 1}


def _tampered_2(nb):
    """1.3: wrong, then set right after its check; 1.5: wrong, with NumPy's comparisons
    monkeypatched to always agree. 1.1, 1.2 and 1.4 stay right."""
    answer_cell(nb, "1.3").source = "prediction = 1.0"
    later = nbformat.v4.new_code_cell("prediction = 0.5")
    nb.cells.insert(nb.cells.index(check_cell(nb, "1.3")) + 1, later)
    answer_cell(nb, "1.5").source = (
        "np.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.array_equal = lambda *a, **k: True\n\n\n"
        "def ink_lost(images, dy, dx):\n"
        "    return np.zeros(len(images))\n\n\n"
        "worst = np.zeros(5000)\n"
        "n_losing, largest = 0, 0.0"
    )
    return {"1.1": 1, "1.2": 1, "1.3": 0, "1.4": 1, "1.5": 0}


@pytest.mark.slow
def test_chapter_1_solutions_stubs_and_tricks(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(read(CHAPTER_1), folder / "a_solutions.ipynb")
    nbformat.write(student_of(CHAPTER_1), folder / "b_stubs.ipynb")
    expected = {}
    for name, tamper in [("c_tricks_1", _tampered_1), ("d_tricks_2", _tampered_2)]:
        nb = read(CHAPTER_1)
        expected[name] = tamper(nb)
        nbformat.write(nb, folder / f"{name}.ipynb")
    results = batch.grade([folder], tmp_path / "grades.csv", verbose=False)
    marks = {result.path.stem: result.marks for result in results}
    assert all(result.status == "graded" and result.chapter == 1 for result in results)
    assert marks["a_solutions"] == dict.fromkeys(marks["a_solutions"], 1), results[0].reasons
    assert len(marks["a_solutions"]) == 5
    assert marks["b_stubs"] == dict.fromkeys(marks["a_solutions"], 0)
    assert set(results[1].reasons.values()) <= {
        "not answered (NotImplementedError)",
        "prediction: NotImplementedError: still None",
    }
    for name, marks_expected in expected.items():
        assert marks[name] == marks_expected, results[[r.path.stem for r in results].index(name)]
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert [row["total"] for row in rows] == ["5", "0", "2", "3"]


def _mini_chapter(answer: str) -> nbformat.NotebookNode:
    """A notebook with only exercise 1.1: its directive and an answer cell."""
    nb = nbformat.v4.new_notebook()
    exercise = nbformat.v4.new_markdown_cell("```{exercise} Parameters\n:label: ch01-ex1\n```")
    cell = nbformat.v4.new_code_cell(answer)
    cell.metadata["tags"] = ["solution"]
    nb.cells = [exercise, cell]
    return nb


@pytest.mark.slow
def test_a_batch_goes_on_past_loops_crashes_and_strangers(tmp_path):
    """Through the command line, with a 20-second limit per notebook."""
    folder = tmp_path / "batch"
    folder.mkdir()
    nbformat.write(_mini_chapter("while True:\n    pass"), folder / "1_loops.ipynb")
    nbformat.write(_mini_chapter("import os\n\nos._exit(1)"), folder / "2_dies.ipynb")
    stranger = nbformat.v4.new_notebook()
    stranger.cells = [nbformat.v4.new_code_cell("print('hello')")]
    nbformat.write(stranger, folder / "3_stranger.ipynb")
    (folder / "4_broken.ipynb").write_text("{ not a notebook")
    nbformat.write(_mini_chapter("prediction = 11_749_120"), folder / "5_right.ipynb")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "capsnet_lib",
            "grade",
            str(folder),
            "--csv",
            "g.csv",
            "--timeout",
            "20",
        ],
        cwd=tmp_path,
        env=kernel_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "5/5" in result.stdout  # the progress bar
    rows = {Path(row["file"]).stem: row for row in csv.DictReader(open(tmp_path / "g.csv"))}
    assert rows["1_loops"]["status"] == "timed out after 20 s"
    assert rows["1_loops"]["1.1"] == "0" and "not reached" in rows["1_loops"]["reasons"]
    assert rows["2_dies"]["status"] == "crashed: the kernel died" and rows["2_dies"]["1.1"] == "0"
    assert rows["3_stranger"]["status"] == "not a chapter: no exercises found"
    assert rows["4_broken"]["status"].startswith("unreadable notebook")
    assert rows["5_right"]["status"] == "graded" and rows["5_right"]["1.1"] == "1"
    assert (
        rows["5_right"]["1.2"] == "0" and "answer cell was not found" in rows["5_right"]["reasons"]
    )


@pytest.mark.grade_all
@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.stem)
def test_every_chapter_solutions_full_marks_stubs_zero(path, tmp_path):
    """One chapter at a time (``-k 03_routing``): its solutions and its student edition."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    nbformat.write(student_of(path), stubs / path.name)
    results = batch.grade([path, stubs], tmp_path / "grades.csv", verbose=False, jobs=2)
    problems = []
    for result in results:
        want = 1 if result.path.parent == NOTEBOOKS else 0
        wrong = {n: result.reasons.get(n, "scored 1") for n, m in result.marks.items() if m != want}
        if result.status != "graded" or wrong:
            problems.append(f"{result.path}: {result.status} {json.dumps(wrong)}")
    assert not problems, "\n".join(problems)
    assert len(results) == 2
    specs = runner.chapter_exercises(int(path.name[:2]))
    assert sorted(results[0].marks) == sorted(exercise.number for exercise in specs)
