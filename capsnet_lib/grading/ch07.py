"""Chapter 7, training: how the grader judges exercises 7.1 to 7.6."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import (
    Exercise,
    Probe,
    Wrong,
    choice,
    close,
    names_in,
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


def _judge_7_2(answers, inputs, refs) -> None:
    expected = [1e-3 * 0.96 ** (step / 2000) for step in inputs["steps"]]
    close(np.ravel(answers["rates"]), expected, "paper_learning_rate", rtol=1e-5, atol=0)
    if names_in(answers["source"]).keys() & {"keras", "schedule", "paper_optimizer"}:
        raise Wrong("the exercise asks for the formula, without Keras's schedule")


def _interval_cases(rng) -> dict:
    cases = [[25, 10_000, 1.96], [300, 1000, 1.96], [25, 10_000, 1.0], [0, 10_000, 1.96]]
    n = int(rng.integers(100, 20_000))
    return {"cases": [*cases, [int(rng.integers(1, n)), n, round(float(rng.uniform(1, 3)), 3)]]}


def _judge_7_3(answers, inputs, refs) -> None:
    expected = []
    for k, n, z in inputs["cases"]:
        p = k / n
        half = z * np.sqrt(p * (1 - p) / n)
        expected.append([p - half, p + half])
    close(answers["intervals"], expected, "normal_interval", rtol=1e-4, atol=1e-12)


_LOGS = """
rng = np.random.default_rng(I['seed'])
logs = []
for offset, n in I['logs']:
    val = np.round(rng.uniform(0.9, 1.0, n), 2)  # ties on purpose
    logs.append({'epoch': np.arange(1.0, n + 1) + offset, 'accuracy': val,
                 'val_accuracy': val})
"""


def _judge_7_4(answers, inputs, refs) -> None:
    rng, expected = np.random.default_rng(inputs["seed"]), []
    for offset, n in inputs["logs"]:
        val = np.round(rng.uniform(0.9, 1.0, n), 2)
        expected.append(offset + 1 + int(np.argmax(val)))
    close(answers["best"], expected, "best_epoch", rtol=0, atol=0)


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


def _judge_7_5(answers, inputs, refs) -> None:
    close(answers["keys"], [1e-3, 1e-2], "the keys of loss_per_epoch", rtol=1e-9)
    loss = {1e-3: np.ravel(answers["slow"]), 1e-2: np.ravel(answers["fast"])}
    if any(len(value) != EPOCHS for value in loss.values()):
        raise Wrong(f"one loss per epoch ({EPOCHS})")
    if not all(np.all((value > 0) & (value < 3)) for value in loss.values()):
        raise Wrong("training losses lie between 0 and 3")
    lower = min(loss, key=lambda rate: loss[rate][-1])
    if not np.isclose(scalar(answers["best_rate"], "best_rate"), lower):
        raise Wrong("best_rate: the rate whose last epoch's loss is lower")
    expected = refs.once("7.5", lambda: _quick_runs(refs))
    close(loss[1e-3], expected[1e-3], "the 0.001 run's losses", rtol=0.02)
    close(loss[1e-2], expected[1e-2], "the 0.01 run's losses", rtol=0.1)
    if not loss[1e-2][0] > loss[1e-3][0] + 0.1 or lower != 1e-3:
        raise Wrong("not what the two quick runs give")


def _decoder_off(refs) -> str:
    """7.6's answer, measured: the shipped CapsNet on 500 test digits, its decoder zeroed."""
    model = refs.capsnet
    x, y = refs.mnist.x_test[:500], refs.mnist.y_test[:500]
    kept = [w.numpy() for w in model.decoder.weights]
    with_decoder = np.mean(np.argmax(np.asarray(model(x)), axis=1) == y)
    for w in model.decoder.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    try:
        without = np.mean(np.argmax(np.asarray(model(x)), axis=1) == y)
    finally:
        for w, value in zip(model.decoder.weights, kept, strict=True):
            w.assign(value)
    return "A" if without == with_decoder else ("C" if without < 0.2 else "B")


def _judge_7_6(answers, inputs, refs) -> None:
    measured = refs.once("7.6", lambda: _decoder_off(refs))
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
            "rates": "[np.squeeze(paper_learning_rate(step)) for step in I['steps']]",
        },
        _judge_7_2,
        lambda rng: {"steps": [0, 2000, *rng.integers(1, 50_000, 4).tolist()]},
    ),
    Exercise(
        "7.3",
        {"intervals": "[np.ravel(normal_interval(*case)) for case in I['cases']]"},
        _judge_7_3,
        _interval_cases,
    ),
    Exercise(
        "7.4",
        {"best": "[best_epoch(log) for log in logs]"},
        _judge_7_4,
        lambda rng: {
            "seed": int(rng.integers(2**31)),
            "logs": [[0, 5], [10, 5], *rng.integers([0, 1], [30, 12], (3, 2)).tolist()],
        },
        prelude=_LOGS,
    ),
    Exercise(
        "7.5",
        {
            "keys": "sorted(loss_per_epoch)",
            "slow": "loss_per_epoch[1e-3]",
            "fast": "loss_per_epoch[1e-2]",
            "best_rate": "best_rate",
        },
        _judge_7_5,
    ),
    Exercise("7.6", {"prediction": Probe("prediction", "text")}, _judge_7_6),
]
EXERCISES = with_rules(
    _EXERCISES,
    {
        "7.1": ("steps_to_halve",),
        "7.2": ("paper_learning_rate",),
        "7.3": ("normal_interval",),
        "7.4": ("best_epoch",),
    },
)
