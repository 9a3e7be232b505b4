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

from capsnet_lib.grading.runner import DEFAULT_TIMEOUT, Result, grade, grade_notebook

__all__ = ["DEFAULT_TIMEOUT", "Result", "add_grade_command", "grade", "grade_notebook", "run_grade"]


def add_grade_command(commands) -> None:
    """Add the ``grade`` subcommand to the CLI's subparsers ``commands``."""
    parser = commands.add_parser(
        "grade",
        help="grade students' notebooks: run each, judge its exercises, write a CSV",
        description="Run each notebook in its own kernel (quick mode) with a time limit, take"
        " every exercise's answer from it as plain values right after its answer cell, judge"
        " them here (the notebooks' own check cells are ignored), and write one CSV row per"
        " notebook.",
    )
    parser.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks")
    parser.add_argument("--csv", required=True, type=Path, help="where to write the grades")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a notebook may run (default {DEFAULT_TIMEOUT})",
    )


def run_grade(args: argparse.Namespace) -> None:
    """Handle ``grade``: grade the batch, write the CSV, print a summary line."""
    if not args.timeout > 0:
        raise ValueError(f"--timeout must be a number of seconds above 0, got {args.timeout}")
    results = grade(args.submissions, args.csv, timeout=args.timeout)
    graded = sum(result.status == "graded" for result in results)
    print(f"{len(results)} notebooks, {graded} graded in full; grades in {args.csv}")
