"""What nbval saw: a record of each chapter's execution, so that it runs once per test run.

`make notebooks` runs every chapter under nbval with this file loaded as a plugin
(``pytest --nbval-lax --nbval-current-env notebooks -p tests.conftest``). For each notebook
whose every code cell ran, the plugin writes what each code cell printed and raised to
``_build/executed/<environment>/<notebook>.json``, with the key of that execution: a hash of the
notebook file and of the library's files, the Python interpreter and the TensorFlow, Keras and
NumPy versions, in quick mode.

The record holds every output (text, figures, errors) and how long the cells took, so that two
others need not run the chapters again:

- the student-edition test (tests/test_student_edition.py) checks that every exercise check
  passes on the solution; it reads the record through the ``nbval_record`` fixture, and
  executes the chapter itself when there is no record with the current key (none written, an
  older notebook or library, another environment, or ``STUDENT_TEST_RECORD=0``);
- ``make book`` puts the records with the current key into the book's execution cache first
  (``tools/seed_book_cache.py``), so the site shows what nbval's run printed and drew, and
  executes only the chapters without one. ``CAPSNET_EXECUTED_DIR`` moves the records elsewhere (the tests of
the recorder use it).

Pass ``-p tests.conftest`` only to a run that collects nothing under tests/: pytest loads this
file there as a conftest already and refuses to register it twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

try:
    from nbval.plugin import IPyNbCell, NbCellError
except ImportError:  # nbval missing: nothing to record, the student test executes everything
    IPyNbCell = NbCellError = None

ROOT = Path(__file__).resolve().parents[1]
# the kernels nbval starts inherit it: a cell whose figure draws text too small to read on the
# page fails (capsnet_lib/figures.py, MIN_TEXT_PX)
os.environ.setdefault("CAPSNET_CHECK_FIGURE_TEXT", "1")
LIBRARY = ROOT / "capsnet_lib"
FORMAT = 2  # of the record; bump when its content changes


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _library_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(LIBRARY.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(LIBRARY).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def environment() -> dict[str, str]:
    """The interpreter the notebooks' kernel runs on and the versions that matter."""
    return {
        "python": sys.executable,
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
    }


def record_path(notebook: Path, env: dict[str, str]) -> Path:
    """``_build/executed/tf<version>-<hash of the environment>/<notebook stem>.json``."""
    records = Path(os.environ.get("CAPSNET_EXECUTED_DIR") or ROOT / "_build" / "executed")
    tag = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:10]
    return records / f"tf{env['tensorflow']}-{tag}" / f"{notebook.stem}.json"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def library_key() -> dict:
    """What every chapter's execution depends on beside its own notebook: library and versions."""
    return {"library": _library_hash(), **environment()}


def execution_key(notebook: Path) -> dict:
    """What an execution of ``notebook`` depends on; a record is used only when it matches."""
    return {"format": FORMAT, "notebook": _sha256_file(notebook), **library_key()}


def read_record(notebook: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """``notebook`` with the outputs nbval recorded, and where they come from (or why not).

    The notebook's metadata gains ``capsnet_execution_seconds``: how long its cells ran.
    """
    if os.environ.get("STUDENT_TEST_RECORD", "1") == "0":
        return None, "STUDENT_TEST_RECORD=0"
    path = record_path(notebook, environment())
    if not path.is_file():
        return None, f"no nbval record at {_shown(path)}"
    try:
        record = json.loads(path.read_text())
        key = execution_key(notebook)
        if record.get("key") != key:
            stale = sorted(k for k in key if record.get("key", {}).get(k) != key[k])
            return None, f"stale nbval record {_shown(path)} ({', '.join(stale)})"
        nb = nbformat.read(notebook, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        if len(record["cells"]) != len(code):
            raise ValueError(f"{len(record['cells'])} cells recorded, {len(code)} in the notebook")
        for cell, outputs in zip(code, record["cells"], strict=True):
            cell.outputs = [nbformat.from_dict(out) for out in outputs]
        nb.metadata["capsnet_execution_seconds"] = float(record["seconds"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"unreadable nbval record {_shown(path)} ({error!r})"
    return nb, f"outputs recorded by nbval in {_shown(path)}"


@pytest.fixture(scope="session")
def nbval_record():
    """``notebook path -> (executed notebook or None, note)``; None when it must be executed."""
    return read_record


# -- the recorder (active in an nbval run) ------------------------------------------------------

_results: dict[Path, dict[int, list[dict]]] = {}  # notebook -> code cell number -> outputs
_seconds: dict[Path, float] = {}  # notebook -> seconds its cells took so far


def _output(out) -> dict | None:
    """One of nbval's outputs as a notebook output (None for a message that is not one)."""
    if out.output_type == "stream":
        return {"output_type": "stream", "name": out.name, "text": out.text}
    if out.output_type == "error":
        return {"output_type": "error", "ename": out.ename, "evalue": out.evalue, "traceback": []}
    if out.output_type in ("display_data", "execute_result"):
        output = {"output_type": out.output_type, "data": out.data, "metadata": out.metadata}
        if out.output_type == "execute_result":
            output["execution_count"] = out.get("execution_count")
        return output
    return None


def _outputs(item, call) -> list[dict]:
    """What a cell printed, showed and raised, as notebook outputs."""
    outputs = [output for out in item.test_outputs or [] if (output := _output(out))]
    failure = call.excinfo
    if (
        failure is None
        or failure.errisinstance(pytest.skip.Exception)
        or any(out["output_type"] == "error" for out in outputs)
    ):
        return outputs
    message = str(failure.value)  # NbCellError's is nbval's message
    if failure.errisinstance(NbCellError) and message == "Cell outputs differ":
        return outputs  # it ran through; only a compared output differs
    # the cell did not run through (a timeout, a dead kernel): an error all the same
    outputs.append(
        {"output_type": "error", "ename": failure.typename, "evalue": message, "traceback": []}
    )
    return outputs


def _recording(config) -> bool:
    option = config.option
    return (
        IPyNbCell is not None
        and bool(getattr(option, "nbval", False) or getattr(option, "nbval_lax", False))
        and bool(getattr(option, "nbval_current_env", False))  # the kernel runs sys.executable
        and os.environ.get("CAPSNET_QUICK", "1") != "0"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and IPyNbCell is not None and isinstance(item, IPyNbCell):
        if _recording(item.config):
            try:
                _record(item, call)
            except Exception as error:  # no record then (the student test executes), no crash
                _results[Path(item.parent.path)] = {-1: []}  # never complete: nothing written
                warnings.warn(f"nbval record of {item.parent.path}: {error!r}", stacklevel=1)
    return report


def _record(item, call) -> None:
    """Keep what the cell did; write the notebook's record once every code cell has run."""
    notebook = Path(item.parent.path)
    if notebook not in _results:  # a new run of this notebook: an older record no longer holds
        record_path(notebook, environment()).unlink(missing_ok=True)
        _results[notebook], _seconds[notebook] = {}, 0.0
    cells = _results[notebook]
    cells[item.cell_num] = _outputs(item, call)
    _seconds[notebook] = _seconds.get(notebook, 0.0) + call.duration
    code = sum(cell.cell_type == "code" for cell in item.parent.nb.cells)
    if sorted(cells) == list(range(code)):  # every code cell ran (nbval numbers code cells)
        record = {
            "key": execution_key(notebook),
            "seconds": round(_seconds.pop(notebook), 2),
            "cells": [cells[n] for n in range(code)],
        }
        path = record_path(notebook, environment())
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=1))
        temporary.replace(path)
        del _results[notebook]
