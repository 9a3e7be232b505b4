"""The student edition (tools/student_edition.py) and the chapters' exercises.

Per chapter: the exercise markup is complete (at least three labelled exercises, each with a
solution cell and a check cell); the student edition holds none of the solutions; and, run for
real in quick mode, every check passes on the original notebook and fails on the student
edition's stub. The tool itself is tested on tests/fixtures/99_fixture.ipynb, a tiny chapter
with three correct exercises and one whose check is deliberately broken.

The original notebooks are the ones nbval runs (`make notebooks`): where nbval left a record of
that execution for the same notebook, library and environment (tests/conftest.py), the checks
are judged on it instead of running the original a second time. The student edition is always
executed here.

    pytest tests -m student                             # all of it (`make student-test`)
    STUDENT_TEST_RECORD=0 pytest tests -m student       # execute the originals too, ignoring nbval's record
    STUDENT_TEST_PARALLEL=0 pytest tests -m student     # run the two editions one after the other
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.student

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FIXTURE = ROOT / "tests" / "fixtures" / "99_fixture.ipynb"
CHAPTERS = sorted(path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXPECTED_CHAPTERS = 10
MIN_EXERCISES = 3
CELL_TIMEOUT = 600  # seconds, per cell (quick mode needs far less)
EXPECTED_ERROR_TAG = "raises-exception"  # cells meant to fail (Jupyter Book, nbclient)

_spec = importlib.util.spec_from_file_location(
    "student_edition", ROOT / "tools" / "student_edition.py"
)
se = importlib.util.module_from_spec(_spec)
sys.modules["student_edition"] = se  # dataclasses look their module up
_spec.loader.exec_module(se)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


# -- what the student edition must not contain ------------------------------------------------


def solution_code_lines(nb) -> set[str]:
    """Lines (stripped) that occur only inside solution markers, nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        answer = se.solution_regions(cell.source) if "solution" in tags(cell) else []
        inside.update(line.strip() for line in answer)
        stub = se.stub_solution(cell.source) if "solution" in tags(cell) else cell.source
        outside.update(line.strip() for line in stub.splitlines())
    return {line for line in inside - outside if line and line not in se.STUB}


def solution_prose_lines(nb) -> set[str]:
    """Markdown lines between {solution-start} and {solution-end} (found independently of the tool)."""
    prose, inside = [], False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        start = next((i for i, line in enumerate(lines) if "{solution-start}" in line), None)
        end = next((i for i, line in enumerate(lines) if "{solution-end}" in line), None)
        if start is not None:
            fence = re.match(r"\s*([`:~]{3,})", lines[start])[1]
            close = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == fence)
            prose += lines[close + 1 : end]
            inside = end is None
        elif end is not None:
            prose += lines[:end]
            inside = False
        elif inside:
            prose += lines
    outside = {
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "markdown" and "{solution" not in cell.source
        for line in cell.source.splitlines()
    }
    return {line.strip() for line in prose if line.strip()} - outside


def leaks(original, student) -> list[str]:
    """Solution code or prose of ``original`` that appears in ``student``."""
    found = []
    code = solution_code_lines(original)
    prose = solution_prose_lines(original)
    for index, cell in enumerate(student.cells):
        for line in cell.source.splitlines():
            text = line.strip()
            if text in code or (cell.cell_type == "markdown" and text in prose):
                found.append(f"cell {index}: {text!r}")
            if "BEGIN SOLUTION" in text or "END SOLUTION" in text or "{solution" in text:
                found.append(f"cell {index}: solution markup {text!r}")
    return found


# -- running both editions ----------------------------------------------------------------------


def kernel_env() -> dict[str, str]:
    env = dict(os.environ, CAPSNET_QUICK="1", TF_CPP_MIN_LOG_LEVEL="2")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    shared_mnist = ROOT.parent / "shared" / "data" / "mnist"
    if "CAPSNET_DATA_DIR" not in env and shared_mnist.is_dir():
        env["CAPSNET_DATA_DIR"] = str(shared_mnist)
    return env


