"""Training and loading that lose nothing and never answer with a wrong number (issue 12).

Labels of the wrong shape or kind, NaN pixels, damaged checkpoints, two runs in one folder,
a resume with other settings, out-of-range options, and repeatability with a seed."""

import os
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from capsnet_lib import checkpoints, training
from tests.test_cli import run  # the command line in a subprocess, as a user runs it

RNG = np.random.default_rng(0)
X = RNG.uniform(size=(8, 28, 28, 1)).astype("float32")
Y = RNG.integers(0, 10, size=8)
LENGTHS = RNG.uniform(size=(8, 10)).astype("float32")
TINY = dict(limit=64, batch_size=32, routing_iterations=1, seed=7, verbose=0)


# -- labels ------------------------------------------------------------------------------------


def test_labels_shaped_batch_by_one_give_the_same_loss():
    flat = cl.margin_loss(Y, LENGTHS).numpy()
    column = cl.margin_loss(Y[:, None], LENGTHS).numpy()
    graph = tf.function(cl.margin_loss)(tf.constant(Y[:, None]), tf.constant(LENGTHS)).numpy()
    assert column == pytest.approx(flat) and graph == pytest.approx(flat)


def test_fit_and_evaluate_take_labels_shaped_batch_by_one():
    model = cl.CapsNet(routing_iterations=1)
    model.compile(optimizer="adam")
    model.fit(X, Y[:, None], batch_size=4, epochs=1, verbose=0)
    column = model.evaluate(X, Y[:, None], verbose=0, return_dict=True)
    flat = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert column["accuracy"] == flat["accuracy"]
    assert column["loss"] == pytest.approx(flat["loss"])


def test_one_hot_labels_are_refused_with_a_hint():
    with pytest.raises(ValueError, match=r"shaped \(batch,\) or \(batch, 1\).*one-hot"):
        cl.margin_loss(np.eye(10)[Y], LENGTHS)


def test_float_labels_one_rule_eagerly_and_in_a_graph():
    whole = Y.astype("float32")
    assert cl.margin_loss(whole, LENGTHS).numpy() == pytest.approx(cl.margin_loss(Y, LENGTHS))
    in_graph = tf.function(cl.margin_loss)
    assert in_graph(tf.constant(whole), tf.constant(LENGTHS)).numpy() == pytest.approx(
        cl.margin_loss(Y, LENGTHS)
    )
    fractional = whole + 0.5
    with pytest.raises(TypeError, match="fractional"):
        cl.margin_loss(fractional, LENGTHS)
    with pytest.raises(tf.errors.InvalidArgumentError, match="fractional"):
        in_graph(tf.constant(fractional), tf.constant(LENGTHS))


# -- pixels ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    net = cl.CapsNet(routing_iterations=1)
    net.compile(optimizer="adam")
    return net


def bad_images():
    images = X.copy()
    images[0, 3, 4, 0] = np.nan
    images[2, 5, 5, 0] = np.inf
    images[2, 6, 5, 0] = np.nan
    return images


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_nan_pixels_are_refused_with_their_count(model, method):
    args = (bad_images(),) if method == "predict" else (bad_images(), Y)
    with pytest.raises(ValueError, match="images hold 3 NaN or infinite values"):
        getattr(model, method)(*args, verbose=0)


def test_nan_pixels_in_a_dataset_stop_training(model):
    data = tf.data.Dataset.from_tensor_slices((bad_images(), Y)).batch(4)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"NaN or infinite values; count:\] \[3\]"
    ):
        model.fit(data, epochs=1, verbose=0)


# -- checkpoints -------------------------------------------------------------------------------


def test_a_corrupt_latest_checkpoint_falls_back_to_the_one_before(tmp_path):
    training.train(tmp_path, epochs=2, **TINY)
    assert [p.name for p in checkpoints.finished_checkpoints(tmp_path)] == [
        "epoch-0001",
        "epoch-0002",
    ]  # the last two are kept
    model_file = tmp_path / "epoch-0002" / checkpoints.MODEL_NAME
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    with pytest.warns(UserWarning, match="epoch-0002 cannot be read"):
        _, history = training.train(tmp_path, epochs=3, **TINY)
    assert [row["epoch"] for row in history] == [1, 2, 3]  # epoch 2 trained again


def test_leftovers_of_a_killed_run_are_removed(tmp_path):
    (tmp_path / ".checkpoint-abc").mkdir()
    (tmp_path / ".checkpoint-abc" / "model.keras").write_bytes(b"half")
    (tmp_path / ".tmp-best-xyz.weights.h5").write_bytes(b"half")
    training.train(tmp_path, epochs=1, **TINY)
    assert not list(tmp_path.glob(".checkpoint-*")) and not list(tmp_path.glob(".tmp-*"))


