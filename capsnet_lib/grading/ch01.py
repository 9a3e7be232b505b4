"""Chapter 1, input: how the grader judges exercises 1.1 to 1.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import ARRAY, Exercise, Probe, Wrong, close, scalar, with_rules


def conv_size(size: int, kernel: int, stride: int = 1) -> int:
    """The output size of a "valid" convolution (what Keras computes)."""
    return (size - kernel) // stride + 1


def _conv_cases(rng) -> dict:
    cases = [[28, 9, 1], [20, 9, 2]]
    for _ in range(5):
        kernel = int(rng.integers(1, 10))
        cases.append([int(rng.integers(kernel, 64)), kernel, int(rng.integers(1, 4))])
    return {"cases": cases}


def _judge_1_1(answers, inputs, refs) -> None:
    expected = [conv_size(*case) for case in inputs["cases"]]
    close(answers["sizes"], expected, "conv_output_size", rtol=0, atol=0)


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


_ROWS = "np.random.default_rng(I['seed']).integers(0, 256, (5, 784)).astype(np.uint8)"


def _judge_1_3(answers, inputs, refs) -> None:
    rows = np.random.default_rng(inputs["seed"]).integers(0, 256, (5, 784)).astype(np.uint8)
    if answers["images"].dtype != np.float32:  # the values' own dtype, not what out says
        raise Wrong(f"dtype should be float32, got {answers['images'].dtype}")
    close(answers["images"], rows.reshape(5, 28, 28, 1) / 255.0, "to_images", rtol=0, atol=1e-6)


def _capsule_cases(rng) -> dict:
    return {
        "cases": [[28, 32]]
        + [[int(rng.integers(17, 64)), int(rng.choice([4, 8, 16, 32]))] for _ in range(4)]
    }


def _judge_1_4(answers, inputs, refs) -> None:
    expected = [conv_size(conv_size(size, 9), 9, 2) ** 2 * maps for size, maps in inputs["cases"]]
    close(answers["counts"], expected, "num_primary_capsules", rtol=0, atol=0)


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
    Exercise(
        "1.1",
        {"sizes": "[conv_output_size(*case) for case in I['cases']]"},
        _judge_1_1,
        _conv_cases,
    ),
    Exercise("1.2", {"prediction": "prediction"}, _judge_1_2),
    Exercise(
        "1.3",
        {"images": Probe("out", ARRAY)},
        _judge_1_3,
        lambda rng: {"seed": int(rng.integers(2**31))},
        prelude=f"out = to_images({_ROWS})",
    ),
    Exercise(
        "1.4",
        {"counts": "[num_primary_capsules(size, maps) for size, maps in I['cases']]"},
        _judge_1_4,
        _capsule_cases,
    ),
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
EXERCISES = with_rules(
    _EXERCISES,
    {
        "1.1": ("conv_output_size",),
        "1.3": ("to_images",),
        "1.4": ("num_primary_capsules",),
        "1.5": ("ink_lost",),
    },
)
