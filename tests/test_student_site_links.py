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


def test_a_myst_notebook_page_loses_its_full_site_only_prose(tmp_path, monkeypatch):
    # The appendix is a MyST notebook page with a full-site-only link to the run report; the
    # student site writes it as a notebook from its executed copy, without that block.
    import nbformat
    import student_site
    from myst_nb.core.read import read_myst_markdown_notebook

    page = student_site.ROOT / "book" / "under_the_hood.md"
    assert student_site.FULL_SITE_ONLY.search(page.read_text(encoding="utf-8"))
    executed = tmp_path / "executed"
    (executed / "book").mkdir(parents=True)
    nb = read_myst_markdown_notebook(page.read_text(encoding="utf-8"), path=page)
    nbformat.write(nb, executed / "book" / "under_the_hood.ipynb")
    monkeypatch.setattr(student_site, "EXECUTED", executed)
    student_site.write_source(tmp_path / "out")
    written = nbformat.read(tmp_path / "out" / "book" / "under_the_hood.ipynb", as_version=4)
    prose = "\n".join(cell.source for cell in written.cells if cell.cell_type == "markdown")
    assert "Under the hood" in prose and "run_report" not in prose
    assert not (tmp_path / "out" / "book" / "under_the_hood.md").exists()
