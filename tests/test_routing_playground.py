"""The routing playground (book/_static/routing_playground.html) in headless Chromium.

The page's arithmetic (``window.routing.route``) is the library's: c and v agree with
``capsnet_lib.routing_by_agreement`` for 1 to 5 rounds, and with a NumPy softmax over the
children for the wrong-axis toggle; what the page shows follows. The arrow keys move a
focused point and the numbers change; no console error, nothing from another host; axe-core
finds no serious or critical violation on the playground nor on the pose explorer. The pages
are served from book/ itself (its _static/ as on the site): no `make book` needed.
Screenshots go to a tmp folder.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import numpy as np
import pytest

from tests.test_site import browser  # noqa: F401 (a fixture, used by its name)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from offline_browser import AXE, HOST, axe_violations, serious, serve  # noqa: E402

pytestmark = pytest.mark.site

BOOK = ROOT / "book"  # served at the root: _static/ as on the site
PAGE = "_static/routing_playground.html"
TOLERANCE = 1e-5
# The pose explorer as book/pose_explorer.md shows it (its raw HTML block), on a page of its
# own: served at this path by the test, its script and data from book/_static/pose_explorer.
POSE_PAGE = "_static/pose_explorer_standalone.html"
# Chapter 3 shows the playground in a frame: the iframe of its markdown cell in
# notebooks/03_routing.ipynb (the built page is notebooks/03_routing.html), read from there.
IFRAME = re.search(
    r"<iframe [^>]*routing_playground[^>]*>\s*</iframe>",
    "\n".join(
        "".join(cell["source"])
        for cell in json.loads((ROOT / "notebooks" / "03_routing.ipynb").read_text())["cells"]
    ),
).group(0)
CHAPTER = "notebooks/03_routing.html"
POSE_MD = ROOT / "book" / "pose_explorer.md"


def is_local(url: str) -> bool:
    return urlsplit(url).hostname == HOST or url.startswith(("data:", "blob:", "about:"))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_url():
    with serve(BOOK) as url:
        yield url


class Visit:
    """A page in a fresh context: its console errors, page errors and every request."""

    def __init__(self, browser, base_url: str, path: str, pages: dict[str, str] | None = None):  # noqa: F811
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.pages = pages or {}
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.goto(urljoin(base_url, path), wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        name = urlsplit(url).path.lstrip("/")
        if is_local(url) and name in self.pages:
            route.fulfill(status=200, content_type="text/html", body=self.pages[name])
        elif is_local(url):
            route.continue_()
        else:
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def problems(self) -> list[str]:
        return self.errors + [
            f"request to another host: {u}" for u in self.requests if not is_local(u)
        ]


@pytest.fixture
def visit(browser, base_url):  # noqa: F811 (the fixture)
    visits = []

    def open_page(path: str = PAGE, pages: dict[str, str] | None = None) -> Visit:
        visits.append(Visit(browser, base_url, path, pages))
        return visits[-1]

    yield open_page
    for one in visits:
        one.context.close()


@pytest.fixture
def playground(visit):
    page_visit = visit()
    assert page_visit.page.evaluate("() => !!(window.routing && window.routingPlayground)")
    return page_visit


# --- the arithmetic ------------------------------------------------------------------------


def cases() -> list[np.ndarray]:
    """Predictions (children, parents, 2): chapter 3's toy and random ones, 2 and 3 parents."""
    angles = np.radians([[20, 200], [30, 290], [40, 20], [25, 340], [150, 95], [170, 105]])
    lengths = np.array([[1.0, 0.5]] * 4 + [[1.0, 1.0]] * 2)
    toy = np.stack([lengths * np.cos(angles), lengths * np.sin(angles)], axis=-1)
    rng = np.random.default_rng(24)
    shapes = [(6, 3), (4, 2), (9, 3), (2, 2)]
    return [toy] + [rng.uniform(-1.5, 1.5, (*shape, 2)) for shape in shapes]


