"""Sphinx extension: the one-page build the PDF is printed from, made printable.

- myst-nb registers the HTML of a hidden cell (``hide-input`` and the like: a ``<details>``
  element) for the ``html`` builder only, so ``jupyter-book build --builder singlehtml`` (the
  build ``make book`` prints to the PDF) stops at the first one with "unknown node type:
  HideCodeCellNode". This registers the same visitors for ``singlehtml``. (tools/book_pdf.py
  opens every ``<details>`` before printing: paper cannot be clicked.)
- Sphinx keys the visitors an extension registers for its nodes (``app.add_node(...,
  html=...)``) by builder *name*, so ``singlehtml`` lacks every one registered for ``html``
  alone: sphinx-design's dropdowns (the chapters' self-check questions) stopped that build with
  "unknown node type: dropdown_title". Every ``html`` visitor is given to ``singlehtml`` too,
  where it has none of its own.
- The chapters show the interactive explorers in frames (``<iframe>`` in a markdown cell, which
  also reads as HTML on Colab). Paper cannot run them, and the frames' relative addresses
  point nowhere from the one page: in that build each frame becomes a sentence naming what
  the frame holds (its ``title``) and that it is on the book's website.
- A figure drawn twice, for a wide page and for a phone (cells tagged ``wide-only`` and
  ``narrow-only``, book/_static/reading.css), is printed once: paper is wide, so the one-page
  build drops the narrow cell.
"""

from __future__ import annotations

import re

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

IFRAME = re.compile(r"<iframe\b[^>]*>", re.IGNORECASE)
TITLE = re.compile(r'title="([^"]*)"', re.IGNORECASE)


def frame_sentence(html: str) -> str | None:
    """What replaces a raw HTML block holding an iframe on paper (``None``: no iframe)."""
    frame = IFRAME.search(html)
    if frame is None:
        return None
    title = TITLE.search(frame.group(0))
    what = title.group(1).split(":")[0] if title else "This interactive figure"
    return f"{what}: interactive, on the book's website (it cannot run on paper)."


def replace_frames(app, doctree, docname) -> None:
    if app.builder.name != "singlehtml":
        return
    for raw in list(doctree.findall(nodes.raw)):
        sentence = frame_sentence(raw.astext())
        if sentence is not None:
            raw.replace_self(nodes.paragraph(text=sentence, classes=["frame-on-paper"]))


def drop_narrow_only(app, doctree, docname) -> None:
    if app.builder.name != "singlehtml":
        return
    for cell in list(doctree.findall(nodes.container)):
        if "tag_narrow-only" in cell.get("classes", []):
            cell.parent.remove(cell)


def share_html_visitors(app) -> None:
    """Give ``singlehtml`` every node visitor registered for ``html`` that it lacks."""
    handlers = app.registry.translation_handlers
    html, single = handlers.get("html", {}), handlers.setdefault("singlehtml", {})
    for node_name, visitors in html.items():
        single.setdefault(node_name, visitors)


def setup(app):
    app.registry.add_translation_handlers(
        HideCodeCellNode, singlehtml=(visit_HideCellInput, depart_HideCellInput)
    )
    app.connect("builder-inited", share_html_visitors)
    app.connect("doctree-resolved", replace_frames)
    app.connect("doctree-resolved", drop_narrow_only)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
