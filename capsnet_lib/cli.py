"""The command line: ``python -m capsnet_lib train ...``, ``evaluate ...`` and ``predict ...``."""

from __future__ import annotations

import argparse
import math
import sys

from capsnet_lib.cli_use import run_evaluate, run_predict
from capsnet_lib.grading import add_grade_command, run_grade
from capsnet_lib.precision import PRECISIONS
from capsnet_lib.tasks import TASKS


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _number_in_range(text: str, convert, in_range, wanted: str):
    """``convert(text)`` if finite and ``in_range``; else an argparse error naming ``wanted``."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
    if not (math.isfinite(value) and in_range(value)):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a learning rate)."""
    return _number_in_range(text, float, lambda v: v > 0, "a finite number greater than 0")


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (a loss weight)."""
    return _number_in_range(text, float, lambda v: v >= 0, "a finite number, 0 or more")


def decay_factor(text: str) -> float:
    """argparse type: a factor in (0, 1] (1: no decay)."""
    return _number_in_range(text, float, lambda v: 0 < v <= 1, "a number in (0, 1]")


def shift(text: str) -> int:
    """argparse type: a shift in pixels, 0 to 13 (an MNIST digit is 28 pixels wide)."""
    return _number_in_range(text, int, lambda v: 0 <= v <= 13, "a whole number of pixels, 0 to 13")


def seed_value(text: str) -> int:
    """argparse type: a seed, a whole number from 0 to 2**32 - 1."""
    top = 2**32 - 1
    return _number_in_range(text, int, lambda v: 0 <= v <= top, f"a whole number from 0 to {top}")


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (a share of the images)."""
    return _number_in_range(text, float, lambda v: 0 < v < 1, "a number between 0 and 1")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m capsnet_lib",
        description="Train and evaluate CapsNets on MNIST, or on a folder of your own images.",
    )
    parser.add_argument("--debug", action="store_true", help="show the whole traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train, checkpointing every epoch; rerun to resume")
    train.add_argument("--out", required=True, help="output folder (checkpoints, log.csv)")
    train.add_argument("--epochs", type=positive_int, required=True, help="total epochs")
    train.add_argument(
        "--batch-size",
        type=positive_int,
        default=128,
        help="images per step (default 128); with --distribute, the global batch, split over "
        "the replicas, the learning rate unchanged",
    )
    train.add_argument("--routing-iterations", type=positive_int, default=3)
    train.add_argument("--limit", type=positive_int, help="use only the first N images")
    train.add_argument("--learning-rate", type=positive_float, default=1e-3)
    train.add_argument(
        "--no-decay",
        action="store_true",
        help="constant learning rate (default: x0.96 / 2000 steps)",
    )
    train.add_argument(
        "--max-shift",
        type=shift,
        help="random shift in pixels (default 2; not for --task multimnist, whose digits move "
        "up to 4 pixels from the centre)",
    )
    train.add_argument("--reconstruction-weight", type=non_negative_float, default=0.0005)
    train.add_argument(
        "--decay-steps", type=positive_int, default=2000, help="steps per decay (default 2000)"
    )
    train.add_argument(
        "--decay-rate", type=decay_factor, default=0.96, help="factor per decay (default 0.96)"
    )
    train.add_argument(
        "--init-weights",
        help="start a new run from these weights ('pretrained': the shipped ones, MNIST's or "
        "MultiMNIST's as --task)",
    )
    train.add_argument(
        "--precision",
        choices=["auto", *PRECISIONS],
        default="auto",
        help="auto (default): bfloat16 where the hardware computes it natively, "
        "float16 on older GPUs, float32 otherwise",
    )
    train.add_argument(
        "--xla-routing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile predictions and routing with XLA (default: on)",
    )
    train.add_argument(
        "--task",
        choices=TASKS,
        help="mnist (default), multimnist: two overlaid digits on 36x36 canvases (chapter 10), "
        "or folder (the default with --data-dir)",
    )
    train.add_argument(
        "--data-dir",
        help="train on a folder of your images: one subfolder per class (its name is the "
        "class's) of PNG, JPEG, BMP, GIF, TIFF or WebP pictures at any depth; system and "
        "hidden files (._*, .DS_Store, Thumbs.db) are skipped; keep --out outside it",
    )
    train.add_argument(
        "--image-size",
        type=positive_int,
        nargs=2,
        metavar=("H", "W"),
        help="resize --data-dir's images to H x W pixels (default: their own size); a size "
        "too large for this machine's memory is refused at once, with one that fits",
    )
    train.add_argument(
        "--color", choices=["grayscale", "rgb"], help="read --data-dir's images as (default: rgb)"
    )
    train.add_argument(
        "--validation-split",
        type=fraction,
        help="share of each class of --data-dir held out for validation (default: 0.2)",
    )
    train.add_argument(
        "--keep-split",
        action="store_true",
        help="resume on a --data-dir that changed since the run started (a resume is refused "
        "otherwise, saying what changed): validate on the run's validation images still "
        "there, train on all the others",
    )
    train.add_argument(
        "--distribute",
        choices=["mirrored", "multi-worker"],
        help="train with tf.distribute: mirrored, over every local GPU (without one, the "
        "CAPSNET_CPU_DEVICES=N logical CPU devices); multi-worker, over the workers TF_CONFIG "
        "names, the same command on each; only the chief writes --out (default: one device)",
    )
    train.add_argument("--seed", type=seed_value, default=None, help="0 to 2**32 - 1")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run in --out, deleting a previous run's checkpoints, log and weights",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="test accuracy on the MNIST test images (a MultiMNIST run: on the MultiMNIST test "
        "pairs, both digits right), or on a folder (--data-dir)",
    )
    evaluate.add_argument(
        "--data-dir", help="a folder of images, one subfolder per class of the network"
    )
    evaluate.add_argument(
        "--weights", help=".keras, .weights.h5 or training folder (default: the shipped weights)"
    )
    evaluate.add_argument(
        "--limit",
        type=positive_int,
        help="use only the first N test images (with --data-dir: N drawn with a fixed seed)",
    )
    evaluate.add_argument("--batch-size", type=positive_int, default=250)
    evaluate.add_argument(
        "--routing-iterations",
        type=positive_int,
        help="with --weights FILE.weights.h5 or a training folder: the rounds to route with",
    )

    predict = commands.add_parser(
        "predict",
        help="the class of an image file, or of each image in a folder (a MultiMNIST "
        "network: its two digits)",
    )
    predict.add_argument("path", help="an image file, or a folder of images (any depth)")
    predict.add_argument(
        "--weights", help=".keras, .weights.h5 or training folder (default: the shipped weights)"
    )
    predict.add_argument("--batch-size", type=positive_int, default=64)
    add_grade_command(commands)
    return parser


