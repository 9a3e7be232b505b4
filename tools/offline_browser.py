"""What the PDF printer (``tools/book_pdf.py``) and the browser tests share: a local server
for a built site, Chromium's offline flags and the script that waits for every image.

Imported as a top-level module: ``tools/`` is on ``sys.path`` when a tool runs as a script,
and the tests put it there themselves.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
# Chromium headless and offline: as root it needs --no-sandbox; the rest stop it from trying
# the (closed) network for updates, sync and component downloads.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Make lazy images eager, wait for each to load or fail, return the sources that failed.
LOAD_IMAGES = """async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(r => { img.onload = img.onerror = r; })));
  return images.filter(img => !(img.complete && img.naturalWidth > 0))
               .map(img => img.getAttribute('src'));
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that logs nothing (pytest's and make's output stay readable)."""

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(directory: str | Path) -> Iterator[str]:
    """Serve ``directory`` on a free local port while the block runs; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)  # port 0: a free one
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --- accessibility: axe-core (the npm package, installed by the Makefile with MathJax) ------

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """Run axe-core on a Playwright ``page``; its violations as ``{id, impact, help, nodes}``."""
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: `make node-deps` installs axe-core")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
        }"""
    )


def serious(violations: list[dict]) -> list[str]:
    """The serious and critical violations, one line each (three nodes at most)."""
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {v['nodes'][:3]}"
        for v in violations
        if v["impact"] in SERIOUS
    ]
