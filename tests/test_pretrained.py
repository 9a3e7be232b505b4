"""The shipped pretrained weights: present, intact, and as good as the reproduction page says."""

import json
import shutil

import numpy as np
import pytest

import capsnet_lib as cl
from capsnet_lib import pretrained


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
    for name in (pretrained.WEIGHTS_NAME, pretrained.META_NAME):
        shutil.copy(pretrained.WEIGHTS_DIR / name, tmp_path / name)
    data = bytearray((tmp_path / pretrained.WEIGHTS_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / pretrained.WEIGHTS_NAME).write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 does not match"):
        cl.load_pretrained(tmp_path)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrained weights not found"):
        cl.load_pretrained(tmp_path)
