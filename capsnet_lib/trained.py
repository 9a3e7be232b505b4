"""Loading a trained CapsNet back: from a ``.keras`` file, a ``.weights.h5`` or a run's folder.

Whatever the file holds, the answer is a CapsNet with finite weights or an error that names
the file and says what it is instead (another Keras model, weights of another architecture, a
garbled ``config.json``, the NaN weights of a run that diverged).
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import keras

from capsnet_lib.checkpoints import BEST_NAME, finished_checkpoints, non_finite_weights
from capsnet_lib.model import CapsNet
from capsnet_lib.run_folder import (
    CONFIG_NAME,
    RunFolderError,
    check_same_architecture,
    read_json,
)


def initial_weights(source: str | Path, like: CapsNet) -> CapsNet:
    """The model whose weights a fine-tuning run starts from (same architecture as ``like``)."""
    from capsnet_lib.multimnist_model import MultiMnistCapsNet, load_pretrained_multimnist
    from capsnet_lib.pretrained import load_pretrained

    if str(source) == "pretrained":  # the shipped weights of the task: MultiMNIST's or MNIST's
        shipped = isinstance(like, MultiMnistCapsNet)
        model = load_pretrained_multimnist() if shipped else load_pretrained()
    else:
        model = load_trained(source)
    wanted = like.get_config()
    check_same_architecture(model.get_config(), wanted, str(source))
    return model


def load_trained(path: str | Path, routing_iterations: int | None = None) -> CapsNet:
    """Load a CapsNet from a ``.keras`` file, a ``.weights.h5`` file or a training folder.

    A ``.weights.h5`` takes its architecture from ``config.json`` beside it when there
    is one. Anything but a CapsNet's finite weights is a ``ValueError`` naming the file:
    another Keras model, weights of another architecture, NaN weights (a run that diverged).

    Introduced in chapter 7, training.
    """
    path = Path(path)
    if path.is_dir():
        folder, path = path, path / BEST_NAME
        if not path.is_file() and finished_checkpoints(folder):
            raise FileNotFoundError(
                f"no weights at {path}: rerun the run's train command to write them again "
                "from its checkpoint, or give an epoch-NNNN/model.keras"
            )
    if not path.is_file():
        raise FileNotFoundError(f"no weights at {path}")
    if path.suffix == ".keras":
        model = _load_keras_file(path)
    elif path.name.endswith(".weights.h5"):
        model = _load_weights_file(path, routing_iterations)
    else:
        raise ValueError(f"{path}: expected a .keras or .weights.h5 file")
    bad = non_finite_weights(model)
    if bad:
        raise ValueError(
            f"{path} holds NaN or infinite weights ({bad[0]}, ...): it comes from a run that "
            "diverged; train again with a smaller --learning-rate"
        )
    return model


def _load_keras_file(path: Path) -> CapsNet:
    """The CapsNet in a ``.keras`` file, or a ``ValueError`` saying what the file is instead."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a model file of this library (a .keras file is a zip archive; "
            "this one is not: truncated or another format)"
        )
    try:
        model = keras.models.load_model(path)
    except (OSError, zipfile.BadZipFile, ValueError, TypeError, KeyError) as error:
        raise ValueError(
            f"{path} is not a model file of this library ({one_line(error)}); use a .keras "
            "file that capsnet_lib wrote"
        ) from None
    if not isinstance(model, CapsNet):
        raise ValueError(
            f"{path} holds a Keras {type(model).__name__}, not a CapsNet: use a .keras file "
            "that capsnet_lib wrote (a run's epoch-NNNN/model.keras), a best.weights.h5 or "
            "a training folder"
        )
    return model


def _load_weights_file(path: Path, routing_iterations: int | None) -> CapsNet:
    """A CapsNet built from ``config.json`` beside ``path`` (if any), with ``path``'s weights."""
    config_path = path.parent / CONFIG_NAME
    todo = "correct it, or move it away to use the default architecture"
    config = {}
    if config_path.is_file():
        config = read_json(config_path, "the network's architecture", todo)
    config.pop("name", None)
    if routing_iterations is not None:
        config["routing_iterations"] = routing_iterations
    config.setdefault("routing_iterations", 3)
    try:
        model = CapsNet(**config)
    except (TypeError, ValueError) as error:
        raise RunFolderError(
            f"{config_path} is not a CapsNet's architecture ({one_line(error)}): {todo}"
        ) from None
    source = f"{config_path.name}'s" if config_path.is_file() else "the default"
    try:
        model.load_weights(path)
    except OSError as error:  # h5py: "file signature not found", truncated files, ...
        raise ValueError(
            f"{path} is not a weights file of this library (it cannot be read as HDF5: "
            f"{one_line(error)}); use a best.weights.h5 or .keras file that capsnet_lib wrote"
        ) from None
    except (ValueError, KeyError) as error:
        raise ValueError(
            f"{path} does not fit a CapsNet with {source} settings: {one_line(error)}"
        ) from None
    if not config_path.is_file() and routing_iterations is None:
        warnings.warn(  # the weights alone do not say how many rounds they were trained with
            f"no {CONFIG_NAME} beside {path}: assuming 3 routing iterations; pass "
            "--routing-iterations (routing_iterations=) if it was trained with others",
            stacklevel=3,
        )
    return model


def one_line(error: BaseException) -> str:
    """The first line of an error's message."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
