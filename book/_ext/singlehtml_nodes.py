"""Sphinx extension: myst-nb's hidden code cells in the one-page build the PDF is printed from.

myst-nb registers the HTML of a hidden cell (``hide-input`` and the like: a ``<details>``
element) for the ``html`` builder only, so ``jupyter-book build --builder singlehtml`` (the
build ``make book`` prints to the PDF) stops at the first one with "unknown node type:
HideCodeCellNode". This registers the same visitors for ``singlehtml``. (tools/book_pdf.py
opens every ``<details>`` before printing: paper cannot be clicked.)
"""

from __future__ import annotations

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput


def setup(app):
    app.registry.add_translation_handlers(
        HideCodeCellNode, singlehtml=(visit_HideCellInput, depart_HideCellInput)
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
