"""Chapter 9, robustness: how the grader judges exercises 9.1 to 9.4."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import ARRAYS, Exercise, Probe, Wrong, choice, close, with_rules

N = 300  # the chapter's test images in quick mode


def _judge_9_1(answers, inputs, refs) -> None:
    from capsnet_lib import affine

    expected = [affine.affine_matrix(rotation=degrees) for degrees in inputs["degrees"]]
    close(answers["matrices"], expected, "rotation_matrix", rtol=0, atol=1e-12)


DIRECTIONS = ("right", "down", "left", "up")  # the translated set's order, image by image


def _most_cut(refs) -> str:
    """The direction in which a 6-pixel shift cuts ink off the most of the chapter's digits."""
    from capsnet_lib import affine

    x = refs.mnist.x_test[:N]
    moved = affine.transformed(x, "translation", 6)
    lost = moved.sum(axis=(1, 2, 3)) < x.sum(axis=(1, 2, 3)) - 1e-3
    shares = [lost[np.arange(N) % 4 == k].mean() for k in range(4)]
    if max(shares) - min(shares) < 0.05:
        return "the same"
    return DIRECTIONS[int(np.argmax(shares))]


def _judge_9_2(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], (*DIRECTIONS, "the same"))
    measured = refs.once("9.2", lambda: _most_cut(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; a 6-pixel shift cuts the most digits {measured!r}")


_ROTATIONS = """
keras.utils.set_random_seed(0)
tuned = cl.load_baseline()
tuned.optimizer.learning_rate.assign(3e-4)
train_on_rotations(tuned, mnist.x_train[:3840], mnist.y_train[:3840], max_angle=60)
"""


def _accuracies(refs, model) -> tuple[float, float]:
    """``model``'s accuracy on the chapter's test images rotated by 45 degrees, and upright."""
    from capsnet_lib import affine

    x, y = refs.mnist.x_test[:N], refs.mnist.y_test[:N]
    turned = refs.once("9 turned", lambda: affine.transformed(x, "rotation", 45))
    return (
        float(affine.correct_predictions(model, turned, y).mean()),
        float(affine.correct_predictions(model, x, y).mean()),
    )


def _judge_9_3(answers, inputs, refs) -> None:
    tuned = refs.baseline()
    shapes = [w.shape for w in tuned.get_weights()]
    if [w.shape for w in answers["weights"]] != shapes:
        raise Wrong("the fine-tuned model's weights do not fit the CNN baseline")
    before = refs.once("9.3 before", lambda: _accuracies(refs, refs.baseline())[0])
    tuned.set_weights([w.astype(np.float32) for w in answers["weights"]])
    after, upright = _accuracies(refs, tuned)
    if after - before <= 0.10:
        raise Wrong(f"at 45 degrees only {before:.1%} -> {after:.1%}")
    if upright < 0.93:
        raise Wrong(f"upright digits fell to {upright:.1%}")


def _disagreement(refs) -> str:
    from capsnet_lib import affine

    x, y = refs.mnist.x_test[:N], refs.mnist.y_test[:N]
    turned = refs.once("9 turned", lambda: affine.transformed(x, "rotation", 45))
    caps = affine.correct_predictions(refs.capsnet, turned, y)
    conv = affine.correct_predictions(refs.baseline(), turned, y)
    b, c = int(np.sum(caps & ~conv)), int(np.sum(conv & ~caps))
    return "B" if b + c >= 3 * abs(b - c) else "A"


def _judge_9_4(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B"))
    measured = refs.once("9.4", lambda: _disagreement(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; the counts at 45 degrees say {measured!r}")


_EXERCISES = [
    Exercise(
        "9.1",
        {"matrices": "[rotation_matrix(d) for d in I['degrees']]"},
        _judge_9_1,
        lambda rng: {"degrees": [90, 0, *np.round(rng.uniform(-180, 180, 3), 2).tolist()]},
    ),
    Exercise("9.2", {"prediction": Probe("prediction", "text")}, _judge_9_2),
    Exercise(
        "9.3", {"weights": Probe("tuned.get_weights()", ARRAYS)}, _judge_9_3, prelude=_ROTATIONS
    ),
    Exercise("9.4", {"prediction": Probe("prediction", "text")}, _judge_9_4),
]
EXERCISES = with_rules(
    _EXERCISES,
    {"9.1": ("rotation_matrix",), "9.3": ("train_on_rotations",)},
    library={"9.3"},
)
