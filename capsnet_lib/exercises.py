"""Check cells for the chapters' exercises: say right, or say what is wrong."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections import Counter
from collections.abc import Callable


class ExerciseNotSolved(AssertionError):
    """Raised by a check cell when the exercise's answer is missing or wrong."""


def check(exercise: str, test: Callable[[], object]) -> None:
    """Run ``test`` (a function of asserts); print a success line or raise :class:`ExerciseNotSolved`.

    Args:
        exercise: The exercise's name as the chapter numbers it, e.g. ``"3.2"``.
        test: Raises ``AssertionError`` (or any error) when the answer is wrong.

    Introduced in chapter 1, input.
    """
    try:
        test()
    except NotImplementedError:
        raise ExerciseNotSolved(
            f"Exercise {exercise}: not solved yet (replace the NotImplementedError)"
        ) from None
    except Exception as error:  # any failure of the student's code is a wrong answer
        reason = str(error).strip() or type(error).__name__
        raise ExerciseNotSolved(f"Exercise {exercise}: not right yet: {reason}") from None
    print(f"Exercise {exercise}: correct ✓")


def names_used(function: Callable) -> Counter:
    """How often each name appears in ``function``'s code (``tf.einsum`` counts ``tf`` and
    ``einsum``), comments and strings left out: for checks of what an exercise forbids or
    asks for ("a single ``tf.einsum``", "without ``tf.one_hot``").

    Introduced in chapter 3, routing.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    names = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names[node.id] += 1
        elif isinstance(node, ast.Attribute):
            names[node.attr] += 1
    return names
