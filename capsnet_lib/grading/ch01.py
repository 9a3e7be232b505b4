"""Chapter 1, input: how the grader judges exercises 1.1 to 1.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import TEXT, Exercise, Probe, Wrong, choice, close, scalar, with_rules


def conv_size(size: int, kernel: int, stride: int = 1) -> int:
    """The output size of a "valid" convolution (what Keras computes)."""
    return (size - kernel) // stride + 1


def capsnet_parameters(side: int, channels: int, classes: int = 10) -> int:
    """The paper's CapsNet's parameters for ``side``x``side`` images of ``channels``: conv1,
    the primary capsules' convolution, the matrices W and the decoder 160-512-1024-pixels."""
    conv1 = 9 * 9 * channels * 256 + 256
    primary = 9 * 9 * 256 * 256 + 256
    grid = conv_size(conv_size(side, 9), 9, 2)
    weights = grid * grid * 32 * classes * 16 * 8
    sizes = [16 * classes, 512, 1024, side * side * channels]
    decoder = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return conv1 + primary + weights + decoder


def _judge_1_1(answers, inputs, refs) -> None:
    total = capsnet_parameters(32, 3)  # 11,749,120
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - total) > 0.01 * total:
        raise Wrong(f"predicted {guess:,.0f}; the network has {total:,} parameters")


def _judge_1_2(answers, inputs, refs) -> None:
    pooled = lambda a: a.reshape(3, 2, 3, 2).max(axis=(1, 3))  # noqa: E731 - 2x2 max-pooling
    unchanged = 0
    for row in range(6):
        for col in range(5):
            part = np.zeros((6, 6))
            part[row, col] = 1.0
            unchanged += int(np.array_equal(pooled(part), pooled(np.roll(part, 1, axis=1))))
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - unchanged) > 2:
        raise Wrong(f"predicted {guess:g}; the pooled maps stay equal for {unchanged} of 30")


def _pose(x: float, y: float, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a), x], [np.sin(a), np.cos(a), y], [0.0, 0.0, 1.0]])


def _turned_mouth_gap() -> float:
    """The face toy of "Why capsules": the gap between the face centres that the nose and the
    mouth predict once the mouth is turned by 60 degrees about its own centre."""
    in_face = {"nose": _pose(0, 0, 0), "mouth": _pose(0, -0.5, 0)}
    face = _pose(1.0, 0.6, 25)
    nose, mouth = face @ in_face["nose"], face @ in_face["mouth"] @ _pose(0, 0, 60)
    by_nose = nose @ np.linalg.inv(in_face["nose"])
    by_mouth = mouth @ np.linalg.inv(in_face["mouth"])
    return float(np.linalg.norm(by_nose[:2, 2] - by_mouth[:2, 2]))  # 0.5


def _judge_1_3(answers, inputs, refs) -> None:
    gap = _turned_mouth_gap()
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - gap) > 0.05:
        raise Wrong(f"predicted {guess:g}; the predicted face centres are {gap:.2f} apart")


SEEDED = ("all three", "a and b", "a and c", "b and c", "none")


def _equal_kernels() -> str:
    """Which of three Dense(4) layers start alike: a and b after one seed, c after another."""
    import keras

    def kernel():
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return np.asarray(layer.kernel)

    keras.utils.set_random_seed(42)
    a, b = kernel(), kernel()
    keras.utils.set_random_seed(42)
    c = kernel()
    pairs = {"a and b": (a, b), "a and c": (a, c), "b and c": (b, c)}
    equal = [name for name, (p, q) in pairs.items() if np.array_equal(p, q)]
    return {0: "none", 3: "all three"}.get(len(equal)) or equal[0]


def _judge_1_4(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], SEEDED)
    measured = refs.once("1.4", _equal_kernels)
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; the equal kernels: {measured}")


def ink_lost_reference(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The fraction of each image's ink that a shift by (dy, dx) pushes out of the frame."""
    x = np.asarray(images, np.float64)[..., 0]  # (n, 28, 28)
    rows = np.arange(28)
    kept = ((rows + dy >= 0) & (rows + dy < 28))[:, None] & ((rows + dx >= 0) & (rows + dx < 28))
    return (x * ~kept).sum(axis=(1, 2)) / x.sum(axis=(1, 2))


def _ink_inputs(rng) -> dict:
    shifts = [[2, 0], [0, -2], [-1, 2], [0, 0]] + rng.integers(-3, 4, (3, 2)).tolist()
    return {"index": sorted(rng.choice(5000, 40, replace=False).tolist()), "shifts": shifts}


def _judge_1_5(answers, inputs, refs) -> None:
    valid = refs.mnist.x_valid
    for (dy, dx), got in zip(inputs["shifts"], answers["lost"], strict=True):
        expected = ink_lost_reference(valid[inputs["index"]], dy, dx)
        close(got, expected, f"ink_lost, shift {dy, dx}", rtol=0, atol=1e-6)
    worst = refs.once(
        "1.5 worst",
        lambda: np.max(
            [ink_lost_reference(valid, dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)],
            axis=0,
        ),
    )
    close(answers["worst"], worst, "worst", rtol=0, atol=1e-6)
    n_losing = scalar(answers["n_losing"], "n_losing")
    if not np.sum(worst > 1e-6) <= n_losing <= np.sum(worst > 0):
        raise Wrong(f"n_losing: {n_losing:g}")
    if abs(scalar(answers["largest"], "largest") - worst.max()) >= 1e-6:
        raise Wrong("largest is not the largest loss")


_EXERCISES = [
    Exercise("1.1", {"prediction": "prediction"}, _judge_1_1),
    Exercise("1.2", {"prediction": "prediction"}, _judge_1_2),
    Exercise("1.3", {"prediction": "prediction"}, _judge_1_3),
    Exercise("1.4", {"prediction": Probe("prediction", TEXT)}, _judge_1_4),
    Exercise(
        "1.5",
        {
            "lost": "[ink_lost(picked, dy, dx) for dy, dx in I['shifts']]",
            "worst": "worst",
            "n_losing": "n_losing",
            "largest": "largest",
        },
        _judge_1_5,
        _ink_inputs,
        prelude="picked = cl.load_mnist().x_valid[I['index']]",
    ),
]
EXERCISES = with_rules(_EXERCISES, {"1.5": ("ink_lost",)})
