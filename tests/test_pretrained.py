"""The shipped pretrained weights: present, intact, and as good as the reproduction page says."""

import json
import shutil
import time

import numpy as np
import pytest

import capsnet_lib as cl
from capsnet_lib import pretrained
from tests.shipped_files import corrupted_copy


def test_shipped_weights_are_float16_and_their_checksum_holds():
    meta = json.loads((pretrained.WEIGHTS_DIR / pretrained.META_NAME).read_text())
    path = pretrained.WEIGHTS_DIR / pretrained.WEIGHTS_NAME
    assert pretrained.sha256_of(path) == meta["sha256"]
    with np.load(path) as stored:
        assert {stored[k].dtype for k in stored.files} == {np.dtype(np.float16)}
    assert path.stat().st_size < 35 * 2**20


def test_pretrained_reaches_99_percent_on_1000_test_images():
    model = cl.load_pretrained()
    mnist = cl.load_mnist(limit=1000)
    results = model.evaluate(
        mnist.x_test, mnist.y_test, batch_size=250, verbose=0, return_dict=True
    )
    print("pretrained accuracy on the first 1,000 test images:", results["accuracy"])
    assert results["accuracy"] >= 0.99


def test_corrupt_weights_are_refused(tmp_path):
    corrupted_copy(pretrained.WEIGHTS_DIR, pretrained.WEIGHTS_NAME, pretrained.META_NAME, tmp_path)
    with pytest.raises(ValueError, match="SHA-256 does not match"):
        cl.load_pretrained(tmp_path)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrained weights not found"):
        cl.load_pretrained(tmp_path)


def test_export_load_round_trip_is_by_variable_path(tmp_path):
    """Stored by path: the arrays carry their variables' names, and a second model instance
    (whose Keras name is numbered differently) loads them."""
    model = cl.CapsNet(routing_iterations=2, decoder_units=(32, 64))
    pretrained.export_pretrained(model, tmp_path)
    with np.load(tmp_path / pretrained.WEIGHTS_NAME) as stored:
        assert "digit_capsules/W" in stored.files and "decoder/pixels/kernel" in stored.files
    cl.CapsNet(routing_iterations=2)  # another instance in between: names shift
    loaded = cl.load_pretrained(tmp_path)
    for mine, theirs in zip(model.weights, loaded.weights, strict=True):
        assert pretrained.variable_key(mine) == pretrained.variable_key(theirs)
        np.testing.assert_allclose(
            theirs.numpy(), mine.numpy().astype(np.float16).astype(np.float32)
        )


def test_export_writes_the_same_bytes_for_the_same_weights(tmp_path):
    """No time stamp in the archive: exporting the same weights twice gives the same file,
    hence the same SHA-256, and no partial file is left behind."""
    model = cl.CapsNet(routing_iterations=2, decoder_units=(32, 64))
    first = pretrained.export_pretrained(model, tmp_path / "a")
    time.sleep(2)  # zip time stamps have a two-second resolution
    second = pretrained.export_pretrained(model, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        [pretrained.WEIGHTS_NAME, pretrained.META_NAME]
    )


def test_weights_of_another_architecture_name_what_differs(tmp_path):
    pretrained.export_pretrained(cl.CapsNet(routing_iterations=2, decoder_units=(32, 64)), tmp_path)
    meta_path = tmp_path / pretrained.META_NAME
    meta = json.loads(meta_path.read_text())
    meta["config"]["decoder_units"] = [32, 64, 128]  # a layer added since the export
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"missing \['decoder/hidden_3/bias'"):
        cl.load_pretrained(tmp_path)


def test_metadata_without_checksum_is_a_clear_error(tmp_path):
    for name in (pretrained.WEIGHTS_NAME, pretrained.META_NAME):
        shutil.copy(pretrained.WEIGHTS_DIR / name, tmp_path / name)
    meta = json.loads((tmp_path / pretrained.META_NAME).read_text())
    del meta["sha256"]
    (tmp_path / pretrained.META_NAME).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="has no sha256: it is not the metadata"):
        cl.load_pretrained(tmp_path)


@pytest.mark.parametrize("name", ["best.weights.h5", "model.keras"])
def test_a_foreign_file_is_named_as_not_ours(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a weights file" * 100)
    with pytest.raises(ValueError, match=f"{name} is not a (weights|model) file of this library"):
        cl.training.load_trained(path)


def test_missing_weights_mean_a_brief_training(monkeypatch, capsys):
    def missing():
        raise FileNotFoundError("pretrained weights not found: expected x and y")

    monkeypatch.setattr(pretrained, "load_pretrained", missing)
    model = cl.load_pretrained_or_train(quick=True)
    assert "training a CapsNet on 480 digits" in capsys.readouterr().out
    assert int(model.optimizer.iterations.numpy()) == 15  # 480 digits / batch 32
    assert model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).shape == (2, 10)


def test_corrupt_weights_are_not_replaced_by_a_training(monkeypatch):
    def corrupt():
        raise ValueError("capsnet-mnist.npz is corrupt")

    monkeypatch.setattr(pretrained, "load_pretrained", corrupt)
    with pytest.raises(ValueError, match="corrupt"):
        cl.load_pretrained_or_train(quick=True)
