import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from tests import reference


def test_margin_loss_matches_numpy():
    rng = np.random.default_rng(0)
    lengths = rng.uniform(0, 1, size=(16, 10)).astype(np.float32)
    labels = rng.integers(0, 10, size=16)
    got = cl.margin_loss(labels, lengths).numpy()
    np.testing.assert_allclose(got, reference.margin_loss(labels, lengths), rtol=1e-5)
    got = cl.margin_loss(labels, lengths, m_plus=0.8, m_minus=0.2, lambda_=0.3).numpy()
    want = reference.margin_loss(labels, lengths, 0.8, 0.2, 0.3)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_margin_loss_is_zero_for_confident_right_answers():
    lengths = np.full((2, 10), 0.05, np.float32)
    lengths[0, 3] = lengths[1, 7] = 0.95
    assert cl.margin_loss([3, 7], lengths).numpy() == 0.0


@pytest.mark.parametrize("label", [10, -1, 42])
def test_out_of_range_label_is_a_value_error_naming_it(label):
    with pytest.raises(ValueError, match=f"label {label} is outside"):
        cl.margin_loss(np.array([0, label]), np.zeros((2, 10), np.float32))


def test_out_of_range_label_fails_inside_a_graph_too():
    loss = tf.function(cl.margin_loss)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
        loss(tf.constant([1, 12]), tf.zeros((2, 10)))


def test_float_labels_that_are_not_integers_are_rejected():
    with pytest.raises(TypeError, match="integer class indices"):
        cl.margin_loss(np.array([0.5, 1.0]), np.zeros((2, 10), np.float32))


@pytest.mark.parametrize("shape", [(4, 28, 28, 1), (4, 784)])
def test_reconstruction_loss_matches_numpy(shape):
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(4, 28, 28, 1)).astype(np.float32)
    recon = rng.uniform(size=shape).astype(np.float32)
    got = cl.reconstruction_loss(images, recon).numpy()
    np.testing.assert_allclose(got, reference.reconstruction_loss(images, recon), rtol=1e-5)


def test_reconstruction_loss_size_mismatch_is_clear():
    with pytest.raises(ValueError, match="different numbers of pixels"):
        cl.reconstruction_loss(np.zeros((2, 28, 28, 1)), np.zeros((2, 783)))
