"""Keep TensorFlow's native start-up lines out of notebooks, pages and terminals.

TensorFlow's C++ runtime writes lines such as "All log messages before absl::InitializeLog()
..." and "cudart_stub.cc ... Could not find cuda drivers" straight to file descriptor 2 when it
loads and when it first looks for devices; ``TF_CPP_MIN_LOG_LEVEL`` does not silence all of
them. ``import capsnet_lib`` loads TensorFlow and starts its runtime inside
:func:`native_stderr_silenced`, so a chapter's first cell is about capsules, not about this.
Set ``CAPSNET_TF_LOGS=1`` to see the lines (e.g. to debug a GPU that is not found).

Devices are fixed when the runtime starts, so what :mod:`capsnet_lib.distribute` needs happens
here: ``CAPSNET_CPU_DEVICES=N`` splits the CPU into N logical devices first (to try
``--distribute mirrored`` without GPUs), and where ``TF_CONFIG`` is set (a multi-worker run)
the runtime is left to start with the strategy, which must configure it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` for the block, unless ``CAPSNET_TF_LOGS=1``.

    Python's own ``sys.stderr`` is flushed first and restored with the descriptor, so a
    Python exception raised in the block is still shown (after the block).
    """
    if os.environ.get("CAPSNET_TF_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 (some embedded hosts)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def start_tensorflow_quietly() -> None:
    """Import TensorFlow and start its runtime with its native start-up lines silenced.

    Besides the import and device discovery, this compiles one tiny function with XLA: some
    releases (TensorFlow 2.19) log four lines through absl at the first XLA compile of a
    process, whatever ``TF_CPP_MIN_LOG_LEVEL`` says (absl's "All log messages before
    absl::InitializeLog()", the XLA service and its device, "Compiled cluster using XLA!").
    They come once per process, so they come here, silenced, rather than in the middle of a
    chapter when routing is first compiled.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_silenced():
        import tensorflow as tf

        from capsnet_lib.distribute import split_cpu_from_environment

        split_cpu_from_environment()
        if os.environ.get("TF_CONFIG"):  # MultiWorkerMirroredStrategy starts the runtime
            return
        tf.config.list_logical_devices()  # device discovery: the CUDA probing lines
        _first_xla_compile(tf)


def _first_xla_compile(tf) -> None:
    """Compile and run a one-op function with XLA (the once-per-process log lines)."""
    try:
        tf.function(lambda x: x + 1.0, jit_compile=True)(tf.zeros((1,)))
    except Exception:  # no XLA on this build or device: nothing to silence
        pass
