"""The student site (_build/student-html, ``make student-book``) in a real browser, offline.

Every page: no JavaScript error, nothing requested from another host, every formula typeset,
every internal link resolves, no serious or critical axe-core violation, no solution anywhere (no solution block, no solution marker, and
no line of a solution's code or prose that the student edition removes). Every chapter: each
exercise and each check cell is there, and each exercise has its stub. Run
``make student-book`` first (``make student-book-test`` runs this file).
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from tests.test_chapter_conventions import CHECK_CALL
from tests.test_site import (  # noqa: F401 (browser: a fixture, used by its name)
    ALLOWED_CONSOLE_ERRORS,
    ASSET_DIRS,
    HOST,
    REFRESH,
    anchors_of,
    browser,
    is_local,
    wait_for_mathjax,
)

pytestmark = pytest.mark.student_site

ROOT = Path(__file__).resolve().parents[1]
STUDENT_SITE = ROOT / "_build" / "student-html"
MISSING = f"{STUDENT_SITE} has no built site: run `make student-book` first."
sys.path.insert(0, str(ROOT / "tools"))
from offline_browser import axe_violations, serious, serve  # noqa: E402
from student_edition import student_edition  # noqa: E402

# in a chapter (the instructors' page describes the markers, so only "Solution to" anywhere)
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
SOLUTION_TITLE = "Solution to Exercise"
STUB = "raise NotImplementedError"
# a line of solution prose is compared with the page's text only where no markup would change
# it (roles, math, links, directives); shorter lines could occur anywhere
MARKUP = re.compile(r"[{}$\[\]<>|]|^\s*(:|```|#)")
MIN_LINE = 25


def student_pages() -> list[str]:
    if not STUDENT_SITE.is_dir():
        return []
    return sorted(
        path.relative_to(STUDENT_SITE).as_posix()
        for path in STUDENT_SITE.rglob("*.html")
        if not ASSET_DIRS & set(path.relative_to(STUDENT_SITE).parts[:-1])
    )


PAGES = student_pages()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def plain(line: str) -> str:
    """A source line as the page shows it, near enough: no inline-code or emphasis marks."""
    return squeeze(line.replace("`", "").replace("*", ""))


@functools.cache
def chapter(stem: str):
    """(exercises, check numbers, solution lines the student edition removes) of a chapter."""
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    student, exercises = student_edition(nb, f"{stem}.ipynb")
    # what the student edition keeps, as the page shows it: sources and outputs
    texts = [cell.source for cell in student.cells]
    for cell in student.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [output.get("data", {}).get(kind, "") for kind in ("text/plain", "text/html")]
    kept = squeeze("\n".join(texts)) + " " + plain("\n".join(texts))
    removed = set()
    for cell in nb.cells:
        for line in cell.source.splitlines():
            line = plain(line) if cell.cell_type == "markdown" else squeeze(line)
            if len(line) < MIN_LINE or line.startswith("#") or line in kept:
                continue
            if cell.cell_type == "markdown" and MARKUP.search(line):
                continue
            removed.add(line)
    checks = [
        number
        for cell in student.cells
        if "check" in cell.metadata.get("tags", [])
        for number in CHECK_CALL.findall(cell.source)
    ]
    return exercises, checks, sorted(removed)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_url():
    if not (STUDENT_SITE / "index.html").is_file():
        pytest.fail(MISSING, pytrace=False)
    with serve(STUDENT_SITE) as url:
        yield url


# --- the tests -----------------------------------------------------------------------------


def test_student_site_is_built():
    assert (STUDENT_SITE / "index.html").is_file(), MISSING
    chapters = [page for page in PAGES if page.startswith("notebooks/")]
    sources = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(chapters) == len(sources), f"{len(chapters)} chapter pages, {len(sources)} notebooks"


def test_title_says_student_edition():
    html = (STUDENT_SITE / "book" / "intro.html").read_text(encoding="utf-8")
    assert "student edition" in html


@pytest.mark.parametrize("path", PAGES or ["<no site>"])
def test_student_page(browser, student_url, path):  # noqa: F811 (the fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests, errors, failed = [], [], []

    def route(request_route):
        requests.append(request_route.request.url)
        if is_local(request_route.request.url):
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console error: {message.text}")
            if message.type == "error"
            and not any(allowed.search(message.text) for allowed in ALLOWED_CONSOLE_ERRORS)
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.url} (HTTP {response.status})")
            if response.status >= 400
            else None
        ),
    )
    try:
        page.goto(urljoin(student_url, path), wait_until="load")
        redirect = REFRESH.search((STUDENT_SITE / path).read_text(encoding="utf-8"))
        if redirect:
            page.wait_for_url(urljoin(urljoin(student_url, path), redirect.group(1)))
            page.wait_for_load_state("load")
        page.wait_for_load_state("networkidle")
        wait_for_mathjax(page)
        problems = list(errors)
        problems += [f"request to another host: {url}" for url in requests if not is_local(url)]
        problems += [f"failed request: {failure}" for failure in failed]

        math = page.evaluate(
            """() => ({
                sources: document.querySelectorAll('.math').length,
                rendered: document.querySelectorAll('mjx-container').length,
                errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
            })"""
        )
        if math["sources"] and not math["rendered"]:
            problems.append(f"{math['sources']} formulas and no mjx-container")
        problems += [f"TeX error: {text}" for text in math["errors"]]
        problems += [f"axe-core: {line}" for line in serious(axe_violations(page))]

        # no solution: no block, no marker, no removed line of a solution
        solutions = page.locator(".solution").count()
        if solutions:
            problems.append(f"{solutions} solution blocks")
        text = page.evaluate("() => document.body.textContent")
        flat = squeeze(text)
        if SOLUTION_TITLE in text:
            problems.append(f"solution text: {SOLUTION_TITLE!r}")
        if path.startswith("notebooks/"):
            problems += [f"solution marker: {mark!r}" for mark in SOLUTION_MARKERS if mark in text]
            exercises, checks, removed = chapter(Path(path).stem)
            problems += [f"a line of a solution: {line!r}" for line in removed if line in flat]
            # every exercise (a heading "Exercise 3.2: ..." in the student edition), with its
            # stub, and every check cell
            headings = " ".join(page.locator("h2, h3, h4").all_text_contents())
            problems += [
                f"exercise {exercise.number} missing"
                for exercise in exercises
                if f"Exercise {exercise.number}" not in headings
            ]
            stubs = flat.count(STUB)
            if stubs < len(exercises):
                problems.append(f"{stubs} solution stubs for {len(exercises)} exercises")
            problems += [
                f"check cell of exercise {number} missing"
                for number in checks
                if not re.search(rf"""check\(\s*["']{re.escape(number)}["']""", flat)
            ]
            if not checks:
                problems.append("no check cells")
            colab = page.locator("a[href^='https://colab.research.google.com/']").count()
            if colab:
                problems.append("a Colab button (it would open the notebook with its solutions)")

        hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        problems += broken_links(student_url, hrefs)
    finally:
        context.close()
    assert not problems, f"{path}:\n  " + "\n  ".join(dict.fromkeys(problems))


def broken_links(base_url: str, hrefs: list[str]) -> list[str]:
    problems = []
    for href in dict.fromkeys(hrefs):
        if not href.startswith(base_url):
            continue
        parts = urlsplit(href)
        relative = unquote(parts.path)[len(urlsplit(base_url).path) :]
        target = STUDENT_SITE / relative
        if relative == "" or relative.endswith("/"):
            target = target / "index.html"
        if target.suffix != ".html":
            if not target.exists():
                problems.append(f"link to a missing file: {href}")
        elif not target.is_file():
            problems.append(f"link to a missing page: {href}")
        elif parts.fragment and unquote(parts.fragment) not in anchors_of(target):
            problems.append(f"link to a missing anchor: {href}")
    return problems
