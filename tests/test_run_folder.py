"""Nothing lost, no silent wrong number (issue 23): runs that diverge, run folders edited or
partly deleted by hand, runs stopped at every point of an epoch's end, model files from
elsewhere."""

import json
import shutil

import keras
import numpy as np
import pytest

import capsnet_lib as cl
from capsnet_lib import checkpoints, training
from capsnet_lib.checkpoints import TrainingDiverged
from capsnet_lib.run_folder import RunFolderError

TINY = dict(limit=64, batch_size=32, routing_iterations=1, verbose=0)
SEEDED = dict(TINY, seed=7)


class Interrupted(Exception):
    """Stands for a kill at a chosen point of an epoch's end."""


def results(out):
    """What a run leaves in its folder, hidden files aside: names, and the log's text."""
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    return names, (out / checkpoints.LOG_NAME).read_text()


@pytest.fixture(scope="module")
def unseeded_run(tmp_path_factory):
    """A finished one-epoch run started without a seed (the seed was drawn and recorded)."""
    out = tmp_path_factory.mktemp("unseeded") / "run"
    training.train(out, epochs=1, **TINY)
    return out


@pytest.fixture
def copy_of_run(unseeded_run, tmp_path):
    return shutil.copytree(unseeded_run, tmp_path / "run")


# -- a run that diverges --------------------------------------------------------------------


def test_a_run_that_diverges_stops_and_keeps_no_nan_weights(tmp_path):
    with pytest.raises(TrainingDiverged, match=r"loss became nan.*smaller learning rate"):
        training.train(tmp_path, epochs=2, learning_rate=1e8, **SEEDED)
    assert not list(tmp_path.glob("epoch-*"))  # nothing to resume from with NaN weights
    assert not (tmp_path / checkpoints.BEST_NAME).exists()
    assert not (tmp_path / checkpoints.LOG_NAME).exists()


def test_the_checkpoint_writer_never_saves_non_finite_weights_or_losses(tmp_path):
    model = cl.CapsNet(routing_iterations=1)
    writer = checkpoints.EpochCheckpoint(tmp_path)
    writer.set_model(model)
    with pytest.raises(TrainingDiverged, match="val_loss nan"):
        writer.on_epoch_end(0, {"loss": 0.5, "val_loss": float("nan"), "val_accuracy": 0.1})
    kernel = model.decoder.weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    with pytest.raises(TrainingDiverged, match="non-finite weights"):
        writer.on_epoch_end(0, {"loss": 0.5, "val_accuracy": 0.1})
    assert list(tmp_path.iterdir()) == [] and writer.history == []


# -- run folders edited or partly deleted by hand -----------------------------------------------


def test_a_deleted_settings_file_of_an_unseeded_run_is_taken_from_the_checkpoint(copy_of_run):
    seed = json.loads((copy_of_run / training.SETTINGS_NAME).read_text())["seed"]
    (copy_of_run / training.SETTINGS_NAME).unlink()
    _, history = training.train(copy_of_run, epochs=2, **TINY)
    assert [row["epoch"] for row in history] == [1, 2]
    assert json.loads((copy_of_run / training.SETTINGS_NAME).read_text())["seed"] == seed
    # A checkpoint older than its copy of the settings: the seed is recorded nowhere.
    (copy_of_run / training.SETTINGS_NAME).unlink()
    for state_path in copy_of_run.glob("epoch-*/state.json"):
        state = json.loads(state_path.read_text())
        del state["settings"]
        state_path.write_text(json.dumps(state))
    with pytest.raises(RunFolderError, match=r"settings.json is missing.*--seed.*--overwrite"):
        training.train(copy_of_run, epochs=3, **TINY)


@pytest.mark.parametrize("name", [training.SETTINGS_NAME, "config.json"])
def test_a_garbled_record_is_named_with_what_to_do(copy_of_run, name):
    (copy_of_run / name).write_text('{"seed": 12,')
    with pytest.raises(ValueError, match=rf"{name} is not valid JSON .*: (correct|put)"):
        training.train(copy_of_run, epochs=1, **TINY)
    if name == "config.json":  # read back by evaluate too
        with pytest.raises(ValueError, match=rf"{name} is not valid JSON"):
            training.load_trained(copy_of_run)


def test_a_hand_edited_setting_is_refused_not_half_applied(copy_of_run):
    path = copy_of_run / training.SETTINGS_NAME
    path.write_text(path.read_text().replace('"learning_rate": 0.001', '"learning_rate": 0.01'))
    # The checkpoint's optimizer would go on with 0.001 whatever the file says.
    with pytest.raises(RunFolderError, match=r"learning_rate 0.001 -> 0.01.*delete the file"):
        training.train(copy_of_run, epochs=1, **TINY, learning_rate=0.01)


