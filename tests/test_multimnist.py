"""MultiMNIST: the canvases as the paper describes them, its network, loss and shipped weights."""

import json
import re

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl
from capsnet_lib import multimnist as mm
from capsnet_lib import multimnist_model as mmnet
from capsnet_lib import plotting_multimnist as mmplot
from capsnet_lib.pretrained import WEIGHTS_DIR, sha256_of
from tests.shipped_files import corrupted_copy


@pytest.fixture(scope="module")
def digits():
    mnist = cl.load_mnist(limit=200)
    return mnist.x_test, mnist.y_test


def test_place_keeps_every_pixel_and_centres_at_offset_4(digits):
    images = digits[0][:9]
    for row in range(9):
        offsets = np.array([[row, 8 - row]] * 9)
        canvases = mm.place(images, offsets).numpy()
        assert canvases.shape == (9, 36, 36, 1)
        np.testing.assert_allclose(canvases.sum(axis=(1, 2, 3)), images.sum(axis=(1, 2, 3)), 1e-4)
        np.testing.assert_array_equal(canvases[:, row : row + 28, 8 - row : 36 - row], images)
    centred = mm.place(images, np.full((9, 2), 4)).numpy()
    np.testing.assert_array_equal(centred[:, 4:32, 4:32], images)


def test_pairs_are_two_classes_added_and_clipped_and_repeatable(digits):
    pairs = mm.make_pairs(*digits, seed=3)
    assert pairs.canvases.shape == (200, 36, 36, 1) and pairs.digits.shape == (200, 2, 36, 36, 1)
    assert (pairs.labels[:, 0] != pairs.labels[:, 1]).all()
    np.testing.assert_array_equal(pairs.labels[:, 0], digits[1])
    expected = np.minimum(pairs.digits[:, 0] + pairs.digits[:, 1], 1.0)
    np.testing.assert_allclose(pairs.canvases, expected, atol=1e-6)
    assert pairs.canvases.max() <= 1.0
    again = mm.make_pairs(*digits, seed=3)
    np.testing.assert_array_equal(pairs.canvases, again.canvases)
    other = mm.make_pairs(*digits, seed=4)
    assert not np.array_equal(pairs.labels, other.labels)
    # Every shift of the paper's range is drawn, and no other: offsets 0..8 on each axis.
    by_class, counts = mm._class_table(digits[1])
    base = tf.range(200, dtype=tf.int64)
    _, offsets = mm._draw_pairs(base, tf.constant(digits[1]), by_class, counts, [3, 0])
    assert sorted(set(np.asarray(offsets).ravel())) == list(range(9))


def test_training_stream_gives_each_image_once_with_a_new_partner(digits):
    images, labels = digits
    first = list(mm.training_stream(images, labels, batch_size=64, seed=1, epoch=0))
    again = list(mm.training_stream(images, labels, batch_size=64, seed=1, epoch=0))
    later = list(mm.training_stream(images, labels, batch_size=64, seed=1, epoch=1))
    assert [len(b[0]) for b in first] == [64, 64, 64, 8]
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(first[0][0], later[0][0])
    pair_labels = np.concatenate([b[1]["labels"] for b in first])
    assert (pair_labels[:, 0] != pair_labels[:, 1]).all()
    assert sorted(np.bincount(pair_labels[:, 0], minlength=10)) == sorted(
        np.bincount(labels, minlength=10)
    )


def test_pair_margin_loss_and_both_found():
    labels = tf.constant([[3, 8]])
    lengths = np.full((1, 10), 0.1, np.float32)
    lengths[0, 3], lengths[0, 8] = 0.5, 0.95  # 3 misses m+ by 0.4; 8 is fine
    loss = float(mmnet.pair_margin_loss(labels, tf.constant(lengths)))
    assert loss == pytest.approx(0.4**2)
    lengths[0, 5] = 0.6  # an absent 5 beats the 3
    assert float(mmnet.both_found(labels, tf.constant(lengths))[0]) == 0.0
    lengths[0, 5] = 0.1
    assert float(mmnet.both_found(tf.constant([[8, 3]]), tf.constant(lengths))[0]) == 1.0


def test_network_trains_on_pairs_and_round_trips(tmp_path, digits):
    keras.utils.set_random_seed(0)
    model = mmnet.MultiMnistCapsNet(xla_routing=False)
    assert model.config.image_shape == (36, 36, 1)
    assert model.primary_capsules.compute_output_shape((None, 28, 28, 256))[1] == 3200
    model.compile(optimizer="adam")
    pairs = mm.make_pairs(*digits, seed=0)
    batch = mm.pairs_dataset(
        mm.MultiMnist(pairs.canvases[:8], pairs.labels[:8], pairs.digits[:8]), 8
    )
    logs = model.fit(batch, epochs=1, verbose=0).history
    assert np.isfinite(logs["loss"][0]) and 0 <= logs["accuracy"][0] <= 1
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, mmnet.MultiMnistCapsNet)
    np.testing.assert_allclose(
        loaded.predict(pairs.canvases[:4], verbose=0),
        model.predict(pairs.canvases[:4], verbose=0),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="labels"):
        model.fit(pairs.canvases[:8], pairs.labels[:8], verbose=0)


