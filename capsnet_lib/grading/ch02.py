"""Chapter 2, primary capsules: how the grader judges exercises 2.1 to 2.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Wrong, close, scalar, with_rules


def _judge_2_1(answers, inputs, refs) -> None:
    seen = np.zeros((28, 28), bool)
    for r in range(6):
        for c in range(6):  # the window of the capsules at (r, c): 17x17 from (2r, 2c)
            seen[2 * r : 2 * r + 17, 2 * c : 2 * c + 17] = True
    unseen = int(seen.size - seen.sum())
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - unseen) > 3:
        raise Wrong(f"predicted {guess:g}; {unseen} pixels are seen by no capsule")


def channels_first_channel(capsule: int) -> int:
    """The channel whose numbers fill ``capsule`` when (batch, 6, 6, 256) features are
    transposed to channels-first and then reshaped to 1,152 capsules of 8."""
    order = np.arange(6 * 6 * 256).reshape(6, 6, 256).transpose(2, 0, 1).reshape(1152, 8)
    channels = set((order[capsule] % 256).tolist())  # the code of (r, c, ch) is its index
    if len(channels) != 1:
        raise ValueError(f"capsule {capsule} mixes channels {sorted(channels)}")
    return channels.pop()


def _judge_2_2(answers, inputs, refs) -> None:
    channel = channels_first_channel(561)  # 124
    guess = scalar(answers["prediction"], "prediction")
    if guess != channel:
        raise Wrong(f"predicted channel {guess:g}; capsule 561 holds channel {channel}")


EPSILON = 1e-7  # the chapter's squash: |s|^2 / (1 + |s|^2) / sqrt(|s|^2 + epsilon) * s


def _judge_2_3(answers, inputs, refs) -> None:
    # the safe norm shortens eq. 1's output by l / sqrt(l^2 + eps): 0.99 at l^2 = 49 eps
    threshold = 0.99 * np.sqrt(EPSILON / (1 - 0.99**2))  # 0.00222
    guess = scalar(answers["prediction"], "prediction")
    if abs(guess - threshold) > 0.25 * threshold:
        raise Wrong(f"predicted {guess:g}; squash is over 1% short below {threshold:.4f}")


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
    Exercise("2.2", {"prediction": "prediction"}, _judge_2_2),
    Exercise("2.3", {"prediction": "prediction"}, _judge_2_3),
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
        "2.4": ("input_length_for",),
        "2.5": ("primary_lengths",),
    },
)
