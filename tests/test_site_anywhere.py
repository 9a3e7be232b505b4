"""The built site (_build/html) read anywhere: a phone, 400% zoom, dark mode, a folder on disk,
a slow link.

- No page scrolls sideways at 390 px (a phone) nor at 320 px (a 1280 px window at 400%), and
  no table cuts a word in two on a phone (a wide table scrolls in its own box); the cheat
  sheet shows its two-column figure and its table as cards on a phone; a figure drawn much
  wider than a phone shows it opens, on a tap, at the size it was drawn.
- Dark mode: the explorers' text has 4.5:1 contrast against what is behind it (axe-core's
  color-contrast rule, run on them alone), their controls 3:1 against their card (measured on
  the pixels the browser draws: native controls follow the page's color-scheme).
- Opened from disk (``file://``): both explorers work, on their pages and in the chapters'
  frames (which take their height); search says what it can do there.
- A slow link: a chapter's page, with what it loads before the reader scrolls, fits in
  :data:`PAGE_BUDGET` bytes as a server sends them (text compressed), 5 s at 4 Mbit/s; no image
  is over :data:`IMAGE_BUDGET`; figures below the first screen are lazy; each figure is saved
  at about the size it is shown, not several times larger.
- The theme's unrendered ``*webpack-macros.html`` fragments are not shipped; the launch
  buttons' names are their text ("Colab", not "Colab logo Colab").

Run `make book` first (`make site-test` runs this file).
"""

from __future__ import annotations

import base64
import gzip
import re
import struct
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.test_site import (
    MISSING_SITE,
    PAGES,
    REFRESH,
    SITE,
    browser,  # noqa: F401 (a fixture, used by its name)
    is_local,
    wait_for_mathjax,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from offline_browser import AXE, serve  # noqa: E402

pytestmark = pytest.mark.site

CHAPTERS = [page for page in PAGES if re.match(r"notebooks/\d\d_", page)]
EXPLORER_PAGES = {
    "book/routing_playground.html": "#routing-playground-app",
    "book/pose_explorer.html": "#pose-explorer-app",
}
# 5 s at 4 Mbit/s: what a chapter may weigh, as sent (HTML, scripts and styles compressed, as
# GitHub Pages sends them), with everything it loads before the reader scrolls
PAGE_BUDGET = 2_500_000
IMAGE_BUDGET = 500_000  # the largest image a chapter shows: 1 s at 4 Mbit/s
OVERSIZE = 1.5  # a figure may be saved at most this many times wider than it is shown
COMPRESSED = re.compile(r"text/|javascript|json|svg|xml")


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").is_file():
        pytest.fail(MISSING_SITE, pytrace=False)
    with serve(SITE) as url:
        yield url


def offline_context(browser, **options):  # noqa: F811 (the fixture)
    context = browser.new_context(**options)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if is_local(route.request.url) or route.request.url.startswith("file:")
            else route.abort()
        ),
    )
    return context


# --- a phone and 400% zoom -----------------------------------------------------------------


# The innermost elements that reach past the window's right edge (outside boxes that scroll).
WIDEST = """(client) => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > client + 1
                 && ![...e.children].some(c => c.getBoundingClientRect().right > client + 1))
    .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.')).join(', ')"""


@pytest.mark.parametrize("width", [390, 320], ids=["phone-390", "zoom-400"])
def test_no_page_scrolls_sideways(browser, base_url, width):  # noqa: F811
    context = offline_context(browser, viewport={"width": width, "height": 800})
    page = context.new_page()
    wide = []
    for path in PAGES:
        if REFRESH.search((SITE / path).read_text(encoding="utf-8")):
            continue  # index.html: a redirect to the front page, which is in PAGES too
        page.goto(urljoin(base_url, path), wait_until="load")
        wait_for_mathjax(page)
        size = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if size[0] > size[1]:
            culprit = page.evaluate(WIDEST, size[1])
            wide.append(f"{path}: {size[0]} px wide ({culprit})")
    context.close()
    assert not wide, f"pages wider than {width} px:\n  " + "\n  ".join(wide)


# The words of the tables that a line break cuts in two: each word of a cell, as a DOM range,
# drawn on more than one line.
BROKEN_WORDS = """() => [...document.querySelectorAll('table.table td, table.table th')]
    .flatMap(cell => {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        const broken = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.textContent.matchAll(/[A-Za-z]{4,}/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(match[0]);
            }
        }
        return broken;
    }).slice(0, 5)"""


