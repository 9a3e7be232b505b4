"""Precision: ``auto`` picks bfloat16 only where the hardware has it; mixed policies train;
the XLA-compiled train step (Keras's default on a GPU) still refuses a label out of range."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from capsnet_lib.precision import choose_precision, cpu_flags, resolve_precision

RNG = np.random.default_rng(0)
X = RNG.uniform(size=(8, 28, 28, 1)).astype("float32")
Y = RNG.integers(0, 10, size=8)


@pytest.mark.parametrize(
    "gpus, flags, expected",
    [
        ([("NVIDIA H100", (9, 0))], set(), "mixed_bfloat16"),
        ([("NVIDIA A100", (8, 0))], set(), "mixed_bfloat16"),
        ([("Tesla T4", (7, 5))], {"avx512_bf16"}, "mixed_float16"),
        ([("some GPU", None)], set(), "mixed_float16"),
        ([], {"avx2", "avx512f", "avx512_bf16"}, "mixed_bfloat16"),
        ([], {"avx2", "amx_bf16"}, "mixed_bfloat16"),
        ([], {"avx2", "avx512f"}, "float32"),  # AVX-512 without bf16: emulated
        ([], {"avx2"}, "float32"),  # the AMD EPYC where bf16 ran 7.6x slower
        ([], set(), "float32"),  # no /proc/cpuinfo (macOS)
    ],
)
def test_auto_chooses_bfloat16_only_where_native(gpus, flags, expected):
    precision, reason = choose_precision(gpus=gpus, flags=flags)
    assert precision == expected
    assert reason  # the CLI prints it


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_resolve_precision_checks_names():
    assert resolve_precision("float32") == ("float32", "asked for")
    with pytest.raises(ValueError, match="precision must be 'auto' or one of"):
        resolve_precision("float16")


def test_auto_precision_in_the_model():
    expected, _ = choose_precision()
    assert cl.CapsNet(precision="auto").config.precision == expected


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_global_mixed_policy_trains(policy):
    """The standard Keras recipe: set the global policy, then build and fit."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = cl.CapsNet(routing_iterations=2)
        model.compile(optimizer="adam")
        history = model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.config.precision == policy
    assert model.conv1.compute_dtype == policy.removeprefix("mixed_")
    assert model.digit_capsules.compute_dtype == "float32"
    assert np.isfinite(history.history["loss"][-1])
    assert model(X).dtype == tf.float32


def test_unsupported_global_policy_is_refused():
    keras.mixed_precision.set_global_policy("float16")
    try:
        with pytest.raises(ValueError, match="use CapsNet\\(precision=...\\)"):
            cl.CapsNet()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mixed_float16_scales_the_loss():
    model = cl.CapsNet(routing_iterations=2, precision="mixed_float16")
    model.compile(optimizer="adam")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch(X, Y, return_dict=True)
    assert np.isfinite(logs["loss"])
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)]
    assert all(changed)  # no step skipped for an overflow: every variable moved


# XLA compiles the whole step on the CPU slowly (minutes for the paper's 256-filter
# convolutions); a narrower CapsNet has the same structure: convolutions, primary capsules,
# routing, mask, decoder and both losses.
SMALL = dict(routing_iterations=2, conv_filters=32, primary_maps=4, decoder_units=(64, 128))


def fit_losses(jit_compile: bool) -> list[float]:
    keras.utils.set_random_seed(5)
    model = cl.CapsNet(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    data = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4)
    return model.fit(data, epochs=3, verbose=0).history["loss"]


def test_xla_train_step_matches_the_uncompiled_one():
    """Keras compiles the whole step with XLA by default on a GPU; check it on the CPU.

    Same seed, data and optimizer: 3 epochs of 2 steps. XLA fuses and reorders float32
    arithmetic, so the losses agree to float32 rounding accumulated over 6 Adam steps,
    not bit for bit: 1e-3 relative is about 100x the differences seen, and a real
    divergence (a wrong mask, a lost gradient) moves the loss by far more.
    """
    plain, xla = fit_losses(False), fit_losses(True)
    assert plain[-1] < plain[0]  # it trains
    np.testing.assert_allclose(xla, plain, rtol=1e-3)


def test_xla_train_step_refuses_a_label_out_of_range():
    """XLA drops graph assertions; the label check runs in the input pipeline instead."""
    model = cl.CapsNet(**SMALL)
    model.compile(optimizer="adam", jit_compile=True)
    labels = Y.copy()
    labels[5] = 12
    data = tf.data.Dataset.from_tensor_slices((X, labels)).batch(4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside \[0, 10\)[\s\S]*12"):
        model.fit(data, epochs=1, verbose=0)


def test_cli_prints_the_precision_it_chose(tmp_path):
    """``--precision`` defaults to auto; ``train`` says what auto chose there and why."""
    script = textwrap.dedent(
        """
        import sys
        from unittest import mock
        import capsnet_lib.training
        from capsnet_lib import cli

        seen = {}
        def fake_train(out, epochs, **kw):
            seen.update(kw)
            return None, []
        with mock.patch.object(capsnet_lib.training, "train", fake_train):
            cli.main(["train", "--out", sys.argv[1], "--epochs", "1"])
            print("passed:", seen["precision"])
            cli.main(["train", "--out", sys.argv[1], "--epochs", "1", "--precision", "float32"])
            print("passed:", seen["precision"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    chosen, _ = choose_precision()
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"precision: {chosen} (")
    assert lines[1] == "passed: auto"  # recorded as asked, so that a resume matches
    assert lines[2] == "precision: float32 (asked for)"
    assert lines[3] == "passed: float32"