def test_results_without_checkpoints_are_kept_unless_overwrite_is_asked(copy_of_run):
    for folder in copy_of_run.glob("epoch-*"):
        shutil.rmtree(folder)  # "to save space"
    before = {p.name: p.read_bytes() for p in copy_of_run.iterdir() if p.is_file()}
    with pytest.raises(RunFolderError, match=r"log.csv, best.weights.h5.*--overwrite"):
        training.train(copy_of_run, epochs=1, **TINY)
    assert {p.name: p.read_bytes() for p in copy_of_run.iterdir() if p.is_file()} == before
    _, history = training.train(copy_of_run, epochs=1, overwrite=True, **SEEDED)
    assert len(history) == 1 and (copy_of_run / "epoch-0001").is_dir()


def test_deleted_best_weights_are_rebuilt_from_their_epochs_checkpoint(copy_of_run):
    # Epoch 2 did not beat epoch 1 (best_epoch 1): its weights are in epoch-0001 only.
    shutil.copytree(copy_of_run / "epoch-0001", copy_of_run / "epoch-0002")
    state_path = copy_of_run / "epoch-0002" / "state.json"
    state = json.loads(state_path.read_text())
    state.update(epoch=2, history=state["history"] * 2)
    state_path.write_text(json.dumps(state))
    (copy_of_run / checkpoints.BEST_NAME).unlink()
    training.train(copy_of_run, epochs=2, **TINY)
    rebuilt = cl.CapsNet(routing_iterations=1)
    rebuilt.load_weights(copy_of_run / checkpoints.BEST_NAME)
    kept = keras.models.load_model(copy_of_run / "epoch-0001" / "model.keras")
    for ours, theirs in zip(rebuilt.weights, kept.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# -- stopped at every point of an epoch's end ----------------------------------------------------


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Two epochs, one checkpoint kept (so that the second epoch's end prunes the first)."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoints, "KEEP_CHECKPOINTS", 1)
        training.train(out, epochs=2, **SEEDED)
    return results(out)


@pytest.mark.parametrize("stopped_in", ["write_csv", "prune_checkpoints"])
def test_a_rerun_after_a_stop_at_an_epochs_end_matches_an_uninterrupted_run(
    tmp_path, monkeypatch, uninterrupted, stopped_in
):
    monkeypatch.setattr(checkpoints, "KEEP_CHECKPOINTS", 1)
    real = getattr(checkpoints, stopped_in)

    def stop_at_epoch_2(*args):
        if (tmp_path / "epoch-0002").is_dir():  # that epoch's checkpoint is in place
            raise Interrupted
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, stopped_in, stop_at_epoch_2)
        with pytest.raises(Interrupted):
            training.train(tmp_path, epochs=2, **SEEDED)
    assert results(tmp_path) != uninterrupted
    training.train(tmp_path, epochs=2, **SEEDED)  # the same command again
    assert results(tmp_path) == uninterrupted


# -- model files from elsewhere ------------------------------------------------------------------


def test_a_keras_file_of_another_model_is_named(tmp_path):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    other.save(tmp_path / "other.keras")
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ValueError, match=r"other.keras holds a Keras Sequential, not a CapsNet"):
        training.load_trained(tmp_path / "other.keras")
    with pytest.raises(ValueError, match=r"does not fit a CapsNet with the default settings"):
        training.load_trained(tmp_path / "other.weights.h5")


def test_nan_weights_are_refused_naming_the_file(tmp_path):
    model = cl.CapsNet(routing_iterations=1)
    kernel = model.decoder.weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    model.save_weights(tmp_path / "best.weights.h5")
    with pytest.raises(ValueError, match=r"best.weights.h5 holds NaN .*smaller --learning-rate"):
        training.load_trained(tmp_path / "best.weights.h5", routing_iterations=1)


def test_weights_without_their_config_say_what_they_assume(copy_of_run):
    (copy_of_run / "config.json").unlink()  # trained with 1 routing iteration, not 3
    with pytest.warns(UserWarning, match=r"no config.json .* assuming 3 routing iterations"):
        training.load_trained(copy_of_run)
    training.train(copy_of_run, epochs=1, **TINY)  # a rerun writes it again
    assert training.load_trained(copy_of_run).config.routing_iterations == 1
