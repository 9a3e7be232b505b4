"""Print the one-page build of the book (``jupyter-book build --builder singlehtml``) to a PDF.

Jupyter Book's own ``pdfhtml`` builder does the same with a browser that Playwright downloads,
and writes its page over the site's ``index.html``; this prints the one-page build with the
Chromium the site tests use (Debian's ``/usr/bin/chromium``), offline: every request to
another host is refused. MathJax (served from the build, see the Makefile's ``mathjax``
target) typesets every formula before printing; every hidden cell and every solution dropdown
is opened, since paper cannot be clicked. Every link is made one a reader of the PDF can
follow: a reference inside the book goes to its place in the PDF, a link to another file of
the build (a download, the playground's page) to the same file on the published site
(``html.baseurl`` in _config.yml), never to the temporary local server it was printed from.
Chromium makes the bookmarks from the glyphs it drew in each heading (a wrapped heading loses
a space, some come out doubled); each is then given its heading's text (:func:`fix_outline`).

``make book`` runs ``python tools/book_pdf.py _build/onepage/_build/singlehtml
_build/pdf/capsnets-book.pdf --copy-to _build/html`` after building the site and the one-page
build.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from offline_browser import BROWSER_ARGS, HOST, LOAD_IMAGES, serve

# Loading, typesetting and printing a hundred pages; generous for a busy two-core machine.
TIMEOUT_MS = 300_000
IDLE_TIMEOUT_MS = 30_000
REFRESH = re.compile(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', re.IGNORECASE)
CONFIG = Path(__file__).resolve().parents[1] / "_config.yml"
# Links made for paper. A link to this page with an anchor becomes "#anchor", which Chromium
# prints as a link to that place in the PDF; a link to another file of the local build
# becomes the same path on the published site. Returns the counts and the anchors missing.
LINKS_FOR_PAPER = """([site, alias]) => {
  // the one page, under its name here (book.html) or the one Sphinx gave it (book/intro.html)
  const pages = [location.pathname, '/' + alias].map(path => location.origin + path);
  const seen = {internal: 0, published: 0, missing: []};
  for (const link of document.querySelectorAll('a[href]')) {
    const url = new URL(link.getAttribute('href'), location.href);
    if (url.origin !== location.origin) continue;
    if (pages.includes(url.origin + url.pathname)) {
      const id = decodeURIComponent(url.hash.slice(1));
      if (id && document.getElementById(id)) {
        link.setAttribute('href', '#' + id);
        seen.internal += 1;
        continue;
      }
      if (id) seen.missing.push(link.getAttribute('href'));
      link.setAttribute('href', site);  // the book's own start: its front page
      continue;
    }
    link.setAttribute('href', site + url.pathname.slice(1) + url.search + url.hash);
    seen.published += 1;
  }
  return seen;
}"""
# Debian's package, then Google Chrome (GitHub's Ubuntu runners), unless $CHROMIUM says.
BROWSERS = ("/usr/bin/chromium", "/usr/bin/google-chrome", "/usr/bin/chromium-browser")
# Print layout: the page's text column over the whole sheet; cells and figures not split.
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
@media print {
  .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer, .bd-footer-article,
  .bd-header-article, .prev-next-area, .toggle-button, .headerlink, .copybtn,
  .skip-link, #pst-back-to-top, .bd-search, nav.bd-links,
  details.hide > summary { display: none !important; }
  .bd-main .bd-content .bd-article-container, .bd-page-width, .bd-container__inner,
  .bd-main, .bd-content, .bd-article { max-width: none !important; width: 100% !important; }
  html { font-size: 13px; }
  div.cell_input, div.cell_output, figure, img, table, .admonition, mjx-container[display] {
    break-inside: avoid; page-break-inside: avoid;
  }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  pre { white-space: pre-wrap !important; word-break: break-word; }
  div.cell_output img { max-width: 100% !important; height: auto; }
  /* every page of the site (a chapter, a reference page) starts a new sheet */
  span[id^="document-"] + section { break-before: page; page-break-before: always; }
}
"""
# Everything hidden behind a click on the site: myst-nb's hidden cells (<details>), the
# solution dropdowns and toggles of sphinx-togglebutton.
OPEN_EVERYTHING = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('.toggle-shown').forEach(e => e.classList.remove('toggle-shown'));
}"""
WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('script[src*="mathjax"]')) {
    return {rendered: 0, untypeset: document.querySelectorAll('.math').length, errors: []};
  }
  for (let i = 0; i < 400 && !(window.MathJax && MathJax.startup
          && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const sources = [...document.querySelectorAll('.math')];
  return {
    rendered: document.querySelectorAll('mjx-container').length,
    untypeset: sources.filter(el => !el.querySelector('mjx-container')
                                   && el.tagName !== 'MJX-CONTAINER').length,
    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
  };
}"""


