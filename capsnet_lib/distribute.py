"""Training past one device with TensorFlow's own engine, ``tf.distribute``.

``train(..., distribute="mirrored")`` (``--distribute mirrored``) trains on every local GPU
with ``MirroredStrategy``; ``"multi-worker"`` on several machines (or processes) with
``MultiWorkerMirroredStrategy``, each configured by the ``TF_CONFIG`` environment variable as
TensorFlow documents. ``--batch-size`` is the global batch, split over the replicas; the
replicas' gradients are averaged, so one step is the step one device takes on that batch and
the learning rate is the same (scale it yourself if you scale the batch).

Only the chief (worker 0) writes the run's folder; the other workers save into a temporary
folder of their own (deleted at the end), as TensorFlow's multi-worker guide asks, so that every
worker runs the same saving code. The run's folder must be readable by every worker (a shared
file system): a restarted worker resumes from the chief's last checkpoint.

Without GPUs, ``CAPSNET_CPU_DEVICES=N`` (set before ``import capsnet_lib``) splits the CPU into
N logical devices, for trying the mirrored strategy; on a two-core CPU that tests correctness,
not speed.
"""

from __future__ import annotations

import os

CPU_DEVICES = "CAPSNET_CPU_DEVICES"
STRATEGIES = ("mirrored", "multi-worker")


def split_cpu_from_environment() -> int | None:
    """Split the CPU into ``$CAPSNET_CPU_DEVICES`` logical devices; the number, or ``None``."""
    text = os.environ.get(CPU_DEVICES)
    if not text:
        return None
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(
            f"{CPU_DEVICES} must be a whole number of devices, 1 or more; got {text!r}"
        )
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * count
    )
    return count


def make_strategy(distribute=None):
    """The ``tf.distribute`` strategy a run trains under, or ``None`` (one device, the default).

    Args:
        distribute: ``None``; ``"mirrored"`` (every local GPU; without one, the logical CPU
            devices of ``CAPSNET_CPU_DEVICES``); ``"multi-worker"`` (``TF_CONFIG`` names the
            workers and this one); or a ``tf.distribute.Strategy`` of your own.

    A multi-worker strategy must be made before TensorFlow runs anything: ``import
    capsnet_lib`` leaves the runtime to it where ``TF_CONFIG`` is set; make it right after.

    Introduced in the book's "Running the book" page (training on several GPUs or machines).
    """
    import tensorflow as tf

    if distribute is None or isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if distribute == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError(
                "--distribute multi-worker needs TF_CONFIG, naming every worker and this one: "
                'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}\' on the first, index 1 on the second'
            )
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise RuntimeError(
                f"{error}: make the multi-worker strategy before TensorFlow runs anything (with "
                "TF_CONFIG set before import capsnet_lib), e.g. strategy = "
                "capsnet_lib.distribute.make_strategy('multi-worker') right after the import, "
                "then train(..., distribute=strategy)"
            ) from None
    raise ValueError(
        f"distribute must be one of {', '.join(STRATEGIES)} or None; got {distribute!r}"
    )


def in_multi_worker_mode(strategy) -> bool:
    """Whether ``strategy`` spans several workers (processes or machines)."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    return bool(getattr(strategy.extended, "_in_multi_worker_mode", lambda: True)())


def is_chief(strategy) -> bool:
    """Whether this process writes the run's folder: always, but for a multi-worker run's
    workers other than the chief (``TF_CONFIG``'s chief, else worker 0)."""
    if strategy is None or not in_multi_worker_mode(strategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_name(strategy) -> str:
    """``"worker 1 of 2"``: this process in a multi-worker run."""
    resolver = strategy.cluster_resolver
    count = sum(len(v) for v in resolver.cluster_spec().as_dict().values())
    return f"{resolver.task_type} {resolver.task_id} of {count}"


def chief_values(strategy, values: list[int]) -> list[int]:
    """The chief's ``values`` on every worker (whole numbers below 2**53): each worker's own
    are ignored but for the chief's, so that all start from what the chief found."""
    import tensorflow as tf

    def give():
        first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
        mine = tf.constant(values, tf.float64)
        return tf.where(first, mine, tf.zeros_like(mine))

    summed = tf.function(lambda: strategy.reduce("SUM", strategy.run(give), axis=None))()
    return [int(v) for v in summed.numpy()]


def replica_logs(logs: dict) -> dict:
    """A train or test step's logs as Keras reduces them over several workers (shape ``(1,)``).

    Keras 3 averages each log over the workers along axis 0, which a scalar lacks
    (keras-team/keras#20585): give each one that axis; the average is then a scalar again.
    """
    import tensorflow as tf

    if not in_multi_worker_mode(tf.distribute.get_strategy()):
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


class DistributedBuild:
    """Mixed into :class:`~capsnet_lib.CapsNet`: builds what ``fit`` needs under a strategy.

    Under a strategy Keras 3 first builds the model on a data batch averaged over the
    replicas, which fails across workers (keras-team/keras#20585). A CapsNet is built when it
    is made and compiles no Keras loss or metric, so only the optimizer is left to build.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if getattr(self, "_distribute_strategy", None) is None:
            return
        if self.optimizer is not None and not self.optimizer.built:
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)