def test_no_table_breaks_a_word_on_a_phone(browser, base_url):  # noqa: F811
    context = offline_context(browser, viewport={"width": 390, "height": 800})
    page = context.new_page()
    broken = []
    for path in PAGES:
        if REFRESH.search((SITE / path).read_text(encoding="utf-8")):
            continue
        page.goto(urljoin(base_url, path), wait_until="load")
        words = page.evaluate(BROKEN_WORDS)
        if words:
            broken.append(f"{path}: {', '.join(words)}")
    context.close()
    assert not broken, "words cut in two by a line break in a table:\n  " + "\n  ".join(broken)


# The cheat sheet's figure as the page shows it (the wide or the narrow one), and whether its
# table of shapes fits the column without scrolling.
CHEATSHEET_LAYOUT = """() => {
    const shown = sel => [...document.querySelectorAll(sel + ' img')]
        .filter(img => img.getBoundingClientRect().width > 0);
    const table = document.querySelector('#cheatsheet-shapes');
    const box = table.closest('.pst-scrollable-table-container') || table.parentElement;
    return {wide: shown('.tag_wide-only').length, narrow: shown('.tag_narrow-only').length,
            narrowWidth: Math.round(Math.max(0, ...shown('.tag_narrow-only')
                .map(img => img.getBoundingClientRect().width))),
            tableFits: box.scrollWidth <= box.clientWidth + 1,
            shapeNamed: getComputedStyle(table.querySelector('tbody td:nth-child(3)'),
                                         '::before').content};
}"""


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "laptop"])
def test_the_cheat_sheet_reads_on_a_phone(browser, base_url, width):  # noqa: F811
    context = offline_context(browser, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(urljoin(base_url, "book/cheatsheet.html"), wait_until="load")
    layout = page.evaluate(CHEATSHEET_LAYOUT)
    context.close()
    if width < 576:  # the reading.css breakpoint, 36rem
        assert (layout["wide"], layout["narrow"]) == (0, 1), layout
        assert layout["narrowWidth"] >= 300, f"the narrow figure is drawn small: {layout}"
        assert layout["tableFits"] and "shape" in layout["shapeNamed"], layout
    else:
        assert (layout["wide"], layout["narrow"]) == (1, 0), layout
        assert layout["tableFits"], f"the table scrolls on a laptop: {layout}"


# A figure on a phone (book/_static/full_size_figures.js): the first figure of chapter 3 drawn
# much wider than the phone shows it says so, and a tap opens it at the size it was drawn.
FIGURE_ON_A_PHONE = """async () => {
    const images = [...document.querySelectorAll('.bd-article div.cell_output img')];
    images.forEach(img => { img.loading = 'eager'; });
    await Promise.all(images.map(img => img.decode().catch(() => null)));
    await new Promise(r => setTimeout(r, 100));
    const img = images.find(i => i.naturalWidth > 1.4 * i.getBoundingClientRect().width);
    if (!img) return {found: false};
    const hint = img.nextElementSibling;
    const hinted = !!hint && hint.classList.contains('figure-tap-hint')
                   && hint.getBoundingClientRect().height > 0;
    img.scrollIntoView();
    img.click();
    const dialog = document.querySelector('dialog.figure-full-size');
    const shown = dialog && dialog.querySelector('img');
    if (shown) await shown.decode().catch(() => null);
    return {found: true, hinted, open: !!dialog && dialog.open,
            drawn: img.naturalWidth, openWidth: shown ? shown.getBoundingClientRect().width : 0,
            scrolls: !!dialog && dialog.scrollWidth > dialog.clientWidth};
}"""


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "laptop"])
def test_a_figure_opens_at_full_size_on_a_phone(browser, base_url, width):  # noqa: F811
    context = offline_context(browser, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(urljoin(base_url, "notebooks/03_routing.html"), wait_until="load")
    figure = page.evaluate(FIGURE_ON_A_PHONE)
    if width < 576:
        assert figure["found"], "no figure of chapter 3 is shrunk on a phone"
        assert figure["hinted"] and figure["open"], f"the figure does not open: {figure}"
        assert abs(figure["openWidth"] - figure["drawn"]) <= 1 and figure["scrolls"], figure
        page.keyboard.press("Escape")
        assert not page.evaluate("() => document.querySelector('dialog.figure-full-size').open")
    else:
        assert not figure["found"] or not figure["open"], f"a laptop opened a figure: {figure}"
    context.close()


# --- dark mode -----------------------------------------------------------------------------

# For each control of an explorer: the most contrast any of its drawn pixels has against the
# card behind it (WCAG 1.4.11 asks 3:1 of what identifies a control and its state).
CONTROL_CONTRAST = """async ([selector, shot]) => {
    const luminance = ([r, g, b]) => [r, g, b].map(c => c / 255)
        .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
        .reduce((sum, c, k) => sum + c * [0.2126, 0.7152, 0.0722][k], 0);
    const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const card = getComputedStyle(document.querySelector(selector)).backgroundColor
        .match(/\\d+/g).slice(0, 3).map(Number);
    const image = await new Promise(r => { const i = new Image(); i.onload = () => r(i); i.src = shot; });
    const canvas = Object.assign(document.createElement('canvas'),
                                 {width: image.width, height: image.height});
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const data = context.getImageData(0, 0, image.width, image.height).data;
    let best = 1;
    for (let k = 0; k < data.length; k += 4) {
        best = Math.max(best, ratio(luminance([data[k], data[k + 1], data[k + 2]]), luminance(card)));
    }
    return best;
}"""


@pytest.mark.parametrize("path", list(EXPLORER_PAGES))
def test_explorers_are_legible_in_dark_mode(browser, base_url, path):  # noqa: F811
    assert AXE.is_file(), f"{AXE} is missing: run `make node-deps`"
    app = EXPLORER_PAGES[path]
    context = offline_context(browser, viewport={"width": 1280, "height": 900}, color_scheme="dark")
    context.add_init_script(
        "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"
    )
    page = context.new_page()
    page.goto(urljoin(base_url, path), wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    if "pose" in path:
        assert page.evaluate("() => window.poseExplorer.ready")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    text = page.evaluate(
        """async (app) => (await axe.run({include: [[app]]}, {runOnly: ['color-contrast'],
            resultTypes: ['violations']})).violations.flatMap(v => v.nodes.map(n =>
            n.target.join(' ') + ': ' + n.any.map(a => a.message).join(' ')))""",
        app,
    )
    controls = page.locator(
        f"{app} input, {app} select, {app} button:not(.pose-explorer-picker button)"
    )
    faint = []
    for k in range(controls.count()):
        control = controls.nth(k)
        shot = "data:image/png;base64," + base64.b64encode(control.screenshot()).decode("ascii")
        contrast = page.evaluate(CONTROL_CONTRAST, [app, shot])
        if contrast < 3:
            faint.append(
                f"{control.evaluate('c => c.id || c.outerHTML.slice(0, 60)')}: {contrast:.2f}:1"
            )
    unchecked = page.locator(f"{app} input[type=checkbox]")
    for k in range(unchecked.count()):
        box = unchecked.nth(k)
        assert not box.is_checked()
        scheme = box.evaluate("b => getComputedStyle(b).colorScheme")
        card = page.evaluate(
            f"() => getComputedStyle(document.querySelector('{app}')).backgroundColor"
        )
        if card == "rgb(255, 255, 255)" and "light" not in scheme:
            faint.append(
                f"checkbox drawn for a dark page ({scheme}) on a white card: it looks checked"
            )
    context.close()
    assert not text, "text under 4.5:1 in dark mode:\n  " + "\n  ".join(text)
    assert not faint, "controls under 3:1 against their card in dark mode:\n  " + "\n  ".join(faint)


# --- opened from disk ----------------------------------------------------------------------


def test_explorers_and_search_work_from_disk(browser):  # noqa: F811
    assert (SITE / "index.html").is_file(), MISSING_SITE
    context = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    problems = []
    for path in ("book/pose_explorer.html", "_static/pose_explorer/pose_explorer.html"):
        page.goto((SITE / path).as_uri(), wait_until="load")
        if not page.evaluate("() => window.poseExplorer.ready"):
            problems.append(f"{path}: {page.locator('#pose-explorer-app').inner_text()}")
    for chapter, marker in (
        ("notebooks/03_routing.html", "routing_playground"),
        ("notebooks/08_pose_tweaking.html", "pose_explorer"),
    ):
        page.goto((SITE / chapter).as_uri(), wait_until="load")
        frame = page.locator(f"iframe[src*='{marker}']")
        frame.scroll_into_view_if_needed()
        inner = frame.content_frame
        inner.locator("button").first.wait_for()
        if marker == "pose_explorer":
            if not inner.locator("html").evaluate("() => window.poseExplorer.ready"):
                problems.append(f"{chapter}: the explorer in the frame did not load")
        try:  # the explorer tells the chapter its height (a file is an origin of its own)
            page.wait_for_function("(frame) => !!frame.style.height", arg=frame.element_handle())
        except Exception:
            problems.append(f"{chapter}: the frame was never given the explorer's height")
        inside = inner.locator("html").evaluate(
            "() => document.documentElement.getBoundingClientRect().height"
        )
        height = frame.evaluate("f => f.getBoundingClientRect().height")
        if height + 2 < inside:
            problems.append(
                f"{chapter}: the frame is {height:.0f} px for {inside:.0f} px of explorer"
            )
    # search: results listed, and the page says why no passages are quoted
    page.goto((SITE / "search.html").as_uri() + "?q=routing", wait_until="load")
    page.locator("#search-results li").first.wait_for(timeout=30_000)
    note = page.locator("#search-results").inner_text()
    if "downloaded" not in note and "from disk" not in note:
        problems.append(f"search from disk: no word on what it can do there: {note[:200]!r}")
    context.close()
    assert not problems + errors, "\n".join(problems + errors)


# --- a slow link ---------------------------------------------------------------------------


def png_width(path: Path) -> int | None:
    """A PNG's width from its header (``None`` for another format)."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">I", head[16:20])[0]


def test_chapters_fit_a_slow_link(browser, base_url):  # noqa: F811
    context = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sent: dict[str, int] = {}

    def count(response) -> None:
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request: nothing sent
            return
        kind = response.headers.get("content-type", "")
        sent[response.url] = len(gzip.compress(body, 6)) if COMPRESSED.search(kind) else len(body)

    page.on("response", count)
    heavy, eager, oversized, images = [], [], [], set()
    for path in CHAPTERS:
        sent.clear()
        page.goto(urljoin(base_url, path), wait_until="load")
        page.wait_for_load_state("networkidle")
        total = sum(sent.values())
        print(f"{path}: {total / 1e6:.2f} MB as sent, {len(sent)} files")
        if total > PAGE_BUDGET:
            top = sorted(sent.items(), key=lambda item: -item[1])[:3]
            largest = ", ".join(f"{url.rsplit('/', 1)[-1]} {n / 1e6:.2f}" for url, n in top)
            heavy.append(f"{path}: {total / 1e6:.2f} MB ({largest})")
        figures = page.evaluate(
            """() => [...document.querySelectorAll('article img')].map(img => ({
                src: img.getAttribute('src'), loading: img.loading,
                top: img.getBoundingClientRect().top + window.scrollY,
                column: img.parentElement.getBoundingClientRect().width}))"""
        )
        for figure in figures:
            if figure["top"] > 900 and figure["loading"] != "lazy":
                eager.append(f"{path}: {figure['src']}")
            file = ((SITE / path).parent / figure["src"]).resolve()
            if file.is_file() and file.stat().st_size > IMAGE_BUDGET:
                images.add(f"{path}: {file.name} {file.stat().st_size / 1e3:.0f} kB")
            width = png_width(file) if file.is_file() else None
            if width and width > OVERSIZE * figure["column"]:
                oversized.append(
                    f"{path}: {figure['src']} {width} px wide, shown at {figure['column']:.0f}"
                )
    context.close()
    assert not heavy, f"chapters over {PAGE_BUDGET / 1e6} MB as sent:\n  " + "\n  ".join(heavy)
    assert not images, f"images over {IMAGE_BUDGET / 1e3:.0f} kB: {sorted(images)}"
    assert not eager, "figures below the first screen loaded at once:\n  " + "\n  ".join(eager[:10])
    assert not oversized, f"figures saved over {OVERSIZE}x wider than shown:\n  " + "\n  ".join(
        oversized[:10]
    )


# --- smaller ------------------------------------------------------------------------------


def test_no_theme_fragments_and_launch_buttons_named_by_their_text(browser, base_url):  # noqa: F811
    fragments = sorted(p.name for p in (SITE / "_static").glob("*webpack-macros.html"))
    assert not fragments, f"unrendered theme fragments shipped in _static/: {fragments}"
    context = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(urljoin(base_url, CHAPTERS[0]), wait_until="load")
    names = page.evaluate(
        """() => [...document.querySelectorAll('a[href*="colab.research.google.com"]')]
            .map(a => [...a.querySelectorAll('img')].map(i => i.alt).join(' ') + ' ' + a.innerText)"""
    )
    # chapter 3 with its playground's frame loaded: headings in order (axe's heading-order)
    page.goto(urljoin(base_url, "notebooks/03_routing.html"), wait_until="load")
    frame = page.locator("iframe[src*='routing_playground']")
    frame.scroll_into_view_if_needed()
    frame.content_frame.locator("#rp-point-0-0").wait_for()
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    order = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['heading-order']})).violations
            .flatMap(v => v.nodes.map(n => n.target.join(' ')))"""
    )
    context.close()
    assert names, "no Colab launch button"
    assert all(name.strip() == "Colab" for name in names), names
    # Colab opens notebooks: the markdown pages have no launch link that would open nothing
    markdown_pages = [page for page in PAGES if (ROOT / page).with_suffix(".md").is_file()]
    launched = [
        page
        for page in markdown_pages
        if "dropdown-launch-buttons" in (SITE / page).read_text(encoding="utf-8")
    ]
    assert markdown_pages and not launched, f"a launch menu on a markdown page: {launched}"
    assert not order, f"chapter 3's headings skip a level: {order}"