def test_best_weights_follow_the_epochs_checkpoint_and_files_are_synced(tmp_path, monkeypatch):
    events = []
    real_replace, real_fsync = os.replace, checkpoints.fsync_path

    def replace(src, dst):
        events.append(("rename", Path(dst).name))
        return real_replace(src, dst)

    def fsync(path):
        events.append(("fsync", Path(path).name))
        return real_fsync(path)

    monkeypatch.setattr(checkpoints.os, "replace", replace)
    monkeypatch.setattr(checkpoints, "fsync_path", fsync)
    training.train(tmp_path, epochs=1, **TINY)
    renames = [name for kind, name in events if kind == "rename"]
    assert renames.index("epoch-0001") < renames.index(checkpoints.BEST_NAME)
    for name in ("epoch-0001", checkpoints.BEST_NAME):
        before = events[: events.index(("rename", name))]
        assert any(
            kind == "fsync" and other.startswith((".checkpoint-", ".tmp-"))
            for kind, other in before
        )


def test_best_weights_are_rewritten_if_the_run_died_before_them(tmp_path):
    training.train(tmp_path, epochs=1, **TINY)
    (tmp_path / checkpoints.BEST_NAME).unlink()  # killed between checkpoint and best weights
    training.train(tmp_path, epochs=1, **TINY)  # nothing left to train: only the repair
    assert (tmp_path / checkpoints.BEST_NAME).is_file()


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    with checkpoints.RunLock(tmp_path):
        with pytest.raises(
            RuntimeError, match=rf"in use by another training run \(process {os.getpid()}\)"
        ):
            training.train(tmp_path, epochs=1, **TINY)
    training.train(tmp_path, epochs=1, **TINY)  # free again once the first one ends


def test_resuming_with_other_settings_lists_the_differences(tmp_path):
    training.train(tmp_path, epochs=1, **TINY)
    changed = {**TINY, "learning_rate": 5e-4, "reconstruction_weight": 0.001, "max_shift": 1}
    with pytest.raises(ValueError) as error:
        training.train(tmp_path, epochs=2, **changed)
    message = str(error.value)
    for difference in (
        "learning_rate 0.001 -> 0.0005",
        "reconstruction_weight 0.0005 -> 0.001",
        "max_shift 2 -> 1",
    ):
        assert difference in message


# -- repeatability -------------------------------------------------------------------------------


def test_a_seed_repeats_a_run_and_a_resumed_run_goes_on_where_it_stopped(tmp_path, capsys):
    first, second, resumed = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    training.train(first, epochs=2, **{**TINY, "verbose": 2})
    progress = capsys.readouterr().out
    # fit runs one epoch at a time; the progress line still counts out of the whole run
    assert "Epoch 1/2" in progress and "Epoch 2/2" in progress and "Epoch 1/1" not in progress
    training.train(second, epochs=2, **TINY)
    training.train(resumed, epochs=1, **TINY)
    training.train(resumed, epochs=2, **{**TINY, "verbose": 2})
    assert "Epoch 2/2" in capsys.readouterr().out  # a resumed run too
    a, b, c = (cl.plotting.read_log(p / "log.csv") for p in (first, second, resumed))
    for key in ("loss", "val_loss"):
        np.testing.assert_array_equal(a[key], b[key])  # same seed, same numbers
        np.testing.assert_allclose(c[key], a[key], rtol=1e-5)  # resumed = uninterrupted


def test_epochs_get_their_own_order_and_shifts():
    images = np.zeros((16, 28, 28, 1), np.float32)
    images[:, 10:18, 10:18] = 1.0
    labels = np.arange(16)

    def epoch(number):
        batches = list(cl.make_dataset(images, labels, 16, max_shift=2, seed=3, epoch=number))
        return batches[0][0].numpy(), batches[0][1].numpy()

    (x0, y0), (x0_again, y0_again), (x1, y1) = epoch(0), epoch(0), epoch(1)
    np.testing.assert_array_equal(x0, x0_again)
    np.testing.assert_array_equal(y0, y0_again)
    assert not np.array_equal(y0, y1) and not np.array_equal(x0[np.argsort(y0)], x1[np.argsort(y1)])


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value",
    [
        ("--learning-rate", "-1"),
        ("--learning-rate", "0"),
        ("--learning-rate", "nan"),
        ("--reconstruction-weight", "-0.1"),
        ("--reconstruction-weight", "inf"),
        ("--max-shift", "-1"),
        ("--max-shift", "30"),
        ("--decay-rate", "0"),
        ("--decay-rate", "1.5"),
    ],
)
def test_numeric_options_out_of_range_are_refused(tmp_path, option, value):
    result = run("train", "--out", str(tmp_path / "run"), "--epochs", "1", option, value)
    assert result.returncode == 2
    assert option in result.stderr
    assert not (tmp_path / "run").exists()


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(tmp_path):
    bogus = tmp_path / "model.keras"
    with zipfile.ZipFile(bogus, "w") as archive:
        archive.writestr("config.json", "{not json")
    result = run("evaluate", "--weights", str(bogus), "--limit", "10")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("capsnet_lib: error:")
    assert "Traceback" not in result.stderr
    debug = run("--debug", "evaluate", "--weights", str(bogus), "--limit", "10")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_keras_resume_still_compiles(tmp_path):
    """A resumed model has its optimizer (Keras skips compile for overridden compile())."""
    training.train(tmp_path, epochs=1, **TINY)
    model, _ = training.train(tmp_path, epochs=2, **TINY)
    assert isinstance(model.optimizer, keras.optimizers.Optimizer)
    assert int(model.optimizer.iterations.numpy()) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoints.latest_checkpoint(tmp_path)
