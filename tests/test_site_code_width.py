"""The built site's code fits its column: no visible code block scrolls sideways.

At the theme's default layout (a 1280 px window: the side bars shown, the text column as wide
as the theme makes it), every code block a reader can see on a page (a chapter's code cells,
folded ones unfolded, and the code blocks of the prose) is as wide as its content: its
``scrollWidth`` does not exceed its ``clientWidth``. Outputs are not code and are not measured.
Run `make book` first (`make site-test` runs this file).
"""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from tests.test_site import (
    PAGES,
    base_url,  # noqa: F401 (a fixture, used by its name)
    browser,  # noqa: F401 (a fixture, used by its name)
    site,  # noqa: F401 (a fixture, used by its name)
)

pytestmark = pytest.mark.site

DEFAULT_WINDOW = {"width": 1280, "height": 900}  # the viewport the site test reads pages at
CODE_PAGES = [page for page in PAGES if page.startswith(("notebooks/", "book/"))]

# The code blocks a reader sees, with how far each scrolls sideways (folded cells opened first).
OVERFLOWING_CODE = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    const blocks = [...document.querySelectorAll('div.highlight pre')]
        .filter(pre => !pre.closest('.cell_output, .output'))
        .filter(pre => pre.offsetParent !== null);
    return blocks
        .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
        .map(pre => ({
            overflow: pre.scrollWidth - pre.clientWidth,
            line: pre.innerText.split('\\n')
                .reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100),
        }));
}"""


@pytest.mark.parametrize("path", CODE_PAGES)
def test_no_visible_code_block_scrolls_sideways(browser, base_url, path):  # noqa: F811
    context = browser.new_context(viewport=DEFAULT_WINDOW)
    try:
        page = context.new_page()
        page.goto(urljoin(base_url, path), wait_until="load")
        overflowing = page.evaluate(OVERFLOWING_CODE)
    finally:
        context.close()
    assert not overflowing, (
        f"{path}: {len(overflowing)} code blocks scroll sideways at {DEFAULT_WINDOW['width']} "
        f"px; the widest by {max(o['overflow'] for o in overflowing)} px, with the line "
        f"{overflowing[0]['line']!r}: shorten the longest line of each (88 characters fit)"
    )
