"""Measurements of long runs, recorded once and shipped inside the library.

A chapter opened alone (on Colab, in a class's copy, offline) has no repository beside it, so
what it reads from a recorded run travels with the installed library, as the weights do.
"""

from __future__ import annotations

import json
from pathlib import Path

MEASUREMENTS_DIR = Path(__file__).with_name("measurements")


def recorded_path(name: str) -> Path:
    """Where the record ``name`` (e.g. ``"robustness-full"``) lives in the installed library."""
    return MEASUREMENTS_DIR / f"{name}.json"


def load_recorded(name: str) -> dict:
    """The record ``name`` as a dict, read from the installed library.

    Args:
        name: the record's name without ``.json``: ``"robustness-full"`` (chapter 9's
            measurement on 3,000 test images).

    Raises:
        FileNotFoundError: no such record, with the names that exist.
        ValueError: the file is not valid JSON (a damaged install).

    Introduced in chapter 9, robustness.
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
