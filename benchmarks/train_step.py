"""Training-step speed and memory: ``CapsNet.train_on_batch`` against the walkthrough's graph.

    python benchmarks/train_step.py [--batches 50 128] [--iterations 2 3] [--rounds 5]

Throughput is timed in one process, alternating the two models step by step after a
warm-up, so that both see the same machine state. Peak memory is measured per model in a
fresh subprocess (TensorFlow never returns freed memory to the system): the growth of the
process's resident set during its first 3 training steps (tracing and compiling included),
over its size just before them.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from walkthrough import WalkthroughCapsNet, make_train_step  # noqa: E402

import capsnet_lib as cl  # noqa: E402

VARIANTS = ("walkthrough", "capsnet_lib", "capsnet_lib_bf16")


def build(variant: str, iterations: int):
    """Return a ``step(images, labels)`` callable for one variant."""
    if variant == "walkthrough":
        model = WalkthroughCapsNet(iterations)
        return make_train_step(model, keras.optimizers.Adam())
    precision = "mixed_bfloat16" if variant.endswith("bf16") else "float32"
    model = cl.CapsNet(routing_iterations=iterations, precision=precision)
    model.compile(optimizer="adam")
    return model.train_on_batch


def batch(size: int):
    rng = np.random.default_rng(0)
    return rng.uniform(size=(size, 28, 28, 1)).astype("float32"), rng.integers(0, 10, size)


def rss_mb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize() / 2**20


def peak_during(work) -> float:
    """Highest RSS growth (MB) over the RSS before ``work()``, sampled every millisecond."""
    before, peak, done = rss_mb(), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb() - before)
            time.sleep(0.001)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        work()
    finally:
        done.set()
        thread.join()
    return peak[0]


def measure_memory(variant: str, size: int, iterations: int) -> float:
    """Peak RSS growth (MB) during the first 3 training steps, in a fresh interpreter."""
    code = (
        "import sys; sys.argv = ['x']; import train_step as b;"
        f"step = b.build({variant!r}, {iterations}); x, y = b.batch({size});"
        "print(b.peak_during(lambda: [step(x, y) for _ in range(3)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return float(result.stdout.strip().splitlines()[-1])


def measure_speed(size: int, iterations: int, rounds: int, variants) -> dict[str, float]:
    """Images per second of each variant, timed alternately after two warm-up steps."""
    x, y = batch(size)
    steps = {v: build(v, iterations) for v in variants}
    for step in steps.values():
        step(x, y)
        step(x, y)
    times = {v: [] for v in variants}
    for _ in range(rounds):
        for variant, step in steps.items():
            start = time.perf_counter()
            result = step(x, y)
            np.asarray(result[0] if isinstance(result, list) else result)  # wait for it
            times[variant].append(time.perf_counter() - start)
    return {v: size / float(np.median(t)) for v, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[50, 128])
    parser.add_argument("--iterations", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    print(
        "| batch | rounds | walkthrough img/s | capsnet_lib img/s | ratio "
        "| capsnet_lib bf16 img/s | ratio | walkthrough peak MB | capsnet_lib peak MB | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.batches:
        for iterations in args.iterations:
            speed = measure_speed(size, iterations, args.rounds, VARIANTS)
            base = speed["walkthrough"]
            row = [
                f"{size}",
                f"{iterations}",
                f"{base:.0f}",
                f"{speed['capsnet_lib']:.0f}",
                f"{speed['capsnet_lib'] / base:.2f}x",
                f"{speed['capsnet_lib_bf16']:.0f}",
                f"{speed['capsnet_lib_bf16'] / base:.2f}x",
            ]
            if args.no_memory:
                row += ["-", "-", "-"]
            else:
                ours = measure_memory("capsnet_lib", size, iterations)
                theirs = measure_memory("walkthrough", size, iterations)
                row += [f"{theirs:.0f}", f"{ours:.0f}", f"{ours / theirs:.2f}"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
