"""Sphinx extension: the ``{build-machine}`` directive, what the machine building the book is.

The run report (book/run_report.md) shows each chapter's execution time from myst-nb's
``{nb-exec-table}``; a time means little without the machine, so this directive writes a
short list: the CPU's model, its core count (and how many this build could use), whether it
computes bfloat16 natively, the operating system, and the Python, TensorFlow and Keras
versions. A page holding the directive is read again on every build (``env-get-outdated``),
so it always names the machine of the last build, not of the build that first read it.
"""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib import metadata

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

ENV_KEY = "build_machine_docs"


def cpu_lines() -> list[tuple[str, str]]:
    """(label, value) pairs describing this machine's CPU, OS and software versions."""
    # capsnet_lib.precision reads /proc/cpuinfo (the same reader the benchmarks use); the
    # import starts TensorFlow, which autodoc (the API page) has started in this process anyway.
    from capsnet_lib.precision import CPU_BF16_FLAGS, cpu_flags, cpu_model

    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    flags = cpu_flags()
    native = [flag for flag in CPU_BF16_FLAGS if flag in flags]
    cpu = f"{cpu_model()}, {cores} logical cores"
    if usable != cores:
        cpu += f" ({usable} available to the build)"
    if flags:
        cpu += (
            f"; native bfloat16 ({', '.join(native)})"
            if native
            else "; no native bfloat16 (AVX512_BF16/AMX)"
        )

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        ("CPU", cpu),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        (
            "Software",
            f"Python {platform.python_version()}, TensorFlow {version('tensorflow')},"
            f" Keras {version('keras')}, Jupyter Book {version('jupyter-book')}",
        ),
        ("Built", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]


class BuildMachine(SphinxDirective):
    """A definition list of the machine building the book (see the module)."""

    has_content = False

    def run(self):
        self.env.__dict__.setdefault(ENV_KEY, set()).add(self.env.docname)
        items = nodes.definition_list(classes=["build-machine"])
        for label, value in cpu_lines():
            item = nodes.definition_list_item()
            item += nodes.term(text=label)
            item += nodes.definition("", nodes.paragraph(text=value))
            items += item
        return [items]


def outdated(app, env, added, changed, removed):
    """Read the pages with the directive again on every build."""
    return sorted(getattr(env, ENV_KEY, set()) - set(removed))


def purge(app, env, docname):
    getattr(env, ENV_KEY, set()).discard(docname)


def merge(app, env, docnames, other):
    env.__dict__.setdefault(ENV_KEY, set()).update(getattr(other, ENV_KEY, set()) & set(docnames))


def setup(app):
    app.add_directive("build-machine", BuildMachine)
    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
