"""Chapter 7, training: how the grader judges exercises 7.1 to 7.5."""

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

BATCH, STEPS, EPOCHS, N_VALID = 32, 10, 3, 200  # the chapter's quick run


def _judge_7_1(answers, inputs, refs) -> None:
    close(scalar(answers["default"], "steps_to_halve()"), 33_959, "steps_to_halve()", rtol=1e-3)
    expected = [steps * np.log(0.5) / np.log(rate) for rate, steps in inputs["cases"]]
    close(np.ravel(answers["cases"]), expected, "steps_to_halve", rtol=1e-3)


def _halve_cases(rng) -> dict:
    cases = [[0.5, 100]]
    cases += [
        [round(float(rng.uniform(0.5, 0.99)), 4), int(rng.integers(100, 5000))] for _ in range(3)
    ]
    return {"cases": cases}


def _blind(length):
    length = np.asarray(length, dtype=float)
    return np.maximum(0.0, 0.9 - length) ** 2 + 4.5 * np.maximum(0.0, length - 0.1) ** 2


def _judge_7_2(answers, inputs, refs) -> None:
    lengths = inputs["lengths"]
    close(np.ravel(answers["losses"]), _blind(lengths), "blind_margin_loss", rtol=1e-6)
    close(np.ravel(answers["array"]), _blind(lengths), "blind_margin_loss on an array")
    close(scalar(answers["length"], "blind_length"), 2.7 / 11, "blind_length", rtol=0, atol=2e-3)
    close(scalar(answers["loss"], "blind_loss"), _blind(2.7 / 11), "blind_loss", rtol=0, atol=1e-4)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    center = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return center - half, center + half


def _apart(k: int, n: int) -> int:
    m = k + 1
    while _wilson(m, n)[0] <= _wilson(k, n)[1]:
        m += 1
    return m


def _judge_7_3(answers, inputs, refs) -> None:
    expected = [_apart(k, n) for k, n in inputs["cases"]]
    close(np.ravel(answers["apart"]), expected, "fewest_errors_apart", rtol=0, atol=0)


def _quick_runs(refs) -> dict:
    """The chapter's quick run with learning rates 0.001 and 0.01: training loss per epoch."""
    import keras

    from capsnet_lib import training
    from capsnet_lib.data import make_dataset
    from capsnet_lib.model import CapsNet

    mnist, n_train = refs.mnist, BATCH * STEPS * EPOCHS
    valid = make_dataset(mnist.x_valid[:N_VALID], mnist.y_valid[:N_VALID], 100, shuffle=False)
    losses = {}
    for rate in (1e-3, 1e-2):
        keras.utils.set_random_seed(42)
        data = make_dataset(
            mnist.x_train[:n_train], mnist.y_train[:n_train], BATCH, max_shift=2, seed=42
        ).repeat()
        run = CapsNet(routing_iterations=3, weight_stddev=0.1)
        run.compile(optimizer=training.paper_optimizer(rate))
        fit = run.fit(
            data,
            steps_per_epoch=STEPS,
            epochs=EPOCHS,
            shuffle=False,
            validation_data=valid,
            verbose=0,
        )
        losses[rate] = np.asarray(fit.history["loss"])
    return losses


def _judge_7_4(answers, inputs, refs) -> None:
    close(answers["keys"], [1e-3, 1e-2], "the keys of loss_per_epoch", rtol=1e-9)
    loss = {1e-3: np.ravel(answers["slow"]), 1e-2: np.ravel(answers["fast"])}
    if any(len(value) != EPOCHS for value in loss.values()):
        raise Wrong(f"one loss per epoch ({EPOCHS})")
    if not all(np.all((value > 0) & (value < 3)) for value in loss.values()):
        raise Wrong("training losses lie between 0 and 3")
    lower = min(loss, key=lambda rate: loss[rate][-1])
    if not np.isclose(scalar(answers["best_rate"], "best_rate"), lower):
        raise Wrong("best_rate: the rate whose last epoch's loss is lower")
    expected = refs.once("7.4", lambda: _quick_runs(refs))
    close(loss[1e-3], expected[1e-3], "the 0.001 run's losses", rtol=0.02)
    close(loss[1e-2], expected[1e-2], "the 0.01 run's losses", rtol=0.1)
    if not loss[1e-2][0] > loss[1e-3][0] + 0.1 or lower != 1e-3:
        raise Wrong("not what the two quick runs give")


def _one_round_race(refs) -> str:
    """7.5's answer, measured: 20 steps with 1 routing round against 3, alike otherwise.

    The chapter's own loop in the library's layers (chapter 7 shows ``cl.CapsNet`` is the
    reader's network): seed 42, Adam, the same 20 batches of 32, 500 validation digits.
    """
    import keras

    from capsnet_lib.data import make_dataset
    from capsnet_lib.model import CapsNet

    mnist = refs.mnist
    data = make_dataset(mnist.x_train[:640], mnist.y_train[:640], 32, seed=42)
    batches = list(data.take(20))
    accuracy = {}
    for rounds in (3, 1):
        keras.utils.set_random_seed(42)
        model = CapsNet(routing_iterations=rounds)
        model.compile(optimizer=keras.optimizers.Adam())
        for images, labels in batches:
            model.train_on_batch(images, labels)
        lengths = np.asarray(model.predict(mnist.x_valid[:500], batch_size=100, verbose=0))
        accuracy[rounds] = np.mean(lengths.argmax(axis=1) == mnist.y_valid[:500])
    ahead = 100 * (accuracy[1] - accuracy[3])
    return "A" if ahead > 2 else ("C" if ahead < -2 else "B")


def _judge_7_5(answers, inputs, refs) -> None:
    measured = refs.once("7.5", lambda: _one_round_race(refs))
    answer = choice(answers["prediction"], ("A", "B", "C"))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; measured {measured!r}")


_EXERCISES = [
    Exercise(
        "7.1",
        {
            "default": "steps_to_halve()",
            "cases": "[np.squeeze(steps_to_halve(*case)) for case in I['cases']]",
        },
        _judge_7_1,
        _halve_cases,
    ),
    Exercise(
        "7.2",
        {
            "losses": "[np.squeeze(blind_margin_loss(L)) for L in I['lengths']]",
            "array": "blind_margin_loss(np.array(I['lengths']))",
            "length": "blind_length",
            "loss": "blind_loss",
        },
        _judge_7_2,
        lambda rng: {"lengths": [0.0, 0.5, *np.round(rng.uniform(0, 1.2, 4), 4).tolist()]},
    ),
    Exercise(
        "7.3",
        {"apart": "[np.squeeze(fewest_errors_apart(k, n)) for k, n in I['cases']]"},
        _judge_7_3,
        lambda rng: {
            "cases": [
                [25, 10_000],
                [0, 1000],
                *[[int(rng.integers(0, 200)), int(rng.integers(1000, 20_000))] for _ in range(2)],
            ]
        },
    ),
    Exercise(
        "7.4",
        {
            "keys": "sorted(loss_per_epoch)",
            "slow": "loss_per_epoch[1e-3]",
            "fast": "loss_per_epoch[1e-2]",
            "best_rate": "best_rate",
        },
        _judge_7_4,
    ),
    Exercise("7.5", {"prediction": Probe("prediction", "text")}, _judge_7_5),
]
EXERCISES = with_rules(
    _EXERCISES,
    {
        "7.1": ("steps_to_halve",),
        "7.2": ("blind_margin_loss",),
        "7.3": ("fewest_errors_apart",),
    },
)
