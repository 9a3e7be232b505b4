"""Chapter 6, decoder: how the grader judges exercises 6.1 to 6.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, scalar, with_rules


def _seed(rng) -> dict:
    return {"seed": int(rng.integers(2**31))}


_PAIR = "np.random.default_rng(I['seed']).uniform({low}, {high}, size=(2, {n}, 28, 28, 1))"


def _pair(seed: int, low: float, high: float, n: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=(2, n, 28, 28, 1))


def _judge_6_1(answers, inputs, refs) -> None:
    a, b = _pair(inputs["seed"], 0, 1, 6)
    close(answers["mse"], np.mean((a - b) ** 2), "mean_squared_error", rtol=1e-5)


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


def _size_cases(rng) -> dict:
    stacks = [[160, 512, 1024, 784], [3, 2]]
    stacks += [rng.integers(1, 600, int(rng.integers(2, 6))).tolist() for _ in range(3)]
    return {"stacks": stacks}


def _judge_6_3(answers, inputs, refs) -> None:
    expected = [
        sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
        for sizes in inputs["stacks"]
    ]
    close(answers["counts"], expected, "dense_parameters", rtol=0, atol=0)


def _judge_6_4(answers, inputs, refs) -> None:
    x, x_hat = _pair(inputs["seed"], 0.01, 0.99, 4)
    per_pixel = -x * np.log(x_hat) - (1 - x) * np.log(1 - x_hat)
    close(answers["bce"], per_pixel.sum(axis=(1, 2, 3)).mean(), "the loss", rtol=1e-5)


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
    Exercise(
        "6.1",
        {"mse": f"mean_squared_error(*{_PAIR.format(low=0, high=1, n=6)})"},
        _judge_6_1,
        _seed,
    ),
    Exercise("6.2", {"prediction": Probe("prediction", "text")}, _judge_6_2),
    Exercise(
        "6.3", {"counts": "[dense_parameters(s) for s in I['stacks']]"}, _judge_6_3, _size_cases
    ),
    Exercise(
        "6.4",
        {"bce": f"bce_reconstruction_loss(*{_PAIR.format(low=0.01, high=0.99, n=4)})"},
        _judge_6_4,
        _seed,
    ),
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
EXERCISES = with_rules(
    _EXERCISES,
    {
        "6.1": ("mean_squared_error",),
        "6.3": ("dense_parameters",),
        "6.4": ("bce_reconstruction_loss",),
    },
)
