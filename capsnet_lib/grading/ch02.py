"""Chapter 2, primary capsules: how the grader judges exercises 2.1 to 2.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Wrong, close, scalar, with_rules


def _seed(rng) -> dict:
    return {"seed": int(rng.integers(2**31))}


def _judge_2_1(answers, inputs, refs) -> None:
    seen = np.zeros((28, 28), bool)
    for r in range(6):
        for c in range(6):  # the window of the capsules at (r, c): 17x17 from (2r, 2c)
            seen[2 * r : 2 * r + 17, 2 * c : 2 * c + 17] = True
    unseen = int(seen.size - seen.sum())
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - unseen) > 3:
        raise Wrong(f"predicted {guess:g}; {unseen} pixels are seen by no capsule")


def _channel_cases(rng) -> dict:
    cases = [[0, 0, 9], [5, 5, 77]]
    cases += [
        [int(rng.integers(6)), int(rng.integers(6)), int(rng.integers(256))] for _ in range(6)
    ]
    return {"cases": cases}


def _judge_2_2(answers, inputs, refs) -> None:
    expected = [[(6 * r + c) * 32 + ch // 8, ch % 8] for r, c, ch in inputs["cases"]]
    close(answers["pairs"], expected, "(capsule, component)", rtol=0, atol=0)


_CHANNELS_FIRST = "np.random.default_rng(I['seed']).normal(size=(3, 256, 6, 6)).astype(np.float32)"


def _judge_2_3(answers, inputs, refs) -> None:
    x = np.random.default_rng(inputs["seed"]).normal(size=(3, 256, 6, 6)).astype(np.float32)
    expected = x.transpose(0, 2, 3, 1).reshape(3, 1152, 8)  # (batch, 6, 6, 256) -> capsules
    close(answers["capsules"], expected, "the capsules", rtol=0, atol=0)


def _targets(rng) -> dict:
    return {"targets": [0.0, 0.9, *np.round(rng.uniform(0, 0.99, 4), 4).tolist()]}


def _judge_2_4(answers, inputs, refs) -> None:
    length = np.asarray(answers["lengths"], np.float64)
    close(length**2 / (1 + length**2), inputs["targets"], "squash's length", rtol=0, atol=1e-4)


def _primary_lengths(model, images) -> np.ndarray:
    """The lengths of the primary capsules by eq. 1, from the raw capsules ``s``."""
    s = np.asarray(model.primary_capsules.conv(model.conv1(images))).reshape(len(images), 1152, 8)
    norm = np.linalg.norm(s.astype(np.float64), axis=-1)
    return norm**2 / (1 + norm**2)


def _judge_2_5(answers, inputs, refs) -> None:
    valid = refs.mnist.x_valid
    close(
        answers["lengths"],
        _primary_lengths(refs.capsnet, valid[inputs["index"]]),
        "primary_lengths",
        rtol=0,
        atol=1e-3,
    )
    expected = refs.once(
        "2.5 trained", lambda: float(np.mean(_primary_lengths(refs.capsnet, valid[:100]) > 0.5))
    )
    trained = scalar(answers["long_trained"], "long_trained")
    untrained = scalar(answers["long_untrained"], "long_untrained")
    if abs(trained - expected) >= 0.005:
        raise Wrong(f"long_trained: {trained:.4f}, expected {expected:.4f}")
    if not 0 <= untrained < 0.01 or trained <= untrained:
        raise Wrong(f"long_untrained: {untrained:.4f} is not the untrained network's share")


_EXERCISES = [
    Exercise("2.1", {"prediction": "prediction"}, _judge_2_1),
    Exercise(
        "2.2", {"pairs": "[capsule_of(*case) for case in I['cases']]"}, _judge_2_2, _channel_cases
    ),
    Exercise(
        "2.3",
        {"capsules": f"capsules_from_channels_first(tf.constant({_CHANNELS_FIRST}))"},
        _judge_2_3,
        _seed,
    ),
    Exercise(
        "2.4", {"lengths": "[input_length_for(t) for t in I['targets']]"}, _judge_2_4, _targets
    ),
    Exercise(
        "2.5",
        {
            "lengths": "primary_lengths(cl.load_pretrained(), mnist.x_valid[I['index']])",
            "long_trained": "long_trained",
            "long_untrained": "long_untrained",
        },
        _judge_2_5,
        lambda rng: {"index": sorted(rng.choice(1000, 4, replace=False).tolist())},
    ),
]
EXERCISES = with_rules(
    _EXERCISES,
    {
        "2.2": ("capsule_of",),
        "2.3": ("capsules_from_channels_first",),
        "2.4": ("input_length_for",),
        "2.5": ("primary_lengths",),
    },
)
