"""The grader judges what was handed in (issue 31): fast tests, no kernel.

Source rules are read from the notebook file (the answer cell and all the function reaches
there), NumPy only is checked where an exercise asks it, a piece delegated to the library
earns nothing, NaN or inf never passes, and a harvest file cannot make the grader read a
billion parts or inflate past its size limit.
"""

from __future__ import annotations

import zipfile

import nbformat
import numpy as np
import pytest

from capsnet_lib.grading import harvest, runner
from capsnet_lib.grading.harvest import Missing, read_harvest
from capsnet_lib.grading.refs import References
from capsnet_lib.grading.spec import ARRAY, Exercise, Probe

SETUP = "import numpy as np\nimport tensorflow as tf\n\nimport capsnet_lib as cl"


def notebook(chapter: int, answers: dict[int, str], before: str = "") -> nbformat.NotebookNode:
    """A notebook of ``chapter``: a setup cell, ``before``, then exercise k's answer cell."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    if before:
        nb.cells.append(nbformat.v4.new_code_cell(before))
    for k, source in answers.items():
        nb.cells.append(
            nbformat.v4.new_markdown_cell(f"```{{exercise}} E\n:label: ch{chapter:02d}-ex{k}\n```")
        )
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = ["solution"]
        nb.cells.append(cell)
    return nb


def verdict(nb, number: str, values: dict, inputs: dict | None = None) -> str | None:
    """The grader's verdict on ``values`` harvested for ``number`` from ``nb``."""
    from capsnet_lib.grading.source import Submission

    chapter = int(number.split(".")[0])
    exercise = next(e for e in runner.chapter_exercises(chapter) if e.number == number)
    submission = Submission(nb, runner.answer_cells(nb), runner.is_check)
    return runner._verdict(exercise, values, inputs or {}, References(), submission)


def _uniform_values() -> tuple[dict, dict]:
    """4.4's inputs and the right values harvested for them."""
    inputs = {"cases": [[0.5, 10, 0.5], [0.7, 5, 1.0]]}
    losses = [(0.9 - x) ** 2 + lam * (k - 1) * (x - 0.1) ** 2 for x, k, lam in inputs["cases"]]
    return {"losses": np.asarray(losses, np.float64)}, inputs


RIGHT_4_4 = (
    "def uniform_loss(length, classes=10, lambda_=0.5):\n"
    "    return (0.9 - length) ** 2 + lambda_ * (classes - 1) * (length - 0.1) ** 2"
)


def test_4_4_source_is_the_notebooks_own():
    """Right values and a right function pass; the library one line above it does not,
    nor in a helper of an earlier cell."""
    values, inputs = _uniform_values()
    assert verdict(notebook(4, {4: RIGHT_4_4}), "4.4", values, inputs) is None
    helper = "_loss = cl.margin_loss\n\n\n" + RIGHT_4_4.replace(
        "return (0.9", "_loss\n    return (0.9", 1
    )
    assert "library" in verdict(notebook(4, {4: helper}), "4.4", values, inputs)
    far = notebook(4, {4: RIGHT_4_4.replace("return (0.9", "return _size(length) * (0.9", 1)})
    far.cells.insert(
        1, nbformat.v4.new_code_cell("def _size(x):\n    return cl.margin_loss([0], [[x]]) * 0 + 1")
    )
    assert "library" in verdict(far, "4.4", values, inputs)


def test_a_function_bound_otherwise_than_by_def_earns_nothing():
    """``uniform_loss = ...``, a later rebinding, exec: the file cannot show it."""
    values, inputs = _uniform_values()
    for answer in [
        "uniform_loss = lambda length, classes=10, lambda_=0.5: (0.9 - length) ** 2",
        RIGHT_4_4 + "\n\n\nuniform_loss = cl.exercises.names_used",
        "exec('def uniform_loss(length, classes=10, lambda_=0.5): pass')",
    ]:
        reason = verdict(notebook(4, {4: answer}), "4.4", values, inputs)
        assert reason and ("def" in reason or "exec" in reason), answer


def test_numpy_only_where_the_exercise_says_so():
    """10.2 answered with the book's library, or another library than NumPy imported inside it
    or used, scores 0."""
    library = "def both_right(lengths, labels):\n    return cl.exercises.names_used(labels)"
    assert "NumPy only" in verdict(notebook(10, {2: library}), "10.2", {"right": np.zeros(1)})
    inside = "def both_right(lengths, labels):\n    import scipy.ndimage\n    return labels"
    assert "NumPy only" in verdict(notebook(10, {2: inside}), "10.2", {"right": np.zeros(1)})
    both = "def both_right(lengths, labels):\n    return keras.ops.all(lengths)"
    assert "NumPy only" in verdict(notebook(10, {2: both}), "10.2", {"right": np.zeros(1)})


