"""Sphinx extension: the ``{quick-run}`` role, how long a chapter's cells took in this build.

``{quick-run}`notebooks/07_training``` becomes "about 3 min": the run time myst-nb recorded
when it last executed that notebook for this site, the same number the run report's
``{nb-exec-table}`` lists, so that the instructors' page plans lab time with the times of the
machine that made the outputs, not with a number typed in from another machine. A page with
the role is marked as myst-nb marks a page with an execution table, so that myst-nb's own
``env-updated`` handler writes it again whenever a notebook was executed again; a role naming
a notebook without a recorded run fails the build.
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.ext.execution_tables import METADATA_KEY
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


class QuickRunNode(nodes.Inline, nodes.TextElement):
    """A placeholder for a notebook's run time, filled in once every notebook has run."""


def about(seconds: float) -> str:
    """A run time as a person plans with it: "about 40 s", "about 3 min"."""
    if seconds < 90:
        return f"about {max(5, 5 * round(seconds / 5))} s"
    return f"about {round(seconds / 60)} min"


def quick_run_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    env = inliner.document.settings.env
    # myst-nb rewrites the pages it marks whenever a notebook runs again (update_exec_tables)
    NbMetadataCollector.set_doc_data(env, env.docname, METADATA_KEY, True)
    node = QuickRunNode(rawtext, "", notebook=text.strip())
    return [node], []


class QuickRunTimes(SphinxPostTransform):
    """Replace each placeholder with its notebook's recorded run time."""

    default_priority = 8

    def run(self, **kwargs) -> None:
        recorded = NbMetadataCollector.get_doc_data(self.env)
        for node in list(self.document.findall(QuickRunNode)):
            data = recorded.get(node["notebook"], {}).get("exec_data") or {}
            runtime = data.get("runtime")
            if runtime is None:
                LOGGER.warning(
                    "{quick-run}: no recorded run of %s (is it a notebook of the book?)",
                    node["notebook"],
                    location=node,
                )
                node.replace_self(nodes.Text("?"))
                continue
            node.replace_self(nodes.Text(about(runtime)))


def setup(app):
    app.add_node(QuickRunNode)
    app.add_role("quick-run", quick_run_role)
    app.add_post_transform(QuickRunTimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
