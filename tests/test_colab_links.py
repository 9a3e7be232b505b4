"""Every link in a chapter works where the chapter is read: on the site and opened alone.

On Colab (or from a class's copy) a notebook comes without the site or the repository beside
it, so a relative link (``../book/cheatsheet.md``) or a Sphinx role (``{doc}`...```) is dead
there. Chapters link other pages of the book by their address on the published site; the
book's build turns those back into links inside the build (book/_ext/published_links.py).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from published_links import published_page  # noqa: E402

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BASEURL = re.search(r"^\s*baseurl:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M).group(1)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<a\s[^>]*href=\"([^\"]+)\"")
DOC_ROLE = re.compile(r"\{doc\}`[^`]*`")
WORKS_ANYWHERE = re.compile(r"^(https?:|mailto:|#)")


def _markdown(chapter: Path) -> list[str]:
    cells = json.loads(chapter.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def _links(chapter: Path) -> list[str]:
    return [a or b for text in _markdown(chapter) for a, b in LINK.findall(text)]


def _page_exists(docname: str) -> bool:
    return any((ROOT / f"{docname}{suffix}").is_file() for suffix in (".md", ".ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_link_that_dies_when_the_chapter_is_opened_alone(chapter):
    dead = [link for link in _links(chapter) if not WORKS_ANYWHERE.match(link)]
    dead += DOC_ROLE.findall("\n".join(_markdown(chapter)))
    assert not dead, (
        f"{chapter.name}: links that die on Colab: {dead}; link the page on the published "
        f"site ({BASEURL}book/cheatsheet.html), which the build turns into a local link"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_links_to_the_published_book_name_pages_that_exist(chapter):
    into_book = [(link, published_page(link, BASEURL)) for link in _links(chapter)]
    missing = [
        link for link, found in into_book if found and not _page_exists(found[0] or "book/intro")
    ]
    assert not missing, f"{chapter.name}: no such page of the book: {missing}"


def test_the_link_pattern_sees_relative_links_and_roles():
    text = "the [cheat sheet](../book/cheatsheet.md) and {doc}`chapter 3 <03_routing>`"
    assert LINK.findall(text) == [("../book/cheatsheet.md", "")]
    assert DOC_ROLE.findall(text)
    assert published_page(f"{BASEURL}book/cheatsheet.html#top", BASEURL) == (
        "book/cheatsheet",
        "top",
    )
    assert published_page("https://example.org/book/cheatsheet.html", BASEURL) is None
