"""Both explorers on a phone, at 400% zoom and with a screen reader, in headless Chromium.

The routing playground (book/_static/routing_playground.html) and the pose explorer
(book/_static/pose_explorer/pose_explorer.html) served from book/ itself, as on the site: no
`make book` needed. On a 390 px phone and at 400% zoom (1280 px / 4 = 320 CSS px) neither
scrolls sideways and the explorer's sliders stand in one column; every control is a target of
at least 24 x 24 CSS px; a swipe that starts off the playground's points scrolls the page, one
on a point drags it. For a screen reader: an arrow key moves the focused point without
replacing it, Enter and Space on a point pick its child; the explorer's pickers are named with
their digit, its sliders' values read as the screen shows them, its decoded picture is
described in words.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.test_routing_playground import BOOK, PAGE, is_local
from tests.test_site import browser  # noqa: F401 (a fixture, used by its name)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from offline_browser import serve  # noqa: E402

pytestmark = pytest.mark.site

POSE_PAGE = "_static/pose_explorer/pose_explorer.html"
META = json.loads((BOOK / "_static/pose_explorer/explorer.json").read_text())
PHONE = {"width": 390, "height": 844}
ZOOM_400 = {"width": 320, "height": 720}  # a 1280 x 720 window at 400%: WCAG 1.4.10's reflow
MIN_TARGET = 24  # CSS px, WCAG 2.2's 2.5.8 (target size, minimum)
# Every control of an explorer, with the box a finger can hit: a checkbox is hit through the
# label around it.
TARGETS = """(selector) => [...document.querySelectorAll(selector)].map(control => {
    const target = control.closest('label') || control;
    const box = target.getBoundingClientRect();
    return {what: control.id || control.getAttribute('aria-label') || control.outerHTML.slice(0, 60),
            width: box.width, height: box.height};
})"""
CONTROLS = "button, select, input, [tabindex]:not([tabindex='-1']):not(.rp-table-box)"
SIDEWAYS = """() => ({scroll: document.documentElement.scrollWidth,
                       client: document.documentElement.clientWidth})"""


@pytest.fixture(scope="module")
def base_url():
    with serve(BOOK) as url:
        yield url


@pytest.fixture
def open_page(browser, base_url):  # noqa: F811 (the fixture)
    contexts = []

    def opened(path: str, viewport: dict, touch: bool = False):
        context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
        contexts.append(context)
        errors: list[str] = []
        context.route(
            "**/*",
            lambda route: route.continue_() if is_local(route.request.url) else route.abort(),
        )
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(urljoin(base_url, path), wait_until="load")
        page.wait_for_load_state("networkidle")
        if path == POSE_PAGE:
            assert page.evaluate("() => window.poseExplorer.ready"), "the explorer did not load"
        page.errors = errors
        return page

    yield opened
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, ZOOM_400], ids=["phone-390", "zoom-400"])
@pytest.mark.parametrize("path", [PAGE, POSE_PAGE], ids=["playground", "pose-explorer"])
def test_no_sideways_scroll_and_targets_large_enough(open_page, path, viewport):
    page = open_page(path, viewport)
    width = page.evaluate(SIDEWAYS)
    assert width["scroll"] <= width["client"], (
        f"{path} at {viewport['width']} px is {width['scroll']} px wide: it scrolls sideways"
    )
    small = [
        f"{t['what']}: {t['width']:.0f} x {t['height']:.0f}"
        for t in page.evaluate(TARGETS, CONTROLS)
        if t["width"] < MIN_TARGET or t["height"] < MIN_TARGET
    ]
    if path == PAGE:  # a point's target is its transparent disc
        small += [
            f"point {t['what']}: {t['width']:.1f} x {t['height']:.1f}"
            for t in page.evaluate(TARGETS, ".rp-point .rp-hit")
            if t["width"] < MIN_TARGET or t["height"] < MIN_TARGET
        ]
    assert not small, f"targets under {MIN_TARGET} x {MIN_TARGET} CSS px:\n  " + "\n  ".join(small)
    if path == POSE_PAGE:  # the sliders in one column, none cut off
        boxes = page.evaluate(
            """() => [...document.querySelectorAll('.pose-explorer-sliders input')].map(s => {
                const b = s.getBoundingClientRect(); return [b.left, b.right]; })"""
        )
        assert len({round(left) for left, _ in boxes}) == 1, f"sliders in several columns: {boxes}"
        assert max(right for _, right in boxes) <= viewport["width"], "a slider is cut off"
    assert not page.errors, page.errors


def swipe(page, x: float, y: float, distance: float) -> float:
    """A finger's swipe up from (x, y), through Chromium's touch input (touch-action applies);
    returns the page's scroll position once it has settled."""
    session = page.context.new_cdp_session(page)
    session.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
    )
    for k in range(1, 11):
        point = {"x": x, "y": y - distance * k / 10}
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    return page.evaluate(  # settled: the same for half a second (a fling may run on)
        """async () => { let last = -1, still = 0;
            while (still < 4) { await new Promise(r => setTimeout(r, 150));
                still = window.scrollY === last ? still + 1 : 0; last = window.scrollY; }
            return last; }"""
    )