async def _execute(nb, cwd: Path) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:  # nbval's skip tag means what Jupyter Book's does
        if "nbval-skip" in tags(cell):
            cell.metadata.setdefault("tags", []).append("skip-execution")
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    await client.async_execute(env=kernel_env())
    return nb


def execute_all(notebooks, cwd: Path) -> list[nbformat.NotebookNode]:
    """Execute the notebooks, at the same time unless STUDENT_TEST_PARALLEL=0."""

    async def run():
        if os.environ.get("STUDENT_TEST_PARALLEL", "1") == "0":
            return [await _execute(nb, cwd) for nb in notebooks]
        return await asyncio.gather(*(_execute(nb, cwd) for nb in notebooks))

    return list(asyncio.run(run()))


def error_of(cell) -> str | None:
    """The name of the exception a code cell raised, or None."""
    return next((out.ename for out in cell.get("outputs", []) if out.output_type == "error"), None)


def error_text(cell) -> str:
    """The exception a code cell raised, as ``Name: message`` (shortened)."""
    out = next(out for out in cell.outputs if out.output_type == "error")
    text = f"{out.ename}: {out.evalue}".strip().splitlines()[0]
    return text if len(text) < 160 else text[:157] + "..."


def printed(cell) -> str:
    return "".join(
        out.get("text", "") for out in cell.get("outputs", []) if out.output_type == "stream"
    )


def roles(nb, exercises) -> dict[str, tuple[str, str, int]]:
    """Cell id -> (role, exercise label, index in the original notebook), for every cell.

    The role is "solution" or "check" for the exercises' cells, "code" for the others; the
    index is the original notebook's, so that messages point at the cell to fix.
    """
    found = {cell.id: ("code", "", index) for index, cell in enumerate(nb.cells)}
    for exercise in exercises:
        for index in exercise.solution_cells:
            found[nb.cells[index].id] = ("solution", exercise.label, index)
        for index in exercise.check_cells:
            found[nb.cells[index].id] = ("check", exercise.label, index)
    return found


def problems_with_solutions(executed, cell_roles) -> list[str]:
    """What is wrong when the original notebook runs: an error, or a check that is not 'correct'."""
    problems = []
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        role, label, index = cell_roles[cell.id]
        error = error_of(cell)
        if error and EXPECTED_ERROR_TAG not in tags(cell):
            what = f"the {role} cell of {label}" if label else "a cell"
            problems.append(f"cell {index}: {what} raised {error_text(cell)}")
        elif role == "check" and "correct" not in printed(cell):
            problems.append(f"cell {index}: the check of {label} did not print 'correct'")
    return problems


def problems_with_stubs(executed, cell_roles) -> list[str]:
    """What is wrong when the student edition runs (cells numbered as in the original).

    Every check must raise ExerciseNotSolved; a stub may raise NotImplementedError (a solution
    at the top level of its cell) but nothing else; every other cell must run as in the book.
    """
    problems = []
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        role, label, index = cell_roles[cell.id]
        error = error_of(cell)
        if role == "check":
            if error != "ExerciseNotSolved":
                result = (
                    f"raised {error_text(cell)}" if error else f"passed ({printed(cell).strip()!r})"
                )
                problems.append(f"cell {index}: the check of {label} {result} on the stub")
        elif role == "solution":
            if error not in (None, "NotImplementedError"):
                problems.append(f"cell {index}: the stub of {label} raised {error_text(cell)}")
        elif error and EXPECTED_ERROR_TAG not in tags(cell):
            problems.append(f"cell {index}: a cell outside the exercises raised {error_text(cell)}")
    return problems


# -- the chapters -------------------------------------------------------------------------------


