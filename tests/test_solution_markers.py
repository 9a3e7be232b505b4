"""book/_ext/solution_markers.py: the site shows a solution without the grader's markers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from solution_markers import without_solution_markers  # noqa: E402


def test_the_markers_and_the_placeholder_before_them_go():
    code = 'prediction = None\n### BEGIN SOLUTION\nprediction = "C"\n### END SOLUTION'
    assert without_solution_markers(code) == 'prediction = "C"'
    code = "a = b = None\n### BEGIN SOLUTION\na, b = 1, 2\n### END SOLUTION\nprint(a)"
    assert without_solution_markers(code) == "a, b = 1, 2\nprint(a)"


def test_a_function_keeps_its_signature_and_body():
    code = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert without_solution_markers(code) == "def f(x):\n    return 2 * x\n"


def test_code_without_markers_and_other_none_assignments_are_left_alone():
    code = "x = None\ny = 1"
    assert without_solution_markers(code) == code
    code = "x = None\ny = 2\n### BEGIN SOLUTION\nx = 3\n### END SOLUTION"
    assert without_solution_markers(code) == "x = None\ny = 2\nx = 3"
