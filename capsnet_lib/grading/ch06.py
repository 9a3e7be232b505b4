"""Chapter 6, decoder: how the grader judges exercises 6.1 to 6.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, scalar, with_rules


def _judge_6_1(answers, inputs, refs) -> None:
    # tf.reduce_sum with no axis over a batch of 50: 50 times the paper's sum-then-mean
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - 50) > 0.05:
        raise Wrong(f"predicted {guess:g}; the 2017 term is 50 times the paper's")


def _gradient_sizes(refs) -> dict[str, float]:
    """The norm of each loss term's gradient over the shipped CapsNet's weights before its
    decoder, on the first 100 test digits (what exercise 6.2 measures)."""
    import tensorflow as tf

    model = refs.capsnet
    images, labels = refs.mnist.x_test[:100], refs.mnist.y_test[:100]
    decoder_weights = {id(v) for v in model.decoder.trainable_variables}
    encoder = [v for v in model.trainable_variables if id(v) not in decoder_weights]
    with tf.GradientTape(persistent=True) as tape:
        _, margin, reconstruction, _ = model.compute_losses(images, labels, training=True)
        terms = {"margin": margin, "reconstruction": 0.0005 * reconstruction}
    return {k: float(tf.linalg.global_norm(tape.gradient(t, encoder))) for k, t in terms.items()}


def _judge_6_2(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    size = refs.once("6.2", lambda: _gradient_sizes(refs))
    ratio = size["margin"] / size["reconstruction"]
    measured = "C" if ratio > 2 else "A" if ratio < 0.5 else "B"
    if answer != measured:
        raise Wrong(
            f"predicted {answer!r}; the gradients' sizes: margin {size['margin']:.4f},"
            f" reconstruction {size['reconstruction']:.4f}"
        )


def _judge_6_3(answers, inputs, refs) -> None:
    expected = 0.0005 * 2 * 0.5 / (32 * 784)  # d(0.0005 * mean)/d(one pixel), 32 images
    guess = scalar(answers["prediction"], "prediction")
    if not np.isclose(guess, expected, rtol=0.02, atol=0):
        raise Wrong(f"predicted {guess:.3g}; the gradient is {expected:.3g}")


def _judge_6_4(answers, inputs, refs) -> None:
    test_x = refs.mnist.x_test[:300].astype(np.float64)
    picture = np.asarray(answers["picture"], np.float64)
    if picture.shape != (28, 28, 1):
        raise Wrong(f"best_picture: shape {picture.shape}, not (28, 28, 1)")

    def error(c):
        return float(np.mean(np.sum((test_x - c) ** 2, axis=(1, 2, 3))))

    loss = scalar(answers["loss"], "best_loss")
    if abs(loss - error(picture)) >= 1e-3 * error(picture):
        raise Wrong(f"best_loss is {loss:.2f}, but that picture's error is {error(picture):.2f}")
    if error(picture) >= 1.0001 * error(test_x.mean(axis=0)):
        raise Wrong(f"the picture's error is {error(picture):.2f}: another picture does better")


def _confidence(refs) -> tuple[np.ndarray, np.ndarray]:
    images = refs.mnist.x_test[:100]
    poses = refs.poses(images)
    errors = np.sum((images - refs.reconstructions(poses)) ** 2, axis=(1, 2, 3))
    return np.linalg.norm(poses, axis=-1).max(axis=1), errors


def _judge_6_5(answers, inputs, refs) -> None:
    confidence, errors = refs.once("6.5", lambda: _confidence(refs))
    close(answers["confidence"], confidence, "confidence", rtol=1e-4, atol=1e-6)
    close(answers["recon_errors"], errors, "recon_errors", rtol=1e-3, atol=1e-3)
    correlation = scalar(answers["correlation"], "correlation")
    if abs(correlation - np.corrcoef(confidence, errors)[0, 1]) >= 1e-3:
        raise Wrong(f"{correlation:.3f} is not their correlation")


_EXERCISES = [
    Exercise("6.1", {"prediction": "prediction"}, _judge_6_1),
    Exercise("6.2", {"prediction": Probe("prediction", "text")}, _judge_6_2),
    Exercise("6.3", {"prediction": "prediction"}, _judge_6_3),
    Exercise("6.4", {"picture": "best_picture", "loss": "best_loss"}, _judge_6_4),
    Exercise(
        "6.5",
        {
            "confidence": "confidence",
            "recon_errors": "recon_errors",
            "correlation": "correlation",
        },
        _judge_6_5,
    ),
]
EXERCISES = with_rules(_EXERCISES, {})