def test_all_chapters_present():
    assert len(CHAPTERS) == EXPECTED_CHAPTERS, f"chapters in notebooks/: {CHAPTERS}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_markup(chapter):
    nb = read(NOTEBOOKS / chapter)
    exercises, _ = se.analyse(nb, chapter)  # raises MarkupError with the cell's number
    number = int(chapter[:2])
    assert len(exercises) >= MIN_EXERCISES, f"{len(exercises)} exercises, want {MIN_EXERCISES}+"
    heading = next(
        (
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and re.search(r"(?m)^## Exercises\s*$", c.source)
        ),
        None,
    )
    assert heading is not None and heading < exercises[0].cell, "exercises go under '## Exercises'"
    for k, exercise in enumerate(exercises, 1):
        assert exercise.label == f"ch{number:02d}-ex{k}", (
            f"exercise {k} is labelled {exercise.label}"
        )
        assert exercise.solution_cells, exercise.label
        assert len(exercise.check_cells) == 1, f"{exercise.label}: one check cell"
        check = nb.cells[exercise.check_cells[0]].source
        called = re.findall(r"check\(\s*[\"']([\d.]+)[\"']", check)
        assert called == [exercise.number], f"{exercise.label}'s check calls check({called})"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_holds_no_solution(chapter):
    original = read(NOTEBOOKS / chapter)
    student, exercises = se.student_edition(original, chapter)
    found = leaks(original, student)
    assert not found, "\n".join(["solution left in the student edition:", *found])
    changed = {i for e in exercises for i in (e.cell, *e.solution_cells, *e.check_cells)}
    changed |= {i for e in exercises for i in range(e.solution_start, e.solution_end + 1)}
    kept = [c.source for i, c in enumerate(original.cells) if i not in changed]
    assert [c.source for c in student.cells if c.source in kept] == kept, "other cells unchanged"


_runs: dict[Path, tuple] = {}


def run_chapter(path: Path, nbval_record):
    """The original, executed, and the student edition, executed, once per test session.

    The original's outputs come from nbval's record of its run when there is a current one
    (the ``nbval_record`` fixture, tests/conftest.py); otherwise it is executed here too.
    Returns (original, student edition, roles, exercises, where the original's outputs come from).
    """
    if path not in _runs:
        original = read(path)
        student, exercises = se.student_edition(original, path.name)
        recorded, source = nbval_record(path)
        if recorded is not None:
            [executed_student] = execute_all([student], path.parent)
            executed_original = recorded
        else:
            executed_original, executed_student = execute_all([original, student], path.parent)
            source = f"executed here ({source})"
        _runs[path] = (
            executed_original,
            executed_student,
            roles(original, exercises),
            exercises,
            source,
        )
    return _runs[path]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checks_pass_on_solutions(chapter, nbval_record):
    original, _, cell_roles, exercises, source = run_chapter(NOTEBOOKS / chapter, nbval_record)
    print(f"{chapter}: the original's outputs: {source}")
    problems = problems_with_solutions(original, cell_roles)
    assert not problems, "\n".join(
        [f"the original notebook, run in quick mode ({source}):", *problems]
    )
    checks = [c for c in original.cells if cell_roles[c.id][0] == "check"]
    assert len(checks) == len(exercises)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checks_fail_on_stubs(chapter, nbval_record):
    _, student, cell_roles, _, _ = run_chapter(NOTEBOOKS / chapter, nbval_record)
    problems = problems_with_stubs(student, cell_roles)
    assert not problems, "\n".join(["the student edition, run in quick mode:", *problems])


# -- the tool, on the fixture -------------------------------------------------------------------


@pytest.fixture
def fixture_nb():
    return read(FIXTURE)


def cell_of(nb, label: str, role: str):
    """The solution or check cell of exercise ``label`` in ``nb`` (by grade_id)."""
    grade_id = label + ("-check" if role == "check" else "")
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_fixture_exercises(fixture_nb):
    exercises, _ = se.analyse(fixture_nb, FIXTURE.name)
    assert [(e.label, e.number, e.title) for e in exercises] == [
        ("ch99-ex1", "99.1", "Double it"),
        ("ch99-ex2", "99.2", "Squares"),
        ("ch99-ex3", "99.3", "A counter"),
        ("ch99-ex4", "99.4", "A check that checks nothing"),
    ]
    assert all(len(e.solution_cells) == 1 and len(e.check_cells) == 1 for e in exercises)


