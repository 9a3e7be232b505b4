"""pytest plugin for nbval runs: a cell whose output holds a line of TensorFlow's native log fails.

TensorFlow's C++ runtime (and XLA, through absl) writes lines such as "All log messages before
absl::InitializeLog() is called are written to STDERR", "I0000 00:00:17... service.cc:152] XLA
service ... initialized" or "Compiled cluster using XLA!" straight to file descriptor 2, which
Jupyter shows in the cell's output. Which ones appear depends on the TensorFlow release (2.19
prints four at the first XLA compile, 2.17 and 2.21 none) and on the machine. A reader should
see capsules, not this: `make notebooks` loads this plugin (``-p tests.native_logs``), and the
run of every chapter alone from the installed wheel copies it in as its ``conftest.py``.

It imports nothing of the book, so that it works as a lone conftest in an empty folder.
"""

from __future__ import annotations

import re

import pytest

# absl/glog's prefix ("I0000 00:00:1796080846.698124    2354 file.cc:31] ..."), and the lines
# that come without it or that other machines printed (oneDNN notices, CUDA probing without a
# GPU); the site test looks for the same in every built page
NATIVE_LOG = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+[\w.\-/]+:\d+\]"
    r"|All log messages before absl::InitializeLog"
    r"|Compiled cluster using XLA!"
    r"|XLA service 0x[0-9a-f]+ initialized"
    r"|StreamExecutor device \(\d+\)"
    r"|oneDNN custom operations are on|TF_ENABLE_ONEDNN_OPTS"
    r"|This TensorFlow binary is optimized"
    r"|cudart_stub\.cc|cuda_platform\.cc|cuInit|Could not find cuda drivers"
    r"|Unable to register cu(?:DNN|FFT|BLAS) factory|computation_placer\.cc",
    re.M,
)


def native_log_lines(outputs) -> list[str]:
    """The lines of ``outputs`` (nbval's or a notebook's cell outputs) that are native logs."""
    found = []
    for out in outputs or []:
        if out.get("output_type") != "stream":
            continue
        text = out.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        found += [line for line in text.splitlines() if NATIVE_LOG.search(line)]
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    outputs = getattr(item, "test_outputs", None)  # set by nbval's IPyNbCell
    if call.when == "call" and report.passed and outputs:
        lines = native_log_lines(outputs)
        if lines:
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid}: the cell's output holds TensorFlow's native log "
                f"({len(lines)} line(s)), which a reader would see:\n" + "\n".join(lines[:5])
            )
    return report
