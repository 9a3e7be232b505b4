"""Save notebooks in the project's stable form, or check that they are in it.

Stable form: nbformat 4.5 with cell ids, execution counts only on checked cells (their
position among the code cells, which nbval needs), notebook metadata
reduced to ``kernelspec`` and ``language_info.name`` (plus ``colab``), cell metadata
reduced to ``tags`` (and ``id``), and outputs kept only on cells tagged
``nbval-check-output`` (the ones nbval compares).

    python tools/nbstable.py notebooks/*.ipynb           # rewrite in place
    python tools/nbstable.py --check notebooks/*.ipynb   # exit 1 listing unstable files
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
import nbformat.corpus.words

CHECKED_TAG = "nbval-check-output"
KEEP_CELL_METADATA = ("tags", "jupyter", "cellView", "mystnb")  # folded cells; figures alt text
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def stabilize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return ``nb`` in stable form (modified in place)."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    keep = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    if "colab" in nb.metadata:
        keep["colab"] = nb.metadata["colab"]
    nb.metadata = nbformat.from_dict(keep)
    code_number = 0
    for cell in nb.cells:
        if not cell.get("id"):
            cell.id = nbformat.corpus.words.generate_corpus_id()
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA and v}
        )
        if cell.cell_type == "code":
            code_number += 1
            cell.execution_count = None
            if CHECKED_TAG in cell.metadata.get("tags", []):
                # nbval skips comparing (and fails on) a cell whose execution_count is None:
                # number checked cells by their position among the code cells.
                cell.execution_count = code_number
                for output in cell.outputs:
                    if "execution_count" in output:
                        output["execution_count"] = None
                    output.get("metadata", {}).clear()
            else:
                cell.outputs = []
    return nb


def serialize(nb: nbformat.NotebookNode) -> str:
    """The notebook as the JSON text saved on disk."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the given notebooks in stable form, or with ``--check`` list the unstable ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    unstable = []
    for path in args.paths:
        text = path.read_text()
        nb = nbformat.reads(text, as_version=4)
        stable = serialize(stabilize(nb))
        if stable != text:
            unstable.append(path)
            if not args.check:
                path.write_text(stable)
    if args.check and unstable:
        print("not in stable form (run python tools/nbstable.py on them):", *unstable, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