def test_stubs_keep_indentation(fixture_nb):
    student, _ = se.student_edition(fixture_nb, FIXTURE.name)
    assert cell_of(student, "ch99-ex1", "solution").source == (
        'def double(x):\n    """Twice x."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    )
    assert cell_of(student, "ch99-ex2", "solution").source == (
        "squares = None\n# YOUR CODE HERE\nraise NotImplementedError()"
    )
    counter = cell_of(student, "ch99-ex3", "solution").source
    assert counter.count("raise NotImplementedError()") == 3
    assert (
        "        if n < 0:\n            # YOUR CODE HERE\n            raise NotImplementedError()\n"
        in counter
    )
    for cell in student.cells:
        if cell.cell_type == "code":
            compile(cell.source, "cell", "exec")


def test_solution_prose_removed_and_rest_kept(fixture_nb):
    student, _ = se.student_edition(fixture_nb, FIXTURE.name)
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert "secret" not in markdown  # both pieces of solution prose
    assert (
        "{solution" not in markdown and "{exercise}" not in markdown and ":label:" not in markdown
    )
    assert "Run the check below." in markdown  # text after {solution-end} stays
    assert "### Exercise 99.3: A counter\n\nFinish `Counter`" in markdown
    assert len(student.cells) == len(fixture_nb.cells) - 8  # 4 solution-starts, 1 prose, 3 ends
    assert [c.source for c in student.cells if "check" in tags(c)] == [
        c.source for c in fixture_nb.cells if "check" in tags(c)
    ]
    assert not leaks(fixture_nb, student)


def test_leak_detector_finds_leaks(fixture_nb):
    """The no-solution test would notice solution code or prose left in the edition."""
    student, _ = se.student_edition(fixture_nb, FIXTURE.name)
    leaky = copy.deepcopy(student)
    leaky.cells[-1].source += "\n    return 2 * x"
    assert leaks(fixture_nb, leaky) == [f"cell {len(leaky.cells) - 1}: 'return 2 * x'"]
    leaky = copy.deepcopy(student)
    leaky.cells.append(
        nbformat.v4.new_markdown_cell("Square elementwise with `**`: the secret of squares.")
    )
    assert len(leaks(fixture_nb, leaky)) == 1


def test_nbgrader_metadata(fixture_nb):
    student, exercises = se.student_edition(fixture_nb, FIXTURE.name)
    assert "nbgrader" not in json.dumps([c.metadata for c in fixture_nb.cells])  # source untouched
    graded = [c for c in student.cells if "nbgrader" in c.metadata]
    assert len(graded) == 2 * len(exercises)
    ids = [c.metadata.nbgrader.grade_id for c in graded]
    assert len(set(ids)) == len(ids)
    for cell in graded:
        meta = cell.metadata.nbgrader
        # nbgrader's schema 3: required keys, id pattern, points on graded cells
        assert {"schema_version", "grade", "locked", "solution"} <= set(meta)
        assert meta.schema_version == 3 and re.fullmatch(r"[a-zA-Z0-9_\-]+", meta.grade_id)
        if "solution" in tags(cell):
            assert (meta.solution, meta.grade, meta.locked) == (True, False, False)
        else:
            assert "check" in tags(cell)
            assert (meta.solution, meta.grade, meta.locked, meta.points) == (False, True, True, 1)


def test_nbgrader_source_keeps_solutions(fixture_nb, tmp_path):
    """The nbgrader source: solutions kept between markers; nbgrader's stub gives the edition.

    (Checked by hand with nbgrader 0.9.6: generate_assignment on this source releases the
    student edition cell for cell, and autograde scores the student edition.)
    """
    student, _ = se.student_edition(fixture_nb, FIXTURE.name)
    source, _ = se.student_edition(fixture_nb, FIXTURE.name, keep_solutions=True)
    assert len(source.cells) == len(student.cells)
    for kept, stubbed in zip(source.cells, student.cells, strict=True):
        assert kept.metadata == stubbed.metadata
        if "solution" in tags(kept):
            assert se.BEGIN in kept.source and se.stub_solution(kept.source) == stubbed.source
        else:
            assert kept.source == stubbed.source
    assert se.main(["--nbgrader", str(FIXTURE.parent), str(tmp_path)]) == 0
    written = read(tmp_path / "source" / "ch99" / FIXTURE.name)
    assert [c.source for c in written.cells] == [c.source for c in source.cells]
    assert "nbgrader generate_assignment" in (tmp_path / "README.md").read_text()


def test_outputs_cleared_only_on_changed_cells(fixture_nb):
    output = nbformat.v4.new_output("stream", text="spoiler\n")
    for cell in fixture_nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [output], 3
    student, _ = se.student_edition(fixture_nb, FIXTURE.name)
    for cell in student.cells:
        if cell.cell_type == "code":
            changed = "nbgrader" in cell.metadata
            assert (cell.outputs == [], cell.execution_count is None) == (changed, changed)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "student"
    out.mkdir()
    (out / "00_stale.ipynb").write_text("{}")
    assert se.main([str(FIXTURE.parent), str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["99_fixture.ipynb", "README.md"]
    assert "4 exercises" in capsys.readouterr().out
    nbformat.validate(read(out / FIXTURE.name))
    readme = (out / "README.md").read_text()
    assert "99.3 A counter" in readme and "NotImplementedError" in readme


def _cell(nb, text: str):
    return next(c for c in nb.cells if text in c.source)


def _drop(nb, text: str):
    nb.cells.remove(_cell(nb, text))


BROKEN = {
    "no markers": (
        lambda nb: setattr(_cell(nb, "return 2 * x"), "source", "def double(x):\n    return 2 * x"),
        "must hold its answer between",
    ),
    "unclosed marker": (
        lambda nb: setattr(
            _cell(nb, "return 2 * x"),
            "source",
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x",
        ),
        "never closed",
    ),
    "misspelt marker": (
        lambda nb: setattr(
            _cell(nb, "return 2 * x"),
            "source",
            "def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
        ),
        "write the marker exactly",
    ),
    "no check": (lambda nb: _drop(nb, 'check("99.2"'), "ch99-ex2 (cell 10) has no check cell"),
    "untagged check": (
        lambda nb: _cell(nb, 'check("99.4"').metadata.pop("tags"),
        "ch99-ex4 (cell 20) has no check",
    ),
    "no solution-start": (
        lambda nb: _drop(nb, "{solution-start} ch99-ex3"),
        "tagged 'solution' outside",
    ),
    "no solution-end": (
        lambda nb: setattr(_cell(nb, "Run the check below."), "source", "Run the check below."),
        "inside the solution of ch99-ex2 must be tagged",
    ),
    "solution-end without start": (
        lambda nb: [_drop(nb, "{solution-start} ch99-ex4"), _drop(nb, "return x / 2")],
        "without {solution-start}",
    ),
    "no solution at all": (
        lambda nb: [nb.cells.pop(21) for _ in range(3)],  # ch99-ex4's start, code, end
        "a check cell that follows no exercise's solution",
    ),
    "no label": (
        lambda nb: setattr(
            _cell(nb, ":label: ch99-ex2"), "source", "```{exercise} Squares\nSquare them.\n```"
        ),
        "needs a label",
    ),
    "duplicate label": (
        lambda nb: setattr(
            _cell(nb, ":label: ch99-ex2"), "source", "```{exercise} Squares\n:label: ch99-ex1\n```"
        ),
        "used twice",
    ),
    "wrong label in solution-start": (
        lambda nb: setattr(
            _cell(nb, "{solution-start} ch99-ex3"), "source", "```{solution-start} ch99-ex1\n```"
        ),
        "does not follow its exercise",
    ),
    "untagged code in a solution": (
        lambda nb: _cell(nb, "return 2 * x").metadata.pop("tags"),
        "must be tagged 'solution'",
    ),
    "stub would not parse": (
        lambda nb: setattr(
            _cell(nb, "return 2 * x"),
            "source",
            "doubled = (\n    ### BEGIN SOLUTION\n    2 * 3\n    ### END SOLUTION\n)",
        ),
        "the stub is not valid Python",
    ),
    "unclosed directive": (
        lambda nb: setattr(
            _cell(nb, ":label: ch99-ex2"), "source", "```{exercise} Squares\n:label: ch99-ex2\n"
        ),
        "has no closing",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_markup_is_an_error(fixture_nb, case):
    break_it, message = BROKEN[case]
    break_it(fixture_nb)
    with pytest.raises(se.MarkupError, match=re.escape(message)):
        se.student_edition(fixture_nb, FIXTURE.name)


def test_command_line_reports_broken_markup(tmp_path, fixture_nb, capsys):
    _drop(fixture_nb, 'check("99.2"')
    nbformat.write(fixture_nb, tmp_path / "99_broken.ipynb")
    assert se.main([str(tmp_path), str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "99_broken.ipynb: exercise ch99-ex2 (cell 10) has no check cell" in error
    assert not (tmp_path / "out" / "99_broken.ipynb").exists()


@pytest.mark.slow
def test_fixture_checks_run_for_real(fixture_nb):
    """The execution tests catch the fixture's broken check, and only it."""
    student, exercises = se.student_edition(fixture_nb, FIXTURE.name)
    original, student = execute_all([fixture_nb, student], FIXTURE.parent)
    cell_roles = roles(fixture_nb, exercises)
    assert problems_with_solutions(original, cell_roles) == []
    problems = problems_with_stubs(student, cell_roles)
    assert len(problems) == 1 and "the check of ch99-ex4 passed" in problems[0], problems
    assert "done" in printed(student.cells[-1])


@pytest.mark.slow
def test_nbval_record_of_the_fixture(fixture_nb, nbval_record, tmp_path, monkeypatch):
    """nbval's record (tests/conftest.py) shows a check passing, or failing, as running does.

    nbval runs the fixture and a copy with a wrong solution; the checks are judged on what it
    recorded; a record no longer matches once the notebook changes.
    """
    folder, records = tmp_path / "notebooks", tmp_path / "records"
    folder.mkdir()
    wrong = copy.deepcopy(fixture_nb)
    triple = "def double(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION"
    _cell(wrong, "return 2 * x").source = triple
    right_path, wrong_path = folder / FIXTURE.name, folder / "98_wrong.ipynb"
    nbformat.write(fixture_nb, right_path)
    nbformat.write(wrong, wrong_path)
    monkeypatch.setenv("CAPSNET_EXECUTED_DIR", str(records))
    monkeypatch.delenv("STUDENT_TEST_RECORD", raising=False)
    assert nbval_record(right_path)[0] is None
    nbval = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env"]
    result = subprocess.run(
        [*nbval, "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", str(folder)],
        cwd=ROOT,
        env={**kernel_env(), "CAPSNET_EXECUTED_DIR": str(records)},
        capture_output=True,
        text=True,
    )
    assert "98_wrong.ipynb::Cell 3" in result.stdout, result.stdout[-3000:]  # nbval fails 99.1

    right, note = nbval_record(right_path)
    assert right is not None, f"{note}\n{result.stdout[-3000:]}"
    _, exercises = se.student_edition(fixture_nb, FIXTURE.name)
    assert problems_with_solutions(right, roles(fixture_nb, exercises)) == []
    assert "Exercise 99.3: correct" in printed(_cell(right, 'check("99.3"'))
    assert printed(right.cells[-1]) == "done\n"

    recorded_wrong, note = nbval_record(wrong_path)
    assert recorded_wrong is not None, note
    _, exercises = se.student_edition(wrong, wrong_path.name)
    assert problems_with_solutions(recorded_wrong, roles(wrong, exercises)) == [
        "cell 9: the check cell of ch99-ex1 raised ExerciseNotSolved: Exercise 99.1: not right yet:"
        " double(3) should be 6, not 9"
    ]

    nbformat.write(wrong, right_path)  # the notebook changed since nbval ran it
    stale, note = nbval_record(right_path)
    assert stale is None and note.startswith("stale nbval record") and "notebook" in note
    monkeypatch.setenv("STUDENT_TEST_RECORD", "0")
    assert nbval_record(wrong_path) == (None, "STUDENT_TEST_RECORD=0")
