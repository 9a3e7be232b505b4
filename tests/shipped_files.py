"""Copies of shipped weights for the tests that damage them."""

import shutil
from pathlib import Path


def corrupted_copy(folder: Path, weights_name: str, meta_name: str, to: Path) -> Path:
    """Copy a weights file and its metadata from ``folder`` into ``to``, one byte of the
    weights flipped (their SHA-256 no longer matches); return ``to``."""
    for name in (weights_name, meta_name):
        shutil.copy(folder / name, to / name)
    data = bytearray((to / weights_name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (to / weights_name).write_bytes(bytes(data))
    return to
