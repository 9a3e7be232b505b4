"""Grade a batch of notebooks: execute each in its own kernel, harvest, judge, write a CSV."""

from __future__ import annotations

import contextlib
import copy
import importlib
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capsnet_lib.grading.harvest import Missing, harvest_cell_source, read_harvest
from capsnet_lib.grading.refs import References
from capsnet_lib.grading.source import Submission, modules_in
from capsnet_lib.grading.spec import Exercise, Wrong

DEFAULT_TIMEOUT = 900  # seconds per notebook; chapter 7 takes about 3 minutes in quick mode
LABEL = re.compile(r":label:\s*ch(\d+)-ex(\d+)\b")  # the book's {exercise} directive
HEADING = re.compile(r"^#{1,6}\s*Exercise\s+(\d+)\.(\d+)\b", re.M)  # the student edition's
GRADE_ID = re.compile(r"^ch(\d+)-ex(\d+)(?:-\d+)?$")  # nbgrader's grade_id of an answer cell
KERNEL_ENV = {"CAPSNET_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
MAX_OUTPUT = 16 * 2**20  # bytes a notebook may print or display before its kernel is stopped
JUDGING = threading.Lock()


@dataclass
class Result:
    """One notebook's grades.

    Attributes:
        path: The notebook.
        chapter: Its chapter, or None when it is not one.
        status: ``"graded"``, or what went wrong (``"timed out after 900 s"``, ...).
        marks: Exercise number -> 1 or 0, for every exercise of the chapter.
        reasons: Exercise number -> why it scored 0.
    """

    path: Path
    chapter: int | None = None
    status: str = "graded"
    marks: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The number of exercises right."""
        return sum(self.marks.values())


def chapter_exercises(chapter: int) -> list[Exercise] | None:
    """The exercises of ``chapter`` (module ``capsnet_lib.grading.chNN``), None without one."""
    name = f"capsnet_lib.grading.ch{chapter:02d}"
    if importlib.util.find_spec(name) is None:
        return None
    return list(importlib.import_module(name).EXERCISES)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_check(cell) -> bool:
    """A check cell of the book (tag ``check``) or an nbgrader test cell."""
    grader = cell.get("metadata", {}).get("nbgrader", {})
    return "check" in _tags(cell) or bool(grader.get("grade") and not grader.get("solution"))


def answer_cells(nb) -> dict[str, list[int]]:
    """Exercise number (``"3.2"``) -> the indices of its answer cells, in order.

    An answer cell is a code cell tagged ``solution`` under an exercise's heading (the book's
    ``{exercise}`` label or the student edition's ``### Exercise 3.2``), or one whose nbgrader
    metadata names the exercise.
    """
    found: dict[str, list[int]] = {}
    current = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            numbers = [*LABEL.findall(cell.source), *HEADING.findall(cell.source)]
            if numbers:
                current = f"{int(numbers[-1][0])}.{int(numbers[-1][1])}"
                found.setdefault(current, [])
        elif cell.cell_type == "code":
            grader = cell.get("metadata", {}).get("nbgrader", {})
            match = GRADE_ID.match(str(grader.get("grade_id", "")))
            if grader.get("solution") and match:
                number = f"{int(match[1])}.{int(match[2])}"
                found.setdefault(number, []).append(index)
            elif "solution" in _tags(cell) and current is not None:
                found[current].append(index)
    return found


def chapter_of(answers: dict[str, list[int]]) -> int | None:
    """The chapter most of the exercises belong to, or None when there are none."""
    chapters = Counter(int(number.split(".")[0]) for number in answers)
    return chapters.most_common(1)[0][0] if chapters else None


@contextlib.contextmanager
def _kernel_environment():
    saved = {key: os.environ.get(key) for key in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def grade_notebook(
    path: Path,
    timeout: float = DEFAULT_TIMEOUT,
    refs: References | None = None,
    seed: int | None = None,
    *,
    text: str | None = None,
    chapter: int | None = None,
    on_mark=None,
    sandbox=None,
) -> Result:
    """Execute ``path`` in a new kernel with harvest cells, and judge every exercise.

    The notebook's own check cells are dropped; each exercise's answer is harvested right
    after its last answer cell, as plain values, and judged here. A notebook that cannot
    be read, is not a chapter, runs past ``timeout`` seconds or kills its kernel gives a
    :class:`Result` that says so (exercises not reached score 0).

    Args:
        path: The notebook.
        timeout: Seconds the whole notebook may run.
        refs: The batch's shared :class:`References` (a new one by default).
        seed: Draws the grader's inputs to the student's functions (default: a fresh one).
        text: The notebook as handed in (read from ``path`` when None): what is run and what
            the source rules read.
        chapter: The assignment's chapter: a notebook of another chapter is not run, its
            row says so and the chapter's exercises score 0.
        on_mark: ``on_mark(number, mark, reason)``, called as each exercise is judged.
        sandbox: A :class:`~capsnet_lib.grading.sandbox.Sandbox` to run the kernel in
            (None: unsealed, in this machine's environment).

    Introduced with the grader (``python -m capsnet_lib grade``).
    """
    import nbformat

    refs = refs or References()
    result = Result(Path(path))
    try:
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is a row, not a crash
        result.status = f"unreadable notebook ({type(error).__name__})"
        return result
    answers = answer_cells(nb)
    result.chapter = chapter_of(answers)
    if result.chapter is None:
        result.status = "not a chapter: no exercises found"
        return result
    if chapter is not None and result.chapter != chapter:
        result.status = f"not the assignment: a chapter {result.chapter} notebook, not {chapter}"
        for exercise in chapter_exercises(chapter) or []:
            _mark(result, exercise.number, f"not handed in (chapter {result.chapter} was)")
        return result
    exercises = chapter_exercises(result.chapter)
    if exercises is None:
        result.status = f"not gradable: the grader has no checks for chapter {result.chapter}"
        return result
    rng = np.random.default_rng(seed if seed is not None else secrets.randbits(64))
    harvested: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="capsnet-grade-") as folder:
        work, out = Path(folder, "work"), Path(folder, secrets.token_hex(8))
        work.mkdir()
        out.mkdir()
        plan, inputs, not_found = _with_harvest_cells(nb, exercises, answers, out, rng)
        result.status = _execute(plan, work, timeout, exercises, harvested, sandbox)
    submission = Submission(nb, answers, is_check)
    for exercise in exercises:
        number = exercise.number
        if number in not_found:
            _mark(result, number, "its answer cell was not found")
        elif number not in harvested:
            _mark(result, number, f"not reached ({result.status})")
        else:
            with JUDGING:  # one verdict at a time: the references are shared by the batch
                verdict = _verdict(exercise, harvested[number], inputs[number], refs, submission)
            _mark(result, number, verdict)
        if on_mark is not None:
            on_mark(number, result.marks[number], result.reasons.get(number))
    return result


def _mark(result: Result, number: str, reason: str | None) -> None:
    result.marks[number] = int(reason is None)
    if reason is not None:
        result.reasons[number] = reason


def _verdict(
    exercise: Exercise, values: dict, inputs: dict, refs: References, submission: Submission
) -> str | None:
    """None when the answer is right, else the reason. NaN or inf anywhere is wrong; an
    exercise's functions are read from the notebook as handed in (``values["source"]``)."""
    for name, value in values.items():
        if isinstance(value, Missing):
            if value.reason.startswith("NotImplementedError"):
                return "not answered (NotImplementedError)"
            return f"{name}: {value.reason}"
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, np.ndarray) and part.dtype.kind == "f":
                if not np.all(np.isfinite(part)):
                    return f"{name}: not a finite number (NaN or inf)"
    try:
        values = dict(values)
        if exercise.writes:
            values["source"] = "\n\n".join(
                _source_of(submission, exercise, name) for name in exercise.writes
            )
        exercise.judge(values, inputs, refs)
    except Wrong as wrong:
        return str(wrong)
    except Exception as error:  # noqa: BLE001 - an answer of an unexpected form is wrong
        return f"{type(error).__name__}: {error}"[:300]
    return None


def _source_of(submission: Submission, exercise: Exercise, name: str) -> str:
    source = submission.reached(exercise.number, name, numpy_only=exercise.numpy_only)
    if not exercise.library and "capsnet_lib" in modules_in(source):
        raise Wrong(f"`{name}` uses the book's library: the exercise asks you to write it")
    return source


def _with_harvest_cells(nb, exercises, answers, out: Path, rng):
    """The notebook to run: check cells dropped, a harvest cell after each answer, nothing
    after the last harvest; with each exercise's inputs and the exercises without an answer."""
    import nbformat

    after: dict[int, list[Exercise]] = {}
    not_found = set()
    for exercise in exercises:
        cells = answers.get(exercise.number) or []
        if cells:
            after.setdefault(max(cells), []).append(exercise)
        else:
            not_found.add(exercise.number)
    plan = copy.deepcopy(nb)
    cells, inputs = [], {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not is_check(cell):
            cell = copy.deepcopy(cell)
            cell.outputs, cell.execution_count = [], None
            cells.append(cell)
        for exercise in after.get(index, []):
            inputs[exercise.number] = exercise.inputs(rng)
            source, path = harvest_cell_source(exercise, inputs[exercise.number], out)
            harvest = nbformat.v4.new_code_cell(source)
            harvest.metadata["capsnet_harvest"] = {"exercise": exercise.number, "path": str(path)}
            cells.append(harvest)
    while cells and "capsnet_harvest" not in cells[-1].metadata:
        cells.pop()  # what follows the last answer cannot change a grade
    plan.cells = cells
    return plan, inputs, not_found


def _client_class():
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """Keeps no output (nothing reads it) and stops a notebook that prints too much."""

        printed = 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            self.printed += len(str(content.get("text", ""))) + len(str(content.get("data", "")))
            self.printed += len(str(content.get("traceback", "")))
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            if self.printed > MAX_OUTPUT and process is not None and process.poll() is None:
                process.kill()  # the kernel (its sandbox) ends; the client sees it dead
            return None

    return Client


def _execute(plan, work: Path, timeout: float, exercises, harvested: dict, sandbox=None) -> str:
    """Run ``plan`` in a new kernel; fill ``harvested`` as harvest cells end; the status."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    by_number = {exercise.number: exercise for exercise in exercises}
    deadline = time.monotonic() + timeout

    def collect(cell, ran: bool = True, **_):
        info = cell.metadata.get("capsnet_harvest")
        if info and info["exercise"] not in harvested and (ran or Path(info["path"]).exists()):
            # read as soon as the cell ends, before any later cell of the student's runs
            exercise = by_number[info["exercise"]]
            harvested[info["exercise"]] = read_harvest(exercise, Path(info["path"]))

    extra = {} if sandbox is None else sandbox.client_options(work.parent)
    client = _client_class()(
        plan,
        timeout=int(timeout),
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        kernel_name="python3",
        allow_errors=True,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(work)}},
        on_cell_executed=collect,
        **extra,
    )
    stopped = f"stopped: printed more than {MAX_OUTPUT // 2**20} MiB"
    try:
        with _kernel_environment():
            client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up warnings
    except CellTimeoutError:
        return stopped if client.printed > MAX_OUTPUT else f"timed out after {timeout:g} s"
    except DeadKernelError:
        return stopped if client.printed > MAX_OUTPUT else "crashed: the kernel died"
    except Exception as error:  # noqa: BLE001 - a notebook that breaks the kernel is a row
        return (
            stopped
            if client.printed > MAX_OUTPUT
            else f"crashed: {type(error).__name__}: {str(error)[:80]}"
        )
    finally:
        for cell in plan.cells:  # a harvest cell whose end the hook did not see
            collect(cell, ran=False)
    return "graded"
