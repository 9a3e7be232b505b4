"""One training run's plan, built and checked once: its settings, task, data and strategy.

:func:`capsnet_lib.training.train` makes a :class:`RunPlan` with :func:`plan_run` (every
argument checked before anything is written) and hands it to :func:`open_run`, which finds
or starts the run in its folder and returns the model to train, and to the epoch loop, which
reads its data from :meth:`RunPlan.data`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from capsnet_lib.checkpoints import (
    CHECKPOINT_PREFIX,
    MODEL_NAME,
    STATE_NAME,
    RunLock,
    atomic_write,
    latest_checkpoint,
    read_state,
    remove_leftovers,
)
from capsnet_lib.distribute import chief_values, in_multi_worker_mode, is_chief, make_strategy
from capsnet_lib.folder_runs import FolderRun
from capsnet_lib.image_folder import ImageFolder
from capsnet_lib.run_folder import (
    CONFIG_NAME,
    RESUME_KEYS,
    SETTINGS_NAME,
    TRAINING_KEYS,
    RunFolderError,
    check_same_architecture,
    check_same_settings,
    clear_run,
    missing_seed,
    read_json,
    recorded_settings,
    refuse_to_overwrite,
    repair_run,
    write_settings,
)
from capsnet_lib.tasks import folder_settings, model_class, resolve_task, task_data
from capsnet_lib.trained import initial_weights


@dataclass
class RunPlan:
    """What a run trains and where, checked: the pieces of ``train`` read it.

    ``settings`` are what the run records in ``settings.json`` (its ``seed`` is ``None`` until
    :func:`open_run` draws it or reads the run's); ``write_dir`` is ``out_dir`` on the chief
    and a temporary folder on a multi-worker run's other workers.
    """

    out_dir: Path
    epochs: int
    settings: dict
    folder: ImageFolder | None
    init_weights: str | Path | None
    overwrite: bool
    verbose: int
    strategy: tf.distribute.Strategy | None
    chief: bool
    write_dir: Path

    @property
    def task(self) -> str:
        return self.settings["task"]

    def scope(self):
        """The strategy's scope (where the model is made), or nothing without one."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def lock(self):
        """The run folder's lock, held by the chief (the only process that writes it)."""
        return RunLock(self.out_dir) if self.chief else contextlib.nullcontext()

    def data(self):
        """``(validation batches, epoch -> training batches)`` of the global batch size; across
        workers each takes its share of every batch (``AutoShardPolicy.DATA``)."""
        s = self.settings
        extra = () if self.folder is None else (self.folder, s["validation_split"])
        valid, epoch_data = task_data(
            self.task, s["limit"], s["batch_size"], s["max_shift"], s["seed"], *extra
        )
        if not in_multi_worker_mode(self.strategy):
            return valid, epoch_data
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return valid.with_options(options), lambda epoch: epoch_data(epoch).with_options(options)

    def close(self) -> None:
        """Delete a worker's temporary folder (the chief's is the run's, kept)."""
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)


def plan_run(
    out_dir: str | Path,
    epochs: int,
    *,
    task: str | None,
    data_dir: str | Path | None,
    image_size: tuple[int, int] | None,
    color_mode: str | None,
    validation_split: float | None,
    keep_split: bool,
    init_weights: str | Path | None,
    overwrite: bool,
    verbose: int | str,
    distribute: str | tf.distribute.Strategy | None,
    **settings,
) -> RunPlan:
    """A checked :class:`RunPlan` for :func:`~capsnet_lib.training.train`'s arguments.

    ``settings``: the run's recorded settings (batch size, schedule, seed, CapsNet fields).
    """
    settings.setdefault("precision", "auto")
    strategy = make_strategy(distribute)  # first: a multi-worker one must precede any op
    task = resolve_task(
        task,
        data_dir,
        settings.get("max_shift"),
        settings.get("seed"),
        image_size=image_size,
        color_mode=color_mode,
        validation_split=validation_split,
        keep_split=keep_split or None,
    )
    folder, folder_run = None, {}
    if task == "folder":
        network = {k: v for k, v in settings.items() if k not in TRAINING_KEYS}
        run = FolderRun(
            out_dir, settings["batch_size"], settings["routing_iterations"], keep_split, overwrite
        )
        folder, folder_run = folder_settings(
            data_dir, image_size, color_mode, validation_split, run, **network
        )
    chief = is_chief(strategy)
    out_dir = Path(out_dir)
    if chief:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_dir = out_dir
    else:
        write_dir = Path(tempfile.mkdtemp(prefix="capsnet-worker-"))
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    return RunPlan(
        out_dir=out_dir,
        epochs=epochs,
        settings={**settings, "task": task, **folder_run},
        folder=folder,
        init_weights=init_weights,
        overwrite=overwrite,
        verbose=verbose if chief else 0,
        strategy=strategy,
        chief=chief,
        write_dir=write_dir,
    )


