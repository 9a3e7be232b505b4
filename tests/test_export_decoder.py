"""tools/export_decoder.py and what it shipped for the pose explorer (book/pose_explorer.md).

The shipped decoder.bin must be the export of the shipped weights: new weights without
``python tools/export_decoder.py`` fail here.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("export_decoder", ROOT / "tools/export_decoder.py")
export_decoder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_decoder)

SHIPPED = export_decoder.OUT
MAX_ERROR = 0.06  # book/pose_explorer.md: "below 0.06"
MAX_BYTES = 1.5e6  # book/pose_explorer.md: "about 1.4 MB"


@pytest.fixture(scope="module")
def meta() -> dict:
    return json.loads((SHIPPED / export_decoder.JSON_NAME).read_text())


@pytest.fixture(scope="module")
def layers():
    return export_decoder.decoder_layers()


@pytest.fixture(scope="module")
def model():
    import capsnet_lib as cl

    return cl.load_pretrained()


def test_shipped_files_come_from_the_shipped_weights(meta, layers):
    """Fails when capsnet_lib/weights/ changed and the exporter was not run again."""
    rerun = "run `python tools/export_decoder.py`"
    assert meta["weights"]["sha256"] == export_decoder.sha256_of(export_decoder.WEIGHTS), rerun
    binary = (SHIPPED / export_decoder.BINARY_NAME).read_bytes()
    expected, layout = export_decoder.pack(layers)
    assert binary == expected, rerun
    assert meta["decoder"]["sha256"] == hashlib.sha256(binary).hexdigest()
    assert meta["decoder"]["bytes"] == len(binary) < MAX_BYTES
    assert meta["decoder"]["layers"] == layout


def test_stated_error_is_the_error_and_small(meta, layers):
    poses, classes = export_decoder.digit_arrays(meta["digits"])
    error, images = export_decoder.max_pixel_error(layers, poses, classes)
    assert meta["max_pixel_error"]["images"] == images == 20 * 33
    assert meta["max_pixel_error"]["value"] == pytest.approx(error, rel=2e-3)
    assert error < MAX_ERROR


def test_quantization_round_trip_on_a_small_kernel():
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.1, (40, 7)).astype(np.float32)
    kernel[3, 2] = 0.9  # one large weight in a column
    kernel[:, 5] = 0  # an all-zero column
    codes, scales = export_decoder.quantize(kernel)
    assert codes.dtype == np.int8 and scales.dtype == np.float32
    assert codes.min() >= -127 and codes.max() <= 127
    restored = export_decoder.dequantize(codes, scales)
    assert np.all(restored[:, 5] == 0)
    assert restored[3, 2] == pytest.approx(0.9, rel=1e-6)  # the column's largest, exact
    # square-root codes: a step near weight w is about 2 sqrt(|w| s) / 127
    bound = 2 * np.sqrt(np.abs(kernel) * scales) / 127 + scales / 127**2
    assert np.all(np.abs(restored - kernel) <= bound)
    assert np.all(np.sign(restored) * np.sign(kernel) >= 0)  # no weight changes sign


def test_export_is_deterministic(tmp_path, meta):
    digits = meta["digits"]
    first = export_decoder.export(tmp_path / "a", digits=digits)
    second = export_decoder.export(tmp_path / "b", digits=digits)
    for name in (export_decoder.BINARY_NAME, export_decoder.JSON_NAME):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first == second
    assert (tmp_path / "a" / export_decoder.BINARY_NAME).read_bytes() == (
        SHIPPED / export_decoder.BINARY_NAME
    ).read_bytes()


def test_digits_are_two_per_class_with_the_shipped_networks_poses(meta, model):
    digits = meta["digits"]
    assert sorted(d["label"] for d in digits) == sorted(list(range(10)) * 2)
    assert [d["test_index"] for d in digits] == sorted(d["test_index"] for d in digits)
    images = np.stack(
        [np.frombuffer(base64.b64decode(d["image"]), np.uint8).reshape(28, 28, 1) for d in digits]
    )
    poses = np.asarray(model.digit_poses(images.astype(np.float32) / 255))  # (20, 10, 16)
    predicted = np.linalg.norm(poses, axis=-1).argmax(axis=-1)
    assert [d["predicted"] for d in digits] == predicted.tolist()
    shipped, classes = export_decoder.digit_arrays(digits)
    np.testing.assert_allclose(shipped, poses[np.arange(len(digits)), classes], atol=2e-3)


def test_the_float32_reference_is_the_models_decoder(meta, layers, model):
    """The NumPy decoder the error is measured against decodes like capsnet_lib's."""
    poses, classes = export_decoder.digit_arrays(meta["digits"][:4])
    full = np.zeros((len(poses), 10, 16), np.float32)
    full[np.arange(len(poses)), classes] = poses
    expected = np.asarray(model.reconstruct(full, classes)).reshape(len(poses), -1)
    ours = export_decoder.decode(export_decoder.masked_inputs(poses, classes), layers)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
