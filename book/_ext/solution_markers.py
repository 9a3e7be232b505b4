"""Sphinx extension: a solution's code on the site as a reader reads it, without the grader's
markers.

An exercise's solution cell holds the answer between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``, often after a placeholder (``prediction = None``): ``make student`` turns that
part into a stub, and the grader finds the answer by it (tools/student_edition.py, whose
``BEGIN`` and ``END`` are the marker lines ``MARKER`` matches). On the site they are tooling
in the middle of the code a reader studies, so every code block drops the two marker lines,
and the placeholder line just before the first one. The notebooks keep them: on Colab or in
JupyterLab a reader runs the cells as they are.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
PLACEHOLDER = re.compile(r"^\s*\w+(\s*=\s*\w+)*\s*=\s*None\s*$")  # a = b = None


def without_solution_markers(code: str) -> str:
    """``code`` without its solution marker lines and the placeholder line just before them."""
    lines = code.split("\n")
    kept: list[str] = []
    for line in lines:
        marker = MARKER.match(line)
        if marker is None:
            kept.append(line)
        elif marker.group(1) == "BEGIN" and kept and PLACEHOLDER.match(kept[-1]):
            kept.pop()
    return "\n".join(kept)


class DropSolutionMarkers(SphinxTransform):
    """Every code block holding a marker, rewritten without the markers."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        for block in list(self.document.findall(nodes.literal_block)):
            code = block.astext()
            if "### BEGIN SOLUTION" not in code:
                continue
            shown = without_solution_markers(code)
            block.rawsource = shown
            block.children = [nodes.Text(shown)]


def setup(app):
    app.add_transform(DropSolutionMarkers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