def open_run(plan: RunPlan) -> tuple[keras.Model, dict]:
    """``(model, state)``: the run resumed from its last checkpoint, or started.

    The chief checks and repairs the folder (or refuses it), and every worker then starts
    from the epoch and seed the chief found; under a strategy the model is made in its scope.
    """
    settings, found, epoch = plan.settings, None, 0
    if plan.chief:
        remove_leftovers(plan.out_dir)
        if plan.overwrite:
            clear_run(plan.out_dir)
        found = latest_checkpoint(plan.out_dir)
        if found is not None:
            state = _check_resume(plan.out_dir, found, settings)
            epoch = state["epoch"]
        else:
            refuse_to_overwrite(plan.out_dir)
            if settings["seed"] is None:  # drawn once and recorded: a resumed run continues it
                settings["seed"] = _earlier_seed(plan.out_dir)
            if settings["seed"] is None:
                settings["seed"] = secrets.randbelow(2**31)
    if in_multi_worker_mode(plan.strategy):
        epoch, settings["seed"] = chief_values(plan.strategy, [epoch, settings["seed"] or 0])
    checkpoint = found[0] if found else plan.out_dir / f"{CHECKPOINT_PREFIX}{epoch:04d}"
    if epoch and not plan.chief:
        state = read_state(checkpoint / STATE_NAME)
        check_same_settings(state["settings"] or {}, settings, plan.out_dir)
        state["settings"] = {**state["settings"], **settings}
    if epoch:
        if plan.strategy is None:
            return found[2], state
        with plan.scope():
            return keras.models.load_model(checkpoint / MODEL_NAME), state
    model = _new_model(plan)
    config = model.get_config()
    recorded = {**{k: config[k] for k in RESUME_KEYS if k in config}, **settings}
    if plan.chief:
        atomic_write(
            plan.out_dir / CONFIG_NAME,
            lambda tmp: Path(tmp).write_text(json.dumps(config, indent=1)),
        )
        write_settings(plan.out_dir, recorded)
    return model, {
        "epoch": 0,
        "history": [],
        "best": None,
        "best_epoch": None,
        "settings": recorded,
    }


def _check_resume(out_dir: Path, found, settings: dict) -> dict:
    """Check a run's folder against the settings asked for and repair it; its state."""
    folder, state, model = found
    recorded = recorded_settings(out_dir, state)
    if settings["seed"] is None:  # continue the run's stream
        settings["seed"] = recorded.get("seed")
        if settings["seed"] is None:
            raise missing_seed(out_dir)
    check_same_settings(recorded, settings, out_dir)
    asked = {k: v for k, v in settings.items() if k not in TRAINING_KEYS}
    check_same_architecture(model.get_config(), asked, str(out_dir))
    repair_run(out_dir, folder, state, model)
    state["settings"] = {**recorded, **settings}
    return state


def _new_model(plan: RunPlan):
    """A new run's model, compiled, made in the strategy's scope from the plan's seed."""
    from capsnet_lib.training import paper_optimizer

    settings = plan.settings
    keras.utils.set_random_seed(settings["seed"])
    with plan.scope():
        network = model_class(settings["task"])
        model = network(**{k: v for k, v in settings.items() if k not in TRAINING_KEYS})
        if plan.init_weights is not None:
            model.set_weights(initial_weights(plan.init_weights, model).get_weights())
        model.compile(
            optimizer=paper_optimizer(
                settings["learning_rate"],
                settings["decay"],
                settings["decay_steps"],
                settings["decay_rate"],
            )
        )
    return model


def _earlier_seed(out_dir: Path) -> int | None:
    """The seed of a run that stopped before its first checkpoint: a rerun repeats it."""
    try:
        seed = read_json(out_dir / SETTINGS_NAME, "a run's settings", "").get("seed")
    except (OSError, RunFolderError):  # nothing to resume: the file is written again
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None
