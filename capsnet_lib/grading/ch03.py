"""Chapter 3, routing: how the grader judges exercises 3.1 to 3.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import (
    Exercise,
    Probe,
    Wrong,
    choice,
    scalar,
    with_rules,
)

N_TEST = 100  # the chapter's n_test in quick mode


def _toy_u_hat() -> np.ndarray:
    """The chapter's six 2-D predictions for two parents: (1, 6, 2, 2)."""
    angles = np.radians([[20, 200], [30, 290], [40, 20], [25, 340], [150, 95], [170, 105]])
    lengths = np.array([[1.0, 0.5]] * 4 + [[1.0, 1.0]] * 2)
    toy = np.stack([lengths * np.cos(angles), lengths * np.sin(angles)], axis=-1)
    return toy[None].astype(np.float32)


def _judge_3_1(answers, inputs, refs) -> None:
    from capsnet_lib.routing import routing_by_agreement

    answer = choice(answers["prediction"], ("more", "the same", "less"), "prediction")
    before, after = (
        np.asarray(routing_by_agreement(scale * _toy_u_hat(), iterations=3)[1])[0, :4, 0]
        for scale in (1.0, 3.0)
    )  # (4,) each: children 0-3's coefficients to parent 0
    if (after > before + 0.01).all():
        measured = "more"
    elif (after < before - 0.01).all():
        measured = "less"
    else:
        measured = "the same"
    if answer != measured:
        raise Wrong(f"children 0-3 get {after.round(2)} against {before.round(2)}")


def _test_u_hat(refs, n: int) -> np.ndarray:
    """The shipped CapsNet's predictions ``u_hat`` for the first ``n`` test digits."""
    model = refs.capsnet
    u = model.primary_capsules(model.conv1(refs.mnist.x_test[:n]))  # (n, 1152, 8)
    return np.einsum("bid,ijkd->bijk", np.asarray(u), np.asarray(model.digit_capsules.W))


def _judge_3_2(answers, inputs, refs) -> None:
    from capsnet_lib.routing import routing_by_agreement

    total = scalar(answers["total"], "the total, prediction[0]")
    shortest = choice(answers["shortest"], ("more", "less"), "prediction[1]")
    v, c = routing_by_agreement(_test_u_hat(refs, 1), iterations=3)
    into = np.asarray(c, np.float64)[0].sum(axis=0)  # (10,): each parent's sum over children
    loser = int(np.argmin(np.linalg.norm(np.asarray(v)[0], axis=-1)))
    if abs(total - into.sum()) >= 0.5:
        raise Wrong(f"the total: predicted {total:g}, measured {into.sum():.1f}")
    measured = "more" if into[loser] > 115.2 else "less"
    if shortest != measured:
        raise Wrong(f"the shortest parent gets {into[loser]:.1f}: {measured} than 115.2")


def _judge_3_3(answers, inputs, refs) -> None:
    from capsnet_lib.routing import routing_by_agreement

    answer = scalar(answers["prediction"], "prediction")
    silent = _test_u_hat(refs, 1).astype(np.float32)  # (1, 1152, 10, 16)
    silent[0, 0] = 0.0  # child 0 predicts nothing
    c = np.asarray(routing_by_agreement(silent, iterations=3)[1])[0, 0]  # (10,)
    if not np.allclose(answer, c, atol=0.005):
        raise Wrong(f"child 0 sends {c.round(3)} to the parents")


def _judge_3_4(answers, inputs, refs) -> None:
    answer = scalar(answers["prediction"], "prediction")
    # per image, child and parent: the tile version's 32x8 W, 8-D u and 32-D product,
    # the einsum's 32-D u_hat (100 classes, 32-D digit capsules, 8-D primary capsules)
    expected = (32 * 8 + 8 + 32) / 32
    if abs(answer - expected) >= 0.01:
        raise Wrong(f"the tile version's arrays take {expected:.2f} times the bytes of u_hat")


def _ten_rounds(refs) -> float:
    """The median length of the longest digit capsule after ten rounds, first test digits."""
    u_hat = _test_u_hat(refs, N_TEST).astype(np.float32)  # (n, 1152, 10, 16)
    b = np.zeros(u_hat.shape[:3], np.float32)
    for _ in range(10):
        c = np.exp(b) / np.exp(b).sum(axis=2, keepdims=True)  # eq. 3
        s = np.einsum("bij,bijk->bjk", c, u_hat)  # eq. 2
        norm = np.linalg.norm(s, axis=-1, keepdims=True)
        v = norm / (1 + norm**2) * s  # eq. 1
        b = b + np.einsum("bijk,bjk->bij", u_hat, v)
    return float(np.median(np.linalg.norm(v, axis=-1).max(axis=1)))


def _judge_3_5(answers, inputs, refs) -> None:
    answer = scalar(answers["prediction"], "prediction")
    expected = refs.once("3.5 ten rounds", lambda: _ten_rounds(refs))
    if abs(answer - expected) > 0.03:
        raise Wrong(f"after ten rounds the median longest length is {expected:.3f}")


_EXERCISES = [
    Exercise("3.1", {"prediction": Probe("prediction", "text")}, _judge_3_1),
    Exercise(
        "3.2",
        {"total": "prediction[0]", "shortest": Probe("prediction[1]", "text")},
        _judge_3_2,
    ),
    Exercise("3.3", {"prediction": "prediction"}, _judge_3_3),
    Exercise("3.4", {"prediction": "prediction"}, _judge_3_4),
    Exercise("3.5", {"prediction": "prediction"}, _judge_3_5),
]
EXERCISES = with_rules(_EXERCISES, {})
