"""The built site (_build/html) in a real browser: every page, offline.

For every HTML page: no JavaScript error, nothing requested from any host but the local
server, every image loaded (and none twice in one cell's output), every formula typeset by
MathJax, exercise solutions hidden until clicked, every internal link (and its anchor)
resolves, no guard cell in view, no serious or critical axe-core violation, every figure of a
chapter described by its alt text, no visible code block scrolling sideways. Screenshots of
the front page and of a chapter go to _build/screenshots/. Run `make book` first (`make site-test` runs this file).
"""

from __future__ import annotations

import functools
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from offline_browser import (  # noqa: E402
    BROWSER_ARGS,
    HOST,
    LOAD_IMAGES,
    axe_violations,
    serious,
    serve,
)

from tests.native_logs import NATIVE_LOG  # noqa: E402

pytestmark = pytest.mark.site

SITE = ROOT / "_build" / "html"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Folders of the site that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "mathjax", "_downloads"}
# The only console errors allowed: pydata-sphinx-theme logs this once on a first visit, when
# no theme mode is stored yet (see the design notes).
ALLOWED_CONSOLE_ERRORS = (re.compile(r"Got invalid theme mode"),)
CHAPTER_SCREENSHOT = "notebooks/03_routing.html"
MISSING_SITE = f"{SITE} has no built site: run `make book` first."
REFRESH = re.compile(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', re.IGNORECASE)


def site_pages() -> list[str]:
    """Every HTML page of the site, relative to its root, as URL paths."""
    if not SITE.is_dir():
        return []
    return sorted(
        path.relative_to(SITE).as_posix()
        for path in SITE.rglob("*.html")
        if not ASSET_DIRS & set(path.relative_to(SITE).parts[:-1])
    )


PAGES = site_pages()


# --- fixtures: a local server and a browser ------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(MISSING_SITE, pytrace=False)
    return SITE


@pytest.fixture(scope="module")
def base_url(site: Path):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium", pytrace=False)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS
        )
        yield browser
        browser.close()


class PageVisit:
    """A page opened in a fresh browser context, with everything it logged and requested."""

    def __init__(self, browser, base_url: str, path: str):
        self.base_url = base_url
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)
        self.page.goto(urljoin(base_url, path), wait_until="load")
        redirect = REFRESH.search((SITE / path).read_text(encoding="utf-8"))
        if redirect:  # index.html: <meta http-equiv="Refresh" content="0; url=...">
            self.page.wait_for_url(urljoin(urljoin(base_url, path), redirect.group(1)))
            self.page.wait_for_load_state("load")
        self.page.wait_for_load_state("networkidle")
        wait_for_mathjax(self.page)

    def _route(self, route) -> None:
        self.requests.append(route.request.url)
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort()  # offline anyway: fail fast, the test reports it

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _request_failed(self, request) -> None:
        if is_local(request.url):  # the others are reported as requests to another host
            self.failed.append(f"{request.url} ({request.failure})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def close(self) -> None:
        self.context.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == HOST


def wait_for_mathjax(page) -> None:
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.evaluate(
        """async () => {
            if (!document.querySelector('script[src*="mathjax"]')) return;
            for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup
                    && MathJax.startup.promise); i++) {
                await new Promise(r => setTimeout(r, 50));
            }
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise;
            }
        }"""
    )


@pytest.fixture
def visit(browser, base_url):
    visits: list[PageVisit] = []

    def open_page(path: str) -> PageVisit:
        visits.append(PageVisit(browser, base_url, path))
        return visits[-1]

    yield open_page
    for page_visit in visits:
        page_visit.close()


# --- what a page's HTML files say (for links and anchors) ----------------------------------


class IdCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value or "")


@functools.cache
def anchors_of(path: Path) -> frozenset[str]:
    collector = IdCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return frozenset(collector.ids)


# --- the tests -----------------------------------------------------------------------------


def test_site_is_built():
    """Fails (rather than skipping the page tests) when there is nothing to test."""
    assert (SITE / "index.html").is_file(), MISSING_SITE
    assert PAGES, MISSING_SITE


def test_colour_mode_icons_add_no_text_to_the_buttons_name():
    """The colour-mode button's icons carry no tooltip (book/_templates/theme-switcher.html).

    The theme's own template gives each icon a title, which a screen reader reads as text the
    button's name leaves out; page scripts that removed it raced the theme's under load.
    """
    for path in PAGES:
        html = (SITE / path).read_text(encoding="utf-8")
        button = re.search(r"<button[^>]*theme-switch-button.*?</button>", html, re.S)
        if button:
            assert "title=" not in button.group(0).split(">", 1)[1], f"{path}: an icon has a title"
            assert button.group(0).count('aria-hidden="true"') == 3, f"{path}: icons not hidden"


