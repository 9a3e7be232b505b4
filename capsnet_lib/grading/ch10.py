"""Chapter 10, beyond one centred digit: how the grader judges exercises 10.1 to 10.4."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, scalar, with_rules


def _three_digit_measurement(refs) -> str:
    """The outcome 10.1 asks for, measured here with the shipped MultiMNIST network."""
    from capsnet_lib import multimnist as mm
    from capsnet_lib import multimnist_model as mmnet

    model = mmnet.load_pretrained_multimnist()
    pairs = mm.load_multimnist("test", limit=200)
    canvases, classes = mm.three_digit_canvases(pairs, refs.mnist.x_test, refs.mnist.y_test)
    counts = mmnet.three_digit_outcomes(model.predict(canvases, verbose=0), classes)
    return max(counts, key=counts.get)


def _judge_10_1(answers, inputs, refs) -> None:
    from capsnet_lib.multimnist_model import THREE_DIGIT_OUTCOMES

    answer = choice(answers["prediction"], THREE_DIGIT_OUTCOMES)
    measured = refs.once("10.1", lambda: _three_digit_measurement(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; most often: {measured!r}")


_PAIRS = """
rng = np.random.default_rng(I['seed'])
L = rng.uniform(0, 1, (40, 10)).astype(np.float32)
P = np.stack([rng.permutation(10)[:2] for _ in range(40)])
"""


def _pairs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.uniform(0, 1, (40, 10)).astype(np.float32)
    pairs = np.stack([rng.permutation(10)[:2] for _ in range(40)])
    return lengths, pairs


def _judge_10_2(answers, inputs, refs) -> None:
    lengths, pairs = _pairs(inputs["seed"])
    top2 = np.sort(np.argsort(-lengths, axis=1)[:, :2], axis=1)
    expected = (top2 == np.sort(pairs, axis=1)).all(axis=1)
    close(answers["right"], expected.astype(float), "both_right", rtol=0, atol=0)
    close(answers["swapped"], expected.astype(float), "both_right, pairs swapped", rtol=0, atol=0)
    close(answers["found"], np.ones(1), "both_right on a pair it finds", rtol=0, atol=0)


def _w_size_64_colour_100() -> int:
    """The weights of W in a CapsNet for 64x64 colour images of 100 classes, as built."""
    from capsnet_lib.model import CapsNet

    bigger = CapsNet(image_shape=(64, 64, 3), num_classes=100, xla_routing=False)  # built
    return int(np.prod(bigger.digit_capsules.W.shape))


def _judge_10_3(answers, inputs, refs) -> None:
    got = scalar(answers["prediction"], "prediction")
    measured = refs.once("10.3", _w_size_64_colour_100)
    if got != measured:
        raise Wrong(f"predicted {got:g}; W holds {measured:,} weights")


def _parameters_gained_3_to_6_classes() -> int:
    """What a CapsNet for the example folder's 32x32 colour images gains from 3 to 6 classes."""
    from capsnet_lib.scale import architecture_of  # counts what model.count_params() does

    def parameters(num_classes: int) -> int:
        return architecture_of((32, 32, 3), num_classes).parameters

    return parameters(6) - parameters(3)


def _judge_10_4(answers, inputs, refs) -> None:
    got = scalar(answers["prediction"], "prediction")
    measured = refs.once("10.4", _parameters_gained_3_to_6_classes)
    if got != measured:
        raise Wrong(f"predicted {got:g}; the network for 6 classes has {measured:,} more")


_EXERCISES = [
    Exercise("10.1", {"prediction": Probe("prediction", "text")}, _judge_10_1),
    Exercise(
        "10.2",
        {
            "right": "both_right(L, P)",
            "swapped": "both_right(L, P[:, ::-1])",
            "found": "both_right(np.eye(10)[[2]] + np.eye(10)[[7]], np.array([[7, 2]]))",
        },
        _judge_10_2,
        lambda rng: {"seed": int(rng.integers(2**31))},
        prelude=_PAIRS,
    ),
    Exercise("10.3", {"prediction": "prediction"}, _judge_10_3),
    Exercise("10.4", {"prediction": "prediction"}, _judge_10_4),
]
EXERCISES = with_rules(
    _EXERCISES,
    {"10.2": ("both_right",)},
    numpy_only={"10.2"},
)
