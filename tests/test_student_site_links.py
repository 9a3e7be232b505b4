"""tools/student_site.py: links to a MyST page the student site writes as a notebook follow it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from student_site import relink  # noqa: E402


def test_links_to_a_converted_page_point_at_its_notebook(tmp_path):
    chapter = tmp_path / "notebooks" / "01_input.ipynb"
    chapter.parent.mkdir()
    chapter.write_text(
        '{"source": "the [cheat sheet](../book/cheatsheet.md), [x](../book/intro.md)"}'
    )
    relink(tmp_path, ["cheatsheet"])
    text = chapter.read_text()
    assert "../book/cheatsheet.ipynb" in text and "cheatsheet.md" not in text
    assert "../book/intro.md" in text, "pages still written as markdown keep their links"
