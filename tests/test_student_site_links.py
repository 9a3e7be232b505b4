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


def test_no_page_the_student_site_keeps_links_to_a_page_it_leaves_out():
    # A {doc} link to a left-out page fails the student site's build (-W); this finds it in
    # the sources, without the build: outside the full-site-only blocks, no page may name one.
    from student_site import FULL_SITE_ONLY, LEFT_OUT, ROOT

    pages = [*ROOT.glob("book/**/*.md"), *ROOT.glob("notebooks/*.ipynb")]
    assert len(pages) > 10
    offending = []
    for page in pages:
        if page.relative_to(ROOT).with_suffix("").as_posix() in LEFT_OUT:
            continue
        kept = FULL_SITE_ONLY.sub("", page.read_text(encoding="utf-8"))
        for left_out in LEFT_OUT:
            if Path(left_out).name in kept:
                offending.append(f"{page.relative_to(ROOT)} names {left_out}")
    assert not offending, offending
