"""Put nbval's executions of the chapters into the book's execution cache before a build.

``make test`` runs every chapter under nbval (``make notebooks``), and tests/conftest.py records
what each code cell printed, showed and raised. The book build then executes every chapter once
more, in the same environment and the same quick mode, to show the same outputs. This tool
adds each chapter whose record is current (same notebook, library, interpreter and versions:
the key the student test checks too) to Jupyter Book's cache, ``_build/.jupyter_cache``, as if
the build had executed it; the build then executes only the chapters without a current record.

nbval sends cells with ``store_history=False``, so IPython cannot see a cell's final ``;``
and returns the value a ``;`` silences (a figure shown twice): such results are dropped here,
by IPython's own rule, as a kernel in the book's build would.

``make book`` runs it first; without records (a plain ``make book``) it seeds nothing. A chapter
whose record holds an error is left to the build, which stops on it with the traceback.

Jupyter Book's cache knows a notebook only by its code: after a change to the library alone
(a check's explanation, a plot) it would show the outputs of the old library. So the cache is
kept for one library and environment: the tool writes their key beside the cache, and empties
the cache when the key has changed since (every chapter without a current record then runs
again).

    python tools/seed_book_cache.py [--cache _build/.jupyter_cache] [notebooks ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"


def silenced(source: str) -> bool:
    """Whether IPython silences a cell's value (its last code token is ``;``)."""
    from IPython.core.displayhook import DisplayHook

    return DisplayHook.semicolon_at_end_of_expression(source)


LIBRARY_KEY = "capsnet_library_key.json"  # beside jupyter-cache's own files, in its folder


def forget_other_library(cache_path: Path) -> bool:
    """Empty the cache if it was filled with another library or environment; say if it was."""
    from tests.conftest import library_key

    key = library_key()
    stamp = cache_path / LIBRARY_KEY
    other = stamp.is_file() and json.loads(stamp.read_text()) != key
    if other:
        shutil.rmtree(cache_path)
        print(f"{cache_path.name}: made with another library or environment; emptied")
    cache_path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(key, sort_keys=True))
    return other


def seed(notebooks: list[Path], cache_path: Path) -> list[Path]:
    """Cache every notebook of ``notebooks`` with a current nbval record; return those cached."""
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    sys.path.insert(0, str(ROOT))
    from tests.conftest import read_record

    forget_other_library(cache_path)
    cache = get_cache(str(cache_path))
    cached = []
    for path in notebooks:
        nb, note = read_record(path)
        if nb is not None and any(
            out.output_type == "error" for cell in nb.cells for out in cell.get("outputs", [])
        ):
            nb, note = None, "its record holds an error"
        if nb is None:
            print(f"{path.name}: {note}; the build executes it")
            continue
        for cell in nb.cells:
            if cell.cell_type == "code" and silenced(cell.source):
                cell.outputs = [out for out in cell.outputs if out.output_type != "execute_result"]
        seconds = nb.metadata.pop("capsnet_execution_seconds")
        # what the kernel reports of its language (the build's pages highlight code with it)
        nb.metadata["language_info"] = dict(IPythonKernel.language_info)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
        cached.append(path)
    print(f"{len(cached)} of {len(notebooks)} chapters cached from nbval's run")
    return cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"default: {CACHE}")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    seed(notebooks, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
