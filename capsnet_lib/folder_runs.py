"""What a run on a folder of images checks before it builds anything, and what it records.

Before a network is built: the run's folder and the images' folder apart (neither inside the
other), the memory the network needs for the images' size against this machine's, and every
picture decoded. A run records its images (each file's name and a digest of its bytes) and
its validation images in its settings; a resumed run on a folder that changed since (pictures
added, removed, renamed or replaced) is refused with what changed, unless asked to go on with
the original split (``keep_split``): validating on the run's validation images still there,
training on every other picture.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capsnet_lib.image_folder import SPLIT_SEED, ImageFolder
from capsnet_lib.scale import architecture_of, largest_fitting_size, machine_memory

MEMORY_SHARE = 0.5  # of this machine's memory a run may plan to use (TensorFlow needs more)
SHOWN = 3  # file names shown of each kind of change
GIB = 2**30


@dataclass
class FolderRun:
    """Where a run on a folder goes, and how it trains: what its checks need to know.

    ``memory``: the bytes the run may use (``None``: :data:`MEMORY_SHARE` of this machine's).
    """

    out_dir: Path | None = None
    batch_size: int = 128
    routing_iterations: int = 3
    keep_split: bool = False
    overwrite: bool = False
    memory: int | None = None


def check_places(out_dir: str | Path, data_dir: str | Path) -> None:
    """Refuse a run folder inside the images' folder, or the images inside the run folder."""
    out, data = Path(out_dir).resolve(), Path(data_dir).resolve()
    if out == data or data in out.parents:
        raise ValueError(
            f"--out {out} is inside --data-dir {data}: the run's folder would be read as a "
            f"class of images; give an --out outside it (e.g. {data.parent / (data.name + '-run')})"
        )
    if out in data.parents:
        raise ValueError(
            f"--data-dir {data} is inside --out {out}: keep the images outside the run's "
            "folder (move them, or give another --out)"
        )


def check_memory(folder: ImageFolder, run: FolderRun, **config) -> None:
    """Refuse images too large for this machine, saying the size found and one that fits."""
    budget = run.memory
    if budget is None:
        total = machine_memory()
        if total is None:
            return
        budget = int(total * MEMORY_SHARE)
    config = {"routing_iterations": run.routing_iterations, **config}
    channels = folder.image_shape[2]
    images = len(folder.files) * int(np.prod(folder.image_shape))  # kept as bytes
    shape = architecture_of(folder.image_shape, len(folder.class_names), run.batch_size, **config)
    if shape.training_bytes + images <= budget:
        return
    h, w = folder.image_size
    room = budget - images
    fitting = (
        largest_fitting_size(
            (h, w), channels, len(folder.class_names), run.batch_size, room, **config
        )
        if room > 0
        else None
    )
    advice = (
        f"give --image-size {fitting[0]} {fitting[1]} (image_size=({fitting[0]}, {fitting[1]})) or "
        "smaller, or a smaller --batch-size"
        if fitting
        else "give a much smaller --image-size and --batch-size"
    )
    raise ValueError(
        f"{folder.path}: images of {h}x{w} pixels need about "
        f"{(shape.training_bytes + images) / GIB:,.1f} GiB to train on in batches of "
        f"{run.batch_size} (the primary capsules' matrices W alone: "
        f"{shape.primary_capsules * shape.num_classes * 16 * 8 * 4 / GIB:,.1f} GiB), more than "
        f"the {budget / GIB:,.1f} GiB a run may use here: {advice}"
    )


def images_record(folder: ImageFolder, valid: np.ndarray) -> dict:
    """What a run records of its images: count, one digest of them all, each file's digest,
    and the validation images' names."""
    names, digests = folder.names, folder.digests()
    files = dict(zip(names, digests, strict=True))
    whole = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()
    return {
        "count": len(names),
        "sha256": whole,
        "files": files,
        "validation": sorted(names[i] for i in valid),
    }


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return f"{shown}, ..." if len(names) > SHOWN else shown


def describe_changes(before: dict, now: dict) -> str:
    """What differs between two records of a folder's images, in a few words."""
    old, new = before.get("files", {}), now["files"]
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    replaced = sorted(n for n in set(old) & set(new) if old[n] != new[n])
    by_digest = {old[n]: n for n in removed}
    renamed = [f"{by_digest[new[n]]} -> {n}" for n in added if new[n] in by_digest]
    moved_from = {r.split(" -> ")[0] for r in renamed}
    moved_to = {r.split(" -> ")[1] for r in renamed}
    added = [n for n in added if n not in moved_to]
    removed = [n for n in removed if n not in moved_from]
    parts = [
        f"{len(names)} {kind} ({_listed(names)})"
        for kind, names in (
            ("added", added),
            ("removed", removed),
            ("renamed", renamed),
            ("replaced by other content", replaced),
        )
        if names
    ]
    return "; ".join(parts) or "the same files, recorded otherwise"


def recorded_images(out_dir: Path) -> dict | None:
    """The image record of the run in ``out_dir`` that a rerun would resume, else ``None``."""
    from capsnet_lib.checkpoints import CHECKPOINT_PREFIX, STATE_NAME
    from capsnet_lib.run_folder import SETTINGS_NAME

    states = sorted(Path(out_dir).glob(f"{CHECKPOINT_PREFIX}[0-9][0-9][0-9][0-9]/{STATE_NAME}"))
    if not states:
        return None  # nothing to resume: a new run
    for path in (Path(out_dir) / SETTINGS_NAME, states[-1]):
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # missing or damaged: the run folder's own checks say so
        settings = value.get("settings", value) if path.name == STATE_NAME else value
        if isinstance(settings, dict) and isinstance(settings.get("images"), dict):
            return settings["images"]
    return None


def choose_split(
    folder: ImageFolder, train: np.ndarray, valid: np.ndarray, run: FolderRun
) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(train, validation, record)``: the split and the record a run on ``folder`` uses.

    A new run: the split given, and a record of the folder. A resumed run on an unchanged
    folder: the same. On a changed folder: a ``ValueError`` saying what changed, or with
    ``run.keep_split`` the run's validation images still there, the others to train on, and
    the run's first record kept.
    """
    record = images_record(folder, valid)
    before = None
    if run.out_dir is not None and not run.overwrite:
        before = recorded_images(run.out_dir)
    if before is None or before.get("sha256") == record["sha256"]:
        return train, valid, record
    changes = describe_changes(before, record)
    if not run.keep_split:
        raise ValueError(
            f"{folder.path} changed since the run in {run.out_dir} started ({changes}): a "
            "resumed run would validate on other images; put the folder back as it was, "
            "resume with --keep-split (keep_split=True) to validate on the run's validation "
            "images still there and train on all the others, or train into another --out"
        )
    kept = set(before.get("validation", []))
    names = folder.names
    rng = np.random.default_rng(SPLIT_SEED)
    valid = rng.permutation([i for i, n in enumerate(names) if n in kept]).astype(np.int64)
    train = rng.permutation([i for i, n in enumerate(names) if n not in kept]).astype(np.int64)
    if not len(valid) or not len(train):
        raise ValueError(
            f"{folder.path} changed since the run in {run.out_dir} started ({changes}), and "
            f"{'none of its validation images' if not len(valid) else 'no image to train on'} "
            "is left: train into another --out"
        )
    print(
        f"{folder.path} changed since the run started ({changes}); --keep-split: validating "
        f"on {len(valid)} of its {len(kept)} validation images, training on {len(train)}",
        flush=True,
    )
    return train, valid, before
