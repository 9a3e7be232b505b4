"""Notebooks are committed in stable form (tools/nbstable.py) and in chapter order."""

import subprocess
import sys
from pathlib import Path

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
]


def test_all_eight_chapters_exist():
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
