"""Chapter 3, routing: how the grader judges exercises 3.1 to 3.5."""

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

N_TEST = 100  # the chapter's n_test in quick mode


def _seed(rng) -> dict:
    return {"seed": int(rng.integers(2**31))}


def _port_arrays(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(2, 1152, 8)).astype(np.float32)
    W = rng.normal(size=(1152, 10, 16, 8)).astype(np.float32)  # (in_caps, out_caps, out, in)
    return u, W


_PORT = (
    "(lambda r: (r.normal(size=(2, 1152, 8)).astype(np.float32),"
    " r.normal(size=(1152, 10, 16, 8)).astype(np.float32)))(np.random.default_rng(I['seed']))"
)


def _judge_3_1(answers, inputs, refs) -> None:
    u, W = _port_arrays(inputs["seed"])
    expected = np.einsum("bid,ijkd->bijk", u.astype(np.float64), W)  # (2, 1152, 10, 16)
    close(answers["u_hat"], expected, "u_hat", rtol=1e-4, atol=1e-4)
    names = names_in(answers["source"])
    if names["einsum"] != 1:
        raise Wrong(f"a single tf.einsum, please; found {names['einsum']}")
    if names["transpose"]:
        raise Wrong("no transpose: let the einsum's letters do it")


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


_ROUTING_PRELUDE = """
u_hat = tf.constant(
    0.05 * np.random.default_rng(I['seed']).normal(size=(2, 1152, 10, 16)).astype(np.float32)
)
b = tf.zeros(u_hat.shape[:3])
for _ in range(3):
    v, b = routing_round(u_hat, b)
"""


def _judge_3_3(answers, inputs, refs) -> None:
    from capsnet_lib.routing import routing_by_agreement

    rng = np.random.default_rng(inputs["seed"])
    u_hat = 0.05 * rng.normal(size=(2, 1152, 10, 16)).astype(np.float32)
    expected = np.asarray(routing_by_agreement(u_hat, iterations=3)[0])
    close(answers["v"], expected, "v after three rounds", rtol=1e-4, atol=1e-6)


def _byte_cases(rng) -> dict:
    cases = [[8, 1152, 10, 16, 8], [128, 3872, 196, 16, 8]]
    cases += [[int(n) for n in rng.integers([1, 1, 1, 1, 1], [512, 4000, 200, 32, 16])]]
    return {"cases": cases, "batch": int(rng.integers(1, 512))}


def _judge_3_4(answers, inputs, refs) -> None:
    cases = inputs["cases"]
    tiles = [b * i * o * do * di * 4 for b, i, o, do, di in cases]
    u_hats = [b * i * o * do * 4 for b, i, o, do, di in cases]
    close(answers["tile"], tiles, "tile_bytes", rtol=0, atol=0)
    close(answers["u_hat"], u_hats, "u_hat_bytes", rtol=0, atol=0)
    batch = inputs["batch"]
    close(answers["tile_default"], batch * 1152 * 10 * 16 * 8 * 4, "tile_bytes(batch)", rtol=0)
    close(answers["u_hat_default"], batch * 1152 * 10 * 16 * 4, "u_hat_bytes(batch)", rtol=0)


def _routed(refs) -> dict:
    """Accuracy and mean longest length of the first test digits after 1 and 3 rounds."""
    u_hat = _test_u_hat(refs, N_TEST).astype(np.float32)  # (n, 1152, 10, 16)
    labels = refs.mnist.y_test[:N_TEST]
    b = np.zeros(u_hat.shape[:3], np.float32)
    found = {}
    for r in (1, 2, 3):
        c = np.exp(b) / np.exp(b).sum(axis=2, keepdims=True)  # eq. 3
        s = np.einsum("bij,bijk->bjk", c, u_hat)  # eq. 2
        norm = np.linalg.norm(s, axis=-1, keepdims=True)
        v = norm / (1 + norm**2) * s  # eq. 1
        b = b + np.einsum("bijk,bjk->bij", u_hat, v)
        lengths = np.linalg.norm(v, axis=-1)
        found[r] = np.mean(lengths.argmax(axis=1) == labels), lengths.max(axis=1).mean()
    return found


def _judge_3_5(answers, inputs, refs) -> None:
    if answers["keys"].tolist() != [1.0, 3.0]:
        raise Wrong("measured needs the keys 1 and 3")
    expected = refs.once("3.5 routed", lambda: _routed(refs))
    for r in (1, 3):
        pair = np.asarray(answers[f"r{r}"]).ravel()
        if pair.shape != (2,):
            raise Wrong(f"measured[{r}] should be (accuracy, mean_length)")
        if abs(pair[0] - expected[r][0]) > 1 / N_TEST:
            raise Wrong(f"r = {r}: the accuracy")
        if abs(pair[1] - expected[r][1]) >= 1e-3:
            raise Wrong(f"r = {r}: the mean length")


_EXERCISES = [
    Exercise(
        "3.1",
        {
            "u_hat": "predictions_from_port(tf.constant(u), tf.constant(W.transpose(1, 0, 2, 3)))",
        },
        _judge_3_1,
        _seed,
        prelude=f"u, W = {_PORT}",
    ),
    Exercise(
        "3.2",
        {"total": "prediction[0]", "shortest": Probe("prediction[1]", "text")},
        _judge_3_2,
    ),
    Exercise("3.3", {"v": "v"}, _judge_3_3, _seed, prelude=_ROUTING_PRELUDE),
    Exercise(
        "3.4",
        {
            "tile": "[tile_bytes(*case) for case in I['cases']]",
            "u_hat": "[u_hat_bytes(*case) for case in I['cases']]",
            "tile_default": "tile_bytes(I['batch'])",
            "u_hat_default": "u_hat_bytes(I['batch'])",
        },
        _judge_3_4,
        _byte_cases,
    ),
    Exercise(
        "3.5",
        {"keys": "sorted(measured)", "r1": "measured[1]", "r3": "measured[3]"},
        _judge_3_5,
    ),
]
EXERCISES = with_rules(
    _EXERCISES,
    {
        "3.1": ("predictions_from_port",),
        "3.3": ("routing_round",),
        "3.4": ("tile_bytes", "u_hat_bytes"),
    },
)
