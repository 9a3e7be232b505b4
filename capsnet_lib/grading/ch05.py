"""Chapter 5, mask: how the grader judges exercises 5.1 to 5.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import (
    Exercise,
    Probe,
    Wrong,
    choice,
    close,
    scalar,
    with_rules,
)

N_SEARCH = 500  # the chapter's n_search
SHIFT = 6  # exercise 5.5 shifts the searched digits this many pixels right
QUICK_LIMIT = 1000  # the chapter loads the first 1,000 images of each split in quick mode


def _seed(rng) -> dict:
    return {"seed": int(rng.integers(2**31))}


def _unmasked_errors(refs) -> dict:
    """Mean squared error of the first 100 test digits' drawings, masked and unmasked."""
    x, y = refs.mnist.x_test[:100], refs.mnist.y_test[:100]
    poses = refs.poses(x)
    unmasked = np.asarray(refs.capsnet.decoder(poses), np.float64).reshape(x.shape)
    drawn = {"masked": refs.reconstructions(poses, y), "unmasked": unmasked}
    return {k: np.sum((x - d) ** 2, axis=(1, 2, 3)).mean() for k, d in drawn.items()}


def _judge_5_1(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    errors = refs.once("5.1", lambda: _unmasked_errors(refs))
    ratio = errors["unmasked"] / errors["masked"]
    measured = "A" if abs(ratio - 1) <= 0.1 else ("B" if ratio > 1 else "C")
    if answer != measured:
        raise Wrong(
            f"predicted {answer!r}; mean squared error masked by the label "
            f"{errors['masked']:.1f}, unmasked {errors['unmasked']:.1f}"
        )


def _judge_5_2(answers, inputs, refs) -> None:
    filled = np.arange(3, 160, 10)  # (16, 10) flattened: dimension d of class 3 at 10d + 3
    close(answers["prediction"], filled, "the class-3 capsule's positions", rtol=0, atol=0)


def _reached(refs) -> np.ndarray:
    """How many capsules of each of the first 8 test digits the masked loss reaches."""
    import tensorflow as tf

    model = refs.capsnet
    images, labels = refs.mnist.x_test[:8], refs.mnist.y_test[:8]
    poses = tf.constant(refs.poses(images))
    with tf.GradientTape() as tape:
        tape.watch(poses)
        drawn = model.decoder(model.mask(poses, labels))
        loss = tf.reduce_sum(tf.square(images - drawn))
    gradient = np.asarray(tape.gradient(loss, poses))  # (8, 10, 16)
    return np.count_nonzero(np.abs(gradient).sum(axis=2), axis=1)


def _judge_5_3(answers, inputs, refs) -> None:
    guess = scalar(answers["prediction"], "prediction")
    reached = refs.once("5.3", lambda: _reached(refs))
    if not np.all(reached == guess):
        raise Wrong(f"predicted {guess:g}; capsules with a gradient, per image: {reached}")


def _wrong_label_distances(refs) -> dict:
    x, y = refs.mnist.x_test[:100], refs.mnist.y_test[:100]
    drawn = refs.reconstructions(refs.poses(x), (y + 1) % 10)
    x_train, y_train = refs.mnist.x_train[:QUICK_LIMIT], refs.mnist.y_train[:QUICK_LIMIT]
    means = np.stack([x_train[y_train == k].mean(axis=0) for k in range(10)])
    nothing = refs.reconstructions(np.zeros((1, 10, 16), np.float32))
    references = {"A": x, "B": means[(y + 1) % 10], "C": nothing}
    return {k: np.sum((drawn - r) ** 2, axis=(1, 2, 3)).mean() for k, r in references.items()}


def _judge_5_4(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    distance = refs.once("5.4", lambda: _wrong_label_distances(refs))
    measured = min(distance, key=distance.get)
    if answer != measured:
        shown = ", ".join(f"{k} {d:.0f}" for k, d in distance.items())
        raise Wrong(f"predicted {answer!r}; mean squared distances: {shown}")


def _search_errors(refs) -> tuple[np.ndarray, np.ndarray]:
    """Each searched digit's error, shifted SHIFT pixels right, masked by label and by prediction."""
    searched, labels = refs.mnist.x_test[:N_SEARCH], refs.mnist.y_test[:N_SEARCH]
    images = np.zeros_like(searched)
    images[:, :, SHIFT:] = searched[:, :, :-SHIFT]
    poses = refs.poses(images)
    errors = [
        np.sum((images - refs.reconstructions(poses, masked_by)) ** 2, axis=(1, 2, 3))
        for masked_by in (labels, None)
    ]
    return errors[0], errors[1]


def _judge_5_5(answers, inputs, refs) -> None:
    by_label, by_prediction = refs.once("5.5", lambda: _search_errors(refs))
    for name, expected in [("errors_by_label", by_label), ("errors_by_prediction", by_prediction)]:
        close(answers[name], expected, name, rtol=1e-3, atol=1e-3)


_EXERCISES = [
    Exercise("5.1", {"prediction": Probe("prediction", "text")}, _judge_5_1),
    Exercise("5.2", {"prediction": "prediction"}, _judge_5_2),
    Exercise("5.3", {"prediction": "prediction"}, _judge_5_3),
    Exercise("5.4", {"prediction": Probe("prediction", "text")}, _judge_5_4),
    Exercise(
        "5.5",
        {"errors_by_label": "errors_by_label", "errors_by_prediction": "errors_by_prediction"},
        _judge_5_5,
    ),
]
EXERCISES = with_rules(_EXERCISES, {})