# The title each heading should have in the PDF's outline (its bookmarks), as the reader sees
# it: the text without the permalink "#", whitespace collapsed, for each heading printed.
HEADING_TITLES = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
  .filter(h => h.getClientRects().length > 0 && getComputedStyle(h).display !== 'none')
  .map(h => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach(a => a.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  })"""


def _letters(text: str) -> collections.Counter:
    """The characters of ``text`` and how often each occurs, whitespace and ligatures aside."""
    return collections.Counter(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))


def same_heading(chromium_title: str, heading: str) -> bool:
    """Whether Chromium's outline title is this heading's text, drawn once or more.

    Chromium builds each bookmark from the glyphs it drew inside the heading: a heading that
    wraps loses the space at the line break ("routingrounds"), one whose runs are drawn twice
    is doubled ("3.2.1. 3.2.1. Routing you can seeRouting you can see"), and the code in a
    heading may be drawn once where the words around it are doubled ("3.1.2. 3.1.2. einsum in
    one small example in one small example"). The same characters, each drawn at least as
    often as the heading has it and at most as many times over as the whole is (whitespace
    and ligatures aside), is the same heading.
    """
    drawn, text = _letters(chromium_title), _letters(heading)
    if not text or not drawn or set(drawn) != set(text):
        return False
    times = -(-sum(drawn.values()) // sum(text.values()))  # the most times over, rounded up
    return all(n <= drawn[c] <= times * n for c, n in text.items())


def fix_outline(pdf: Path, headings: list[str]) -> list[str]:
    """Give each bookmark of ``pdf`` its heading's text (``headings``, in document order).

    Returns the bookmarks that match no heading (left as Chromium wrote them).
    """
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    # pypdf warns that Chromium's trailer undercounts its objects: harmless, and not ours
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    writer = PdfWriter(clone_from=str(pdf))
    outlines = writer.root_object.get("/Outlines")
    unmatched, cursor, changed = [], 0, False
    item = outlines.get_object().get("/First") if outlines is not None else None
    stack = []
    while item is not None:
        node = item.get_object()
        title = str(node.get("/Title", ""))
        match = next(
            (i for i in range(cursor, len(headings)) if same_heading(title, headings[i])), None
        )
        if match is None:
            unmatched.append(title)
        else:
            cursor = match + 1
            if title != headings[match]:
                node[NameObject("/Title")] = TextStringObject(headings[match])
                changed = True
        # depth first, in document order: children, then the next sibling, then back up
        if "/First" in node:
            stack.append(node.get("/Next"))
            item = node["/First"]
            continue
        item = node.get("/Next")
        while item is None and stack:
            item = stack.pop()
    if changed:
        with pdf.open("wb") as out:
            writer.write(out)
    return unmatched


def browser_candidates() -> list[str]:
    """Where to look for Chromium: $CHROMIUM alone when set, else :data:`BROWSERS`."""
    return [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else list(BROWSERS)


def installed_browser() -> str | None:
    """The first of :func:`browser_candidates` present, or None."""
    return next((c for c in browser_candidates() if Path(c).is_file()), None)


def find_browser() -> str:
    """The Chromium to print with (:func:`installed_browser`); a one-line error without one."""
    browser = installed_browser()
    if browser is not None:
        return browser
    candidates = browser_candidates()
    raise SystemExit(
        f"book_pdf: no Chromium at {', '.join(candidates)}: apt-get install chromium"
        " (or set CHROMIUM to a Chrome/Chromium binary)"
    )


def published_url(config: Path = CONFIG) -> str:
    """The published site's address, ``html.baseurl`` in _config.yml, ending in ``/``."""
    import yaml

    url = (yaml.safe_load(config.read_text(encoding="utf-8")).get("html") or {}).get("baseurl")
    if not url:
        raise SystemExit(f"book_pdf: {config} has no html.baseurl: the PDF's links need it")
    return url.rstrip("/") + "/"


def one_page(site: Path) -> str:
    """The book's one page, at the root of ``site``; returns its name there.

    The singlehtml builder writes the book to its root document's path (``book/intro.html``)
    and ``index.html`` redirects there, but every link in it is relative to the root of the
    build: a copy at the root (``book.html``) finds its images, scripts and MathJax.
    """
    index = site / "index.html"
    if not index.is_file():
        raise SystemExit(f"book_pdf: {index} missing: build the one-page site first")
    redirect = REFRESH.search(index.read_text(encoding="utf-8"))
    if not redirect:
        return "index.html"
    shutil.copyfile(site / redirect.group(1), site / "book.html")
    return "book.html"


def print_pdf(
    site: Path, pdf: Path, browser_path: str | None = None, site_url: str | None = None
) -> dict:
    """Print the book's one page in ``site`` to ``pdf``; return what was seen on the way.

    ``site_url``: where links to the build's other files go (default :func:`published_url`).
    """
    site_url = site_url or published_url()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    page_path = one_page(site)
    blocked: list[str] = []
    errors: list[str] = []

    def route(request_route) -> None:
        host = urlsplit(request_route.request.url).hostname
        if host == HOST or urlsplit(request_route.request.url).scheme in ("data", "blob"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    with serve(site) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_path or find_browser(), headless=True, args=BROWSER_ARGS
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.set_default_timeout(TIMEOUT_MS)
        page.route("**/*", route)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base_url}{page_path}", wait_until="load")
        try:  # a page may keep a request open (a widget's data): then go on after a while
            page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
        except PlaywrightTimeout:
            pass  # MathJax and the images are waited for below, one by one
        formulas = page.evaluate(WAIT_FOR_MATHJAX)
        broken = page.evaluate(LOAD_IMAGES)
        page.evaluate(OPEN_EVERYTHING)
        alias = REFRESH.search((site / "index.html").read_text(encoding="utf-8"))
        links = page.evaluate(LINKS_FOR_PAPER, [site_url, alias.group(1) if alias else page_path])
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        headings = page.evaluate(HEADING_TITLES)
        pdf.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(pdf),
            prefer_css_page_size=True,
            print_background=True,
            tagged=True,  # a structure tree: headings, lists, figures with their alt text
            outline=True,  # bookmarks from the headings
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=(
                '<div style="font-size:8px; width:100%; text-align:center; color:#666">'
                '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
            ),
        )
        browser.close()
    unmatched = fix_outline(pdf, headings)
    return {
        "formulas": formulas,
        "blocked": blocked,
        "broken_images": broken,
        "errors": errors,
        "links": links,
        "unmatched_bookmarks": unmatched,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the one-page build (its singlehtml folder)")
    parser.add_argument("pdf", type=Path, help="the PDF to write")
    parser.add_argument(
        "--copy-to", type=Path, action="append", default=[], help="also copy the PDF here"
    )
    parser.add_argument(
        "--skip-without-browser",
        action="store_true",
        help="no Chromium: say so and write nothing, instead of failing (what `make book` does)",
    )
    args = parser.parse_args(argv)
    # a $CHROMIUM that is missing is an error, not a reason to skip
    if args.skip_without_browser and not os.environ.get("CHROMIUM") and not installed_browser():
        print(
            "book_pdf: no Chromium here, so the site is built without its PDF "
            "(apt-get install chromium, then `make book` again)",
            file=sys.stderr,
        )
        return 0
    seen = print_pdf(args.site, args.pdf)
    problems = [f"request to another host refused: {url}" for url in seen["blocked"]]
    problems += [f"image not loaded: {src}" for src in seen["broken_images"]]
    problems += [f"page error: {error}" for error in seen["errors"]]
    problems += [f"bookmark that is no heading: {title!r}" for title in seen["unmatched_bookmarks"]]
    problems += [f"link to an anchor not in the book: {href}" for href in seen["links"]["missing"]]
    math = seen["formulas"]
    if math["untypeset"]:
        problems.append(f"{math['untypeset']} formulas not typeset by MathJax")
    problems += [f"TeX error: {text}" for text in math["errors"]]
    if problems:
        print("book_pdf:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    for folder in args.copy_to:
        if folder.is_dir():
            shutil.copy2(args.pdf, folder / args.pdf.name)
    size = args.pdf.stat().st_size / 1e6
    links = seen["links"]
    print(
        f"{args.pdf}: {size:.1f} MB, {math['rendered']} formulas typeset, "
        f"{links['internal']} links inside the book, {links['published']} to the published site"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
