"""Chapter 8, pose tweaking: how the grader judges exercises 8.1 to 8.5."""

from __future__ import annotations

import numpy as np

from capsnet_lib.grading.spec import Exercise, Probe, Wrong, choice, close, with_rules


def _first_of_each(refs):
    """The chapter's ten digits (the first test image of each class) and their poses."""
    mnist = refs.mnist
    first = np.array([np.flatnonzero(mnist.y_test == d)[0] for d in range(10)])
    images, labels = mnist.x_test[first], mnist.y_test[first]
    return images, labels, refs.poses(images)


def _slot_swap(refs) -> str:
    """8.1, measured: each digit's pose moved into another class's slot, decoded, read back;
    the answer is how many of the 90 pictures are read as the slot's digit (A: under 10, B: 10
    to 45, C: more)."""
    _, labels, poses = _first_of_each(refs)
    own = poses[np.arange(10), labels]
    counts = np.zeros(3)  # the original digit, the slot's digit, neither
    for k in range(1, 10):
        slot = (labels + k) % 10
        moved = np.zeros((10, 10, 16), np.float32)
        moved[np.arange(10), slot] = own
        drawn = refs.reconstructions(moved, slot).astype(np.float32)
        read = refs.capsnet.predict(drawn, verbose=0).argmax(axis=1)
        neither = (read != labels) & (read != slot)
        counts += [np.sum(read == labels), np.sum(read == slot), np.sum(neither)]
    as_slot = counts[1]  # read as the slot's digit
    return "A" if as_slot < 10 else ("B" if as_slot <= 45 else "C")


def _judge_8_1(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    measured = refs.once("8.1", lambda: _slot_swap(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; the measurement says {measured!r}")


def _sensitivity(refs, poses, labels, delta) -> np.ndarray:
    result = np.zeros((10, 16))
    for i in range(10):
        grid = np.repeat(poses[i][None], 32, axis=0).reshape(16, 2, 10, 16)
        grid[np.arange(16), :, labels[i], np.arange(16)] += np.array([-delta, delta])
        drawn = refs.reconstructions(grid.reshape(-1, 10, 16), np.full(32, labels[i]))
        drawn = drawn.reshape(16, 2, -1)
        result[labels[i]] = np.abs(drawn[:, 1] - drawn[:, 0]).mean(axis=-1)
    return result


def _wide_ratio(refs) -> str:
    """8.2, measured: the sensitivity map at +-0.5 against +-0.25, summed."""
    _, labels, poses = _first_of_each(refs)
    ratio = _sensitivity(refs, poses, labels, 0.5).sum()
    ratio /= _sensitivity(refs, poses, labels, 0.25).sum()
    return "A" if 1.8 <= ratio <= 2.2 else ("B" if ratio < 1.8 else "C")


def _judge_8_2(answers, inputs, refs) -> None:
    answer = choice(answers["prediction"], ("A", "B", "C"))
    measured = refs.once("8.2", lambda: _wide_ratio(refs))
    if answer != measured:
        raise Wrong(f"predicted {answer!r}; the measurement says {measured!r}")


_POSES = "np.random.default_rng(I['seed']).normal(size=(len(I['cases']), 10, 16))"


def _judge_8_3(answers, inputs, refs) -> None:
    poses = np.random.default_rng(inputs["seed"]).normal(size=(len(inputs["cases"]), 10, 16))
    expected = []
    for pose, (label, d) in zip(poses, inputs["cases"], strict=True):
        v = pose[label]
        expected.append([-v[d], np.sqrt(np.sum(v**2) - v[d] ** 2)])
    close(answers["pairs"], expected, "shortest_tweak", rtol=1e-6, atol=1e-9)
    _, labels, chapter_poses = _first_of_each(refs)
    v = chapter_poses[int(np.flatnonzero(labels == 7)[0]), 7]  # the grids' 7
    deepest = int(np.abs(v).argmax())
    if np.ravel(answers["deepest"]).tolist() != [deepest]:
        raise Wrong("deepest: another dimension shortens the 7's capsule more")
    close(answers["deepest_delta"], -v[deepest], "deepest_delta", rtol=0, atol=1e-4)


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
    Exercise("8.2", {"prediction": Probe("prediction", "text")}, _judge_8_2),
    Exercise(
        "8.3",
        {
            "pairs": f"[np.ravel(shortest_tweak(p, *c)) for p, c in zip({_POSES}, I['cases'])]",
            "deepest": "deepest",
            "deepest_delta": "deepest_delta",
        },
        _judge_8_3,
        lambda rng: {
            "seed": int(rng.integers(2**31)),
            "cases": rng.integers([0, 0], [10, 16], (4, 2)).tolist(),
        },
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
        "8.3": ("shortest_tweak",),
        "8.4": ("zoom_transform",),
        "8.5": ("mean_pose_change",),
    },
    library={"8.5"},
)
