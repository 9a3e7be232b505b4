"""Write the student edition of the chapters: solutions replaced by stubs, solution prose removed.

    python tools/student_edition.py notebooks dist/student    # what `make student` runs

For every notebook in the source folder, the student edition

- replaces the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in each cell tagged
  ``solution`` by ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` (at the marker's
  indentation), and clears the cell's outputs;
- removes the solution prose: everything from ``{solution-start}`` to ``{solution-end}``, and
  any non-gated ``{solution}`` directive;
- turns each ``{exercise}`` directive into a plain heading and text (Jupyter and Colab do not
  render MyST directives);
- keeps the check cells (tagged ``check``), outputs cleared;
- adds nbgrader cell metadata (schema 3): solution cells are unlocked, ungraded answers; check
  cells are locked, graded tests worth one point each.

It also writes a ``README.md`` listing the exercises.

With ``--nbgrader`` it writes instead the source folder of an nbgrader course
(``OUT/source/ch01/01_input.ipynb``, ...): the same notebooks with the solutions kept between
their markers, which ``nbgrader generate_assignment`` replaces by the same stub. (nbgrader
replaces a whole solution cell that has no markers, ``def`` line included, so the student
edition itself is not an nbgrader source; its metadata lets nbgrader autograde it.)

    python tools/student_edition.py --nbgrader notebooks dist/nbgrader

 The markup is described in
CONTRIBUTING.md ("Exercises"); a notebook that breaks it (a solution cell without its markers,
an exercise without its solution or its check, ...) is reported with the cell's number and
nothing is written for it.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor, TagRemovePreprocessor
from traitlets import Bool

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_TAG = "solution"
CHECK_TAG = "check"
REMOVE_TAG = "student-edition-remove"  # internal: cells the TagRemovePreprocessor drops
LABEL = re.compile(r"^ch(?P<chapter>\d+)-ex(?P<exercise>\d+)$")
# A MyST directive's opening fence: ```{name} argument (also ~~~ and ::: fences)
OPENING = re.compile(
    r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}\s*(?P<argument>.*?)\s*$"
)


class MarkupError(ValueError):
    """A notebook breaks the exercise markup of CONTRIBUTING.md."""


@dataclass
class Exercise:
    """One exercise of a chapter: where its cells are (indices into the original notebook)."""

    label: str  # e.g. "ch03-ex2"
    title: str
    cell: int  # the markdown cell holding the {exercise} directive
    solution_start: int | None = None
    solution_end: int | None = None
    solution_cells: list[int] = field(default_factory=list)
    check_cells: list[int] = field(default_factory=list)

    @property
    def number(self) -> str:
        """The exercise's number as the check cell spells it, e.g. ``"3.2"``."""
        match = LABEL.match(self.label)
        return f"{int(match['chapter'])}.{int(match['exercise'])}"


@dataclass
class _Block:
    """A fenced MyST directive inside a markdown cell (line numbers within the cell)."""

    name: str
    argument: str
    options: dict[str, str]
    body: list[str]
    start: int
    end: int  # the closing fence's line


def _directives(lines: list[str]) -> list[_Block]:
    """The top-level fenced directives in a markdown cell's lines, in order."""
    blocks, i = [], 0
    while i < len(lines):
        opening = OPENING.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise MarkupError(f"the {{{opening['name']}}} directive has no closing {fence}")
        content, options = lines[i + 1 : end], {}
        if content and content[0].strip() == "---":  # options as a YAML block
            stop = next((k for k in range(1, len(content)) if content[k].strip() == "---"), 0)
            for line in content[1:stop]:
                key, _, value = line.partition(":")
                options[key.strip()] = value.strip()
            content = content[stop + 1 :]
        else:  # options as :key: value lines
            while content and (option := re.match(r"^\s*:([\w-]+):\s*(.*?)\s*$", content[0])):
                options[option[1]] = option[2]
                content = content[1:]
        blocks.append(_Block(opening["name"], opening["argument"], options, content, i, end))
        i = end + 1
    return blocks


def _exercise_markdown(exercise: Exercise, block: _Block) -> list[str]:
    """The {exercise} directive as plain markdown: a heading, then the task."""
    heading = f"### Exercise {exercise.number}" + (f": {exercise.title}" if exercise.title else "")
    body = list(block.body)
    while body and not body[0].strip():
        body = body[1:]
    return [heading, "", *body]


