"""Measurements of long runs, recorded once and shipped inside the library.

A chapter opened alone (on Colab, in a class's copy, offline) has no repository beside it, so
what it reads from a recorded run travels with the installed library, as the weights do.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

MEASUREMENTS_DIR = Path(__file__).with_name("measurements")


def recorded_path(name: str) -> Path:
    """Where the record ``name`` (e.g. ``"robustness-full"``) lives in the installed library."""
    return MEASUREMENTS_DIR / f"{name}.json"


def load_recorded(name: str) -> dict:
    """The record ``name`` as a dict, read from the installed library.

    Args:
        name: the record's name without ``.json``, e.g. ``"robustness-full"`` (chapter 9's
            measurement on 3,000 test images).

    Raises:
        FileNotFoundError: no such record, with the names that exist.
        ValueError: the file is not valid JSON (a damaged install).

    Introduced in chapter 6, the decoder (its recorded runs with and without it).
    """
    path = recorded_path(name)
    if not path.is_file():
        known = sorted(p.stem for p in MEASUREMENTS_DIR.glob("*.json"))
        raise FileNotFoundError(
            f"no recorded measurement {name!r} in {MEASUREMENTS_DIR}; the library ships "
            f"{', '.join(known) or 'none'}. Reinstall capsnet_lib if one of those is missing."
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); reinstall capsnet_lib to restore it"
        ) from error


def _code_tree(source: str) -> str:
    """The syntax tree of ``source`` without docstrings, as text (comments never reach it)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def same_code(recorded: str, current: str) -> bool:
    """Whether two cells' sources are the same code: equal syntax trees, docstrings and
    comments ignored (a reworded comment keeps a record valid; a changed expression does not).

    Introduced in chapter 7, training (its recorded full run).
    """
    return _code_tree(recorded) == _code_tree(current)
