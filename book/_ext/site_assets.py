"""Sphinx extension: what the site ships, made fit for a slow link and a folder on disk.

- Every image of a page's content is lazy-loaded (``loading="lazy"``): a reader on a slow link
  downloads the figures as they scroll to them, not the chapter's forty at once. (The browser
  still loads at once those in the first screen.)
- The pose explorer's data as a script, ``_static/pose_explorer/explorer_data.js``, written
  from ``explorer.json`` and ``decoder.bin`` (tools/export_decoder.py) after the build: a page
  opened from disk (``file://``) cannot fetch() a file, but it can load a script, which
  pose_explorer.js then does instead. Over HTTP the explorer fetches the two files (the binary
  is a third smaller than its base64 in the script).
- The theme's ``*webpack-macros.html`` fragments (Jinja macros, copied to ``_static/`` as if
  they were assets) are removed from the built site: unrendered, they are neither a page nor
  an asset, only 404s for the scripts they name.
- Launch buttons only where they work: Colab opens a notebook (``.ipynb``), not the book's
  markdown pages (the cheat sheet, under the hood, the reproduction), so those pages keep
  their download buttons and lose the launch menu, whose Colab link would open nothing.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

EXPLORER = Path("_static") / "pose_explorer"
DATA_SCRIPT = "explorer_data.js"


class LazyImages(SphinxPostTransform):
    """``loading="lazy"`` on every image node (docutils' HTML writer then writes it)."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs) -> None:
        if self.app.builder.name != "html":
            return  # the one-page build is printed: every image must be there at once
        for image in self.document.findall(nodes.image):
            image.setdefault("loading", "lazy")


def explorer_data_script(folder: Path) -> str:
    """The script that holds the explorer's ``explorer.json`` and ``decoder.bin`` (in base64)."""
    meta = json.loads((folder / "explorer.json").read_text(encoding="utf-8"))
    decoder = (folder / meta["decoder"]["file"]).read_bytes()
    data = {"meta": meta, "decoder": base64.b64encode(decoder).decode("ascii")}
    return (
        "// Written by the book's build (book/_ext/site_assets.py) from explorer.json and\n"
        "// decoder.bin, for a page opened from disk, where fetch() is refused.\n"
        f"window.POSE_EXPLORER_DATA = {json.dumps(data, separators=(',', ':'))};\n"
    )


def finish(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    out = Path(app.outdir)
    folder = out / EXPLORER
    if (folder / "explorer.json").is_file():
        (folder / DATA_SCRIPT).write_text(explorer_data_script(folder), encoding="utf-8")
    for fragment in (out / "_static").glob("*webpack-macros.html"):
        fragment.unlink()


def drop_launch_buttons(app, pagename, templatename, context, doctree):
    """No launch menu on a page written in markdown (see the module)."""
    if not str(context.get("sourcename", "")).endswith((".md", ".md.txt")):
        return
    buttons = context.get("header_buttons")
    if buttons:
        context["header_buttons"] = [b for b in buttons if b.get("label") != "launch-buttons"]


def setup(app):
    app.add_post_transform(LazyImages)
    app.connect("html-page-context", drop_launch_buttons, priority=900)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
