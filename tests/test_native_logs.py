"""tests/native_logs.py: the lines it catches are the native log lines seen on some releases."""

import pytest

from tests.native_logs import native_log_lines

SEEN = [  # TensorFlow 2.19.1 at the first XLA compile, on a two-core AMD EPYC without a GPU
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796591446.289747   11593 service.cc:152] XLA service 0x56207ab16e20 "
    "initialized for platform Host (this does not guarantee that XLA will be used). Devices:",
    "I0000 00:00:1796591446.289819   11593 service.cc:160]   StreamExecutor device (0): Host, "
    "Default Version",
    "I0000 00:00:1796591446.426138   11593 device_compiler.h:188] Compiled cluster using XLA!  "
    "This line is logged at most once for the lifetime of the process.",
    "E0000 00:00:1796080846.920194    2354 cuda_platform.cc:52] failed call to cuInit",
]


@pytest.mark.parametrize("line", SEEN)
def test_a_native_log_line_is_caught(line):
    outputs = [{"output_type": "stream", "name": "stderr", "text": f"epoch 1\n{line}\n"}]
    assert native_log_lines(outputs) == [line]


def test_what_a_chapter_prints_is_not_caught():
    printed = (
        "test accuracy: 0.9945 on 10,000 images\n"
        "W (1152, 10, 16, 8): 1,474,560 parameters\n"
        "I0 = 0.25, E1: 3 errors\n"
    )
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": printed},
        {"output_type": "display_data", "data": {"text/plain": SEEN[0]}},
    ]
    assert native_log_lines(outputs) == []
