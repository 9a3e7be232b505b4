import gzip
import shutil

import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from capsnet_lib import data


def test_load_mnist_splits_shapes_and_ranges():
    mnist = cl.load_mnist()
    sizes = [len(mnist.x_train), len(mnist.x_valid), len(mnist.x_test)]
    assert sizes == [55_000, 5_000, 10_000]
    assert [len(mnist.y_train), len(mnist.y_valid), len(mnist.y_test)] == sizes
    assert mnist.x_train.shape[1:] == (28, 28, 1) and mnist.x_train.dtype == np.float32
    assert mnist.x_test.min() == 0.0 and mnist.x_test.max() == 1.0
    assert np.issubdtype(mnist.y_train.dtype, np.integer)
    assert set(np.unique(mnist.y_test)) == set(range(10))
    # the well-known first test label is a 7, and validation is the head of the training file
    assert mnist.y_test[0] == 7 and mnist.y_valid[0] == 5


def test_limit():
    mnist = cl.load_mnist(limit=100)
    assert len(mnist.x_train) == len(mnist.x_valid) == len(mnist.x_test) == 100


def copy_mnist(tmp_path):
    for name, _ in data.FILES.values():
        shutil.copy(data.locate(name), tmp_path / name)  # from CAPSNET_DATA_DIR or the cache


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
def test_a_limit_that_is_not_a_count_of_images_is_refused(limit):
    with pytest.raises(ValueError, match=r"limit must be a whole number of images, 1 or more"):
        cl.load_mnist(limit=limit)


def test_missing_file_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPSNET_DATA_DIR", str(tmp_path))
    with pytest.raises(data.MnistFileError, match=f"not found in {tmp_path}.*CAPSNET_DATA_DIR"):
        cl.load_mnist()


@pytest.mark.parametrize("damage", ["truncate_gzip", "truncate_data", "flip_byte", "not_gzip"])
def test_corrupt_file_is_named(tmp_path, monkeypatch, damage):
    copy_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    if damage == "truncate_gzip":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "truncate_data":
        path.write_bytes(gzip.compress(raw[:-10]))
    elif damage == "flip_byte":
        path.write_bytes(gzip.compress(raw[:100] + bytes([raw[100] ^ 1]) + raw[101:]))
    else:
        path.write_bytes(raw)
    monkeypatch.setenv("CAPSNET_DATA_DIR", str(tmp_path))
    with pytest.raises(data.MnistFileError, match="t10k-labels-idx1-ubyte.gz"):
        cl.load_mnist()


def test_read_idx_checks_header_and_size(tmp_path):
    good = b"\x00\x00\x08\x02" + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6))
    (tmp_path / "ok.gz").write_bytes(gzip.compress(good))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "ok.gz"), [[0, 1, 2], [3, 4, 5]])
    (tmp_path / "short.gz").write_bytes(gzip.compress(good[:-1]))
    with pytest.raises(data.MnistFileError, match="short.gz is truncated"):
        data.read_idx(tmp_path / "short.gz")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x01" + good[1:]))
    with pytest.raises(data.MnistFileError, match="bad.gz is not an IDX file"):
        data.read_idx(tmp_path / "bad.gz")


def test_random_shift_moves_whole_images_by_at_most_two_pixels():
    images = np.zeros((64, 28, 28, 1), np.float32)
    images[:, 10:18, 10:18] = 1.0  # a square away from the border: shifts never crop it
    shifted = data.random_shift(tf.constant(images), 2, seed=[1, 0]).numpy()
    assert shifted.shape == images.shape
    np.testing.assert_allclose(shifted.sum(axis=(1, 2, 3)), 64.0)
    offsets = set()
    for picture in shifted[..., 0]:
        rows, cols = np.nonzero(picture)
        offsets.add((rows.min() - 10, cols.min() - 10))
        assert rows.max() - rows.min() == 7 and cols.max() - cols.min() == 7
    assert all(abs(r) <= 2 and abs(c) <= 2 for r, c in offsets)
    assert len(offsets) > 10  # per image, not one shift for the whole batch


def test_make_dataset_batches_and_shuffles():
    images = np.arange(10, dtype=np.float32)[:, None, None, None] * np.ones((1, 28, 28, 1))
    labels = np.arange(10)
    batches = list(cl.make_dataset(images, labels, batch_size=4, shuffle=True, seed=0))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    seen = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for x, y in batches:  # images still travel with their labels
        np.testing.assert_array_equal(x.numpy()[:, 0, 0, 0], y.numpy())
    shifted = next(iter(cl.make_dataset(images, labels, 10, shuffle=False, max_shift=2)))
    assert shifted[0].shape == (10, 28, 28, 1)
