"""What `pip install` of the repository gives a reader (Colab's first cell does exactly that):
every module of the library and its shipped weights, subpackages included."""

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shipped_files() -> set[str]:
    package = ROOT / "capsnet_lib"
    files = {p for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    files |= set((package / "weights").iterdir())
    return {p.relative_to(ROOT).as_posix() for p in files}


def test_the_wheel_holds_every_module_and_the_weights(tmp_path):
    source = tmp_path / "source"  # a clean copy: setuptools reuses a build/ folder left behind
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "capsnet_lib", source / "capsnet_lib", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation]
    subprocess.run(
        [*pip_wheel, "-w", tmp_path, source],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("capsnet_lib-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - inside)
    assert not missing, f"not installed by pip: {missing}"