def test_shipped_weights_find_both_digits_on_most_test_pairs():
    meta = json.loads((WEIGHTS_DIR / mmnet.META_NAME).read_text())
    assert sha256_of(WEIGHTS_DIR / mmnet.WEIGHTS_NAME) == meta["sha256"]
    model = mmnet.load_pretrained_multimnist()
    pairs = mm.load_multimnist("test", limit=300)
    found = mmnet.evaluate_pairs(model, pairs)
    accuracy = found["both_right"].mean()
    print("both digits found on the first 300 test pairs:", accuracy)
    assert abs(accuracy - meta["test_accuracy_float16"]) < 0.1
    assert accuracy > 0.5
    drawn = mmnet.reconstruct_each(model, pairs.canvases[:4], pairs.labels[:4])
    assert drawn.shape == (4, 2, 36, 36, 1)


def test_corrupt_multimnist_weights_are_refused(tmp_path):
    corrupted_copy(WEIGHTS_DIR, mmnet.WEIGHTS_NAME, mmnet.META_NAME, tmp_path)
    with pytest.raises(ValueError, match="SHA-256 does not match"):
        mmnet.load_pretrained_multimnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="MultiMNIST weights not found"):
        mmnet.load_pretrained_multimnist(tmp_path / "nowhere")


def test_two_colour_inks_each_digit_in_its_colour_and_both_dark():
    first, second = np.zeros((2, 2)), np.zeros((2, 2))
    first[0, 0] = second[0, 1] = 1.0
    first[1, 1] = second[1, 1] = 1.0
    image = mmplot.two_colour(first, second)
    np.testing.assert_allclose(image[1, 0], [1, 1, 1])  # no ink: white
    np.testing.assert_allclose(image[0, 0], mmplot.FIRST_COLOUR, atol=1e-6)
    np.testing.assert_allclose(image[0, 1], mmplot.SECOND_COLOUR, atol=1e-6)
    assert image[1, 1].sum() < min(image[0, 0].sum(), image[0, 1].sum())  # overlap: darker


def test_the_figures_title_each_pair_and_mark_a_wrong_one_red(digits):
    pairs = mm.make_pairs(*digits, seed=0)
    fig = mmplot.plot_pairs(pairs.canvases[:3], pairs.labels[:3], pairs.digits[:3])
    assert len(fig.axes) == 6
    chosen = pairs.labels[:3].copy()
    chosen[1] = [(chosen[1][0] + 1) % 10, chosen[1][1]]
    if chosen[1][0] == chosen[1][1]:
        chosen[1][0] = (chosen[1][0] + 1) % 10
    fig = mmplot.plot_pair_reconstructions(
        pairs.canvases[:3], pairs.digits[:3], pairs.labels[:3], chosen
    )
    colours = [ax.title.get_color() for ax in fig.axes[3:]]
    assert colours == ["black", "red", "black"]
    plt.close("all")


def test_both_figures_title_and_colour_a_pair_in_the_same_order(digits):
    """The canvas titled "4 and 2" in one figure is "4 and 2" in the next, the 4 orange."""
    pairs = mm.make_pairs(*digits, seed=0)
    labels = pairs.labels[:2]
    titles = [ax.get_title() for ax in mmplot.plot_pairs(pairs.canvases[:2], labels).axes]
    chosen = labels[:, ::-1].copy()  # longest capsule first: here the second digit's
    fig = mmplot.plot_pair_reconstructions(
        pairs.canvases[:2], pairs.digits[:2, ::-1], labels, chosen
    )
    assert [ax.get_title() for ax in fig.axes[:2]] == titles
    assert [ax.get_title() for ax in fig.axes[2:]] == [f"drew {a}, {b}" for a, b in labels.tolist()]
    for ax, pair in zip(fig.axes[2:], pairs.digits[:2], strict=True):  # orange: first digit
        np.testing.assert_allclose(
            ax.get_images()[0].get_array(), mmplot.two_colour(pair[0], pair[1]), atol=1e-6
        )
    plt.close("all")


# -- from Python and the command line, as a user gets them wrong --------------------------------


