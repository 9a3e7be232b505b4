"""What `pip install` of the repository gives a reader (Colab's first cell does exactly that):
every module of the library, its shipped weights and recorded measurements, subpackages
included, built by the newest setuptools `pyproject.toml` allows, with every warning an error.

A reader's `pip install git+...` builds the wheel from source with the newest setuptools the
build requirements allow; a deprecation it prints today is a build it refuses on a later
date. Building here with warnings as errors makes the next one fail this test first.
"""

import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DATA = ("weights", "measurements")  # folders of package data


def _build_requires(pyproject: Path) -> list[str]:
    """``[build-system] requires`` (read without tomllib, which Python 3.10 lacks)."""
    found = re.search(r"^requires\s*=\s*\[(.*?)\]", pyproject.read_text(), re.M | re.S)
    assert found, f"no [build-system] requires in {pyproject}"
    return re.findall(r'"([^"]+)"', found.group(1))


def _shipped_files() -> set[str]:
    package = ROOT / "capsnet_lib"
    files = {p for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    for folder in SHIPPED_DATA:
        files |= set((package / folder).iterdir())
    return {p.relative_to(ROOT).as_posix() for p in files}


def _clean_copy(tmp_path: Path) -> Path:
    """The sources a wheel is built from (setuptools reuses a build/ folder left behind)."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "capsnet_lib", source / "capsnet_lib", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    return source


def build_wheel_strictly(tmp_path: Path) -> Path:
    """The wheel, built as pip builds it for a reader, but with warnings turned into errors."""
    source = _clean_copy(tmp_path)
    requires = _build_requires(ROOT / "pyproject.toml")
    env_dir = tmp_path / "build-env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requires],
        check=True,
        capture_output=True,
        timeout=600,
    )
    out = tmp_path / "wheel"
    out.mkdir()
    build = "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))"
    result = subprocess.run(
        [python, "-W", "error", "-c", build, out],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        "the wheel does not build with warnings as errors (what a later setuptools may "
        f"refuse):\n{result.stderr[-4000:]}"
    )
    (wheel,) = out.glob("capsnet_lib-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel_strictly(tmp_path_factory.mktemp("packaging"))


def test_the_wheel_holds_every_module_and_the_shipped_files(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - inside)
    assert not missing, f"not installed by pip: {missing}"


def test_the_wheel_declares_its_licence_as_an_spdx_expression(wheel):
    (metadata,) = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text


def test_the_build_requirements_have_an_upper_bound():
    requires = _build_requires(ROOT / "pyproject.toml")
    setuptools = [r for r in requires if r.startswith("setuptools")]
    assert setuptools and "<" in setuptools[0], (
        "an unbounded setuptools lets a future release break every reader's install"
    )


def test_a_deprecated_licence_table_fails_the_strict_build(tmp_path, monkeypatch):
    """The check itself: the form setuptools deprecates must fail the build here."""
    old = (
        (ROOT / "pyproject.toml")
        .read_text()
        .replace('license = "Apache-2.0"', 'license = {text = "Apache-2.0"}')
    )
    copy = tmp_path / "root"
    copy.mkdir()
    (copy / "pyproject.toml").write_text(old)
    shutil.copy(ROOT / "README.md", copy / "README.md")
    shutil.copytree(ROOT / "capsnet_lib", copy / "capsnet_lib")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", copy)
    with pytest.raises(AssertionError, match="warnings as errors"):
        build_wheel_strictly(tmp_path / "build")