def run_train(args: argparse.Namespace) -> None:
    """Handle ``train``."""
    from capsnet_lib.distribute import make_strategy
    from capsnet_lib.precision import resolve_precision
    from capsnet_lib.training import train

    if args.task == "multimnist" and args.max_shift is not None:
        raise ValueError(
            "--max-shift: not for --task multimnist, whose digits move up to 4 pixels from "
            "the centre (the paper's): leave it out"
        )
    if args.keep_split and not args.data_dir:
        raise ValueError("--keep-split: only to resume a run on a folder of images (--data-dir)")
    strategy = make_strategy(args.distribute)  # before anything runs: TF_CONFIG's workers
    chosen, reason = resolve_precision(args.precision)
    print(f"precision: {chosen} ({reason})", flush=True)
    _, history = train(
        args.out,
        args.epochs,
        batch_size=args.batch_size,
        routing_iterations=args.routing_iterations,
        limit=args.limit,
        learning_rate=args.learning_rate,
        decay=not args.no_decay,
        max_shift=2 if args.max_shift is None else args.max_shift,
        seed=args.seed,
        reconstruction_weight=args.reconstruction_weight,
        precision=args.precision,  # recorded as asked ("auto"), so a resume matches it
        xla_routing=args.xla_routing,
        decay_steps=args.decay_steps,
        decay_rate=args.decay_rate,
        init_weights=args.init_weights,
        overwrite=args.overwrite,
        task=args.task,
        data_dir=args.data_dir,
        image_size=args.image_size,
        color_mode=args.color,
        validation_split=args.validation_split,
        keep_split=args.keep_split,
        distribute=strategy,
    )
    if history:
        last = history[-1]
        print(f"epoch {last['epoch']}: val_accuracy {last.get('val_accuracy', float('nan')):.4f}")


def main(argv: list[str] | None = None) -> int:
    """The command line, ``python -m capsnet_lib``, callable from Python with its arguments.

    Args:
        argv: The arguments after ``python -m capsnet_lib``, e.g.
            ``["predict", "digit.png"]``; ``None`` reads them from ``sys.argv``.

    Returns:
        The exit status: 0 done, 1 an error (one line, naming the file or option;
        ``--debug`` shows the traceback), 2 bad arguments, 130 interrupted (Ctrl-C).

    Introduced in chapter 10, beyond one centred digit.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            run_train(args)
        elif args.command == "predict":
            run_predict(args)
        elif args.command == "grade":
            run_grade(args)
        else:
            run_evaluate(args)
    except KeyboardInterrupt:
        print("capsnet_lib: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every error becomes one line, or --debug
        if args.debug:
            raise
        print(f"capsnet_lib: error: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


def one_line(error: BaseException) -> str:
    """An error as one line: its message's first line, with its type where that helps."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(error, ValueError | TypeError | OSError | RuntimeError) and first:
        return first
    return f"{type(error).__name__}: {first}" if first else repr(error)