def test_make_pairs_refuses_digits_it_would_draw_wrong(digits):
    images, labels = digits
    with pytest.raises(ValueError, match=r"these reach 255: images scaled 0-255\? divide them"):
        mm.make_pairs(images * 255, labels)  # main: every canvas of ink overflowed
    with pytest.raises(TypeError, match=r"floats in \[0, 1\].*got dtype uint8.*/ 255"):
        mm.make_pairs(np.round(images * 255).astype(np.uint8), labels)
    with pytest.raises(ValueError, match=r"\(n, 28, 28, 1\); got \(200, 28, 28\): add a channel"):
        mm.make_pairs(images[..., 0], labels)  # main: "paddings must be the rank of inputs"
    with pytest.raises(ValueError, match=r"200 digits but labels shaped \(199,\)"):
        mm.make_pairs(images, labels[:-1])
    with pytest.raises(ValueError, match=r"labels must be from 0 to 9; got 0 to 12"):
        mm.make_pairs(images, np.where(labels == 3, 12, labels))
    with pytest.raises(ValueError, match="n must be a whole number, 1 or more"):
        mm.three_digit_canvases(mm.make_pairs(images, labels), images, labels, n=0)


def test_load_multimnist_names_its_splits_and_refuses_bad_limits():
    with pytest.raises(ValueError, match=r"one of 'test', 'valid', 'train'; got 'validation' \("):
        mm.load_multimnist("validation")  # main: a bare KeyError
    for limit in (-5, 0, 1.5, True):
        with pytest.raises(ValueError, match=r"limit must be a whole number, 1 or more"):
            mm.load_multimnist(limit=limit)  # main: -5 gave 9,995 pairs
    assert len(mm.load_multimnist(limit=3)) == 3


@pytest.fixture(scope="module")
def multimnist_run(tmp_path_factory):
    """A run folder of the shipped MultiMNIST network: best.weights.h5, config.json, settings."""
    out = tmp_path_factory.mktemp("multimnist-run")
    model = mmnet.load_pretrained_multimnist()
    model.save_weights(out / "best.weights.h5")
    config = {k: v for k, v in model.get_config().items() if k != "name"}
    (out / "config.json").write_text(json.dumps(config))
    (out / "settings.json").write_text(json.dumps({"task": "multimnist", "seed": 0}))
    return out


def test_evaluate_a_multimnist_run_on_multimnist_pairs(multimnist_run, capsys):
    from capsnet_lib import cli

    # main fed it 28x28 MNIST digits and failed on their shape
    assert cli.main(["evaluate", "--weights", str(multimnist_run), "--limit", "200"]) == 0
    out = capsys.readouterr().out
    found = re.fullmatch(
        r"test accuracy: (0\.\d{4}|1\.0000) \(200 MultiMNIST test pairs, both digits right\)\n",
        out,
    )
    meta = json.loads((WEIGHTS_DIR / mmnet.META_NAME).read_text())
    assert found and abs(float(found.group(1)) - meta["test_accuracy_float16"]) < 0.1, out
    args = ["evaluate", "--weights", str(multimnist_run), "--data-dir", str(multimnist_run)]
    assert cli.main(args) == 1
    assert "is a MultiMNIST network (36x36 canvases of two digits)" in capsys.readouterr().err


def test_train_multimnist_refuses_the_shift_it_does_not_use(tmp_path, capsys):
    from capsnet_lib import cli, training

    args = ["train", "--task", "multimnist", "--max-shift", "7", "--out", str(tmp_path / "r")]
    assert cli.main([*args, "--epochs", "1", "--limit", "100"]) == 1  # main: trained, recorded 7
    assert "--max-shift: not for --task multimnist, whose digits move up to 4 pixels" in (
        capsys.readouterr().err
    )
    with pytest.raises(ValueError, match=r"max_shift=7 \(--max-shift\): MultiMNIST does not use"):
        training.train(tmp_path / "p", 1, task="multimnist", max_shift=7, limit=100)
    assert not (tmp_path / "r").exists() and not (tmp_path / "p").exists()


def test_init_weights_pretrained_starts_multimnist_from_its_shipped_weights():
    from capsnet_lib.trained import initial_weights

    # main took the MNIST weights (28x28) and refused them for the 36x36 network
    start = initial_weights("pretrained", mmnet.MultiMnistCapsNet(xla_routing=False))
    shipped = mmnet.load_pretrained_multimnist()
    assert tuple(start.config.image_shape) == (36, 36, 1)
    for a, b in zip(start.get_weights(), shipped.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_predict_with_a_multimnist_run_names_both_digits(multimnist_run, tmp_path, capsys):
    from PIL import Image

    from capsnet_lib import cli

    pairs = mm.load_multimnist("test", limit=3)
    for k, canvas in enumerate(pairs.canvases):
        Image.fromarray(np.uint8(np.round(canvas[..., 0] * 255))).save(tmp_path / f"{k}.png")
    assert cli.main(["predict", "--weights", str(multimnist_run), str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(
        re.fullmatch(r"\d\.png: \d and \d \(lengths [01]\.\d\d, [01]\.\d\d\)", line)
        for line in lines
    ), lines