def test_a_swipe_scrolls_the_page_unless_it_starts_on_a_point(open_page):
    page = open_page(PAGE, PHONE, touch=True)
    plane = page.locator("#rp-plane")
    plane.scroll_into_view_if_needed()
    box = plane.bounding_box()
    # a spot of the plane that is no point's target: near its lower left corner
    spot = page.evaluate(
        """([x0, y0, w, h]) => {
            for (let fy = 0.95; fy > 0.5; fy -= 0.05) for (let fx = 0.05; fx < 0.5; fx += 0.05) {
                const x = x0 + fx * w, y = y0 + fy * h;
                if (!document.elementFromPoint(x, y).closest('.rp-point')) return [x, y];
            }
            return null;
        }""",
        [box["x"], box["y"], box["width"], box["height"]],
    )
    assert spot, "no spot of the plane outside every point"
    # on a point (in view, near the plane's top): the point follows the finger, the page stays
    before = page.evaluate("() => window.scrollY")
    point = page.locator("#rp-point-4-1 .rp-shape").bounding_box()
    x, y = point["x"] + point["width"] / 2, point["y"] + point["height"] / 2
    moved_from = page.evaluate("() => routingPlayground.state.uHat[4][1][1]")
    assert swipe(page, x, y, 60) == pytest.approx(before, abs=2), "a drag scrolled the page"
    assert page.evaluate("() => routingPlayground.state.uHat[4][1][1]") > moved_from + 0.05
    # off the points: the page scrolls
    after = swipe(page, spot[0], spot[1], 200)
    assert after > before + 50, f"a swipe on the plane scrolled the page {after - before} px"


def test_arrow_keys_keep_the_point_and_enter_picks_its_child(open_page):
    page = open_page(PAGE, {"width": 1280, "height": 900})
    point = page.locator("#rp-point-0-0")
    point.focus()
    page.evaluate("() => { window.focusedPoint = document.activeElement; }")
    for key in ("ArrowRight", "ArrowRight", "ArrowUp"):
        page.keyboard.press(key)
    same = page.evaluate(
        "() => document.activeElement === window.focusedPoint && window.focusedPoint.isConnected"
    )
    assert same, "an arrow key replaced the focused point (a screen reader announces it again)"
    label = point.get_attribute("aria-label")
    x = page.evaluate("() => routingPlayground.state.uHat[0][0][0]")
    assert f"x {x:.2f}" in label, f"the point's name does not say where it is now: {label}"
    for key, child in (("Enter", 3), (" ", 4)):
        page.locator(f"#rp-point-{child}-1").focus()
        page.evaluate("() => { routingPlayground.state.selected = 0; }")
        page.keyboard.press("Space" if key == " " else key)
        assert page.evaluate("() => routingPlayground.state.selected") == child, key
        assert page.locator("#rp-remove").inner_text() == f"Remove child {child}"
        assert f"Child {child}" in page.locator("#rp-live").inner_text(), key
    assert not page.errors, page.errors


def test_pose_explorer_reads_as_it_shows(open_page):
    page = open_page(POSE_PAGE, {"width": 1280, "height": 900})
    names = page.evaluate(
        "() => [...document.querySelectorAll('.pose-explorer-picker button')]"
        ".map(b => b.getAttribute('aria-label') || b.textContent)"
    )
    for name, digit in zip(names, META["digits"], strict=True):
        assert re.search(rf"\b{digit['label']}\b", name) and str(digit["test_index"]) in name, (
            f"a picker of test image {digit['test_index']} (a {digit['label']}) is named {name!r}"
        )
    description = page.locator("#pose-explorer-description")
    before = description.inner_text()
    assert f"of a {META['digits'][0]['predicted']}" in before, before
    assert page.locator("#pose-explorer-output").get_attribute("aria-describedby") == (
        "pose-explorer-description"
    )
    page.locator("#pose-dim-3").press("End")
    for k in (0, 3):
        shown = page.locator(f"output[for='pose-dim-{k}']").inner_text()
        spoken = page.locator(f"#pose-dim-{k}").get_attribute("aria-valuetext") or ""
        assert spoken.startswith(shown), f"slider {k} shows {shown!r}, reads {spoken!r}"
    after = description.inner_text()
    assert after != before and "3 by +0.5" in after, after
    assert not page.errors, page.errors
