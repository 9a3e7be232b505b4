import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from tests import reference


@pytest.fixture
def u_and_w():
    rng = np.random.default_rng(0)
    u = rng.normal(size=(3, 12, 8)).astype(np.float32)
    W = rng.normal(scale=0.3, size=(12, 10, 16, 8)).astype(np.float32)
    return u, W


def test_predict_vectors_matches_numpy_and_einsum(u_and_w):
    u, W = u_and_w
    got = cl.predict_vectors(u, W).numpy()
    np.testing.assert_allclose(got, reference.predict_vectors(u, W), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got, np.einsum("bid,ijkd->bijk", u, W), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("iterations", [1, 2, 3])
def test_routing_matches_numpy(u_and_w, iterations):
    u_hat = reference.predict_vectors(*u_and_w).astype(np.float32)
    v, c = cl.routing_by_agreement(u_hat, iterations)
    v_ref, c_ref = reference.routing(u_hat.astype(np.float64), iterations)
    assert v.shape == (3, 10, 16) and c.shape == (3, 12, 10)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-4, atol=1e-5)


def test_the_default_is_the_papers_three_rounds(u_and_w):
    u_hat = reference.predict_vectors(*u_and_w).astype(np.float32)
    v_ref, c_ref = reference.routing(u_hat.astype(np.float64), 3)
    v, c = cl.routing_by_agreement(u_hat)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-4, atol=1e-5)


def test_coupling_sums_to_one_over_parents(u_and_w):
    u_hat = cl.predict_vectors(*u_and_w)
    _, c = cl.routing_by_agreement(u_hat, 3)
    np.testing.assert_allclose(c.numpy().sum(axis=2), 1.0, rtol=1e-5)
    assert not np.allclose(c.numpy().sum(axis=1), 1.0)


def test_first_round_is_uniform(u_and_w):
    _, c = cl.routing_by_agreement(cl.predict_vectors(*u_and_w), 1)
    np.testing.assert_allclose(c.numpy(), 0.1, rtol=1e-6)


def test_each_example_is_routed_on_its_own(u_and_w):
    u_hat = cl.predict_vectors(*u_and_w)
    v_batch, _ = cl.routing_by_agreement(u_hat, 3)
    v_alone, _ = cl.routing_by_agreement(u_hat[1:2], 3)
    np.testing.assert_allclose(v_batch.numpy()[1:2], v_alone.numpy(), rtol=1e-5, atol=1e-6)


def test_stop_inner_gradients_changes_the_gradient(u_and_w):
    u_hat = tf.constant(cl.predict_vectors(*u_and_w))
    grads = []
    for stop in (False, True):
        with tf.GradientTape() as tape:
            tape.watch(u_hat)
            v, _ = cl.routing_by_agreement(u_hat, 3, stop_inner_gradients=stop)
            loss = tf.reduce_sum(v**2)
        grads.append(tape.gradient(loss, u_hat).numpy())
    assert np.all(np.isfinite(grads[0])) and np.all(np.isfinite(grads[1]))
    assert not np.allclose(grads[0], grads[1])


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="at least one iteration"):
        cl.routing_by_agreement(tf.zeros((1, 2, 3, 4)), 0)
    with pytest.raises(ValueError, match=r"\(batch, num_inputs, num_outputs, output_dim\)"):
        cl.routing_by_agreement(tf.zeros((2, 3, 4)), 2)
