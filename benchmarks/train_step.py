"""Training-step speed and memory: ``CapsNet.train_on_batch`` against the walkthrough's graph.

    python benchmarks/train_step.py [--batches 50 128] [--iterations 2 3] [--rounds 5]
    python benchmarks/train_step.py --quick     # batch 50, 3 rounds, 3 steps: a minute or two

It starts with the machine (see ``machine.py``): CPU model and flags, GPU if any, the
measured float32 (and native bfloat16) matmul peak, and what ``precision="auto"`` chooses
and why. Then one row per model and precision: the walkthrough's graph (float32),
``capsnet_lib`` in float32, in mixed_bfloat16 (labelled native or emulated: on a CPU
without AVX512_BF16/AMX it is emulated and several times slower), and, if ``auto`` chooses
mixed_float16 (a GPU older than compute capability 8.0), in that; the row of ``auto``'s
choice is built with ``precision="auto"``. Each throughput is also given as a fraction of
the matmul-bound ceiling, ``img/s x 1.22 GFLOP per training image / matmul peak`` (counted
in ``machine.flops_per_training_image``), with the best matmul peak over the whole run: it
is timed at the start and again once a round between the steps, since on a shared machine
a single timing can fall far below it. The table is printed at the end.

Throughput is timed in one process, alternating the models step by step after a warm-up,
so that all see the same machine state. Peak memory is measured for the walkthrough,
float32 and ``auto``'s choice, each in a fresh subprocess (TensorFlow never returns freed
memory to the system): the growth of the process's resident set during its first 3
training steps (tracing and compiling included), over its size just before them.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from machine import Machine, describe  # noqa: E402
from walkthrough import WalkthroughCapsNet, make_train_step  # noqa: E402

import capsnet_lib as cl  # noqa: E402


@dataclass
class Variant:
    """One row of the table: a model, the precision it is built with, how to label it."""

    key: str  # what ``build`` takes: "walkthrough", a precision, or "auto"
    model: str
    precision: str
    measure_memory: bool


def variants(machine: Machine) -> list[Variant]:
    """The walkthrough, capsnet_lib in float32 and bfloat16, and ``auto``'s choice."""
    bf16 = f"mixed_bfloat16 ({machine.bf16_label})"
    rows = [
        Variant("walkthrough", "walkthrough", "float32", True),
        Variant("float32", "capsnet_lib", "float32", True),
        Variant("mixed_bfloat16", "capsnet_lib", bf16, False),
    ]
    if machine.auto_precision == "mixed_float16":
        rows.append(Variant("mixed_float16", "capsnet_lib", "mixed_float16", False))
    for row in rows[1:]:
        if row.key == machine.auto_precision:
            row.key, row.model, row.measure_memory = "auto", "capsnet_lib auto", True
    return rows


def build(key: str, iterations: int):
    """Return a ``step(images, labels)`` callable: the walkthrough or a capsnet_lib precision."""
    if key == "walkthrough":
        model = WalkthroughCapsNet(iterations)
        return make_train_step(model, keras.optimizers.Adam())
    model = cl.CapsNet(routing_iterations=iterations, precision=key)
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


def measure_memory(key: str, size: int, iterations: int) -> float:
    """Peak RSS growth (MB) during the first 3 training steps, in a fresh interpreter."""
    code = (
        "import sys; sys.argv = ['x']; import train_step as b;"
        f"step = b.build({key!r}, {iterations}); x, y = b.batch({size});"
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


def measure_speed(
    size: int, iterations: int, rounds: int, keys, between=lambda: None
) -> dict[str, float]:
    """Images per second of each model (by ``build`` key), timed alternately after 2 warm-ups.

    ``between()`` runs once a round, after the models' steps (the matmul peak's probe).
    """
    x, y = batch(size)
    steps = {key: build(key, iterations) for key in keys}
    for step in steps.values():
        step(x, y)
        step(x, y)
    times = {key: [] for key in keys}
    for _ in range(rounds):
        for variant, step in steps.items():
            start = time.perf_counter()
            result = step(x, y)
            np.asarray(result[0] if isinstance(result, list) else result)  # wait for it
            times[variant].append(time.perf_counter() - start)
        between()
    return {v: size / float(np.median(t)) for v, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[50, 128])
    parser.add_argument("--iterations", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--rounds", type=int, default=5, help="timed steps per model")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="batch 50, 3 routing rounds, 3 timed steps"
    )
    args = parser.parse_args()
    if args.quick:
        args.batches, args.iterations, args.rounds = [50], [3], 3
    machine = describe()
    print("\n".join(machine.header()), flush=True)
    rows = variants(machine)
    results = []
    for size in args.batches:
        for iterations in args.iterations:
            keys = [row.key for row in rows]
            speed = measure_speed(size, iterations, args.rounds, keys, machine.probe)
            memory = {}
            for row in rows:
                if row.measure_memory and not args.no_memory:
                    try:
                        memory[row.key] = measure_memory(row.key, size, iterations)
                    except RuntimeError as error:  # keep the speeds; the table shows "-"
                        print(f"memory of {row.key} failed:\n{error}", file=sys.stderr)
            results.append((size, iterations, speed, memory))
            done = ", ".join(f"{key} {speed[key]:.0f} img/s" for key in keys)
            print(f"batch {size}, {iterations} rounds: {done}", file=sys.stderr, flush=True)
    # The fractions use the best peak over the whole run: timed between the steps too.
    print("\nmatmul peak over the whole run (at the start and once a round between the steps):")
    print("\n".join(machine.peak_lines()) + "\n")
    print(
        "| batch | rounds | model | precision | img/s | vs walkthrough | of f32 ceiling "
        "| of bf16 ceiling | peak MB | vs walkthrough |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
    f32_ceiling = machine.ceiling(machine.float32.best_gflops)
    bf16 = machine.bfloat16
    for size, iterations, speed, memory in results:
        for row in rows:
            native_bf16 = bf16 is not None and row.precision.startswith("mixed_bfloat16")
            bf16_share = speed[row.key] / machine.ceiling(bf16.best_gflops) if native_bf16 else 0
            cells = [
                f"{size}",
                f"{iterations}",
                row.model,
                row.precision,
                f"{speed[row.key]:.0f}",
                f"{speed[row.key] / speed['walkthrough']:.2f}x",
                f"{speed[row.key] / f32_ceiling:.0%}",
                f"{bf16_share:.0%}" if native_bf16 else "-",
            ]
            if row.key in memory and "walkthrough" in memory:
                ratio = memory[row.key] / memory["walkthrough"]
                cells += [f"{memory[row.key]:.0f}", f"{ratio:.2f}"]
            else:
                cells += ["-", "-"]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
