import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from tests import reference


def test_squash_matches_numpy():
    s = np.random.default_rng(0).normal(size=(4, 1152, 8)).astype(np.float32)
    np.testing.assert_allclose(cl.squash(s).numpy(), reference.squash(s), rtol=1e-5, atol=1e-6)


def test_squash_along_another_axis():
    s = np.random.default_rng(1).normal(size=(3, 8, 5)).astype(np.float32)
    got = cl.squash(s, axis=1).numpy()
    np.testing.assert_allclose(got, reference.squash(s, axis=1), rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, reference.squash(s, axis=-1))


@pytest.mark.parametrize("length", [0.0, 0.1, 1.0, 10.0, 1e4])
def test_squash_keeps_direction_and_bounds_length(length):
    direction = np.array([3.0, 4.0], np.float32) / 5
    v = cl.squash(direction * length).numpy()
    assert 0 <= np.linalg.norm(v) < 1
    np.testing.assert_allclose(np.linalg.norm(v), length**2 / (1 + length**2), atol=1e-3)


def test_safe_norm_matches_numpy_and_keepdims():
    s = np.random.default_rng(2).normal(size=(5, 10, 16)).astype(np.float32)
    np.testing.assert_allclose(cl.safe_norm(s).numpy(), np.linalg.norm(s, axis=-1), rtol=1e-5)
    assert cl.safe_norm(s, axis=1, keepdims=True).shape == (5, 1, 16)


@pytest.mark.parametrize("fn", [cl.squash, cl.safe_norm])
def test_gradient_at_zero_vector_is_finite(fn):
    s = tf.zeros((2, 8))
    with tf.GradientTape() as tape:
        tape.watch(s)
        y = tf.reduce_sum(fn(s))
    assert np.all(np.isfinite(tape.gradient(y, s).numpy()))


def test_tf_norm_gradient_at_zero_is_nan():
    # The bug the epsilon exists for: if this ever stops being NaN, chapter 2 must change.
    s = tf.zeros((1, 8))
    with tf.GradientTape() as tape:
        tape.watch(s)
        y = tf.reduce_sum(tf.norm(s, axis=-1))
    assert np.isnan(tape.gradient(y, s).numpy()).any()
