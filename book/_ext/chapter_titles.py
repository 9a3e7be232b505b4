"""Sphinx extension: one chapter number in a chapter's title, not two.

The notebooks' titles carry their number (``# 3. Routing``) so that they read well on their
own, on Colab; the site numbers its chapters too (a numbered toctree, which exercises and
figures need: "Exercise 3.2"). This strips the notebook's own number from its title when it is
the number of the file (``notebooks/03_routing``), so the site shows "3. Routing".
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

CHAPTER = re.compile(r"notebooks/(\d+)_")
NUMBER = re.compile(r"(\d+)\.\s+")


class StripChapterNumber(SphinxTransform):
    default_priority = 500

    def apply(self, **kwargs) -> None:
        chapter = CHAPTER.match(self.env.docname)
        section = next(iter(self.document.findall(nodes.section)), None)
        if not chapter or section is None or not isinstance(section[0], nodes.title):
            return
        title = section[0]
        first = title[0] if len(title) else None
        if not isinstance(first, nodes.Text):
            return
        number = NUMBER.match(first.astext())
        if number and int(number.group(1)) == int(chapter.group(1)):
            title.replace(first, nodes.Text(first.astext()[number.end() :]))


def setup(app):
    app.add_transform(StripChapterNumber)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
