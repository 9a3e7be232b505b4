"""Which precision to train in: bfloat16 only where the hardware computes it natively.

bfloat16 convolutions roughly double a step's speed on a CPU with AVX512_BF16 or AMX and on
GPUs of compute capability 8.0 or more (A100, H100, RTX 30xx and later). Elsewhere they are
emulated: measured 7.6x *slower* than float32 on an AVX2-only AMD EPYC. Older GPUs (the T4 of
Colab's free tier, compute capability 7.5) have float16 tensor cores instead, which need loss
scaling. :func:`choose_precision` picks accordingly; ``precision="auto"`` uses it.
"""

from __future__ import annotations

from pathlib import Path

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpuinfo(path: str | Path = "/proc/cpuinfo") -> dict[str, str]:
    """The first processor's fields in ``/proc/cpuinfo`` (empty where it is unreadable)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.split("\n\n")[0].splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip()
    return fields


def cpu_flags(path: str | Path = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` is unreadable, e.g. macOS)."""
    return set(cpuinfo(path).get("flags", "").split())


def cpu_model(path: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name, or ``platform.processor()`` where ``/proc/cpuinfo`` is missing."""
    name = cpuinfo(path).get("model name")
    if name:
        return name
    import platform

    return platform.processor() or platform.machine() or "unknown CPU"


def gpu_compute_capabilities() -> list[tuple[str, tuple[int, int] | None]]:
    """``(name, (major, minor))`` of each GPU TensorFlow sees; empty on a CPU-only machine."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append((details.get("device_name", device.name), details.get("compute_capability")))
    return found


def choose_precision(
    gpus: list[tuple[str, tuple[int, int] | None]] | None = None,
    flags: set[str] | None = None,
) -> tuple[str, str]:
    """Return ``(precision, reason)`` for this machine.

    - a GPU of compute capability 8.0 or more: ``"mixed_bfloat16"``;
    - an older GPU: ``"mixed_float16"`` (float16 tensor cores, with loss scaling);
    - a CPU with AVX512_BF16 or AMX: ``"mixed_bfloat16"``;
    - any other CPU: ``"float32"`` (bfloat16 would be emulated, several times slower).

    Args:
        gpus: As :func:`gpu_compute_capabilities` returns (looked up when ``None``).
        flags: CPU flags as :func:`cpu_flags` returns (read when ``None``).

    Introduced in chapter 7, training.
    """
    if gpus is None:
        gpus = gpu_compute_capabilities()
    if gpus:
        name, capability = gpus[0]
        if capability is not None and tuple(capability) >= (8, 0):
            return (
                "mixed_bfloat16",
                f"GPU {name} (compute capability {capability[0]}.{capability[1]}) computes bfloat16 natively",
            )
        shown = "unknown" if capability is None else f"{capability[0]}.{capability[1]}"
        return (
            "mixed_float16",
            f"GPU {name} (compute capability {shown} < 8.0) has float16 but not bfloat16 tensor cores",
        )
    if flags is None:
        flags = cpu_flags()
    native = sorted(set(CPU_BF16_FLAGS) & flags)
    if native:
        return "mixed_bfloat16", f"the CPU computes bfloat16 natively ({', '.join(native)})"
    return (
        "float32",
        "the CPU has no native bfloat16 (no avx512_bf16 or amx_bf16): it would be emulated, several times slower",
    )


def resolve_precision(precision: str) -> tuple[str, str]:
    """``(precision, reason)``: ``"auto"`` resolved by :func:`choose_precision`, others checked."""
    if precision == "auto":
        return choose_precision()
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'auto' or one of {PRECISIONS}; got {precision!r}")
    return precision, "asked for"
