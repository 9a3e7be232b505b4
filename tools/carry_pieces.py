"""Carry the reader's pieces from chapter to chapter: one folded cell per chapter.

Chapters 2-6 each end with a piece of the CapsNet the reader builds (the primary capsules, the
routing layer, the margin loss, the mask, the decoder and the total loss), written in the
chapter's narrative in code cells tagged ``piece``. Every later chapter, up to chapter 7 where
the pieces become a model, starts with one code cell tagged ``pieces-so-far`` that defines
them again, so that a chapter runs on its own (on Colab each notebook has its own runtime):
the book copies the code, the reader does not. The cell is folded (``hide-input`` on the site,
``source_hidden`` in JupyterLab, a form cell on Colab).

    python tools/carry_pieces.py            # rewrite the folded cells from the piece cells
    python tools/carry_pieces.py --check    # exit 1 if a folded cell is out of date
    python tools/carry_pieces.py --only 7   # rewrite chapter 7's folded cell alone

``tests/test_reader_pieces.py`` fails when a folded cell differs from what this tool writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbstable import serialize, stabilize  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PIECE_TAG = "piece"
CARRIED_TAG = "pieces-so-far"
FIRST_CARRIER, LAST_CARRIER = 3, 7  # chapters that start with the earlier pieces


def chapter_paths() -> dict[int, Path]:
    """Chapter number -> notebook path (``notebooks/NN_name.ipynb``)."""
    return {int(path.name[:2]): path for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def pieces_of(nb: nbformat.NotebookNode) -> list[str]:
    """The source of each code cell tagged ``piece``, in order."""
    return [
        cell.source.strip()
        for cell in nb.cells
        if cell.cell_type == "code" and PIECE_TAG in cell.metadata.get("tags", [])
    ]


def carried_source(pieces: dict[int, list[str]], chapter: int) -> str:
    """The folded cell of ``chapter``: every piece of the chapters before it."""
    earlier = [number for number in sorted(pieces) if number < chapter and pieces[number]]
    if not earlier:
        raise ValueError(f"no piece cells before chapter {chapter}")
    span = f"{earlier[0]}" if len(earlier) == 1 else f"{earlier[0]}-{earlier[-1]}"
    parts = [
        f"# @title Your pieces from chapter{'s' if len(earlier) > 1 else ''} {span} "
        "(run it; unfold it to read them)",
        "# The code cells of those chapters that built the CapsNet, as the book wrote them:\n"
        "# your own edits there stay there; paste them here to carry them on.",
    ]
    for number in earlier:
        for source in pieces[number]:
            parts.append(f"# -- from chapter {number} --\n{source}")
    return "\n\n\n".join(parts)  # as ruff formats a cell: no final newline


def carried_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the ``pieces-so-far`` cell, or ``None``."""
    for index, cell in enumerate(nb.cells):
        if CARRIED_TAG in cell.metadata.get("tags", []):
            return index
    return None


def setup_cell_index(nb: nbformat.NotebookNode) -> int:
    """Index of the setup cell: the second code cell (the first installs on Colab)."""
    code = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    return code[1]


def carry(check_only: bool = False, only: int | None = None) -> list[str]:
    """Write (or, with ``check_only``, compare) the folded cells; return the stale chapters.

    ``only`` limits the writing and comparing to one chapter's notebook.
    """
    paths = chapter_paths()
    notebooks = {number: nbformat.read(path, as_version=4) for number, path in paths.items()}
    pieces = {number: pieces_of(nb) for number, nb in notebooks.items()}
    stale = []
    for number in range(FIRST_CARRIER, LAST_CARRIER + 1):
        if only is not None and number != only:
            continue
        nb = notebooks[number]
        wanted = carried_source(pieces, number)
        index = carried_cell_index(nb)
        if index is not None and nb.cells[index].source == wanted:
            continue
        stale.append(paths[number].name)
        if check_only:
            continue
        if index is None:
            cell = nbformat.v4.new_code_cell(wanted)
            nb.cells.insert(setup_cell_index(nb) + 1, cell)
        else:
            cell = nb.cells[index]
            cell.source = wanted
        cell.metadata = nbformat.from_dict(
            {
                "tags": [CARRIED_TAG, "hide-input"],
                "jupyter": {"source_hidden": True},
                "cellView": "form",
            }
        )
        paths[number].write_text(serialize(stabilize(nb)))
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale cells")
    parser.add_argument("--only", type=int, help="one chapter's notebook (3-7) only")
    args = parser.parse_args(argv)
    stale = carry(check_only=args.check, only=args.only)
    if stale:
        verb = "out of date" if args.check else "rewritten"
        print(f"pieces-so-far {verb} in: {', '.join(stale)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
