"""The appendix (book/under_the_hood.md) is a page that runs: a MyST Markdown notebook whose
code cells the book build executes, so that the site shows what each one prints.

Its code is visible code like a chapter's (the column), its hidden guards say which sentence
they hold, it includes no other file (an included file's cells would not run), and every
section a chapter links to (``under_the_hood.html#anchor``) is a heading of the page.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "under_the_hood.md"
CODE_COLUMN = int(
    re.search(r"^line-length = (\d+)$", (ROOT / "notebooks" / "ruff.toml").read_text(), re.M)[1]
)
ANCHOR = re.compile(r"under_the_hood\.html#([a-z0-9-]+)")


@pytest.fixture(scope="module")
def page():
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(PAGE.read_text(encoding="utf-8"), path=PAGE)


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def test_the_page_is_a_notebook_that_runs(page):
    text = PAGE.read_text(encoding="utf-8")
    assert text.startswith("---\njupytext:"), "no jupytext front matter: the build would not run it"
    assert "{include}" not in text, "an included file's code cells are not executed"
    code = [cell for cell in page.cells if cell.cell_type == "code"]
    assert len([c for c in code if not tags(c) & {"remove-cell"}]) >= 10, "too few cells run"
    assert "import capsnet_lib as cl" in code[0].source, "the first cell imports the library"


def test_visible_code_fits_the_column(page):
    long = [
        line
        for cell in page.cells
        if cell.cell_type == "code" and not tags(cell) & {"remove-cell", "remove-input"}
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMN
    ]
    assert not long, f"visible code over {CODE_COLUMN} characters: {long[:3]}"


def test_every_guard_names_the_sentence_it_holds(page):
    for cell in page.cells:
        if cell.cell_type != "code" or "remove-cell" not in tags(cell):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assert):
                assert node.msg is not None, (
                    f"a guard without a message naming its sentence: {ast.unparse(node)}"
                )


def test_every_section_a_chapter_links_to_is_on_the_page():
    from docutils.nodes import make_id

    headings = {
        make_id(match.group(1))
        for match in re.finditer(r"^#{2,4} (.+)$", PAGE.read_text(encoding="utf-8"), re.M)
    }
    linked = set()
    for path in [*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("book/*.md")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        linked |= set(ANCHOR.findall(text))
    assert linked, "no chapter links to a section of the appendix"
    missing = sorted(linked - headings)
    assert not missing, f"sections linked but not on the page: {missing}"
