"""What the grader asks of an exercise: the values to take from the notebook, and the verdict.

A chapter's exercises are one module, ``capsnet_lib/grading/chNN.py``, holding ``EXERCISES``:
a list of :class:`Exercise`. The grader finds the module by the chapter's number, so a new
chapter needs no other change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

NUMBER, TEXT, ARRAYS, ARRAY = "number", "text", "arrays", "array"  # a probe value's plain forms


class Wrong(Exception):
    """Raised by a verdict: the answer is wrong, with a short reason."""


@dataclass(frozen=True)
class Probe:
    """One value taken from the student's kernel right after the exercise's answer cell.

    ``expression`` is evaluated there with the notebook's variables, plus ``np``, ``tf``,
    ``keras``, ``cl`` (the book's library), ``I`` (the grader's inputs, plain JSON values)
    and whatever the exercise's ``prelude`` defined. Its value is converted there to the
    plain form ``kind``: ``"number"`` (a float64 array, ``np.asarray(value, float64)``),
    ``"text"`` (a ``str`` and nothing else), ``"arrays"`` (a list of float64 arrays) or
    ``"array"`` (``np.asarray(value)`` in its own numeric dtype: the dtype the grader sees is
    the values', never what the object says of itself).
    """

    expression: str
    kind: str = NUMBER


@dataclass(frozen=True)
class Exercise:
    """How to grade one exercise.

    Attributes:
        number: As the chapter numbers it, e.g. ``"3.2"``.
        probes: Name -> :class:`Probe` (or a bare expression, a ``"number"`` probe).
        judge: ``judge(answers, inputs, refs)`` raises :class:`Wrong` when the answer is
            wrong; ``answers`` maps each probe's name to its plain value (a float64 array,
            a ``str`` or a list of arrays), ``inputs`` is what ``inputs`` chose, ``refs``
            the grader's :class:`~capsnet_lib.grading.refs.References`.
        inputs: ``inputs(rng)``: the grader's inputs for this run (JSON values: numbers,
            lists, strings), drawn anew for every notebook so no answer can be written for
            them in advance.
        prelude: Statements run before the probes, in the same namespace (e.g. calling the
            student's function once and keeping its result).
        writes: The functions the exercise asks the student to write: each must be a ``def``
            in the answer cell; the verdict gets their source, read from the notebook file
            with all it reaches there, as ``answers["source"]``
            (:mod:`capsnet_lib.grading.source`).
        numpy_only: The exercise asks for NumPy only: what ``writes`` reach may import and
            use NumPy (and ``math``), nothing else.
        library: ``writes`` may use ``capsnet_lib``; otherwise a function that reaches the
            book's library (``cl.squash`` for the student's ``squash``) earns nothing.
    """

    number: str
    probes: Mapping[str, Probe | str]
    judge: Callable[[dict, dict, object], None]
    inputs: Callable[[np.random.Generator], dict] = field(default=lambda rng: {})
    prelude: str = ""
    writes: tuple[str, ...] = ()
    numpy_only: bool = False
    library: bool = False

    def probe(self, name: str) -> Probe:
        """The probe called ``name``, as a :class:`Probe`."""
        probe = self.probes[name]
        return probe if isinstance(probe, Probe) else Probe(probe)


def with_rules(
    exercises: list[Exercise],
    writes: Mapping[str, tuple[str, ...]],
    numpy_only: frozenset | set = frozenset(),
    library: frozenset | set = frozenset(),
) -> list[Exercise]:
    """``exercises`` with their source rules: exercise number -> the functions it asks for,
    the numbers that ask for NumPy only, the numbers whose functions may use the library."""
    from dataclasses import replace

    return [
        replace(
            exercise,
            writes=tuple(writes.get(exercise.number, ())),
            numpy_only=exercise.number in numpy_only,
            library=exercise.number in library,
        )
        for exercise in exercises
    ]


# -- helpers for verdicts ---------------------------------------------------------------------


def close(got, expected, what: str, rtol: float = 1e-5, atol: float = 1e-8) -> None:
    """Raise :class:`Wrong` unless ``got`` has ``expected``'s shape and values."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    if got.shape != expected.shape:
        raise Wrong(f"{what}: shape {got.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(got) | ~np.isfinite(expected)):
        raise Wrong(f"{what}: not finite")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise Wrong(f"{what}: {got[worst]:.6g} where {expected[worst]:.6g} was expected")


def scalar(value, what: str) -> float:
    """``value`` (a float64 array of one element) as a float, or :class:`Wrong`."""
    array = np.asarray(value, np.float64)
    if array.size != 1:
        raise Wrong(f"{what} should be one number, got shape {array.shape}")
    number = float(array.reshape(()))
    if not np.isfinite(number):
        raise Wrong(f"{what} is not a finite number")
    return number


def choice(value, options, what: str = "prediction") -> str:
    """``value`` if it is one of ``options`` (strings), else :class:`Wrong`."""
    if not isinstance(value, str) or value not in options:
        raise Wrong(f"{what} must be one of {', '.join(map(repr, options))}, not {value!r}")
    return value


def names_in(source: str) -> Counter:
    """How often each name appears in ``source``'s code (as ``exercises.names_used``)."""
    from capsnet_lib.exercises import names_in_source

    try:
        return names_in_source(source)
    except SyntaxError:
        raise Wrong("the function's source could not be read") from None
