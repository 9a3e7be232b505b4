"""The gradebook: one SQLite file (the standard library's ``sqlite3``, no server) per batch.

One row per submission (its file, SHA-256, chapter, status) and one per submission and
exercise (mark, reason), written as each is judged. A batch that dies leaves its rows; run
again with the same gradebook and it names the notebook that was running, skips what was
graded with the same fingerprint, and grades the rest. The CSV is written from it,
atomically (a temporary file renamed over the old one).
"""

from __future__ import annotations

import csv
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from capsnet_lib.grading.runner import Result

RUNNING = "running"  # the status of a submission whose grading has not ended

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    file TEXT PRIMARY KEY, sha256 TEXT NOT NULL, chapter INTEGER, status TEXT NOT NULL,
    started REAL, finished REAL
);
CREATE TABLE IF NOT EXISTS marks (
    file TEXT NOT NULL, sha256 TEXT NOT NULL, exercise TEXT NOT NULL, mark INTEGER NOT NULL,
    reason TEXT, PRIMARY KEY (file, exercise)
);
"""


def _order(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


class Gradebook:
    """A batch's grades in the SQLite file ``path`` (created when missing).

    Introduced with the class batch of the grader (issue 31).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def interrupted(self) -> list[str]:
        """The submissions a batch was grading when it stopped."""
        rows = self._db.execute("SELECT file FROM submissions WHERE status = ?", (RUNNING,))
        return [file for (file,) in rows]

    def graded(self, file: str, sha256: str) -> bool:
        """Whether ``file`` with this fingerprint was graded to its end."""
        row = self._db.execute(
            "SELECT status FROM submissions WHERE file = ? AND sha256 = ?", (file, sha256)
        ).fetchone()
        return row is not None and row[0] != RUNNING

    def begin(self, file: str, sha256: str) -> None:
        """``file`` is being graded: its old marks go, its row says running."""
        with self._lock:
            self._db.execute("DELETE FROM marks WHERE file = ?", (file,))
            self._db.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, NULL, ?, ?, NULL)",
                (file, sha256, RUNNING, time.time()),
            )

    def mark(self, file: str, sha256: str, number: str, mark: int, reason: str | None) -> None:
        """One exercise judged."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?)",
                (file, sha256, number, int(mark), reason),
            )

    def finish(self, file: str, sha256: str, result: Result) -> None:
        """``file`` graded: its status and chapter, and every mark (again, to be whole)."""
        for number, mark in result.marks.items():
            self.mark(file, sha256, number, mark, result.reasons.get(number))
        with self._lock:
            self._db.execute(
                "UPDATE submissions SET chapter = ?, status = ?, finished = ? WHERE file = ?",
                (result.chapter, result.status, time.time(), file),
            )

    def results(self, files: list[str] | None = None) -> list[Result]:
        """The submissions' results (``files``, in order; all by default)."""
        rows = {
            file: (chapter, status)
            for file, chapter, status in self._db.execute(
                "SELECT file, chapter, status FROM submissions"
            )
        }
        results = []
        for file in files if files is not None else sorted(rows):
            if file not in rows:
                continue
            chapter, status = rows[file]
            if status == RUNNING:
                status = "not finished: the batch stopped while grading it"
            result = Result(Path(file), chapter, status)
            marks = self._db.execute(
                "SELECT exercise, mark, reason FROM marks WHERE file = ?", (file,)
            ).fetchall()
            for number, mark, reason in sorted(marks, key=lambda row: _order(row[0])):
                result.marks[number] = mark
                if reason is not None:
                    result.reasons[number] = reason
            results.append(result)
        return results


def atomic_write(path: Path, write) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it over ``path``:
    a reader sees the old file or the new one, never half of one."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_csv(results: list[Result], csv_path: Path, points: dict | None = None) -> None:
    """One row per notebook: file, chapter, status, one column per exercise, total, reasons;
    written atomically. ``points`` (exercise -> points, from a rubric) weighs the columns."""
    numbers = sorted({number for result in results for number in result.marks}, key=_order)

    def weight(number: str) -> float:
        return 1 if points is None else points.get(number, 1)

    def write(stream) -> None:
        writer = csv.writer(stream)
        writer.writerow(["file", "chapter", "status", *numbers, "total", "out_of", "reasons"])
        for result in results:
            score = sum(mark * weight(n) for n, mark in result.marks.items())
            writer.writerow(
                [
                    str(result.path),
                    "" if result.chapter is None else result.chapter,
                    result.status,
                    *(
                        _show(result.marks[n] * weight(n)) if n in result.marks else ""
                        for n in numbers
                    ),
                    _show(score),
                    _show(sum(weight(n) for n in result.marks)),
                    "; ".join(f"{n}: {why}" for n, why in result.reasons.items()),
                ]
            )

    atomic_write(csv_path, write)


def _show(number: float) -> str | int:
    return int(number) if float(number).is_integer() else round(number, 2)