def test_solutions_show_their_code_without_the_graders_markers():
    """book/_ext/solution_markers.py: the notebooks keep the markers, the site drops them."""
    for chapter in CHAPTERS:
        html = (SITE / "notebooks" / f"{chapter.stem}.html").read_text(encoding="utf-8")
        assert "Solution to" in html, f"{chapter.stem}: no solution on the page"
        for marker in ("BEGIN SOLUTION", "END SOLUTION"):
            assert marker not in html, f"{chapter.stem}: {marker!r} shows on the page"


def test_the_run_report_names_every_chapter_with_its_run_time():
    """The run report's table (book/_ext/run_times.py): each chapter by its title, how long it
    ran as a person reads it ("about 3 min"), and no column a reader has no use for."""
    html = (SITE / "book" / "run_report.html").read_text(encoding="utf-8")
    table = re.search(r"<table.*?</table>", html, re.S).group(0)
    cells = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]
    assert cells[0] == ["Page", "Run time", "Last run", "Status"], cells[0]
    rows = {row[0]: row[1:] for row in cells[1:]}
    for chapter in CHAPTERS:
        number = int(chapter.name[:2])
        titled = [name for name in rows if re.match(rf"{number}\. \w", name)]
        assert len(titled) == 1, f"chapter {number} is not one row by its title: {sorted(rows)}"
        runtime, _, status = rows[titled[0]]
        assert re.fullmatch(r"about \d+ (s|min)", runtime), runtime
        assert status.startswith("✅"), status
    assert "cache" not in table and "Method" not in table


@pytest.mark.parametrize("path", PAGES or ["<no site>"])
def test_page(site, visit, path):
    page_visit = visit(path)
    page = page_visit.page
    problems: list[str] = []

    # JavaScript errors and console errors (except the allowed ones)
    problems += [f"page error: {error}" for error in page_visit.page_errors]
    problems += [
        f"console error: {text}"
        for text in page_visit.console_errors
        if not any(allowed.search(text) for allowed in ALLOWED_CONSOLE_ERRORS)
    ]

    # nothing from the internet, nothing missing
    problems += [
        f"request to another host: {url}" for url in page_visit.requests if not is_local(url)
    ]
    problems += [f"failed request: {failure}" for failure in page_visit.failed]

    # every image loaded (lazy ones made eager first)
    broken = page.evaluate(LOAD_IMAGES)
    problems += [f"image not loaded: {src}" for src in broken]

    # no figure twice in one cell's output (a value that a final ";" should have silenced)
    twice = page.evaluate(
        """() => [...document.querySelectorAll('div.cell_output')].flatMap(output => {
            const sources = [...output.querySelectorAll('img')].map(img => img.getAttribute('src'));
            return sources.filter((source, k) => sources.indexOf(source) !== k);
        })"""
    )
    problems += [f"figure shown twice in one cell's output: {src}" for src in twice]

    # the checks that guard the prose stay out of the reading: no code cell in view asserts,
    # except the exercises' check cells, which are for the reader
    guards = page.evaluate(
        r"""() => [...document.querySelectorAll('div.cell')]
            .filter(cell => !/tag_(hide-input|hide-cell)/.test(cell.className))
            .map(cell => (cell.querySelector('div.cell_input') || {}).innerText || '')
            .filter(code => /\bassert(_\w+)?\b/.test(code) && !/\bcheck\(/.test(code))
            .map(code => code.trim().split('\n')[0])"""
    )
    problems += [f"guard cell shown to the reader: {first_line}" for first_line in guards]

    # every reader: no serious or critical axe-core violation, and every figure a chapter draws
    # described in words (myst-nb's placeholder alt text is the image's file name)
    problems += [f"axe-core: {line}" for line in serious(axe_violations(page))]
    undescribed = page.evaluate(
        r"""() => [...document.querySelectorAll('div.cell_output img')]
            .filter(img => !/\S/.test(img.alt || '') || /\.(png|jpe?g|svg|gif)$/i.test(img.alt))
            .map(img => img.getAttribute('src'))"""
    )
    problems += [f"figure without a description (alt text): {src}" for src in undescribed]

    # every formula typeset by MathJax
    math = page.evaluate(
        """() => {
            const sources = [...document.querySelectorAll('.math')];
            return {
                sources: sources.length,
                untypeset: sources.filter(el => !el.querySelector('mjx-container')
                                               && el.tagName !== 'MJX-CONTAINER').length,
                rendered: document.querySelectorAll('mjx-container').length,
                errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
            };
        }"""
    )
    if math["sources"]:
        if not math["rendered"]:
            problems.append(f"{math['sources']} formulas and no mjx-container: MathJax did not run")
        elif math["untypeset"]:
            problems.append(f"{math['untypeset']} of {math['sources']} formulas not typeset")
    problems += [f"TeX error: {text}" for text in math["errors"]]

    # exercise solutions: hidden until their title is clicked, shown after
    solutions = page.locator(".solution.dropdown")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator(":scope > .admonition-title ~ *").first
        if body.is_visible():
            problems.append(f"solution {i + 1} is shown before it is clicked")
            continue
        # the chevron button (the title's middle is a link to the exercise)
        solution.locator(":scope > .admonition-title .toggle-button").click()
        try:
            body.wait_for(state="visible", timeout=5000)
        except Exception:
            problems.append(f"solution {i + 1} stays hidden after a click")

    # no start-up noise of TensorFlow's native runtime in any output block
    text = page.evaluate("() => document.body.innerText")
    problems += [
        f"TensorFlow start-up noise in the page: {match.group(0)!r}"
        for match in NATIVE_LOG.finditer(text)
    ]

    # every chapter (a notebook) has its Colab launch button
    if path.startswith("notebooks/"):
        colab = page.locator("a[href^='https://colab.research.google.com/github/']")
        if not colab.count():
            problems.append("no Colab launch button")

    # code fits the column at this 1280 px layout: no code block a reader sees (folded cells
    # and the solutions clicked open above included; outputs aside) scrolls sideways
    overflowing = page.evaluate(
        r"""() => {
            document.querySelectorAll('details').forEach(d => { d.open = true; });
            return [...document.querySelectorAll('div.highlight pre')]
                .filter(pre => !pre.closest('.cell_output, .output') && pre.offsetParent)
                .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                .map(pre => [pre.scrollWidth - pre.clientWidth, pre.innerText.split('\n')
                    .reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 100)]);
        }"""
    )
    problems += [
        f"code scrolls sideways by {px} px (88 characters fit), its longest line: {line!r}"
        for px, line in overflowing
    ]

    # every internal link resolves, anchors included
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    problems += broken_links(page_visit.base_url, page.url, hrefs)

    assert not problems, f"{path}:\n  " + "\n  ".join(dict.fromkeys(problems))


