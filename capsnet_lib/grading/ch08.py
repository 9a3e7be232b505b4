"""Chapter 8, pose tweaking: how the grader judges exercises 8.1 to 8.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, with_rules


def shift_right(images: np.ndarray, pixels: int) -> np.ndarray:
    """Images moved ``pixels`` to the right (left if negative), zero-filled."""
    out = np.zeros_like(images)
    if pixels >= 0:
        out[:, :, pixels:] = images[:, :, : images.shape[2] - pixels]
    else:
        out[:, :, :pixels] = images[:, :, -pixels:]
    return out


def _far_rates(refs) -> str:
    """The chapter's measurement of 8.1: "A", "B" or "C" for the shipped CapsNet."""
    model, mnist = refs.capsnet, refs.mnist
    first = np.array([np.flatnonzero(mnist.y_test == d)[0] for d in range(10)])
    images, labels = mnist.x_test[first], mnist.y_test[first]
    decoded = refs.reconstructions(refs.poses(images))
    read_back = model.predict(decoded.astype(np.float32), verbose=0).argmax(axis=1)
    error = ((decoded - images) ** 2).mean(axis=(1, 2, 3))
    candidates = [i for i in range(10) if labels[i] != 1 and read_back[i] == labels[i]]
    index = min(candidates, key=lambda i: error[i])
    label, one = labels[index], images[index : index + 1]
    shifts = np.arange(-4, 5)
    sweep = refs.poses(np.concatenate([shift_right(one, s) for s in shifts]))[:, label]
    dim = np.ptp(sweep, axis=0).argmax()
    slope = np.polyfit(shifts, sweep[:, dim], 1)[0]
    far = refs.poses(np.concatenate([shift_right(one, s) for s in (-8, -4, 4, 8)]))[:, label, dim]
    outer = np.array([far[1] - far[0], far[3] - far[2]]) / 4 / slope
    if np.all((0.7 <= outer) & (outer <= 1.4)):
        return "A"
    return "C" if np.all(outer >= 0.7) and np.any(outer > 1.4) else "B"


def _judge_8_1(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    measured = refs.once("8.1", lambda: _far_rates(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; the measurement says {measured!r}")


_TWEAK = """
p = np.random.default_rng(I['seed']).normal(size=(3, 10, 16))
out = tweak(p, I['label'], I['dim'], I['delta'])
"""


def _judge_8_2(answers, inputs, refs) -> None:
    p = np.random.default_rng(inputs["seed"]).normal(size=(3, 10, 16))
    close(answers["input_after"], p, "the input (it must not be modified)", rtol=0, atol=0)
    expected = p.copy()
    expected[:, inputs["label"], inputs["dim"]] += inputs["delta"]
    close(answers["out"], expected, "tweak", rtol=1e-7, atol=0)


def _judge_8_3(answers, inputs, refs) -> None:
    a, b = np.random.default_rng(inputs["seed"]).normal(size=(2, 10, 16))
    for name, steps in [("path", inputs["steps"]), ("two", 2)]:
        t = np.linspace(0.0, 1.0, steps)[:, None, None]
        close(answers[name], (1 - t) * a + t * b, f"interpolate(..., {steps})", rtol=0, atol=1e-9)


_INTERPOLATE = "np.random.default_rng(I['seed']).normal(size=(2, 10, 16))"


def _judge_8_4(answers, inputs, refs) -> None:
    if answers["types"] != ",".join(["list"] * len(inputs["cases"])):
        raise Wrong("expected a list of 8 numbers")
    transforms = np.asarray(answers["transforms"])
    if transforms.shape != (len(inputs["cases"]), 8):
        raise Wrong("expected a list of 8 numbers")
    for (factor, size), (a0, a1, a2, b0, b1, b2, p0, p1) in zip(
        inputs["cases"], transforms, strict=True
    ):
        if p0 != 0 or p1 != 0:
            raise Wrong("the last two numbers are 0 (no perspective)")
        c = (size - 1) / 2
        for x_out, y_out in [(0, 0), (size - 1, 3), (5, size - 1)]:
            got = (a0 * x_out + a1 * y_out + a2, b0 * x_out + b1 * y_out + b2)
            want = (c + (x_out - c) / factor, c + (y_out - c) / factor)
            if not np.allclose(got, want):
                raise Wrong(f"zoom {factor}, size {size}: pixel ({x_out}, {y_out}) samples {got}")


def _zoom_cases(rng) -> dict:
    cases = [[2.0, 28], [0.5, 28]]
    cases += [[round(float(rng.uniform(0.4, 2.5)), 3), int(rng.integers(12, 40))] for _ in range(2)]
    return {"cases": cases}


def _pose_change(refs, images: np.ndarray, label: int, pixels: int) -> np.ndarray:
    down = np.pad(images, ((0, 0), (pixels, 0), (0, 0), (0, 0)))[:, :28]  # rows on top
    return (refs.poses(down)[:, label] - refs.poses(images)[:, label]).mean(axis=0)


def _judge_8_5(answers, inputs, refs) -> None:
    mnist = refs.mnist
    images = mnist.x_test[inputs["index"]]
    expected = _pose_change(refs, images, inputs["label"], inputs["pixels"])
    close(answers["changes"], expected, "mean_pose_change", rtol=0, atol=1e-4)
    sevens = mnist.x_test[mnist.y_test == 7][:30]
    of_sevens = refs.once("8.5", lambda: _pose_change(refs, sevens, 7, 2))
    most = int(np.abs(of_sevens).argmax())
    if np.ravel(answers["dimension"]).tolist() != [most]:
        raise Wrong("dimension: another dimension moves more")
    close(answers["change"], of_sevens[most], "change", rtol=0, atol=1e-4)


_EXERCISES = [
    Exercise("8.1", {"prediction": Probe("prediction", "text")}, _judge_8_1),
    Exercise(
        "8.2",
        {"out": "out", "input_after": "p"},
        _judge_8_2,
        lambda rng: {
            "seed": int(rng.integers(2**31)),
            "label": int(rng.integers(10)),
            "dim": int(rng.integers(16)),
            "delta": round(float(rng.uniform(-1, 1)), 4),
        },
        prelude=_TWEAK,
    ),
    Exercise(
        "8.3",
        {
            "path": f"interpolate(*{_INTERPOLATE}, I['steps'])",
            "two": f"interpolate(*{_INTERPOLATE}, 2)",
        },
        _judge_8_3,
        lambda rng: {"seed": int(rng.integers(2**31)), "steps": int(rng.integers(3, 12))},
    ),
    Exercise(
        "8.4",
        {
            "transforms": "[zoom_transform(f, size=s) for f, s in I['cases']]",
            "types": Probe(
                "','.join('list' if type(zoom_transform(f, size=s)) is type([]) else 'other'"
                " for f, s in I['cases'])",
                "text",
            ),
        },
        _judge_8_4,
        _zoom_cases,
    ),
    Exercise(
        "8.5",
        {
            "changes": "mean_pose_change(mnist.x_test[I['index']], I['label'], I['pixels'])",
            "dimension": "dimension",
            "change": "change",
        },
        _judge_8_5,
        lambda rng: {
            "index": sorted(rng.choice(1000, 6, replace=False).tolist()),
            "label": int(rng.integers(10)),
            "pixels": int(rng.integers(1, 4)),
        },
    ),
]
EXERCISES = with_rules(
    _EXERCISES,
    {
        "8.2": ("tweak",),
        "8.3": ("interpolate",),
        "8.4": ("zoom_transform",),
        "8.5": ("mean_pose_change",),
    },
    library={"8.5"},
)
