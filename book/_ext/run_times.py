"""Sphinx extension: how long each page's cells took in this build.

``{run-table}`` is the run report's table: every executed page by its title, how long its
cells took ("about 3 min"), when they last ran and whether every cell succeeded. It is
myst-nb's ``{nb-exec-table}`` without the columns a reader has no use for (the execution
method, times to a hundredth of a second, the page's file name).

``{quick-run}`notebooks/07_training``` becomes "about 3 min": the run time myst-nb recorded
when it last executed that notebook for this site, the same number the run report lists, so
that the instructors' page plans lab time with the times of the machine that made the
outputs, not with a number typed in from another machine. A page with the role or the table
is marked as myst-nb marks a page with an execution table, so that myst-nb's own
``env-updated`` handler writes it again whenever a notebook was executed again; a role naming a
notebook without a recorded run fails the build.
"""

from __future__ import annotations

from datetime import datetime

from docutils import nodes
from myst_nb.ext.execution_tables import METADATA_KEY
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

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


class RunTableNode(nodes.General, nodes.Element):
    """A placeholder for the run report's table, built once every notebook has run."""


class RunTable(SphinxDirective):
    """``{run-table}``: the table of every executed page (see the module)."""

    def run(self):
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, METADATA_KEY, True)
        return [RunTableNode()]


RUN_TABLE_HEADER = ("Page", "Run time", "Last run", "Status")


def table_row(entries: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for entry in entries:
        row += nodes.entry("", entry)
    return row


def page_name(env, page: str) -> str:
    """A page as the sidebar names it: "3. Routing" for a numbered chapter, else its title."""
    title = env.titles[page].astext() if page in env.titles else page
    number = env.toc_secnumbers.get(page, {}).get("")
    return f"{'.'.join(map(str, number))}. {title}" if number else title


def run_table(env, builder, docname: str, recorded: dict) -> nodes.table:
    """The table: one row per page with a recorded run, in the order of their file names."""
    table = nodes.table(classes=["colwidths-auto"])
    tgroup = nodes.tgroup(cols=len(RUN_TABLE_HEADER))
    table += tgroup
    for _ in RUN_TABLE_HEADER:
        tgroup += nodes.colspec(colwidth=1)
    thead = nodes.thead()
    thead += table_row([nodes.paragraph(text=name) for name in RUN_TABLE_HEADER])
    tbody = nodes.tbody()
    tgroup += [thead, tbody]
    for page in sorted(recorded):
        data = recorded[page].get("exec_data")
        if not data:
            continue
        uri = builder.get_relative_uri(docname, page)
        link = nodes.reference("", page_name(env, page), internal=True, refuri=uri)
        ran = datetime.fromtimestamp(data["mtime"]).strftime("%Y-%m-%d") if data["mtime"] else ""
        runtime = "-" if data["runtime"] is None else about(data["runtime"])
        status = "✅ no error" if data["succeeded"] else f"❌ {data.get('error') or 'an error'}"
        texts = [runtime, ran, status]
        tbody += table_row(
            [nodes.paragraph("", "", link)] + [nodes.paragraph(text=t) for t in texts]
        )
    return table


class RunTables(SphinxPostTransform):
    """Replace each ``{run-table}`` placeholder with the table."""

    default_priority = 8  # as myst-nb's table

    def run(self, **kwargs) -> None:
        recorded = NbMetadataCollector.get_doc_data(self.env)
        for node in list(self.document.findall(RunTableNode)):
            table = run_table(self.env, self.app.builder, self.env.docname, recorded)
            node.replace_self(table)


def setup(app):
    app.add_node(QuickRunNode)
    app.add_role("quick-run", quick_run_role)
    app.add_post_transform(QuickRunTimes)
    app.add_node(RunTableNode)
    app.add_directive("run-table", RunTable)
    app.add_post_transform(RunTables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
