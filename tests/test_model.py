import numpy as np
import pytest
import tensorflow as tf

import capsnet_lib as cl

RNG = np.random.default_rng(0)
X = RNG.uniform(size=(8, 28, 28, 1)).astype(np.float32)
Y = RNG.integers(0, 10, size=8)


@pytest.fixture(scope="module")
def model():
    keras_model = cl.CapsNet(routing_iterations=2)
    keras_model.compile(optimizer="adam")
    return keras_model


def test_parameter_count_is_the_papers(model):
    # conv1 20,992 + primary 5,308,672 + W 1,474,560 + decoder 1,411,344 (the paper: 8.2M)
    assert model.count_params() == 8_215_568


def test_call_and_predict_give_lengths(model):
    lengths = model(X).numpy()
    assert lengths.shape == (8, 10) and (lengths >= 0).all() and (lengths < 1).all()
    np.testing.assert_allclose(model.predict(X, verbose=0), lengths, rtol=1e-5)


def test_poses_and_reconstruct(model):
    poses = model.digit_poses(X)
    assert poses.shape == (8, 10, 16)
    assert model.reconstruct(poses).shape == (8, 28, 28, 1)
    assert model.reconstruct(poses, labels=Y).shape == (8, 28, 28, 1)


def test_prediction_does_not_depend_on_the_rest_of_the_batch(model):
    alone = model(X[:1]).numpy()
    np.testing.assert_allclose(model(X).numpy()[:1], alone, rtol=1e-4, atol=1e-6)


def test_train_on_batch_fit_and_evaluate(model):
    first = model.train_on_batch(X, Y, return_dict=True)
    assert set(first) >= {"loss", "margin_loss", "reconstruction_loss", "accuracy"}
    history = model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(3)
    model.fit(dataset, epochs=1, verbose=0)
    results = model.evaluate(X, Y, verbose=0, return_dict=True)
    accuracy = np.mean(np.argmax(model.predict(X, verbose=0), axis=1) == Y)
    np.testing.assert_allclose(results["accuracy"], accuracy, atol=1e-6)


def test_loss_is_margin_plus_weighted_reconstruction(model):
    loss, margin, recon, lengths = model.compute_losses(X, Y, training=True)
    np.testing.assert_allclose(loss, margin + 0.0005 * recon, rtol=1e-6)
    np.testing.assert_allclose(margin, cl.margin_loss(Y, lengths), rtol=1e-6)


def test_decoder_masked_by_label_in_training_by_prediction_otherwise():
    # A trained model on real digits: an untrained one has capsules so short that any mask
    # decodes to nearly the same image, and the comparison below would be a coin toss.
    trained = cl.load_pretrained()
    images = cl.load_mnist(limit=8).x_test
    wrong = (np.argmax(trained(images).numpy(), axis=1) + 1) % 10
    _, _, recon_train, _ = trained.compute_losses(images, wrong, training=True)
    _, _, recon_test, _ = trained.compute_losses(images, wrong, training=False)
    by_prediction = trained.reconstruct(trained.digit_poses(images))
    np.testing.assert_allclose(recon_test, cl.reconstruction_loss(images, by_prediction), rtol=1e-5)
    by_label = trained.reconstruct(trained.digit_poses(images), wrong)
    np.testing.assert_allclose(recon_train, cl.reconstruction_loss(images, by_label), rtol=1e-5)
    assert recon_train > 1.5 * recon_test  # the wrong label's capsule draws the wrong digit


@pytest.mark.parametrize(
    "images, error, match",
    [
        (np.zeros((2, 28, 28), np.float32), ValueError, r"channel axis"),
        (np.zeros((28, 28, 1), np.float32), ValueError, r"one image\? add a batch axis"),
        (np.zeros((2, 32, 32, 1), np.float32), ValueError, r"\(batch, 28, 28, 1\)"),
        (np.zeros((2, 28, 28, 1), np.uint8), TypeError, r"float images"),
    ],
)
def test_bad_images_say_what_was_expected(model, images, error, match):
    with pytest.raises(error, match=match):
        model.predict(images, verbose=0)
    with pytest.raises(error, match=match):
        model(images)


@pytest.mark.parametrize(
    "images, match",
    [
        (X * 255, r"reach 25\d.*divide them by 255 \(images / 255\)"),  # the commonest mistake
        ((X - 0.1307) / 0.3081, r"reach 2.8.*standardized"),
        (X - 0.5, r"go down to -0.4"),
    ],
)
def test_pixels_outside_0_1_are_refused_naming_the_fix(model, images, match):
    for method in (model.predict, model):
        with pytest.raises(ValueError, match=match):
            method(images)
    with pytest.raises(ValueError, match=match):
        model.evaluate(images, Y, verbose=0)
    with pytest.raises(ValueError, match=match):
        model.fit(images, Y, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((images, Y)).batch(4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"divide them by 255"):
        model.fit(dataset, epochs=1, verbose=0)
    model.predict(np.clip(X + 0.005, 0, 1.005), verbose=0)  # resampling's rounding: accepted


def test_no_images_are_refused(model):
    with pytest.raises(ValueError, match="got 0 images"):
        model.predict(X[:0], verbose=0)
    with pytest.raises(ValueError, match="got 0 images"):
        model.evaluate(X[:0], Y[:0], verbose=0)
    empty = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4).take(0)
    with pytest.raises(ValueError, match="dataset is empty"):
        model.evaluate(empty, verbose=0)


def test_bad_labels_in_fit_and_evaluate(model):
    with pytest.raises(ValueError, match="label 10 is outside"):
        model.fit(X[:2], np.array([1, 10]), verbose=0)
    with pytest.raises(ValueError, match="label -3 is outside"):
        model.train_on_batch(X[:2], np.array([-3, 1]))
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        model.evaluate(X[:2], np.array([1, 2, 3]), verbose=0)


def test_keras_round_trip(model, tmp_path):
    path = tmp_path / "capsnet.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert loaded.config == model.config
    np.testing.assert_allclose(loaded(X).numpy(), model(X).numpy(), rtol=1e-5, atol=1e-6)
    loaded.train_on_batch(X, Y)  # the optimizer state came back with it


def test_weights_round_trip_and_other_architecture(model, tmp_path):
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    twin = cl.CapsNet(routing_iterations=2)
    twin.load_weights(path)
    np.testing.assert_allclose(twin(X).numpy(), model(X).numpy(), rtol=1e-5, atol=1e-6)
    other = cl.CapsNet(routing_iterations=2, decoder_units=(256, 512))
    with pytest.raises(ValueError):
        other.load_weights(path)


def test_unknown_setting_and_bad_precision():
    with pytest.raises(TypeError, match="unknown CapsNet settings"):
        cl.CapsNet(routings=3)
    with pytest.raises(ValueError, match="precision must be"):
        cl.CapsNet(precision="float16")


def test_mixed_bfloat16_trains():
    model = cl.CapsNet(precision="mixed_bfloat16")
    model.compile(optimizer="adam")
    assert model.conv1.compute_dtype == "bfloat16" and model.digit_capsules.W.dtype == "float32"
    logs = model.train_on_batch(X, Y, return_dict=True)
    assert np.isfinite(logs["loss"])
    assert model(X).dtype == tf.float32
