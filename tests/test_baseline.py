"""The CNN baseline of chapter 9: its shipped weights are intact, float16 and as good as recorded."""

import json
import shutil

import numpy as np
import pytest

import capsnet_lib as cl
from capsnet_lib import baseline
from capsnet_lib.pretrained import WEIGHTS_DIR, sha256_of
from tests.shipped_files import corrupted_copy


def shipped_meta():
    return json.loads((WEIGHTS_DIR / baseline.BASELINE_META).read_text())


def test_shipped_weights_are_float16_small_and_their_checksum_holds():
    meta = shipped_meta()
    path = WEIGHTS_DIR / baseline.BASELINE_WEIGHTS
    assert sha256_of(path) == meta["sha256"]
    with np.load(path) as stored:
        assert {stored[k].dtype for k in stored.files} == {np.dtype(np.float16)}
    assert path.stat().st_size < 4 * 2**20
    for key in ("command", "epochs", "epoch_seconds", "test_accuracy", "parameters"):
        assert key in meta, f"the record has no {key}"


def test_architecture_matches_the_record():
    meta = shipped_meta()
    model = baseline.cnn_baseline(meta["conv_filters"], meta["dense_units"])
    assert model.count_params() == meta["parameters"]
    assert model.output_shape == (None, 10)


def test_baseline_reaches_its_recorded_accuracy_on_1000_test_images():
    model = cl.load_baseline()
    mnist = cl.load_mnist(limit=1000)
    logits = model.predict(mnist.x_test, batch_size=500, verbose=0)
    accuracy = float(np.mean(logits.argmax(axis=1) == mnist.y_test))
    print("baseline accuracy on the first 1,000 test images:", accuracy)
    assert accuracy >= 0.99
    assert shipped_meta()["test_accuracy"] >= 0.993


def test_corrupt_weights_are_refused(tmp_path):
    corrupted_copy(WEIGHTS_DIR, baseline.BASELINE_WEIGHTS, baseline.BASELINE_META, tmp_path)
    with pytest.raises(ValueError, match="SHA-256 does not match"):
        cl.load_baseline(tmp_path)


def test_missing_weights_and_foreign_metadata_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="CNN baseline weights not found"):
        cl.load_baseline(tmp_path)
    shutil.copy(WEIGHTS_DIR / baseline.BASELINE_WEIGHTS, tmp_path / baseline.BASELINE_WEIGHTS)
    (tmp_path / baseline.BASELINE_META).write_text('{"sha256": "x"}')
    with pytest.raises(ValueError, match="not the record of the CNN baseline"):
        cl.load_baseline(tmp_path)
    (tmp_path / baseline.BASELINE_META).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        cl.load_baseline(tmp_path)


def test_export_load_round_trip(tmp_path):
    model = baseline.cnn_baseline((4, 8, 4), (16, 8))
    baseline.export_baseline(model, tmp_path, conv_filters=[4, 8, 4], dense_units=[16, 8])
    loaded = cl.load_baseline(tmp_path)
    x = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype(np.float32)
    for mine, theirs in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(
            theirs.numpy(), mine.numpy().astype(np.float16).astype(np.float32)
        )
    assert loaded.predict(x, verbose=0).shape == (3, 10)


def test_wrong_layout_is_refused():
    with pytest.raises(ValueError, match="expected 3 conv_filters"):
        baseline.cnn_baseline((8, 8), (16, 8))
