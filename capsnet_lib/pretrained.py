"""The shipped pretrained CapsNet: float16 weights checked against a SHA-256 on load."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

#: The folder of the shipped weights inside the installed library (``capsnet_lib/weights``).
WEIGHTS_DIR = Path(__file__).parent / "weights"
#: The weights' file in :data:`WEIGHTS_DIR`: one array per variable, stored as float16.
WEIGHTS_NAME = "capsnet-mnist.npz"
#: The record beside them (JSON): the configuration, checksum, test accuracy, the
#: training log's name and the seconds per epoch.
META_NAME = "capsnet-mnist.json"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def variable_key(variable) -> str:
    """A variable's path inside its model, without the model's own (instance-numbered) name.

    ``caps_net_3/decoder/pixels/kernel`` -> ``decoder/pixels/kernel``: weights stored under
    these keys load into any CapsNet with the same layers, whatever was added beside them.
    """
    return variable.path.split("/", 1)[-1]


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` as a compressed ``.npz`` whose bytes depend on the arrays alone.

    ``np.savez_compressed`` stamps the current time into each zip entry, so the same weights
    would give a new file (and a new SHA-256) on every export; here every entry has a fixed
    date and the names are sorted. The file appears whole or not at all: it is written
    beside ``path`` and then renamed over it. ``np.load`` reads it like any ``.npz``.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, buffer.getvalue())
    os.replace(partial, path)
    return path


def export_pretrained(model, directory: str | Path = WEIGHTS_DIR, **facts) -> Path:
    """Write ``model``'s weights as float16 ``.npz`` plus a JSON of config, checksum and ``facts``.

    Each array is stored under its variable's path in the model (:func:`variable_key`),
    not by position.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {variable_key(v): np.asarray(v.numpy()).astype(np.float16) for v in model.weights}
    path = directory / WEIGHTS_NAME
    write_npz(path, arrays)
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
    model, meta = load_shipped_capsnet(
        CapsNet,
        path,
        meta_path,
        settings,
        not_found=f"pretrained weights not found: expected {path} and {meta_path}",
        not_ours="it is not the metadata of this library's pretrained weights "
        "(re-export them with tools/export_weights.py)",
    )
    return model


def load_shipped_capsnet(
    model_class, path: Path, meta_path: Path, settings: dict, not_found: str, not_ours: str
):
    """A compiled ``model_class`` (a CapsNet) built from the record's ``config`` and given the
    weights :func:`read_checked` reads; ``settings`` override the config. Returns
    ``(model, meta)``."""
    meta, arrays = read_checked(
        path, meta_path, required=("sha256", "config"), not_found=not_found, not_ours=not_ours
    )
    # Trained with bfloat16 convolutions or not, inference runs in float32 unless asked.
    model = model_class(**{**meta["config"], "precision": "float32", **settings})
    assign_by_key(model, arrays, path)
    model.compile(optimizer="adam")
    return model, meta


def read_checked(
    path: Path, meta_path: Path, required: tuple[str, ...], not_found: str, not_ours: str
) -> tuple[dict, dict[str, np.ndarray]]:
    """Read shipped weights (``.npz``) and their JSON record, checked against its SHA-256.

    Raises ``FileNotFoundError(not_found)`` when either file is missing, and ``ValueError``
    for a JSON that does not parse, lacks a ``required`` key (the message ends ``not_ours``)
    or whose checksum does not match the weights. Returns ``(meta, arrays by name)``.
    """
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(not_found)
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{meta_path} is not valid JSON ({error}): reinstall the library"
        ) from None
    missing = [key for key in required if key not in meta]
    if missing:
        raise ValueError(f"{meta_path} has no {' or '.join(missing)}: {not_ours}")
    if sha256_of(path) != meta["sha256"]:
        raise ValueError(f"{path} is corrupt: its SHA-256 does not match {meta_path.name}")
    with np.load(path) as stored:
        return meta, {name: stored[name] for name in stored.files}


def assign_by_key(model, arrays: dict[str, np.ndarray], source: Path) -> None:
    """Set each of ``model``'s variables from ``arrays[variable_key(variable)]``.

    Files written before weights were stored by path (keys ``w000``, ``w001``, ...) are
    read by position. Raises ``ValueError`` naming the first missing, extra or misshapen array.
    """
    variables = model.weights
    if arrays and all(name.startswith("w") and name[1:].isdigit() for name in arrays):
        arrays = {variable_key(v): arrays[f"w{i:03d}"] for i, v in enumerate(variables)}
    wanted = {variable_key(v): v for v in variables}
    missing, extra = sorted(set(wanted) - set(arrays)), sorted(set(arrays) - set(wanted))
    if missing or extra:
        raise ValueError(
            f"{source} does not fit this CapsNet: missing {missing or 'nothing'}, "
            f"unexpected {extra or 'nothing'}"
        )
    for key, variable in wanted.items():
        if tuple(arrays[key].shape) != tuple(variable.shape):
            raise ValueError(
                f"{source}: {key} is shaped {tuple(arrays[key].shape)}, "
                f"the model wants {tuple(variable.shape)}"
            )
        variable.assign(arrays[key].astype(np.float32))


def load_pretrained_or_train(quick: bool = False, seed: int = 42):
    """The shipped CapsNet or, in a checkout without its weights, one trained briefly here.

    Chapters 3 to 8 need a trained network to show anything; this lets them run where the
    shipped weights are missing (a fresh clone of the repository without them, a copy of one
    notebook). A corrupt file is still an error: only missing weights mean "train".

    Args:
        quick: Train 15 steps on 480 digits (roughly 50-80% test accuracy, seconds) instead
            of one epoch on 20,000 (about 98%, minutes on a CPU).
        seed: Seeds Keras for the brief training.

    Returns:
        A compiled :class:`~capsnet_lib.CapsNet`.

    Introduced in chapter 2, primary capsules.
    """
    import keras

    from capsnet_lib.data import load_mnist
    from capsnet_lib.model import CapsNet

    try:
        return load_pretrained()
    except FileNotFoundError as error:
        n = 480 if quick else 20_000
        print(f"{error}; training a CapsNet on {n:,} digits for one epoch instead")
    keras.utils.set_random_seed(seed)
    mnist = load_mnist(limit=n)
    model = CapsNet(routing_iterations=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(mnist.x_train[:n], mnist.y_train[:n], batch_size=32, epochs=1, verbose=0)
    return model
