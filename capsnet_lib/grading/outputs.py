"""What instructors take from a batch besides the CSV: a rubric's points, a feedback page per
student (HTML, one section per exercise), and a Canvas-style gradebook CSV.

An assignment file is a small JSON object::

    {"name": "Chapter 1", "chapter": 1, "points": {"1.1": 2, "1.5": 3}}

``chapter`` binds the batch (as ``--chapter``); ``points`` gives an exercise's points (1 for
each exercise it does not name, as in the instructors' table: one point per exercise).
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from capsnet_lib.grading.gradebook import atomic_write
from capsnet_lib.grading.runner import Result


def load_assignment(path: Path) -> dict:
    """The assignment file ``path``, checked: ``{"name", "chapter", "points"}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"assignment file {path}: {error}") from None
    if not isinstance(data, dict) or set(data) - {"name", "chapter", "points"}:
        raise ValueError(f'assignment file {path}: a JSON object of "name", "chapter", "points"')
    points = data.get("points", {})
    if not all(
        isinstance(k, str) and isinstance(v, int | float) and v >= 0 for k, v in points.items()
    ):
        raise ValueError(f"assignment file {path}: points are exercise -> a number >= 0")
    return {
        "name": str(data.get("name", Path(path).stem)),
        "chapter": data.get("chapter"),
        "points": points,
    }


def add_outputs(parser) -> None:
    """The ``grade`` options for the assignment file, feedback pages and the LMS export."""
    parser.add_argument("--assignment", type=Path, help="a JSON assignment file (chapter, points)")
    parser.add_argument("--feedback", type=Path, help="a folder: one HTML page per notebook")
    parser.add_argument("--canvas", type=Path, help="a Canvas-style gradebook CSV to import")


def feedback_page(result: Result, points: dict | None = None, explain: bool = True) -> str:
    """One student's feedback: a section per exercise, its verdict, the reason, and (after the
    deadline, ``explain``) the explanation of a predict-then-run exercise."""
    from capsnet_lib.explanations import EXPLANATIONS

    points = points or {}
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>Feedback: {html.escape(result.path.name)}</title>",
        f"<h1>{html.escape(result.path.name)}</h1>",
        f"<p>Status: {html.escape(result.status)}. Score: {score(result, points):g} of "
        f"{sum(points.get(n, 1) for n in result.marks):g}.</p>",
    ]
    for number, mark in result.marks.items():
        verdict = "right" if mark else "not right"
        parts.append(f"<section id='ex{number}'><h2>Exercise {number}: {verdict}</h2>")
        parts.append(
            f"<p>Points: {mark * points.get(number, 1):g} of {points.get(number, 1):g}</p>"
        )
        if number in result.reasons:
            parts.append(f"<p>Why: {html.escape(result.reasons[number])}</p>")
        if explain and number in EXPLANATIONS:
            parts.append(f"<p>Explanation: {html.escape(EXPLANATIONS[number])}</p>")
        parts.append("</section>")
    return "\n".join(parts) + "\n"


def score(result: Result, points: dict | None = None) -> float:
    """The notebook's points."""
    points = points or {}
    return sum(mark * points.get(number, 1) for number, mark in result.marks.items())


def _student(result: Result) -> str:
    """The student a notebook belongs to: its folder's name, or the file's stem."""
    folder = result.path.parent.name
    return (
        folder
        if folder and not re.fullmatch(r"submissions?|submitted|\.", folder)
        else (result.path.stem)
    )


def write_feedback(results: list[Result], folder: Path, points: dict | None = None) -> None:
    """One page per notebook in ``folder`` (``<student>_<notebook>.html``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        name = re.sub(r"[^\w.-]", "_", f"{_student(result)}_{result.path.stem}") + ".html"
        page = feedback_page(result, points)
        atomic_write(folder / name, lambda stream, page=page: stream.write(page))


def write_canvas(results: list[Result], path: Path, name: str, points: dict | None = None) -> None:
    """A gradebook CSV as Canvas imports it: Student, ID, SIS User ID, SIS Login ID, Section,
    then the assignment's column, with a ``Points Possible`` row first (Moodle's is close)."""
    possible = max((sum((points or {}).get(n, 1) for n in r.marks) for r in results), default=0)

    def write(stream) -> None:
        writer = csv.writer(stream)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", name])
        writer.writerow(["Points Possible", "", "", "", "", f"{possible:g}"])
        for result in results:
            student = _student(result)
            writer.writerow([student, "", "", student, "", f"{score(result, points):g}"])

    atomic_write(path, write)


def write_outputs(args, results: list[Result], points: dict | None) -> None:
    """The feedback pages and the Canvas CSV that ``args`` asks for."""
    if args.feedback:
        write_feedback(results, args.feedback, points)
    if args.canvas:
        name = args.assignment.stem if args.assignment else "Grade"
        if args.assignment:
            name = load_assignment(args.assignment)["name"]
        write_canvas(results, args.canvas, name, points)
