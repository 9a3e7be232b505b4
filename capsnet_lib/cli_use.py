"""The command line's ``evaluate`` and ``predict``: a network used on MNIST's test images, on
MultiMNIST's test pairs or on a folder of images, each as the network was trained for."""

from __future__ import annotations

import argparse


def run_evaluate(args: argparse.Namespace) -> None:
    """Handle ``evaluate``: print ``test accuracy: 0.XXXX``."""
    from capsnet_lib.data import load_mnist
    from capsnet_lib.image_predictions import check_mnist_network, run_settings
    from capsnet_lib.pretrained import load_pretrained
    from capsnet_lib.training import load_trained

    if args.routing_iterations is not None and (
        not args.weights or str(args.weights).endswith(".keras")
    ):
        raise ValueError(
            "--routing-iterations: only with --weights FILE.weights.h5 or a training folder "
            "(a .keras file and the shipped weights keep their own)"
        )
    if args.weights:
        model = load_trained(args.weights, args.routing_iterations)
    else:
        model = load_pretrained()
    recorded = run_settings(args.weights)
    if is_multimnist(model, args.weights):
        print_multimnist_accuracy(model, args)
        return
    if args.data_dir:
        print_folder_accuracy(model, args)
        return
    check_mnist_network(model, args.weights, recorded)
    if getattr(model, "optimizer", None) is None:
        model.compile(optimizer="adam")
    mnist = load_mnist(limit=args.limit)
    results = model.evaluate(
        mnist.x_test, mnist.y_test, batch_size=args.batch_size, verbose=0, return_dict=True
    )
    print(f"test accuracy: {results['accuracy']:.4f}")


def is_multimnist(model, weights) -> bool:
    """Whether a network reads MultiMNIST canvases (its run's task, or its 36x36 grey input)."""
    from capsnet_lib.image_predictions import run_settings

    if run_settings(weights).get("task") == "multimnist":
        return True
    return tuple(model.config.image_shape) == (36, 36, 1) and model.config.num_classes == 10


def print_multimnist_accuracy(model, args: argparse.Namespace) -> None:
    """``evaluate`` of a MultiMNIST network: both digits right on the MultiMNIST test pairs."""
    from capsnet_lib.multimnist import load_multimnist
    from capsnet_lib.multimnist_model import evaluate_pairs

    if args.data_dir:
        raise ValueError(
            f"{args.weights} is a MultiMNIST network (36x36 canvases of two digits), not one "
            "for a folder of images: evaluate it without --data-dir, on the MultiMNIST test pairs"
        )
    pairs = load_multimnist("test", limit=args.limit)
    found = evaluate_pairs(model, pairs, args.batch_size)
    print(
        f"test accuracy: {found['both_right'].mean():.4f} ({len(pairs):,} MultiMNIST test "
        "pairs, both digits right)"
    )


def print_folder_accuracy(model, args: argparse.Namespace) -> None:
    """``evaluate --data-dir``: accuracy on a folder, then each class's, by the run's names."""
    from capsnet_lib.image_predictions import evaluate_folder, run_class_names

    names = run_class_names(args.weights, model.config.num_classes)
    found = evaluate_folder(model, args.data_dir, names, args.batch_size, args.limit)
    print(f"accuracy on {args.data_dir} ({found['images']} images): {found['accuracy']:.4f}")
    for name, (right, count) in found["per_class"].items():
        print(f"  {name}: {right / count:.4f} ({right}/{count})")


def run_predict(args: argparse.Namespace) -> None:
    """Handle ``predict``: ``file: class_name (length 0.93)`` for each image."""
    from pathlib import Path

    from capsnet_lib import image_predictions as found
    from capsnet_lib.pretrained import load_pretrained
    from capsnet_lib.training import load_trained

    files = found.image_files(args.path)  # a wrong path is named before a model loads
    model = load_trained(args.weights) if args.weights else load_pretrained()
    names = found.run_class_names(args.weights, model.config.num_classes)
    root = Path(args.path)
    if is_multimnist(model, args.weights):  # two digits on a canvas: the two longest capsules
        for file, (a, b), (la, lb) in found.predict_two_files(model, files, names, args.batch_size):
            shown = file.relative_to(root) if root.is_dir() else file
            print(f"{shown}: {a} and {b} (lengths {la:.2f}, {lb:.2f})")
        return
    for file, name, length in found.predict_files(model, files, names, args.batch_size):
        shown = file.relative_to(root) if root.is_dir() else file
        print(f"{shown}: {name} (length {length:.2f})")
