"""The shipped pretrained CapsNet: float16 weights checked against a SHA-256 on load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

WEIGHTS_DIR = Path(__file__).parent / "weights"
WEIGHTS_NAME = "capsnet-mnist.npz"
META_NAME = "capsnet-mnist.json"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_pretrained(model, directory: str | Path = WEIGHTS_DIR, **facts) -> Path:
    """Write ``model``'s weights as float16 ``.npz`` plus a JSON of config, checksum and ``facts``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = model.get_weights()
    arrays = {f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(weights)}
    path = directory / WEIGHTS_NAME
    np.savez_compressed(path, **arrays)
    config = model.get_config()
    config.pop("name", None)
    meta = {"config": config, "sha256": sha256_of(path), **facts}
    (directory / META_NAME).write_text(json.dumps(meta, indent=1) + "\n")
    return path


def load_pretrained(directory: str | Path = WEIGHTS_DIR, **settings):
    """The pretrained CapsNet shipped with the library, ready to ``predict`` or ``evaluate``.

    Args:
        directory: Folder holding ``capsnet-mnist.npz`` and ``capsnet-mnist.json``.
        **settings: :class:`~capsnet_lib.CapsNetConfig` fields that don't change the
            weights' shapes (e.g. ``xla_routing``, ``precision``; default float32).

    Returns:
        A compiled :class:`~capsnet_lib.CapsNet` (weights stored as float16, computed in float32).

    Raises:
        FileNotFoundError: The weights are missing.
        ValueError: Their checksum does not match (a corrupt or partial file).

    Introduced in chapter 7, training.
    """
    from capsnet_lib.model import CapsNet

    directory = Path(directory)
    path, meta_path = directory / WEIGHTS_NAME, directory / META_NAME
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"pretrained weights not found: expected {path} and {meta_path}")
    meta = json.loads(meta_path.read_text())
    if sha256_of(path) != meta["sha256"]:
        raise ValueError(f"{path} is corrupt: its SHA-256 does not match {meta_path.name}")
    # Trained with bfloat16 convolutions or not, inference runs in float32 unless asked.
    model = CapsNet(**{**meta["config"], "precision": "float32", **settings})
    with np.load(path) as stored:
        weights = [stored[f"w{i:03d}"].astype(np.float32) for i in range(len(stored.files))]
    model.set_weights(weights)
    model.compile(optimizer="adam")
    return model
