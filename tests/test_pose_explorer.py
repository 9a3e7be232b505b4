"""The pose explorer page (book/pose_explorer.md) in headless Chromium, on the built site.

Moving a slider changes the picture; the page's JavaScript decoder gives the NumPy decoder's
pixels (within the quantisation error the page states); no console error, no request to
another host, and the page keeps working with the network off once loaded. Run `make book`
first (`make site-test` runs this file with tests/test_site.py).
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from tests import test_site
from tests.test_site import ALLOWED_CONSOLE_ERRORS, ROOT, SITE, is_local

# tests/test_site.py's fixtures: the built site, its local server, the browser, a page visit
site, base_url, browser, visit = (
    test_site.site,
    test_site.base_url,
    test_site.browser,
    test_site.visit,
)

pytestmark = pytest.mark.site

PAGE = "book/pose_explorer.html"
_spec = importlib.util.spec_from_file_location("export_decoder", ROOT / "tools/export_decoder.py")
export_decoder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_decoder)


def open_explorer(visit):
    """The page, once its decoder is loaded and the first digit drawn."""
    page_visit = visit(PAGE)
    page = page_visit.page
    loaded = page.evaluate("() => window.poseExplorer && window.poseExplorer.ready")
    assert loaded, page.locator("#pose-explorer-app").inner_text()
    return page_visit


def output_pixels(page) -> np.ndarray:
    """The output canvas, one grey value (0-255) per image pixel (each cell's centre)."""
    values = page.evaluate(
        """() => {
            const canvas = document.getElementById('pose-explorer-output');
            const scale = canvas.width / 28;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const grey = [];
            for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
                const cx = Math.floor((x + 0.5) * scale), cy = Math.floor((y + 0.5) * scale);
                grey.push(data[4 * (cy * canvas.width + cx)]);
            }
            return grey;
        }"""
    )
    return np.array(values, np.int64)


def state(page) -> dict:
    return page.evaluate(
        """() => ({digit: poseExplorer.digit, pose: poseExplorer.pose,
                   pixels: Array.from(poseExplorer.pixels), renders: poseExplorer.renders})"""
    )


def problems_of(page_visit) -> list[str]:
    problems = [f"page error: {error}" for error in page_visit.page_errors]
    problems += [
        f"console error: {text}"
        for text in page_visit.console_errors
        if not any(allowed.search(text) for allowed in ALLOWED_CONSOLE_ERRORS)
    ]
    problems += [f"request to another host: {u}" for u in page_visit.requests if not is_local(u)]
    problems += [f"failed request: {failure}" for failure in page_visit.failed]
    return problems


def test_moving_a_slider_changes_the_picture(site, visit):
    page = open_explorer(visit).page
    before = output_pixels(page)
    renders = state(page)["renders"]
    page.locator("#pose-dim-0").press("End")  # the keyboard's way to the slider's right end
    after = output_pixels(page)
    assert state(page)["renders"] > renders
    changed = int((np.abs(after - before) > 8).sum())
    assert changed >= 10, f"only {changed} of 784 pixels changed by more than 8 grey levels"
    page.locator(".pose-explorer-reset").click()
    assert np.array_equal(output_pixels(page), before), "Reset does not restore the picture"


def test_javascript_decoder_matches_numpy(site, visit):
    meta = json.loads((SITE / "_static/pose_explorer/explorer.json").read_text())
    page = open_explorer(visit).page
    page.evaluate("() => poseExplorer.select(3)")
    for dim, key in ((0, "End"), (5, "Home"), (11, "End")):  # three dimensions at once
        page.locator(f"#pose-dim-{dim}").press(key)
    seen = state(page)
    digit = meta["digits"][seen["digit"]]
    pose = np.array([seen["pose"]], np.float32)
    assert np.abs(pose[0] - np.array(digit["pose"])).max() > 0.4  # the sliders moved
    classes = np.array([digit["predicted"]])
    inputs = export_decoder.masked_inputs(pose, classes)
    layers = export_decoder.decoder_layers()
    js = np.array(seen["pixels"])
    # the same 8-bit decoder in NumPy: the JavaScript computes exactly this
    quantized = export_decoder.decode(
        inputs, export_decoder.quantized_layers(layers), dtype=np.float64
    )[0]
    np.testing.assert_allclose(js, quantized, atol=1e-5)
    # the float32 decoder: within the error the page states (measured on other poses)
    exact = export_decoder.decode(inputs, layers)[0]
    stated = meta["max_pixel_error"]["value"]
    print("largest difference from the float32 decoder:", np.abs(js - exact).max())
    assert np.abs(js - exact).max() <= stated
    # and the canvas shows these pixels, ink dark on white
    np.testing.assert_allclose(output_pixels(page), np.round(255 * (1 - js)), atol=1)


def test_no_error_nothing_from_elsewhere_and_works_offline(site, visit):
    page_visit = open_explorer(visit)
    page = page_visit.page
    meta = json.loads((SITE / "_static/pose_explorer/explorer.json").read_text())
    facts = page.locator("#pose-explorer-facts").inner_text()
    assert meta["weights"]["sha256"][:12] in facts
    assert str(meta["max_pixel_error"]["value"]) in facts
    assert meta["weights"]["sha256"] == export_decoder.sha256_of(export_decoder.WEIGHTS)
    assert page.locator(".pose-explorer-picker button").count() == len(meta["digits"])
    requests = len(page_visit.requests)

    page_visit.context.set_offline(True)
    before = output_pixels(page)
    page.locator(".pose-explorer-picker button").nth(7).click()
    assert state(page)["digit"] == 7
    other_digit = output_pixels(page)
    assert not np.array_equal(other_digit, before)
    page.locator("#pose-dim-9").press("Home")
    assert not np.array_equal(output_pixels(page), other_digit)
    assert len(page_visit.requests) == requests, page_visit.requests[requests:]
    problems = problems_of(page_visit)
    assert not problems, "\n".join(problems)
