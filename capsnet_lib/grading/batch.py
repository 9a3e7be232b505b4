"""A class's batch: submissions read and fingerprinted first, graded (two at a time with
``jobs=2``), each exercise written to the gradebook as it is judged, the CSV written from it.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from capsnet_lib.grading.gradebook import Gradebook, write_csv
from capsnet_lib.grading.refs import References
from capsnet_lib.grading.runner import DEFAULT_TIMEOUT, Result, grade_notebook

MAX_NOTEBOOK_BYTES = 64 * 2**20  # a submission larger than this is a row, not read


@dataclass(frozen=True)
class Submission:
    """A notebook as handed in: its path, its text and the SHA-256 of its bytes."""

    path: Path
    text: str | None
    sha256: str
    problem: str | None = None  # why it cannot be read, when it cannot


def notebooks_in(paths) -> list[Path]:
    """The notebooks named, and those in the folders named (recursively), in order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def read_submissions(paths) -> list[Submission]:
    """Every notebook of ``paths``, read once and fingerprinted before anything runs: what is
    graded is these bytes, whatever happens to the files afterwards."""
    notebooks = notebooks_in(paths)
    if not notebooks:
        raise ValueError(f"no notebooks (.ipynb) in {', '.join(map(str, paths))}")
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
    read = []
    for path in notebooks:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            read.append(Submission(path, None, "", f"larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"))
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        try:
            read.append(Submission(path, data.decode("utf-8"), sha))
        except UnicodeDecodeError:
            read.append(Submission(path, None, sha, "not UTF-8 text"))
    return read


def grade(
    paths,
    csv_path: Path,
    timeout: float = DEFAULT_TIMEOUT,
    verbose: bool = True,
    *,
    chapter: int | None = None,
    gradebook: Path | None = None,
    jobs: int = 1,
    sandbox=None,
    points: dict | None = None,
) -> list[Result]:
    """Grade every notebook of ``paths`` (files or folders) and write ``csv_path``.

    Args:
        paths: Notebooks, or folders of them.
        csv_path: Where the CSV goes (written atomically, from the gradebook).
        timeout: Seconds a notebook may run.
        verbose: A progress bar, and a line naming a notebook a stopped batch was grading.
        chapter: The assignment's chapter (None: each notebook's own).
        gradebook: The SQLite gradebook (default: ``csv_path`` with ``.sqlite``); a batch run
            again with it skips what it graded with the same fingerprint.
        jobs: How many notebooks run at once.
        sandbox: A :class:`~capsnet_lib.grading.sandbox.Sandbox`, or None (unsealed).
        points: Exercise -> points, for the CSV (a rubric's).

    Returns:
        One :class:`Result` per notebook, in order.

    Introduced with the grader (``python -m capsnet_lib grade``); the gradebook, chapter,
    jobs and sandbox with issue 31.
    """
    submissions = read_submissions(paths)
    book = Gradebook(gradebook or Path(csv_path).with_suffix(".sqlite"))
    files = [str(s.path) for s in submissions]
    try:
        for stopped in book.interrupted():
            if verbose:
                print(f"the last batch stopped while grading {stopped}: grading it again")
        todo = [s for s in submissions if not book.graded(str(s.path), s.sha256)]
        progress = None
        if verbose:
            import keras

            progress = keras.utils.Progbar(len(submissions), unit_name="notebook")
            progress.update(len(submissions) - len(todo))
        refs = References()

        def one(submission: Submission) -> None:
            file, sha = str(submission.path), submission.sha256
            book.begin(file, sha)
            if submission.problem is not None:
                result = Result(
                    submission.path, status=f"unreadable notebook ({submission.problem})"
                )
            else:
                result = grade_notebook(
                    submission.path,
                    timeout,
                    refs,
                    text=submission.text,
                    chapter=chapter,
                    on_mark=lambda number, mark, why: book.mark(file, sha, number, mark, why),
                    sandbox=sandbox,
                )
            book.finish(file, sha, result)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for done, future in enumerate(as_completed([pool.submit(one, s) for s in todo]), 1):
                future.result()
                write_csv(book.results(files), csv_path, points)  # a batch cut short keeps rows
                if progress is not None:
                    progress.update(len(submissions) - len(todo) + done)
        results = book.results(files)
        write_csv(results, csv_path, points)
        return results
    finally:
        book.close()
