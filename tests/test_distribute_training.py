"""``train`` under tf.distribute: on two logical CPU devices (one step equal to one device's,
through ``train`` and the CLI), and as two worker processes on 127.0.0.1 training one run,
one of them killed mid-run and both restarted (``--distribute multi-worker``).

TensorFlow fixes its devices when it starts: each run is a fresh process.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

# Routing without XLA: its compile is most of a tiny run (the mirrored fit with XLA: test_distribute)
TINY = dict(limit=16, batch_size=16, routing_iterations=1, seed=3, decay=False, xla_routing=False)
TINY_ARGS = "--limit 16 --batch-size 16 --routing-iterations 1 --seed 3 --no-xla-routing".split()

SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["CAPSNET_CPU_DEVICES"] = "2"  # before the import: the runtime starts with it
    from capsnet_lib import training
    out, tiny = sys.argv[1], eval(sys.argv[2])
    training.train(out + "/two", epochs=1, distribute="mirrored", verbose=0, **tiny)
    training.train(out + "/one", epochs=1, verbose=0, **tiny)
    """
)


def weights(folder):
    """The weights of a run's last checkpoint, and its optimizer's step count."""
    import keras

    model = keras.models.load_model(sorted(folder.glob("epoch-*"))[-1] / "model.keras")
    return model.get_weights(), int(model.optimizer.iterations.numpy())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One step on two logical devices (``two``) and on one (``one``); the start weights."""
    out = tmp_path_factory.mktemp("runs")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), repr(TINY)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from capsnet_lib import training

    model, history = training.train(out / "start", epochs=0, verbose=0, **TINY)  # not trained
    assert history == []
    return out, model.get_weights()


def assert_same_step(folder, one, start):
    """The step taken in ``folder`` is the one-device step of ``one``, from the same start."""
    after, steps = weights(folder)
    alone, steps_alone = weights(one)
    assert steps == steps_alone == 1
    moved = max(np.abs(a - s).max() for a, s in zip(alone, start, strict=True))
    assert moved > 5e-4, moved  # Adam's first step moves weights by about the learning rate
    for a, b in zip(after, alone, strict=True):  # measured: at most 4e-6 apart
        np.testing.assert_allclose(a, b, rtol=0, atol=0.05 * moved)


@pytest.mark.slow
def test_train_on_two_logical_devices_takes_one_devices_step(runs):
    out, start = runs
    assert_same_step(out / "two", out / "one", start)


@pytest.mark.slow
def test_the_cli_on_two_logical_devices_takes_one_devices_step(runs, tmp_path):
    out, start = runs
    command = [sys.executable, "-m", "capsnet_lib", "train", "--out", str(tmp_path / "cli")]
    result = subprocess.run(
        [*command, "--epochs", "1", "--no-decay", "--distribute", "mirrored", *TINY_ARGS],
        capture_output=True,
        text=True,
        env={**os.environ, "CAPSNET_CPU_DEVICES": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "distributed over 2 replicas: 16 images a step in all, 8 on each" in result.stdout
    assert_same_step(tmp_path / "cli", out / "one", start)


# -- two worker processes on this machine (MultiWorkerMirroredStrategy, TF_CONFIG) ----------

WORKER_ARGS = "--limit 64 --batch-size 16 --routing-iterations 1 --seed 1 --no-xla-routing".split()
EPOCHS = 2


def free_ports(count):
    """Ports nobody listens on now (the system picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(out, logs, attempt):
    """Both workers of one run, each its own process with its own TF_CONFIG."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    command = [sys.executable, "-m", "capsnet_lib", "train", "--out", str(out)]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        log = open(logs / f"worker{index}-{attempt}.log", "w")
        workers.append(
            subprocess.Popen(
                [*command, "--epochs", str(EPOCHS), "--distribute", "multi-worker", *WORKER_ARGS],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TF_CONFIG": json.dumps(config)},
            )
        )
    return workers


def logged(out):
    if not (out / "log.csv").exists():
        return []
    with open(out / "log.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def stop(workers):
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


@pytest.mark.slow
def test_two_workers_train_one_run_and_resume_after_one_is_killed(tmp_path):
    out, logs = tmp_path / "run", tmp_path
    workers = start_workers(out, logs, 1)
    try:
        deadline = time.time() + 240
        while not (out / "epoch-0001").exists():
            assert all(w.poll() is None for w in workers), (logs / "worker0-1.log").read_text()
            assert time.time() < deadline, "no epoch finished in 4 minutes"
            time.sleep(0.2)
        time.sleep(1.0)  # into the second epoch
        os.kill(workers[1].pid, signal.SIGKILL)  # the other worker, mid-run
        workers[1].wait()
        time.sleep(3.0)
        assert not (out / f"epoch-{EPOCHS:04d}").exists(), "the run ended before the kill"
    finally:
        stop(workers)  # the chief waits on the lost worker: stopped, as a scheduler would
    assert logged(out) in ([], [1])  # killed in epoch 2 (epoch 1's log line may not be out yet)
    workers = start_workers(out, logs, 2)  # both restarted, on new ports
    try:
        for index, worker in enumerate(workers):
            worker.wait(timeout=300)
            text = (logs / f"worker{index}-2.log").read_text()
            assert worker.returncode == 0, text[-3000:]
    finally:
        stop(workers)
    assert logged(out) == [1, 2]  # every epoch once: nothing lost, nothing repeated
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == [
        "best.weights.h5",
        "config.json",
        "epoch-0001",
        "epoch-0002",
        "log.csv",
        "settings.json",
    ]
    assert not list(out.glob(".checkpoint-*")) and not list(out.glob(".tmp-*"))
    check = (  # in a fresh process, as a reader loads it
        "import keras, numpy as np, capsnet_lib;"
        f"m = keras.models.load_model(r'{out / 'epoch-0002' / 'model.keras'}');"
        "print(int(m.optimizer.iterations.numpy()), all(np.isfinite(w).all() for w in m.get_weights()))"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    # 4 global steps an epoch, none lost or repeated; every weight finite
    assert loaded.stdout.split() == [str(EPOCHS * 64 // 16), "True"], loaded.stderr[-2000:]
    assert json.loads((out / "settings.json").read_text())["seed"] == 1
    assert "distributed over 2 replicas" in (logs / "worker0-2.log").read_text()


def test_a_multi_worker_run_without_tf_config_says_what_to_set(monkeypatch):
    from capsnet_lib.distribute import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match=r"needs TF_CONFIG.*\"index\": 0"):
        make_strategy("multi-worker")
    with pytest.raises(ValueError, match="one of mirrored, multi-worker or None"):
        make_strategy("mirror")
    assert make_strategy(None) is None


def test_a_bad_cpu_device_count_is_named_at_start_up():
    result = subprocess.run(
        [sys.executable, "-c", "import capsnet_lib"],
        capture_output=True,
        text=True,
        env={**os.environ, "CAPSNET_CPU_DEVICES": "two"},
    )
    assert result.returncode != 0
    assert "CAPSNET_CPU_DEVICES must be a whole number of devices, 1 or more; got 'two'" in (
        result.stderr
    )
