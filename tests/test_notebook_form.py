"""Notebooks are committed in stable form (tools/nbstable.py) and in chapter order."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [
    "01_input",
    "02_primary_capsules",
    "03_routing",
    "04_margin_loss",
    "05_mask",
    "06_decoder",
    "07_training",
    "08_pose_tweaking",
    "09_robustness",
    "10_beyond",
]


def test_all_nine_chapters_exist():
    found = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert found == CHAPTERS


def test_notebooks_are_in_stable_form():
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "nbstable.py"), "--check", *notebooks],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_chapters_are_listed_in_the_toc_in_order():
    toc = (ROOT / "_toc.yml").read_text()
    positions = [toc.find(f"notebooks/{name}") for name in CHAPTERS]
    assert -1 not in positions and positions == sorted(positions)


# -- checked outputs that survive a change of CPU or BLAS ---------------------------------------

# A float32 result differs in its last bits between CPUs (AVX2 vs AVX-512, oneDNN paths) and
# BLAS builds: 0.1 on one machine prints as 0.09999999 on another. So a checked output may
# hold at most MAX_DIGITS significant digits per number, and a float array printed whole
# (numpy or TensorFlow repr) only when its cell rounds it or marks it as exact.
MAX_DIGITS = 5
NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.\d*|\.\d+)(e[-+]?\d+)?", re.IGNORECASE)
FLOAT_ARRAY = re.compile(
    r"array\(\[[^)]*\d\.|tf\.Tensor\([^)]*\d\.|numpy=[\s\S]*\d\.|\[\s*[-+]?\d+\.\d*\s+[-+]?\d"
)
ROUNDS = re.compile(r"round\(|printoptions|precision=|:\.\d+[fegs%]|# exact")


def checked_outputs(path: Path):
    """``(cell number, source, text)`` of every output nbval compares in ``path``."""
    nb = json.loads(path.read_text())
    for number, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or "nbval-check-output" not in cell["metadata"].get(
            "tags", []
        ):
            continue
        source = "".join(cell["source"])
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            yield number, source, "".join(text)


def significant_digits(number: str) -> int:
    mantissa = re.sub(r"[eE].*", "", number).lstrip("+-").replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def unstable_floats(path: Path) -> list[str]:
    problems = []
    for number, source, text in checked_outputs(path):
        for match in NUMBER.finditer(text):
            if significant_digits(match.group(0)) > MAX_DIGITS:
                problems.append(f"{path.name} cell {number}: {match.group(0)} (round it)")
        if FLOAT_ARRAY.search(text) and not ROUNDS.search(source):
            problems.append(
                f"{path.name} cell {number}: a float array printed unrounded "
                "(use .round(n), or '# exact' where every value is exact)"
            )
    return problems


def test_checked_outputs_hold_no_cpu_dependent_floats():
    problems = [
        p for nb in sorted((ROOT / "notebooks").glob("*.ipynb")) for p in unstable_floats(nb)
    ]
    assert not problems, "\n".join(problems)


def test_the_float_check_catches_what_broke_ci(tmp_path):
    """The outputs that failed on an AVX2 machine, and a long float, are caught; rounded ones pass."""

    def notebook(source, text):
        cell = {
            "cell_type": "code",
            "metadata": {"tags": ["nbval-check-output"]},
            "source": source,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": text}],
        }
        path = tmp_path / "nb.ipynb"
        path.write_text(json.dumps({"cells": [cell]}))
        return path

    assert unstable_floats(notebook("c[0, 0].numpy()", "array([0.1, 0.1], dtype=float32)"))
    assert unstable_floats(notebook("x", "array([0.09999999, 0.1], dtype=float32)"))
    assert unstable_floats(notebook("print(x)", "[0.1 0.1 0.1]"))
    assert unstable_floats(notebook("acc", "0.6666666666666666"))
    assert unstable_floats(notebook("print(f'{s}')", "over children 116.3961"))
    assert not unstable_floats(notebook("c.numpy().round(3)", "array([0.1, 0.1], dtype=float32)"))
    assert not unstable_floats(notebook("print(f'{s:.1f}')", "over children 116.4"))
    assert not unstable_floats(notebook("np.bincount(y)", "array([5444, 6179])"))


# Tags under which the site shows no code (the cell runs, its source is never seen).
SOURCE_REMOVED = {"remove-cell", "remove-input"}
# ruff's line length for the notebooks, read where it is set
CODE_COLUMN = int(
    re.search(r"^line-length = (\d+)$", (ROOT / "notebooks" / "ruff.toml").read_text(), re.M)[1]
)


def long_visible_lines(path: Path) -> list[str]:
    """The lines of code a reader sees (folded cells included) longer than the column."""
    long = []
    for cell in json.loads(path.read_text())["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] != "code" or tags & SOURCE_REMOVED:
            continue
        source = "".join(cell["source"])
        long += [line for line in source.splitlines() if len(line) > CODE_COLUMN]
    return long


@pytest.mark.parametrize("name", CHAPTERS)
def test_visible_code_fits_the_column(name):
    long = long_visible_lines(ROOT / "notebooks" / f"{name}.ipynb")
    assert not long, (
        f"{name}: {len(long)} visible code lines over {CODE_COLUMN} characters, which scroll "
        f"sideways on the page; shorten them (a string, a comment): {long[:3]}"
    )
