"""CapsNet under tf.distribute.MirroredStrategy on two logical CPU devices.

TensorFlow fixes its devices at start-up, so the check runs in a fresh interpreter.
"""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf, keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import capsnet_lib as cl

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(8, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, size=8)

    def one_step(strategy):
        keras.utils.set_random_seed(3)
        with strategy.scope():
            model = cl.CapsNet(routing_iterations=2)
            # a huge step makes the update itself big enough to compare
            model.compile(optimizer=keras.optimizers.SGD(1000.0))
        start = [w.copy() for w in model.get_weights()]
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
        model.fit(data, epochs=1, verbose=0, shuffle=False)
        return start, model.get_weights(), model

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    start_a, after_a, model = one_step(mirrored)
    start_b, after_b, single = one_step(tf.distribute.get_strategy())
    for a, b in zip(start_a, start_b):
        np.testing.assert_array_equal(a, b)
    moved = max(np.abs(a - s).max() for a, s in zip(after_a, start_a))
    assert moved > 1e-2, moved
    for a, b, s in zip(after_a, after_b, start_a):  # the same step as on one device
        np.testing.assert_allclose(a - s, b - s, rtol=1e-2, atol=1e-3 * moved)
    single.set_weights(model.get_weights())  # the same weights, evaluated both ways
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    alone = single.evaluate(x, y, verbose=0, return_dict=True)
    for key in ("loss", "margin_loss", "reconstruction_loss"):
        np.testing.assert_allclose(results[key], alone[key], rtol=1e-4)
    assert results["accuracy"] == alone["accuracy"]
    print("MIRRORED OK", moved)
    """
)


def test_one_step_on_two_replicas_equals_one_step_on_one_device():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MIRRORED OK" in result.stdout
