"""tools/seed_book_cache.py: nbval's records go into the book's execution cache, current ones only."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from tests.conftest import ROOT, environment, execution_key, record_path

sys.path.insert(0, str(ROOT / "tools"))
from seed_book_cache import LIBRARY_KEY, seed  # noqa: E402

jupyter_cache = pytest.importorskip("jupyter_cache")


def write_chapter(folder, name, sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nb.cells[1].metadata["tags"] = ["hide-input"]
    path = folder / name
    nbformat.write(nb, path)
    return path


def write_record(path, cells, seconds=1.5, **key_changes):
    record = {"key": {**execution_key(path), **key_changes}, "seconds": seconds, "cells": cells}
    target = record_path(path, environment())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record))


PRINTED = [{"output_type": "stream", "name": "stdout", "text": "2\n"}]
SHOWN = [
    {
        "output_type": "display_data",
        "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
        "metadata": {},
    }
]


@pytest.fixture
def chapters(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPSNET_EXECUTED_DIR", str(tmp_path / "records"))
    monkeypatch.delenv("STUDENT_TEST_RECORD", raising=False)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


def test_current_records_are_cached_with_every_output(chapters, tmp_path):
    current = write_chapter(chapters, "01_a.ipynb", ["print(1 + 1)", "plot()", "plot();\n# end"])
    returned = {**SHOWN[0], "output_type": "execute_result", "execution_count": None}
    # nbval runs cells without history, so IPython returns the value a ";" should silence
    write_record(current, [PRINTED, SHOWN + [returned], [returned, *SHOWN]], seconds=2.25)
    cache_dir = tmp_path / "cache"

    assert seed([current], cache_dir) == [current]

    cache = jupyter_cache.get_cache(str(cache_dir))
    source = nbformat.read(current, as_version=4)  # the notebook as the build reads it
    record = cache.match_cache_notebook(source)
    assert record.data == {"execution_seconds": 2.25}  # the run report's time
    _, merged = cache.merge_match_into_notebook(source)
    code = [cell for cell in merged.cells if cell.cell_type == "code"]
    assert [cell.outputs for cell in code] == [PRINTED, SHOWN + [returned], SHOWN]
    assert code[0].metadata["tags"] == ["hide-input"]  # cell metadata kept (hide-input, solution)
    assert merged.metadata["language_info"]["pygments_lexer"] == "ipython3"
    assert "capsnet_execution_seconds" not in merged.metadata


def test_stale_missing_and_failed_records_are_left_to_the_build(chapters, tmp_path, capsys):
    changed = write_chapter(chapters, "01_changed.ipynb", ["print(1 + 1)"])
    write_record(changed, [PRINTED], notebook="0" * 64)  # recorded for another version of it
    missing = write_chapter(chapters, "02_missing.ipynb", ["print(2)"])
    failed = write_chapter(chapters, "03_failed.ipynb", ["1 / 0"])
    error = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "", "traceback": []}
    write_record(failed, [[error]])
    cache_dir = tmp_path / "cache"

    assert seed([changed, missing, failed], cache_dir) == []

    printed = capsys.readouterr().out
    assert "01_changed.ipynb: stale nbval record" in printed and "(notebook)" in printed
    assert "02_missing.ipynb: no nbval record" in printed
    assert "03_failed.ipynb: its record holds an error; the build executes it" in printed
    assert "0 of 3 chapters cached" in printed
    cache = jupyter_cache.get_cache(str(cache_dir))
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(changed, as_version=4))


def test_a_cache_made_with_another_library_is_emptied(chapters, tmp_path, capsys):
    current = write_chapter(chapters, "01_a.ipynb", ["print(1 + 1)"])
    write_record(current, [PRINTED])
    cache_dir = tmp_path / "cache"
    assert seed([current], cache_dir) == [current]
    source = nbformat.read(current, as_version=4)
    assert jupyter_cache.get_cache(str(cache_dir)).match_cache_notebook(source)

    # the same library: the cache and its notebook stay
    (tmp_path / "records").rename(tmp_path / "no-records")
    assert seed([current], cache_dir) == []
    assert jupyter_cache.get_cache(str(cache_dir)).match_cache_notebook(source)

    # another library (a check's explanation changed): the old outputs go
    stamp = cache_dir / LIBRARY_KEY
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "library": "0" * 64}))
    capsys.readouterr()
    assert seed([current], cache_dir) == []
    assert "made with another library or environment; emptied" in capsys.readouterr().out
    with pytest.raises(KeyError):
        jupyter_cache.get_cache(str(cache_dir)).match_cache_notebook(source)
    assert json.loads(stamp.read_text())["library"] != "0" * 64
