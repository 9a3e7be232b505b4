"""Which machine a benchmark ran on, its measured matmul peak, and CapsNet's FLOPs per image.

    python benchmarks/machine.py        # prints the header train_step.py starts with

The header names the CPU, the flags that decide how fast the convolutions can be (AVX2,
AVX-512, native bfloat16 through AVX512_BF16 or AMX), any GPU TensorFlow sees, what
``precision="auto"`` chooses there and why, and the measured matmul peak: the best of
several ``tf.matmul`` of a 2048 x 2048 matrix by itself on TensorFlow's default device
(2 x 2048^3 FLOPs each), in float32 and, where the hardware computes it natively, in
bfloat16. (On a GPU of compute capability 8.0 or more TensorFlow runs float32 matmuls
and convolutions in TF32 by default, and the float32 peak is that.)

A training step of CapsNet is almost all matmul-shaped work (convolutions and small matrix
products), so ``matmul peak / FLOPs per training image`` is a ceiling on images per
second; a step's throughput as a fraction of it says how much of the machine the step uses,
comparable across machines where raw images/s are not.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from capsnet_lib.precision import (
    choose_precision,
    cpu_flags,
    cpu_model,
    cpuinfo,
    gpu_compute_capabilities,
)

FLAGS_OF_INTEREST = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_id(path: str | Path = "/proc/cpuinfo") -> str:
    """Vendor, family and model numbers (a hypervisor may hide the marketing name)."""
    found = cpuinfo(path)
    parts = [found.get("vendor_id", "")]
    parts += [f"{key} {found[key]}" for key in ("cpu family", "model") if key in found]
    return " ".join(p for p in parts if p)


def flops_per_training_image(routing_iterations: int = 3) -> float:
    """FLOPs of one training image in the paper's CapsNet, counted layer by layer: ~1.22e9.

    Multiply-accumulates (MACs) of the forward pass, for a 28 x 28 x 1 image:

    - conv1, 9 x 9, 1 -> 256, valid: 20 x 20 x 256 outputs x 81 MACs = 8.3 M;
    - conv2 (primary capsules), 9 x 9, 256 -> 256, stride 2: 6 x 6 x 256 outputs x
      81 x 256 MACs = 191.1 M, 94% of the total;
    - predictions û: 1,152 children x 10 parents x (16 x 8) = 1.47 M;
    - routing: a weighted sum each round and an agreement each round but the last,
      1,152 x 10 x 16 MACs each = 0.92 M for 3 rounds;
    - decoder, 160 -> 512 -> 1024 -> 784: 1.41 M.

    In all 203 M MACs, so 2 x 203 M = 406 MFLOPs forward. The backward pass costs about
    twice the forward (a gradient for each layer's input and one for its weights), so a
    training step is ~3 x 406 M = 1.22 GFLOPs per image. Left out: conv1 needs no gradient
    for its input (-17 MFLOPs), and the element-wise work (ReLU, squash, softmax, the
    losses, Adam's update of 8.2 M weights, spread over the batch), each below 1%.
    """
    conv1 = 20 * 20 * 256 * (9 * 9 * 1)
    conv2 = 6 * 6 * 256 * (9 * 9 * 256)
    predictions = 1152 * 10 * 16 * 8
    routing = (2 * routing_iterations - 1) * 1152 * 10 * 16
    decoder = 160 * 512 + 512 * 1024 + 1024 * 784
    forward_flops = 2 * (conv1 + conv2 + predictions + routing + decoder)
    return 3 * forward_flops


class MatmulTimer:
    """Times ``tf.matmul`` of a ``size`` x ``size`` matrix by itself; keeps the best GFLOPS.

    On a machine shared with other work a single timing is often far below the peak, so
    a benchmark calls :meth:`time` again between its steps: the best over the whole run
    is the estimate of the peak.
    """

    def __init__(self, dtype: str = "float32", size: int = 2048):
        import tensorflow as tf

        self.dtype, self.size, self.flops = dtype, size, 2 * size**3
        self.matrix = tf.cast(tf.random.uniform((size, size), seed=0), dtype)
        self.matmul = tf.function(lambda x: tf.matmul(x, x))
        self.matmul(self.matrix).numpy()  # trace, warm the caches and the thread pool
        self.best_gflops, self.count = 0.0, 0

    def time(self, repeats: int = 1) -> float:
        """Time ``repeats`` more matmuls; return the best GFLOPS so far."""
        for _ in range(repeats):
            start = time.perf_counter()
            self.matmul(self.matrix).numpy()  # .numpy() waits for the result, also on a GPU
            seconds = time.perf_counter() - start
            self.best_gflops = max(self.best_gflops, self.flops / seconds / 1e9)
            self.count += 1
        return self.best_gflops


@dataclass
class Machine:
    """What :func:`describe` found, and the matmul timers that measure its peak."""

    cpu: str
    cores: int
    flags: dict[str, bool]
    gpus: list[tuple[str, tuple[int, int] | None]]
    auto_precision: str
    auto_reason: str
    native_bf16: bool
    float32: MatmulTimer
    bfloat16: MatmulTimer | None  # only where bfloat16 is native
    flops_per_image: float = field(default_factory=flops_per_training_image)

    @property
    def bf16_label(self) -> str:
        """How mixed_bfloat16 runs here: natively, emulated on a CPU, or on an older GPU."""
        if self.native_bf16:
            return "native"
        return "no bf16 tensor cores" if self.gpus else "emulated"

    def ceiling(self, gflops: float) -> float:
        """Images per second if a training step ran at ``gflops``."""
        return gflops * 1e9 / self.flops_per_image

    def probe(self) -> None:
        """Time one more matmul of each kind (between a benchmark's steps)."""
        for timer in (self.float32, self.bfloat16):
            if timer is not None:
                timer.time()

    def peak_lines(self) -> list[str]:
        """The measured matmul peaks so far and the ceilings they put on a training step."""
        device = "GPU" if self.gpus else "CPU"
        size = self.float32.size
        lines = [
            f"float32 matmul peak ({device}, {size} x {size}, best of {self.float32.count}): "
            f"{self.float32.best_gflops:.0f} GFLOPS -> ceiling "
            f"{self.ceiling(self.float32.best_gflops):.0f} img/s at "
            f"{self.flops_per_image / 1e9:.2f} GFLOP per training image"
        ]
        if self.bfloat16 is not None:
            lines.append(
                f"bfloat16 matmul peak (native, best of {self.bfloat16.count}): "
                f"{self.bfloat16.best_gflops:.0f} GFLOPS -> ceiling "
                f"{self.ceiling(self.bfloat16.best_gflops):.0f} img/s"
            )
        else:
            lines.append(f"bfloat16: {self.bf16_label} here, so no bfloat16 peak is measured")
        return lines

    def header(self) -> list[str]:
        """The lines a benchmark prints before its numbers."""
        import tensorflow as tf

        flags = ", ".join(f"{name} {'yes' if has else 'no'}" for name, has in self.flags.items())
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines = [
            f"date: {datetime.date.today().isoformat()}, TensorFlow {tf.__version__}, "
            f"load average (1, 5, 15 min) {load}",
            f"CPU: {self.cpu}, {self.cores} cores; {flags}",
        ]
        for name, capability in self.gpus or [("none visible", None)]:
            shown = f" (compute capability {capability[0]}.{capability[1]})" if capability else ""
            lines.append(f"GPU: {name}{shown}")
        lines.append(f'precision="auto" chooses {self.auto_precision}: {self.auto_reason}')
        return lines + self.peak_lines()


def describe(repeats: int = 8) -> Machine:
    """Look the machine up and time ``repeats`` matmuls of each kind for a first peak."""
    flags = cpu_flags()
    gpus = gpu_compute_capabilities()
    precision, reason = choose_precision(gpus=gpus, flags=flags)
    if gpus:
        capability = gpus[0][1]
        native_bf16 = capability is not None and tuple(capability) >= (8, 0)
    else:
        native_bf16 = bool({"avx512_bf16", "amx_bf16"} & flags)
    machine = Machine(
        cpu=f"{cpu_model()} ({cpu_id()})" if cpu_id() else cpu_model(),
        cores=os.cpu_count() or 0,
        flags={name: name in flags for name in FLAGS_OF_INTEREST},
        gpus=gpus,
        auto_precision=precision,
        auto_reason=reason,
        native_bf16=native_bf16,
        float32=MatmulTimer("float32"),
        bfloat16=MatmulTimer("bfloat16") if native_bf16 else None,
    )
    for _ in range(repeats):
        machine.probe()
    return machine


if __name__ == "__main__":
    print("\n".join(describe().header()))
