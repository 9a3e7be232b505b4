import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from tests import reference


def test_primary_capsules_group_consecutive_channels():
    layer = cl.PrimaryCapsules(num_maps=4, capsule_dim=8, kernel_size=3, strides=2)
    x = np.random.default_rng(0).uniform(size=(2, 9, 9, 5)).astype(np.float32)
    u = layer(x).numpy()
    features = layer.conv(x).numpy()  # (2, 4, 4, 32)
    assert u.shape == (2, 4 * 4 * 4, 8)
    # capsule (row, col, map) holds channels 8*map .. 8*map+7 of that position
    want = reference.squash(features.reshape(2, 4, 4, 4, 8).reshape(2, 64, 8))
    np.testing.assert_allclose(u, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        u[1, 4 * 1 + 2], reference.squash(features[1, 0, 1, 16:24]), atol=1e-6
    )


def test_primary_capsules_paper_shape():
    layer = cl.PrimaryCapsules()
    assert layer.compute_output_shape((None, 20, 20, 256)) == (None, 1152, 8)
    assert layer(tf.zeros((1, 20, 20, 256))).shape == (1, 1152, 8)


@pytest.mark.parametrize("xla", [False, True])
def test_digit_capsules_match_numpy(xla):
    layer = cl.DigitCapsules(routing_iterations=3, xla=xla)
    u = np.random.default_rng(1).normal(size=(2, 20, 8)).astype(np.float32)
    v = layer(u).numpy()
    W = layer.W.numpy()
    v_ref, _ = reference.routing(reference.predict_vectors(u, W), 3)
    np.testing.assert_allclose(v, v_ref, rtol=1e-4, atol=1e-5)
    _, c = layer.route(u)
    assert c.shape == (2, 20, 10)


def test_mask_by_label_and_by_prediction():
    poses = np.zeros((2, 10, 16), np.float32)
    poses[0, 3] = 1.0  # longest: 3
    poses[0, 5] = 0.5
    poses[1, 7] = 2.0
    by_label = cl.Mask()(poses, np.array([5, 7])).numpy()
    np.testing.assert_array_equal(by_label[0, 5], poses[0, 5])
    assert np.count_nonzero(by_label[0]) == 16 and not by_label[0, 3].any()
    by_prediction = cl.Mask()(poses).numpy()
    np.testing.assert_array_equal(by_prediction[0, 3], poses[0, 3])
    assert not by_prediction[0, 5].any()
    np.testing.assert_array_equal(by_prediction[1], poses[1])


def test_decoder_output_shape_and_range():
    decoder = cl.Decoder()
    out = decoder(tf.random.normal((3, 10, 16))).numpy()
    assert out.shape == (3, 28, 28, 1)
    assert out.min() >= 0 and out.max() <= 1
    sizes = [w.shape for w in decoder.weights]
    assert sizes[::2] == [(160, 512), (512, 1024), (1024, 784)]