def broken_links(base_url: str, page_url: str, hrefs: list[str]) -> list[str]:
    problems = []
    for href in dict.fromkeys(hrefs):
        if not href.startswith(base_url):
            continue  # another site (the repository, a paper): not this test's business
        parts = urlsplit(href)
        relative = unquote(parts.path)[len(urlsplit(base_url).path) :]
        target = SITE / relative
        if relative == "" or relative.endswith("/"):
            target = target / "index.html"
        if not target.suffix == ".html":
            if not target.exists():
                problems.append(f"link to a missing file: {href}")
            continue
        if not target.is_file():
            problems.append(f"link to a missing page: {href}")
        elif parts.fragment and unquote(parts.fragment) not in anchors_of(target):
            problems.append(f"link to a missing anchor: {href}")
    return problems


def test_front_page_screenshot(site, visit):
    page_visit = visit("index.html")
    page = page_visit.page
    assert page.url.endswith("/book/intro.html"), f"index.html went to {page.url}"
    assert "CapsNets" in page.title()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "front.png"))


def test_chapter_screenshot(site, visit):
    assert (site / CHAPTER_SCREENSHOT).is_file(), f"{CHAPTER_SCREENSHOT} not built"
    page_visit = visit(CHAPTER_SCREENSHOT)
    page = page_visit.page
    # a chapter has a Colab launch button
    colab = page.locator("a[href^='https://colab.research.google.com/github/']")
    assert colab.count() >= 1, "no Colab launch button"
    notebook = CHAPTER_SCREENSHOT.replace(".html", ".ipynb")
    assert f"/blob/main/{notebook}" in colab.first.get_attribute("href")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{Path(CHAPTER_SCREENSHOT).stem}.png"))


@pytest.mark.parametrize(
    "line",
    [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796080846.698124    2354 cudart_stub.cc:31] Could not find cuda drivers on "
        "your machine, GPU will not be used.",
        "E0000 00:00:1796080846.920194    2354 cuda_platform.cc:52] failed call to cuInit: "
        "INTERNAL: CUDA error",
        "oneDNN custom operations are on. You may see slightly different numerical results",
        "I0000 00:00:17 11040 service.cc:153] XLA service 0x7faa200d3d70 initialized",
    ],
)
def test_startup_noise_pattern_catches_what_other_machines_printed(line):
    assert NATIVE_LOG.search(line)
    assert not NATIVE_LOG.search("test accuracy: 0.9945 on 10,000 images")
