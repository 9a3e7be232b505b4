"""Check cells for the chapters' exercises: say right, or say what is wrong."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections import Counter
from collections.abc import Callable

from capsnet_lib.explanations import EXPLANATIONS

EXPLAIN_WIDTH = 88  # columns of a check's explanation, as the notebooks' code lines


class ExerciseNotSolved(AssertionError):
    """Raised by a check cell when the exercise's answer is missing or wrong."""


def check(exercise: str, test: Callable[[], object], explain: str = "") -> None:
    """Run ``test`` (a function of asserts); print a success line or raise :class:`ExerciseNotSolved`.

    Args:
        exercise: The exercise's name as the chapter numbers it, e.g. ``"3.2"``.
        test: Raises ``AssertionError`` (or any error) when the answer is wrong.
        explain: Why the answer is what it is, for predict-then-run exercises: printed
            after the success line, and added to the message of a wrong prediction (not
            to that of an unanswered one, so the stub does not give the answer away).
            Without it, the exercise's text in :data:`capsnet_lib.explanations.EXPLANATIONS`.

    Introduced in chapter 1, input.
    """
    # wrapped as the notebooks' code is (88 columns): an output line does not scroll sideways
    explain = textwrap.fill(explain or EXPLANATIONS.get(exercise, ""), EXPLAIN_WIDTH)
    try:
        test()
    except NotImplementedError:
        raise ExerciseNotSolved(
            f"Exercise {exercise}: not solved yet (replace the NotImplementedError)"
        ) from None
    except Exception as error:  # any failure of the student's code is a wrong answer
        reason = str(error).strip() or type(error).__name__
        why = f"\n{explain}" if explain else ""
        raise ExerciseNotSolved(f"Exercise {exercise}: not right yet: {reason}{why}") from None
    print(f"Exercise {exercise}: correct ✓")
    if explain:
        print(explain)


def predicted(prediction: object) -> object:
    """``prediction`` itself, or ``NotImplementedError`` while it is still ``None``.

    For the checks of predict-then-run exercises, whose answer cell starts as
    ``prediction = None``: an unanswered prediction is "not solved yet", not "wrong".

    Introduced in chapter 1, input.
    """
    if prediction is None:
        raise NotImplementedError("make your prediction first")
    return prediction


def names_used(function: Callable) -> Counter:
    """How often each name appears in ``function``'s code (``tf.einsum`` counts ``tf`` and
    ``einsum``), comments and strings left out: for checks of what an exercise forbids or
    asks for ("a single ``tf.einsum``", "without ``tf.one_hot``").

    Introduced in chapter 3, routing.
    """
    return names_in_source(inspect.getsource(function))


def names_in_source(source: str) -> Counter:
    """:func:`names_used` for a function's source text (raises ``SyntaxError`` if unreadable)."""
    names = Counter()
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if isinstance(node, ast.Name):
            names[node.id] += 1
        elif isinstance(node, ast.Attribute):
            names[node.attr] += 1
    return names
