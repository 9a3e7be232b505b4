"""Check cells for the chapters' exercises: say right, or say what is wrong."""

from __future__ import annotations

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
