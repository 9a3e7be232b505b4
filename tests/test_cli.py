"""The command line, run as a user runs it: in a subprocess."""

import csv
import os
import re
import signal
import subprocess
import sys
import time

import pytest

TINY = ["--limit", "384", "--batch-size", "32", "--routing-iterations", "1", "--seed", "1"]


def run(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "capsnet_lib", *args], capture_output=True, text=True, **kwargs
    )


def epochs_logged(out):
    if not (out / "log.csv").exists():
        return []
    with open(out / "log.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run("train", "--out", str(out), "--epochs", "1", *TINY)
    assert result.returncode == 0, result.stderr
    return out


def test_train_writes_log_best_weights_and_checkpoint(trained):
    assert epochs_logged(trained) == [1]
    assert (trained / "best.weights.h5").is_file() and (trained / "config.json").is_file()
    assert [p.name for p in trained.glob("epoch-*")] == ["epoch-0001"]


def test_evaluate_prints_test_accuracy(trained):
    result = run("evaluate", "--weights", str(trained), "--limit", "200")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^test accuracy: [01]\.\d{4}$", result.stdout, re.M), result.stdout


def test_rerun_of_a_finished_run_trains_nothing(trained):
    result = run("train", "--out", str(trained), "--epochs", "1", *TINY)
    assert result.returncode == 0 and epochs_logged(trained) == [1]


def test_resume_after_kill_9_repeats_and_loses_no_epoch(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "capsnet_lib", "train", "--out", str(out), "--epochs", "3"]
    process = subprocess.Popen(
        [*command, *TINY], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    while not (out / "epoch-0001").exists():
        assert process.poll() is None and time.time() < deadline, "training stopped early"
        time.sleep(0.2)
    time.sleep(1.0)  # into the second epoch
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert epochs_logged(out) in ([1], [1, 2])
    result = subprocess.run([*command, *TINY], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert epochs_logged(out) == [1, 2, 3]
    check = (
        "import keras, capsnet_lib;"
        f"m = keras.models.load_model(r'{out / 'epoch-0003' / 'model.keras'}');"
        "print(int(m.optimizer.iterations.numpy()))"
    )
    steps = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert steps.stdout.strip() == str(3 * 384 // 32), steps.stderr  # 12 steps per epoch


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--out", "x", "--epochs", "0"], "must be a positive integer"),
        (["train", "--epochs", "2"], "required: --out"),
        (["evaluate", "--limit", "many"], "invalid positive_int value"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    result = run(*args)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5"])
def test_a_bad_seed_is_refused_naming_the_option(seed, tmp_path, capsys):
    from capsnet_lib import cli

    with pytest.raises(SystemExit) as exit_code:  # main: "Seed must be between 0 and 2**32 - 1"
        cli.main(["train", "--out", str(tmp_path / "run"), "--epochs", "1", "--seed", seed])
    assert exit_code.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: must be a whole number from 0 to 4294967295" in err, err
    assert not (tmp_path / "run").exists()


def test_a_bad_seed_from_python_names_the_option(tmp_path):
    from capsnet_lib import training

    with pytest.raises(ValueError, match=r"seed \(--seed\) must be a whole number from 0 to"):
        training.train(tmp_path / "run", 1, seed=-1, limit=8)


def test_evaluate_refuses_routing_iterations_it_would_not_use(capsys):
    from capsnet_lib import cli

    assert cli.main(["evaluate", "--routing-iterations", "5", "--limit", "10"]) == 1
    assert "--routing-iterations: only with --weights FILE.weights.h5" in capsys.readouterr().err


def test_missing_weights_file(tmp_path):
    result = run("evaluate", "--weights", str(tmp_path / "nothing.weights.h5"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("capsnet_lib: error: no weights at")


def test_checkpoint_of_another_architecture(trained, tmp_path):
    result = run("train", "--out", str(trained), "--epochs", "2", *TINY[:-4])
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "routing_iterations=1, not 3" in result.stderr
    (tmp_path / "config.json").write_text('{"decoder_units": [64, 64]}')
    os.link(trained / "best.weights.h5", tmp_path / "best.weights.h5")
    result = run("evaluate", "--weights", str(tmp_path), "--limit", "10")
    assert result.returncode == 1 and "does not fit a CapsNet" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_run_that_diverges_exits_non_zero_saying_what_to_try(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--out", str(out), "--epochs", "2", "--learning-rate", "1e8", *TINY)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "diverged" in result.stderr and "smaller learning rate (--learning-rate" in result.stderr
    assert not list(out.glob("epoch-*")) and not (out / "best.weights.h5").exists()


def test_a_previous_runs_results_are_not_overwritten_unasked(trained, tmp_path):
    for name in ("best.weights.h5", "log.csv"):  # its checkpoints deleted to save space
        (tmp_path / name).write_bytes((trained / name).read_bytes())
    result = run("train", "--out", str(tmp_path), "--epochs", "1", *TINY)
    assert result.returncode == 1 and "--overwrite" in result.stderr
    assert (tmp_path / "log.csv").read_bytes() == (trained / "log.csv").read_bytes()


def test_evaluate_a_keras_file_of_another_model(tmp_path):
    make = "import keras; keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).save"
    subprocess.run([sys.executable, "-c", f"{make}(r'{tmp_path / 'm.keras'}')"], check=True)
    result = run("evaluate", "--weights", str(tmp_path / "m.keras"), "--limit", "10")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "m.keras holds a Keras Sequential, not a CapsNet" in result.stderr


def test_missing_mnist_is_a_one_line_error(tmp_path):
    env = {**os.environ, "CAPSNET_DATA_DIR": str(tmp_path)}
    result = run("train", "--out", str(tmp_path / "o"), "--epochs", "1", *TINY, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not found in" in result.stderr and "CAPSNET_DATA_DIR" in result.stderr


# A run killed on purpose inside the checkpoint's write window: the process SIGKILLs itself
# at a chosen rename of capsnet_lib.checkpoints, as a power cut or `kill -9` could.
KILLER = """
import os, signal, sys
import capsnet_lib.checkpoints as checkpoints
from capsnet_lib import cli

target = sys.argv[1]
real_replace = os.replace

def replace(src, dst):
    if os.path.basename(str(dst)) == target:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

checkpoints.os.replace = replace
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    "killed_at, logged_before",
    [
        ("epoch-0002", [1]),  # epoch 2 written under its temporary name, not yet renamed
        ("best.weights.h5", []),  # epoch 1's checkpoint in place; best weights, log not yet
    ],
)
def test_kill_9_inside_the_checkpoint_write_loses_nothing(tmp_path, killed_at, logged_before):
    out = tmp_path / "run"
    args = ["train", "--out", str(out), "--epochs", "3", *TINY]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, killed_at, *args], capture_output=True, text=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert epochs_logged(out) == logged_before
    assert list(out.glob(".checkpoint-*")) or list(out.glob(".tmp-*")) or killed_at != "epoch-0002"
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert epochs_logged(out) == [1, 2, 3]  # every epoch logged once
    assert not list(out.glob(".checkpoint-*")) and not list(out.glob(".tmp-*"))
    assert (out / "best.weights.h5").is_file()


def test_evaluate_of_the_shipped_weights_reports_their_accuracy():
    """Not just the format: the shipped weights score above 98% on 500 test images."""
    result = run("evaluate", "--limit", "500")
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"^test accuracy: ([01]\.\d{4})$", result.stdout, re.M).group(1))
    assert accuracy >= 0.98, result.stdout