def test_the_asked_piece_delegated_to_the_library_earns_nothing():
    """``uniform_loss = cl.margin_loss`` and a def that only calls it score 0."""
    values = {"losses": np.zeros(2)}  # the values are not what is checked here
    cases = {"cases": [[0.5, 10, 0.5], [0.7, 5, 1.0]]}
    call = "cl.margin_loss([0], [[length] * classes], lambda_=lambda_)"
    for answer in [
        "uniform_loss = cl.margin_loss",
        f"def uniform_loss(length, classes=10, lambda_=0.5):\n    return {call}",
        "from capsnet_lib.losses import margin_loss\n\n\n"
        "def uniform_loss(length, classes=10, lambda_=0.5):\n"
        "    return margin_loss([0], [[length] * classes], lambda_=lambda_)",
    ]:
        reason = verdict(notebook(4, {4: answer}), "4.4", values, cases)
        assert reason and ("library" in reason or "def" in reason), answer


def test_nan_and_inf_never_pass():
    """3.5 answered with NaN scored 1 (``abs(nan - x) > tol`` is False)."""
    nb = notebook(3, {5: "prediction = np.nan"})
    assert "finite" in verdict(nb, "3.5", {"prediction": np.array(np.nan)})
    assert "finite" in verdict(nb, "3.5", {"prediction": np.array(-np.inf)})


def test_a_dtype_is_the_values_own(tmp_path):
    """An ``"array"`` probe: float64 values in an object that says float32 are float64 to the
    grader (a forger of to_images' float32 once passed)."""
    exercise = Exercise("1.9", {"images": Probe("out", ARRAY)}, None)
    forged = (
        "class Forged:\n"
        "    dtype = 'float32'\n\n"
        "    def __init__(self, a):\n"
        "        self.a = a\n\n"
        "    def __array__(self, dtype=None, copy=None):\n"
        "        return self.a\n\n\n"
        "out = Forged(np.zeros((2, 28, 28, 1)))"
    )
    for source, dtype in [(forged, np.float64), ("out = np.zeros(3, np.float32)", np.float32)]:
        scope = {}
        exec("import numpy as np\n" + source, scope)
        cell, path = harvest.harvest_cell_source(exercise, {}, tmp_path)
        exec(cell, scope)
        assert read_harvest(exercise, path)["images"].dtype == dtype


def _harvest_file(path, **arrays):
    np.savez_compressed(path, __notes__=np.array("{}"), **arrays)
    return path


def test_a_harvest_asking_for_a_huge_count_is_refused_at_once(tmp_path):
    """9.3's weights list said 1e15 parts: the grader looped over them."""
    exercise = runner.chapter_exercises(9)[2]
    path = _harvest_file(tmp_path / "h.npz", **{"weights#count": np.array(1e15)})
    value = read_harvest(exercise, path)["weights"]
    assert isinstance(value, Missing) and "count" in value.reason


def test_a_harvest_file_is_capped_on_its_decompressed_size(tmp_path, monkeypatch):
    """A small file that inflates past the limit is refused (the limit was on the file)."""
    monkeypatch.setattr(harvest, "MAX_BYTES", 2**20)
    path = _harvest_file(tmp_path / "h.npz", x=np.zeros(2**18))  # 2 MiB of zeros, a few kB
    assert path.stat().st_size < 2**16
    with zipfile.ZipFile(path) as archive:
        assert sum(info.file_size for info in archive.infolist()) > 2**20
    value = read_harvest(runner.chapter_exercises(4)[0], path)
    assert isinstance(value["prediction"], Missing)
    assert "decompressed" in value["prediction"].reason


@pytest.mark.parametrize("number", ["4.4", "7.2", "10.2"])
def test_no_source_is_taken_from_the_kernel(number):
    """The probes of the source rules read nothing like ``inspect.getsource``."""
    chapter = int(number.split(".")[0])
    exercise = next(e for e in runner.chapter_exercises(chapter) if e.number == number)
    expressions = [exercise.probe(name).expression for name in exercise.probes]
    assert not any("getsource" in expression for expression in expressions)
    assert exercise.writes
