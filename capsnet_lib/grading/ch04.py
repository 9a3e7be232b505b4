"""Chapter 4, margin loss: how the grader judges exercises 4.1 to 4.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, scalar, with_rules


def margin(targets, lengths, m_plus=0.9, m_minus=0.1, lambda_=0.5) -> np.ndarray:
    """Eq. 4 summed over the classes, one loss per image, from (multi-)hot ``targets``."""
    T, lengths = np.asarray(targets, np.float64), np.asarray(lengths, np.float64)
    present = T * np.maximum(0, m_plus - lengths) ** 2
    absent = lambda_ * (1 - T) * np.maximum(0, lengths - m_minus) ** 2
    return (present + absent).sum(axis=1)


def _seed(rng) -> dict:
    return {"seed": int(rng.integers(2**31))}


def _judge_4_1(answers, inputs, refs) -> None:
    length = scalar(answers["prediction"], "prediction")
    # at lambda 0.25: class 0 absent at the predicted length, class 1 present at length 1
    cost = margin(np.eye(2)[[1]], [[length, 1.0]], lambda_=0.25)[0]
    if abs(cost - 0.16) > 0.004:
        raise Wrong(f"at lambda 0.25 an absent class at length {length:g} costs {cost:.3f}")


def _judge_4_2(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "same"))
    target = np.eye(10)[[3]]
    a = np.full((1, 10), 0.1)
    a[0, 3] = 0.7
    b = np.full((1, 10), 0.1)
    b[0, 3], b[0, 8] = 0.9, 0.4
    cost = {"A": margin(target, a)[0], "B": margin(target, b)[0]}
    measured = "same" if abs(cost["A"] - cost["B"]) < 1e-6 else max(cost, key=cost.get)
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; A costs {cost['A']:.3f}, B costs {cost['B']:.3f}")


def _judge_4_3(answers, inputs, refs) -> None:
    guess = scalar(answers["prediction"], "prediction")
    largest = np.e / (np.e + 9)  # one length at 1 (the limit), nine at 0
    if abs(guess - largest) > 0.006:
        raise Wrong(f"predicted {guess:g}; a softmax of lengths gives at most {largest:.3f}")


def _uniform_cases(rng) -> dict:
    cases = [[0.5, 10, 0.5], [0.7, 5, 1.0]]
    for _ in range(3):
        cases.append([round(float(rng.uniform(0.1, 0.9)), 4), int(rng.integers(2, 20)), 0.5])
    return {"cases": cases}


def _judge_4_4(answers, inputs, refs) -> None:
    expected = [
        margin(np.eye(classes)[[0]], np.full((1, classes), length), lambda_=lambda_)[0]
        for length, classes, lambda_ in inputs["cases"]
    ]
    close(answers["losses"], expected, "uniform_loss", rtol=0, atol=1e-5)


def _zero_loss(refs) -> tuple[float, float]:
    lengths = np.asarray(refs.capsnet.predict(refs.mnist.x_test[:500], batch_size=100, verbose=0))
    labels = refs.mnist.y_test[:500]
    label_length = lengths[np.arange(500), labels]
    others = np.where(np.eye(10, dtype=bool)[labels], 0.0, lengths).max(axis=1)
    expected = float(np.mean((label_length >= 0.9) & (others <= 0.1)))  # both margins met
    return expected, float(np.mean(lengths.argmax(axis=1) == labels))


def _judge_4_5(answers, inputs, refs) -> None:
    got = scalar(answers["zero_fraction"], "zero_fraction")
    expected, accuracy = refs.once("4.5", lambda: _zero_loss(refs))
    if not 0 <= got <= accuracy + 1e-9:
        raise Wrong(f"{got:g} is more than the accuracy, {accuracy:.3f}")
    if abs(got - expected) > 1 / 500 + 1e-9:
        raise Wrong(f"{got:g} is not the fraction of the 500 digits with zero margin loss")


_EXERCISES = [
    Exercise("4.1", {"prediction": "prediction"}, _judge_4_1),
    Exercise("4.2", {"prediction": Probe("prediction", "text")}, _judge_4_2),
    Exercise("4.3", {"prediction": "prediction"}, _judge_4_3),
    Exercise(
        "4.4",
        {"losses": "[uniform_loss(*case) for case in I['cases']]"},
        _judge_4_4,
        _uniform_cases,
    ),
    Exercise("4.5", {"zero_fraction": "zero_fraction"}, _judge_4_5),
]
EXERCISES = with_rules(_EXERCISES, {"4.4": ("uniform_loss",)})