def library_routing(u_hat: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """(c, v) of ``capsnet_lib.routing_by_agreement`` for one example, in float64."""
    import capsnet_lib as cl

    v, c = cl.routing_by_agreement(u_hat[None].astype(np.float32), iterations=rounds)
    return np.asarray(c, np.float64)[0], np.asarray(v, np.float64)[0]


def numpy_wrong_axis(u_hat: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Procedure 1 with the softmax over the children (axis 1 of (batch, children, parents))."""
    u = u_hat[None]  # (1, children, parents, 2)
    b = np.zeros(u.shape[:3])
    for r in range(rounds):
        e = np.exp(b - b.max(axis=1, keepdims=True))
        c = e / e.sum(axis=1, keepdims=True)  # sums to 1 over the children
        s = np.einsum("bij,bijk->bjk", c, u)
        squared = (s**2).sum(axis=-1, keepdims=True)
        v = squared / (1 + squared) / np.sqrt(squared + 1e-7) * s
        if r < rounds - 1:
            b = b + np.einsum("bijk,bjk->bij", u, v)
    return c[0], v[0]


def page_route(page, u_hat: np.ndarray, rounds: int, wrong: bool) -> dict:
    return page.evaluate(
        "([u, r, w]) => window.routing.route(u, r, w)", [u_hat.tolist(), rounds, wrong]
    )


def shown_state(page) -> dict:
    """What the widget computed for the picture and tables it shows."""
    return page.evaluate(
        """() => { const s = routingPlayground.state;
                   return {uHat: s.uHat, rounds: s.rounds, wrongAxis: s.wrongAxis,
                           c: s.result.c, v: s.result.v, renders: s.renders}; }"""
    )


def table_c(page, rounds: int) -> np.ndarray:
    """The coupling table's numbers, (rounds, children, parents), as the page prints them."""
    cells = page.evaluate(
        """() => [...document.querySelectorAll('#rp-coupling td[data-round]')].map(td =>
               [+td.dataset.round, +td.dataset.child, +td.dataset.parent, td.textContent])"""
    )
    n = 1 + max(cell[1] for cell in cells)
    m = 1 + max(cell[2] for cell in cells)
    table = np.full((rounds, n, m), np.nan)
    for r, i, j, text in cells:
        table[r - 1, i, j] = float(text.replace("\u2212", "-"))
    return table


def test_page_routing_is_the_library_routing(playground):
    page = playground.page
    for u_hat in cases():
        five = page_route(page, u_hat, 5, False)
        for rounds in range(1, 6):
            c_lib, v_lib = library_routing(u_hat, rounds)
            js = page_route(page, u_hat, rounds, False)
            np.testing.assert_allclose(np.array(js["c"]), c_lib, atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(np.array(js["v"]), v_lib, atol=TOLERANCE, rtol=0)
            # round by round: round r of a five-round run is the library's r rounds
            step = five["rounds"][rounds - 1]
            np.testing.assert_allclose(np.array(step["c"]), c_lib, atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(np.array(step["v"]), v_lib, atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(np.array(js["c"]).sum(axis=1), 1, atol=1e-12)
        # the agreement that updates b: u_hat . v, added round by round
        for r in range(4):
            step, following = five["rounds"][r], five["rounds"][r + 1]
            agreement = np.einsum("ijk,jk->ij", u_hat, np.array(step["v"]))
            np.testing.assert_allclose(np.array(step["agreement"]), agreement, atol=1e-12)
            np.testing.assert_allclose(
                np.array(following["b"]), np.array(step["b"]) + agreement, atol=1e-12
            )
        assert five["rounds"][4]["agreement"] is None  # the last round updates nothing


def test_wrong_axis_is_numpy_softmax_over_the_children(playground):
    page = playground.page
    for u_hat in cases():
        for rounds in range(1, 6):
            c_ref, v_ref = numpy_wrong_axis(u_hat, rounds)
            js = page_route(page, u_hat, rounds, True)
            np.testing.assert_allclose(np.array(js["c"]), c_ref, atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(np.array(js["v"]), v_ref, atol=TOLERANCE, rtol=0)
            np.testing.assert_allclose(np.array(js["c"]).sum(axis=0), 1, atol=1e-12)


def test_what_the_page_shows_follows_the_controls(playground):
    """Predictions set in the page, rounds chosen with the select, the toggle clicked."""
    page = playground.page
    for u_hat in cases()[:3]:
        page.evaluate("u => routingPlayground.setPredictions(u)", u_hat.tolist())
        for rounds in (1, 2, 5):
            page.select_option("#rp-rounds", str(rounds))
            for wrong in (False, True):
                page.locator("#rp-wrong-axis").set_checked(wrong)
                seen = shown_state(page)
                assert seen["rounds"] == rounds and seen["wrongAxis"] == wrong
                if wrong:
                    c_ref, v_ref = numpy_wrong_axis(u_hat, rounds)
                else:
                    c_ref, v_ref = library_routing(u_hat, rounds)
                np.testing.assert_allclose(np.array(seen["c"]), c_ref, atol=TOLERANCE, rtol=0)
                np.testing.assert_allclose(np.array(seen["v"]), v_ref, atol=TOLERANCE, rtol=0)
                # the table prints every round's c to three decimals
                table = table_c(page, rounds)
                np.testing.assert_allclose(table[-1], c_ref, atol=5e-4 + 1e-9, rtol=0)
                if not wrong:
                    for r in range(1, rounds + 1):
                        np.testing.assert_allclose(
                            table[r - 1], library_routing(u_hat, r)[0], atol=5e-4 + 1e-9
                        )
        shown_v = page.locator(f'#rp-parents-table td[data-round="{rounds}"][data-kind="v"]')
        assert shown_v.count() == u_hat.shape[1]


def coupling_text(page) -> str:
    return page.locator("#rp-coupling").inner_text()


def test_arrow_keys_move_the_focused_point(playground):
    page = playground.page
    page.select_option("#rp-rounds", "3")
    before = shown_state(page)
    table_before = coupling_text(page)
    page.keyboard.press("Tab")  # from the top of the page, Tab until a point has focus
    for _ in range(20):
        if page.evaluate("() => document.activeElement.classList.contains('rp-point')"):
            break
        page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [+document.activeElement.dataset.child, +document.activeElement.dataset.parent]"
    )
    assert focused == [0, 0], focused
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert label.startswith("Child 0, prediction for parent 0"), label
    for key in ("ArrowLeft",) * 8 + ("ArrowDown",) * 6:
        page.keyboard.press(key)
    after = shown_state(page)
    i, j = focused
    moved = np.array(after["uHat"][i][j]) - np.array(before["uHat"][i][j])
    np.testing.assert_allclose(moved, [-0.4, -0.3], atol=2e-3)
    # still the same point with focus (the page redraws the points), and it says where it is
    assert page.evaluate("() => document.activeElement.id") == "rp-point-0-0"
    assert "x " in page.locator("#rp-live").inner_text()
    assert coupling_text(page) != table_before, "the numbers shown did not change"
    c_lib, v_lib = library_routing(np.array(after["uHat"]), 3)
    np.testing.assert_allclose(np.array(after["c"]), c_lib, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(table_c(page, 3)[-1], c_lib, atol=5e-4 + 1e-9, rtol=0)
    # the buttons: add a child, remove the one that had focus
    page.locator("#rp-add").click()
    assert len(shown_state(page)["uHat"]) == 7
    page.locator("#rp-point-2-1").focus()
    assert page.locator("#rp-remove").inner_text() == "Remove child 2"
    page.locator("#rp-remove").click()
    state = shown_state(page)
    assert len(state["uHat"]) == 6 and len(state["c"]) == 6
    assert state["uHat"][2] == after["uHat"][3]


def test_dragging_a_point_moves_it(playground):
    page = playground.page
    point = page.locator("#rp-point-4-1")
    before = shown_state(page)["uHat"][4][1]
    box = point.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=5)
    page.mouse.up()
    after = shown_state(page)["uHat"][4][1]
    assert after[0] > before[0] + 0.1 and after[1] < before[1] - 0.1, (before, after)


# Every pair of child labels whose boxes (CSS px) overlap; and the labels' rendered font size.
LABEL_OVERLAPS = """() => {
    const boxes = [...document.querySelectorAll('#rp-plane .rp-point-text')].map(text =>
        [text.closest('.rp-point').id, text.getBoundingClientRect()]);
    const pairs = [];
    boxes.forEach(([a, p], k) => boxes.slice(k + 1).forEach(([b, q]) => {
        if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
            pairs.push(`${a} / ${b}`);
    }));
    const plane = document.querySelector('#rp-plane');
    const scale = plane.getBoundingClientRect().width / plane.viewBox.baseVal.width;
    const sizes = [...plane.querySelectorAll('.rp-point-text')].map(text =>
        parseFloat(getComputedStyle(text).fontSize) * scale);
    return {pairs, count: boxes.length, smallest: Math.min(...sizes)};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_child_labels_never_overlap(playground, width):
    """Children 0-3 agree on parent 0: their points lie close together, their labels do not
    pile up, at a phone's width or a desktop's, before and after a point is moved."""
    page = playground.page
    page.set_viewport_size({"width": width, "height": 844})
    page.evaluate("() => routingPlayground.update()")  # the plane at its new width
    seen = page.evaluate(LABEL_OVERLAPS)
    assert seen["count"] == 12 and not seen["pairs"], seen["pairs"]
    assert seen["smallest"] >= 12, f"labels of {seen['smallest']:.1f} px at {width} px"
    page.locator("#rp-point-3-0").focus()  # through the cluster, a step at a time
    for key in ("ArrowUp",) * 4 + ("ArrowLeft",) * 6:
        page.keyboard.press(key)
        pairs = page.evaluate(LABEL_OVERLAPS)["pairs"]
        assert not pairs, f"after {key}: {pairs}"
    page.select_option("#rp-parents", "3")
    page.locator("#rp-add").click()
    seen = page.evaluate(LABEL_OVERLAPS)
    assert seen["count"] == 21 and not seen["pairs"], seen["pairs"]


def test_screenshot_and_no_console_error(playground, tmp_path_factory):
    page = playground.page
    page.locator("#rp-point-1-0").focus()
    page.keyboard.press("ArrowUp")
    page.select_option("#rp-rounds", "4")
    folder = tmp_path_factory.mktemp("routing_playground")
    page.screenshot(path=str(folder / "right_axis.png"), full_page=True)
    page.locator("#rp-wrong-axis").check()
    page.screenshot(path=str(folder / "wrong_axis.png"), full_page=True)
    print("screenshots in", folder)
    assert (folder / "wrong_axis.png").stat().st_size > 10_000
    assert page.locator(".rp-v-right").count() == 2  # the right-axis outputs, drawn faintly
    problems = playground.problems()
    assert not problems, "\n".join(problems)


def test_the_frame_in_chapter_3_fits_the_playground(visit):
    """The snippet chapter 3 uses, on a page where the chapter's page will be."""
    host = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Chapter 3</title>'
        f"</head><body><main><h1>Routing</h1><p>Text.</p>{IFRAME}<p>After.</p></main></body></html>"
    )
    page_visit = visit(CHAPTER, pages={CHAPTER: host})
    page = page_visit.page
    frame = page.frame_locator("iframe")
    frame.locator("#rp-point-0-0").wait_for()
    page.wait_for_function("() => parseInt(document.querySelector('iframe').style.height) !== 1200")
    inner = page.frames[1]
    scroll, client = inner.evaluate(
        "() => [document.documentElement.scrollHeight, document.documentElement.clientHeight]"
    )
    assert scroll <= client + 1, f"the frame scrolls: {scroll} px of content in {client} px"
    frame.locator("#rp-point-0-0").focus()
    frame.locator("#rp-point-0-0").press("ArrowRight")
    assert inner.evaluate("() => routingPlayground.state.uHat[0][0][0]") == pytest.approx(
        np.cos(np.radians(20)) + 0.05, abs=2e-3
    )
    problems = page_visit.problems()
    assert not problems, "\n".join(problems)


# --- accessibility: axe-core ---------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script: `make node-deps` installs it (a missing one fails, never skips)."""
    assert AXE.is_file(), f"{AXE} is missing: run `make node-deps`"
    return AXE.read_text(encoding="utf-8")


def pose_explorer_page() -> str:
    """The raw HTML block of book/pose_explorer.md, on a page of its own."""
    block = re.search(r"```\{raw\} html\n(.*?)\n```", POSE_MD.read_text(encoding="utf-8"), re.S)
    body = block.group(1).replace("../_static/pose_explorer/", "pose_explorer/")  # in _static
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Pose explorer</title></head><body><main><h1>Pose explorer</h1>"
        f"{body}</main></body></html>"
    )


def test_axe_finds_nothing_serious_on_the_playground(playground, axe_source):
    page = playground.page
    page.locator("#rp-point-0-1").focus()
    page.locator("#rp-wrong-axis").check()  # every part drawn: the right-axis arrows too
    violations = axe_violations(page)
    print("axe on the playground:", [(v["id"], v["impact"]) for v in violations])
    problems = serious(violations)
    assert not problems, "\n".join(problems)


def test_axe_finds_nothing_serious_on_the_pose_explorer(visit, axe_source):
    page_visit = visit(POSE_PAGE, pages={POSE_PAGE: pose_explorer_page()})
    page = page_visit.page
    assert page.evaluate("() => window.poseExplorer && window.poseExplorer.ready")
    violations = axe_violations(page)
    print("axe on the pose explorer:", [(v["id"], v["impact"]) for v in violations])
    problems = serious(violations)
    assert not problems, "\n".join(problems)
