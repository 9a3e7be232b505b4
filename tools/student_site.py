"""Build the student site: the book without its solutions, for publishing during an assignment.

``make student-book`` runs this after ``make book``. It writes a copy of the book's source in
``_build/student-src`` whose chapters are the student edition (tools/student_edition.py:
solution prose removed, solution code replaced by a stub, check cells kept) of the notebooks
that ``make book`` executed (``_build/jupyter_execute``), so every other cell keeps the output
the site shows and nothing is executed again (the stubs would raise). Jupyter Book then builds
that copy with execution off, and the site goes to the folder given (``_build/student-html``).

Differences from the full site: the title says "student edition"; no Colab launch button (it
would open the notebook on GitHub, solutions included): a chapter's download button gives
its student notebook instead; no run report (nothing is executed in this build); no link to
the PDF (it prints the solutions), nor any other prose a page marks
``<!-- full site only -->`` ... ``<!-- end full site only -->``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_edition import MarkupError, student_edition  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
EXECUTED = BUILD / "jupyter_execute"
SOURCE = BUILD / "student-src"
# Pages of the full site left out: the run report describes an execution this build skips.
LEFT_OUT = {"book/run_report"}
# Prose of the full site only (the PDF's link: the PDF holds the solutions), in the pages' source
FULL_SITE_ONLY = re.compile(
    r"<!-- full site only.*?-->.*?<!-- end full site only -->\n?", re.DOTALL
)
TITLE_SUFFIX = " (student edition)"


def executed_notebooks() -> dict[str, Path]:
    """The notebooks ``make book`` executed, by docname (``notebooks/01_input``)."""
    return {
        path.relative_to(EXECUTED).with_suffix("").as_posix(): path
        for path in sorted(EXECUTED.rglob("*.ipynb"))
    }


def source_of(docname: str) -> Path | None:
    """The source file of a page (``.ipynb`` or ``.md``) in the book; None if it is gone."""
    for suffix in (".ipynb", ".md"):
        if (ROOT / docname).with_suffix(suffix).is_file():
            return (ROOT / docname).with_suffix(suffix)
    return None


def read_source(source: Path) -> nbformat.NotebookNode:
    """A page's notebook as the book reads it (an .ipynb, or a MyST Markdown notebook)."""
    if source.suffix == ".md":
        from myst_nb.core.read import read_myst_markdown_notebook

        return read_myst_markdown_notebook(source.read_text(encoding="utf-8"), path=source)
    return nbformat.read(source, as_version=4)


def with_outputs(
    nb: nbformat.NotebookNode, executed: nbformat.NotebookNode, source: Path
) -> nbformat.NotebookNode:
    """``nb`` (the current source) with the outputs of ``executed``, its last executed version.

    Like the build's execution cache, it matches on code only: prose edited since the build is
    taken as it is now; code edited since means the outputs are stale, and it stops.
    """
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    if [cell.source.strip() for cell in code] != [cell.source.strip() for cell in ran]:
        raise SystemExit(
            f"student_site: the code of {source.relative_to(ROOT)} changed since `make book`"
            " executed it: run `make book` first"
        )
    for cell, done in zip(code, ran, strict=True):
        cell.outputs = done.get("outputs", [])
        cell.execution_count = done.get("execution_count")
    nb.metadata = {**executed.metadata, **nb.metadata}
    return nb


def toc_without(toc: dict, left_out: set[str]) -> dict:
    """``_toc.yml`` without the pages in ``left_out`` (and without parts left empty)."""
    toc = dict(toc)
    parts = []
    for part in toc.get("parts", []):
        chapters = [c for c in part.get("chapters", []) if c.get("file") not in left_out]
        if chapters:
            parts.append({**part, "chapters": chapters})
    toc["parts"] = parts
    return toc


def student_config(config: dict) -> dict:
    """``_config.yml`` for the student site: execution off, no launch buttons, its title."""
    config = dict(config)
    config["title"] = config.get("title", "") + TITLE_SUFFIX
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "off"}
    config["launch_buttons"] = {"notebook_interface": "classic", "thebe": False}
    return config


def write_source(out: Path = SOURCE) -> list[str]:
    """Write the student site's source tree to ``out``; return the chapters made student."""
    executed = executed_notebooks()
    if not executed:
        raise SystemExit(f"student_site: nothing in {EXECUTED}: run `make book` first")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (out / "_config.yml").write_text(yaml.safe_dump(student_config(config), sort_keys=False))
    (out / "_toc.yml").write_text(yaml.safe_dump(toc_without(toc, LEFT_OUT), sort_keys=False))
    shutil.copytree(ROOT / "book", out / "book")
    for docname in LEFT_OUT:
        for stale in (out / docname).parent.glob(Path(docname).name + ".*"):
            stale.unlink()
    for page in (out / "book").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if FULL_SITE_ONLY.search(text):
            page.write_text(FULL_SITE_ONLY.sub("", text), encoding="utf-8")
    (out / "mathjax").symlink_to(ROOT / "mathjax", target_is_directory=True)
    made_student, converted = [], []
    for docname, path in executed.items():
        source = source_of(docname)
        if source is None or docname in LEFT_OUT:
            continue  # a page of an earlier build, since removed
        # a MyST notebook page (the cheat sheet, the appendix) is read from its copy here,
        # whose full-site-only prose is already left out
        markdown_page = (out / docname).with_suffix(".md")
        page = markdown_page if markdown_page.exists() else source
        nb = with_outputs(read_source(page), nbformat.read(path, as_version=4), source)
        if docname.startswith("notebooks/"):
            try:
                nb, _ = student_edition(nb, source.name)
            except MarkupError as error:
                raise SystemExit(f"student_site: {error}") from None
            made_student.append(docname)
        target = (out / docname).with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        if markdown_page.exists():  # a MyST notebook page (the cheat sheet): now a notebook
            markdown_page.unlink()
            converted.append(Path(docname).name)
        nbformat.write(nb, target)
    relink(out, converted)
    return made_student


def relink(out: Path, converted: list[str]) -> None:
    """Point the links to MyST pages written here as notebooks (``cheatsheet.md``) at them."""
    if not converted:
        return
    old = re.compile(r"\b(" + "|".join(map(re.escape, converted)) + r")\.md\b")
    for page in [*out.rglob("*.md"), *out.rglob("*.ipynb")]:
        text = page.read_text(encoding="utf-8")
        if old.search(text):
            page.write_text(old.sub(r"\1.ipynb", text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where the site goes (_build/student-html)")
    args = parser.parse_args(argv)
    chapters = write_source()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jupyter_book), "build", str(SOURCE), "-W", "--keep-going"],
        check=True,
        env={**os.environ, "CAPSNET_QUICK": "1"},
    )
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    shutil.move(SOURCE / "_build" / "html", out)
    print(f"{out}: the student site, {len(chapters)} chapters without their solutions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
