"""The grader: ``python -m capsnet_lib grade SUBMISSION... --csv grades.csv``.

Each notebook runs in its own kernel, with a time limit. Right after each exercise's answer
cell, a cell added by the grader takes the answer's values (numbers, arrays, strings; for a
function, what it returns on inputs the grader draws anew for every notebook) as plain data;
the verdicts are computed here, in the grading process, from the library, never by the
notebook's own check cells (which are dropped). See ``book/instructors.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from capsnet_lib.grading.batch import grade, notebooks_in
from capsnet_lib.grading.outputs import add_outputs, load_assignment, write_outputs
from capsnet_lib.grading.runner import DEFAULT_TIMEOUT, Result, chapter_exercises, grade_notebook
from capsnet_lib.grading.sandbox import Sandbox, sandbox_problem

__all__ = ["DEFAULT_TIMEOUT", "Result", "add_grade_command", "grade", "grade_notebook", "run_grade"]


def add_grade_command(commands) -> None:
    """Add the ``grade`` subcommand to the CLI's subparsers ``commands``."""
    parser = commands.add_parser(
        "grade",
        help="grade students' notebooks: run each sealed off, judge its exercises, write a CSV",
        description="Read and fingerprint every notebook, run each in its own kernel inside a"
        " sandbox (bubblewrap; quick mode) with a time limit, take every exercise's answer"
        " from it as plain values right after its answer cell, judge them here (the notebooks'"
        " own check cells are ignored), record each mark in a SQLite gradebook (a batch run"
        " again resumes) and write one CSV row per notebook.",
    )
    parser.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks")
    parser.add_argument("--csv", required=True, type=Path, help="where to write the grades")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a notebook may run (default {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--chapter", type=int, help="the assignment: notebooks of another chapter score 0"
    )
    parser.add_argument(
        "--gradebook",
        type=Path,
        help="the SQLite gradebook (default: the CSV's name with .sqlite); run again to resume",
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument(
        "--unsealed",
        action="store_true",
        help="grade without a sandbox where bubblewrap is missing (students' code then runs"
        " with your permissions: only for notebooks you trust)",
    )
    add_outputs(parser)


def run_grade(args: argparse.Namespace) -> None:
    """Handle ``grade``: grade the batch, write the CSV, print a summary line."""
    if not args.timeout > 0:
        raise ValueError(f"--timeout must be a number of seconds above 0, got {args.timeout}")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be 1 or more, got {args.jobs}")
    assignment = load_assignment(args.assignment) if args.assignment else {}
    if args.chapter is None:
        args.chapter = assignment.get("chapter")
    if args.chapter is not None and chapter_exercises(args.chapter) is None:
        raise ValueError(f"--chapter {args.chapter}: the grader has no checks for that chapter")
    sandbox, problem = None, sandbox_problem()
    if problem is None:
        hidden = [*notebooks_in(args.submissions), args.csv, args.csv.with_suffix(".sqlite")]
        hidden += [args.gradebook] if args.gradebook else []
        sandbox = Sandbox(cpu_seconds=int(4 * args.timeout) + 60, hidden=hidden)
    elif args.unsealed:
        print(f"not sealed: {problem}; grading unsealed (--unsealed)")
    else:
        raise SystemExit(
            f"grade: no sandbox: {problem}. Install bubblewrap (Debian: apt-get install"
            " bubblewrap), or pass --unsealed to grade without one (only notebooks you trust)."
        )
    points = assignment.get("points") or None
    results = grade(
        args.submissions,
        args.csv,
        timeout=args.timeout,
        chapter=args.chapter,
        gradebook=args.gradebook,
        jobs=args.jobs,
        sandbox=sandbox,
        points=points,
    )
    write_outputs(args, results, points)
    graded = sum(result.status == "graded" for result in results)
    print(f"{len(results)} notebooks, {graded} graded in full; grades in {args.csv}")