def _check_markers(source: str, where: str) -> None:
    """Raise MarkupError unless the solution markers in ``source`` are well formed."""
    inside, regions = False, 0
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            if text not in (BEGIN, END):
                raise MarkupError(
                    f"{where}, line {number}: write the marker exactly as {BEGIN!r} or {END!r},"
                    f" alone on its line, not {text!r}"
                )
            if (text == BEGIN) == inside:
                expected = END if inside else BEGIN
                raise MarkupError(f"{where}, line {number}: {text!r} where {expected!r} was due")
            inside = text == BEGIN
            regions += text == END
    if inside:
        raise MarkupError(f"{where}: {BEGIN!r} is never closed by {END!r}")
    if not regions:
        raise MarkupError(
            f"{where}: a cell tagged {SOLUTION_TAG!r} must hold its answer between"
            f" {BEGIN!r} and {END!r}"
        )


def stub_solution(source: str) -> str:
    """``source`` with each marked solution region replaced by the stub, at the marker's indent."""
    out, inside = [], False
    for line in source.splitlines():
        text = line.strip()
        if text == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + stub for stub in STUB]
            inside = True
        elif text == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def solution_regions(source: str) -> list[str]:
    """The lines of ``source`` between the solution markers (the answer a student must write)."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
        elif inside:
            lines.append(line)
    return lines


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def analyse(nb: nbformat.NotebookNode, name: str = "notebook"):
    """Parse a chapter's exercises and work out its student markdown.

    Returns ``(exercises, markdown)``: the exercises in order, and for each markdown cell that
    changes in the student edition its new source (``None``: the cell goes). Raises
    :class:`MarkupError` when the notebook breaks the exercise markup.
    """
    exercises: list[Exercise] = []
    markdown: dict[int, str | None] = {}
    labels: set[str] = set()
    current: Exercise | None = None
    in_solution = False

    def close(exercise: Exercise | None) -> None:
        if exercise is None:
            return
        if exercise.solution_start is None:
            raise MarkupError(
                f"{name}: exercise {exercise.label} (cell {exercise.cell}) has no solution"
                f" (```{{solution-start}} {exercise.label}``` ... ```{{solution-end}}```)"
            )
        if not exercise.check_cells:
            raise MarkupError(
                f"{name}: exercise {exercise.label} (cell {exercise.cell}) has no check cell"
                f" (a code cell tagged {CHECK_TAG!r} after its {{solution-end}})"
            )

    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            try:
                blocks = _directives(lines)
            except MarkupError as error:
                raise MarkupError(f"{where}: {error}") from None
            keep: list[str] = []
            position, changed = 0, in_solution
            for block in blocks:
                if not in_solution:
                    keep += lines[position : block.start]
                position = block.end + 1
                if block.name in ("exercise-start", "exercise-end"):
                    raise MarkupError(f"{where}: use {{exercise}}, not the gated {block.name}")
                if block.name == "exercise":
                    if in_solution:
                        raise MarkupError(
                            f"{where}: an exercise inside the solution of {current.label}"
                        )
                    close(current)
                    label = block.options.get("label", "")
                    if not LABEL.match(label):
                        raise MarkupError(
                            f"{where}: the exercise needs a label like ':label: ch03-ex2', not {label!r}"
                        )
                    if label in labels:
                        raise MarkupError(f"{where}: the label {label} is used twice")
                    labels.add(label)
                    current = Exercise(label, block.argument, index)
                    exercises.append(current)
                    keep += _exercise_markdown(current, block)
                    changed = True
                elif block.name == "solution-start":
                    if current is None or block.argument != current.label:
                        expected = current.label if current else "(no exercise above)"
                        raise MarkupError(
                            f"{where}: {{solution-start}} {block.argument} does not follow its"
                            f" exercise (the exercise above is {expected})"
                        )
                    if in_solution or current.solution_start is not None:
                        raise MarkupError(
                            f"{where}: a second {{solution-start}} for {current.label}"
                        )
                    current.solution_start, in_solution, changed = index, True, True
                elif block.name == "solution-end":
                    if not in_solution:
                        raise MarkupError(f"{where}: {{solution-end}} without {{solution-start}}")
                    if not current.solution_cells:
                        raise MarkupError(
                            f"{name}: the solution of {current.label} has no code cell tagged"
                            f" {SOLUTION_TAG!r}"
                        )
                    current.solution_end, in_solution, changed = index, False, True
                elif block.name == "solution":  # a non-gated solution: prose only, removed
                    changed = True
                elif not in_solution:
                    keep += lines[block.start : block.end + 1]
            if not in_solution:
                keep += lines[position:]
            if changed:
                text = "\n".join(keep).strip("\n")
                markdown[index] = text if text.strip() else None
        elif cell.cell_type == "code":
            tags = _tags(cell)
            if SOLUTION_TAG in tags and CHECK_TAG in tags:
                raise MarkupError(
                    f"{where}: a cell is tagged both {SOLUTION_TAG!r} and {CHECK_TAG!r}"
                )
            if SOLUTION_TAG in tags:
                if not in_solution:
                    raise MarkupError(
                        f"{where}: a cell tagged {SOLUTION_TAG!r} outside"
                        " {solution-start} ... {solution-end}"
                    )
                _check_markers(cell.source, where)
                try:
                    compile(
                        re.sub(r"(?m)^\s*[%!].*$", "", stub_solution(cell.source)), where, "exec"
                    )
                except SyntaxError as error:
                    raise MarkupError(
                        f"{where}: the stub is not valid Python ({error.msg}, line {error.lineno});"
                        " keep the def line or the assignment outside the markers"
                    ) from None
                current.solution_cells.append(index)
            elif in_solution:
                raise MarkupError(
                    f"{where}: a code cell inside the solution of {current.label} must be tagged"
                    f" {SOLUTION_TAG!r} (its code would reach the students)"
                )
            elif CHECK_TAG in tags:
                if current is None or current.solution_end is None:
                    raise MarkupError(f"{where}: a check cell that follows no exercise's solution")
                current.check_cells.append(index)
            elif BEGIN in cell.source or END in cell.source:
                raise MarkupError(
                    f"{where}: solution markers in a cell not tagged {SOLUTION_TAG!r}"
                )
        elif in_solution:  # a raw cell inside a solution: prose
            markdown[index] = None
    if in_solution:
        raise MarkupError(f"{name}: the solution of {current.label} has no {{solution-end}}")
    close(current)
    return exercises, markdown


def nbgrader_metadata(exercise: Exercise, kind: str, k: int = 0) -> dict:
    """nbgrader's cell metadata (schema 3) for a solution or check cell of ``exercise``."""
    grade_id = exercise.label + ("-check" if kind == CHECK_TAG else "") + (f"-{k + 1}" if k else "")
    if kind == SOLUTION_TAG:
        return {
            "grade": False,
            "grade_id": grade_id,
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
    return {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }


class StudentEditionPreprocessor(Preprocessor):
    """Replace solutions by stubs, drop solution prose, add nbgrader metadata.

    Cells to drop are tagged ``student-edition-remove`` for a TagRemovePreprocessor to remove;
    ``resources["exercises"]`` receives the chapter's exercises. With ``keep_solutions`` the
    solution code stays between its markers (an nbgrader source notebook).
    """

    enabled = True
    keep_solutions = Bool(False, help="keep the solution code and its markers").tag(config=True)

    def preprocess(self, nb, resources):
        name = resources.get("metadata", {}).get("name", "notebook")
        exercises, markdown = analyse(nb, name)
        clear = ClearOutputPreprocessor()
        for index, source in markdown.items():
            cell = nb.cells[index]
            if source is None:
                cell.metadata.setdefault("tags", []).append(REMOVE_TAG)
            else:
                cell.source = source
        for exercise in exercises:
            for kind, indices in (
                (SOLUTION_TAG, exercise.solution_cells),
                (CHECK_TAG, exercise.check_cells),
            ):
                for k, index in enumerate(indices):
                    cell, resources = clear.preprocess_cell(nb.cells[index], resources, index)
                    if kind == SOLUTION_TAG and not self.keep_solutions:
                        cell.source = stub_solution(cell.source)
                    cell.metadata["nbgrader"] = nbgrader_metadata(exercise, kind, k)
        resources["exercises"] = exercises
        return nb, resources


def student_edition(
    nb: nbformat.NotebookNode, name: str = "notebook", keep_solutions: bool = False
):
    """The student edition of ``nb`` (which is left unchanged) and the chapter's exercises.

    With ``keep_solutions``, the nbgrader source version: solution code kept between markers.
    """
    resources = {"metadata": {"name": name}}
    edition = StudentEditionPreprocessor(keep_solutions=keep_solutions)
    nb, resources = edition(copy.deepcopy(nb), resources)
    nb, resources = TagRemovePreprocessor(enabled=True, remove_cell_tags={REMOVE_TAG})(
        nb, resources
    )
    return nb, resources["exercises"]


def readme(chapters: dict[str, list[Exercise]]) -> str:
    """The student edition's README: how to work on the exercises, and the list of them."""
    lines = [
        "# CapsNets, the book: student edition",
        "",
        "Each chapter of the book as a notebook, with the exercises at its end left for you to"
        " solve. Open a notebook in Jupyter or Colab and run it from the top: the first cell"
        " installs the book's library `capsnet_lib` where it is missing (on Colab it comes from"
        " <https://github.com/capsnets-book/capsnets-book>).",
        "",
        "## How the exercises work",
        "",
        "- Each exercise has a cell with `# YOUR CODE HERE` and `raise NotImplementedError()`:"
        " replace those two lines with your answer (keep the line above them, such as the"
        " `def`, as it is).",
        "- The cell after it is a **check**: run it. It prints `Exercise N.K: correct ✓`, or"
        " raises `ExerciseNotSolved` saying what is still wrong. The checks are feedback for"
        " you, not your grade.",
        "- If your teacher grades with the book's grader (`python -m capsnet_lib grade`), it"
        " runs your notebook from the top in its own kernel, in quick mode and with a time limit,"
        " ignores the check cells, takes each answer right after its answer cell (the values and"
        " functions the exercise names: it calls your functions on inputs of its own), and judges"
        " it outside your notebook. It does not read answers written in words. So keep each"
        " answer in its answer cell under the names the exercise asks for, and make sure the"
        " notebook runs from top to bottom.",
        "- An exercise may use anything defined earlier in its chapter, so run the chapter's"
        " cells in order first.",
        "- The chapters run in quick mode (small data, a few training steps), as the book's"
        " pages do, in minutes on a laptop. `CAPSNET_QUICK=0` in the environment asks for"
        " the full-length runs, which take hours on a CPU in chapter 7.",
        "",
        "## The exercises",
        "",
    ]
    for chapter, exercises in chapters.items():
        lines.append(f"- `{chapter}`")
        lines += [f"  - {e.number} {e.title}".rstrip() for e in exercises] or ["  - (none)"]
    return "\n".join(lines) + "\n"


def nbgrader_readme(chapters: dict[str, list[Exercise]]) -> str:
    """The README of the nbgrader source folder."""
    assignments = ", ".join(assignment_of(chapter) for chapter in chapters)
    return (
        "# CapsNets, the book: nbgrader source\n\n"
        f"One nbgrader assignment per chapter ({assignments}) in `source/`, with the solutions"
        " between `### BEGIN SOLUTION` and `### END SOLUTION` and the check cells as graded"
        " tests worth one point each. Copy `source/` into your course directory, then for each"
        " assignment run `nbgrader generate_assignment ch01`, hand out `release/ch01` (or the"
        " student edition, which is the same notebook), and grade with"
        " `CAPSNET_QUICK=1 nbgrader autograde ch01`.\n"
    )


def assignment_of(chapter: str) -> str:
    """The nbgrader assignment of a chapter notebook: ``01_input.ipynb`` -> ``ch01``."""
    prefix = chapter.split("_")[0]
    return f"ch{prefix}" if prefix.isdigit() else Path(chapter).stem


def write_student_edition(
    source: Path, out: Path, nbgrader: bool = False
) -> dict[str, list[Exercise]]:
    """Write the student edition of every notebook in ``source`` to ``out``; return the exercises.

    With ``nbgrader``, write an nbgrader course's ``source/`` folder instead (solutions kept).
    Raises :class:`MarkupError` listing every notebook that breaks the markup (the others are
    written).
    """
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise MarkupError(f"no notebooks in {source}")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("source/*/*.ipynb" if nbgrader else "*.ipynb"):
        stale.unlink()
    chapters, errors = {}, []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            student, exercises = student_edition(nb, path.name, keep_solutions=nbgrader)
        except MarkupError as error:
            errors.append(str(error))
            continue
        nbformat.validate(student)
        target = out / "source" / assignment_of(path.name) if nbgrader else out
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target / path.name)
        chapters[path.name] = exercises
    (out / "README.md").write_text(nbgrader_readme(chapters) if nbgrader else readme(chapters))
    if errors:
        raise MarkupError("\n".join(errors))
    return chapters


def main(argv: list[str] | None = None) -> int:
    """Command line: ``student_edition.py [--nbgrader] SOURCE OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of chapter notebooks")
    parser.add_argument("out", type=Path, help="folder for the student edition")
    parser.add_argument(
        "--nbgrader",
        action="store_true",
        help="write an nbgrader course's source/ folder instead (solutions kept between markers)",
    )
    args = parser.parse_args(argv)
    try:
        chapters = write_student_edition(args.source, args.out, nbgrader=args.nbgrader)
    except MarkupError as error:
        print(
            f"student edition: the exercise markup is broken (see CONTRIBUTING.md):\n{error}",
            file=sys.stderr,
        )
        return 1
    for chapter, exercises in chapters.items():
        where = args.out / "source" / assignment_of(chapter) if args.nbgrader else args.out
        print(f"{where / chapter}: {len(exercises)} exercises")
    return 0


if __name__ == "__main__":
    sys.exit(main())
