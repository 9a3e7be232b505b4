"""Your own images (chapter 10): a folder of class subfolders trained on, evaluated and
predicted from, through the command line and from Python; and every bad folder refused in
one line that names it."""

import json
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import capsnet_lib as cl
from capsnet_lib import cli, training
from capsnet_lib.example_folders import write_example_folder, write_keras_dataset
from capsnet_lib.image_folder import architecture_of, scan_image_folder, split_indices
from capsnet_lib.image_predictions import (
    evaluate_folder,
    image_files,
    predict_files,
    run_class_names,
)

CLASSES = ["one", "seven", "zero"]  # the example folder's, alphabetical
TINY = ["--batch-size", "8", "--routing-iterations", "1", "--seed", "1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three classes of 8 colour PNGs of 30x30 pixels (a size MNIST does not have)."""
    return write_example_folder(tmp_path_factory.mktemp("images") / "data", 8, size=(30, 30))


@pytest.fixture(scope="module")
def cli_run(folder, tmp_path_factory):
    """One epoch trained from a fresh process, as a user runs it; ``(run folder, stdout)``."""
    out = tmp_path_factory.mktemp("cli") / "run"
    result = subprocess.run(
        [sys.executable, "-m", "capsnet_lib", "train", "--data-dir", str(folder)]
        + ["--out", str(out), "--epochs", "1", *TINY],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_the_example_folder_is_three_classes_of_colour_pngs(folder):
    scanned = scan_image_folder(folder)
    assert scanned.class_names == CLASSES and scanned.image_shape == (30, 30, 3)
    assert len(scanned.files) == 24 and np.bincount(scanned.labels).tolist() == [8, 8, 8]
    pixels = scanned.read([0])[0]
    assert pixels.dtype == np.uint8 and not np.allclose(pixels[..., 0], pixels[..., 1])


def test_train_from_the_command_line_builds_the_network_for_the_images(cli_run):
    out, stdout = cli_run
    # 30x30 -> conv1 22x22 -> 7x7 primary grids: 7 * 7 * 32 = 1,568 capsules
    assert "read as 30x30 rgb" in stdout and "7x7 grids x 32 maps = 1,568 capsules" in stdout
    assert "u_hat (8, 1568, 3, 16) 2.3 MiB" in stdout, stdout
    settings = json.loads((out / "settings.json").read_text())
    assert settings["class_names"] == CLASSES and settings["task"] == "folder"
    assert settings["image_size"] == [30, 30] and settings["color_mode"] == "rgb"
    config = json.loads((out / "config.json").read_text())
    assert config["image_shape"] == [30, 30, 3] and config["num_classes"] == 3
    assert (out / "best.weights.h5").is_file()


def test_evaluate_a_folder_prints_accuracy_by_class_name(cli_run, folder, capsys):
    assert cli.main(["evaluate", "--weights", str(cli_run[0]), "--data-dir", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"accuracy on .+ \(24 images\): [01]\.\d{4}", lines[0]), lines
    assert [line.split(":")[0].strip() for line in lines[1:]] == CLASSES


def test_predict_a_folder_and_a_single_file(cli_run, folder, capsys):
    assert cli.main(["predict", "--weights", str(cli_run[0]), str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 24
    for line in lines:
        assert re.fullmatch(
            r"(one|seven|zero)/\d{5}\.png: (one|seven|zero) \(length [01]\.\d\d\)", line
        )
    image = folder / "zero" / "00016.png"
    assert cli.main(["predict", "--weights", str(cli_run[0] / "best.weights.h5"), str(image)]) == 0
    assert re.fullmatch(
        rf"{re.escape(str(image))}: \w+ \(length [01]\.\d\d\)\n", capsys.readouterr().out
    )


def test_resume_refuses_another_folder_or_image_size(cli_run, folder, tmp_path):
    out = cli_run[0]
    copy = shutil.copytree(folder, tmp_path / "copy")  # the same images elsewhere
    with pytest.raises(ValueError, match=r"other settings \(data_dir .*copy"):
        training.train(out, 2, data_dir=copy, batch_size=8, routing_iterations=1, verbose=0)
    with pytest.raises(ValueError, match=r"image_size \[30, 30\] -> \[28, 28\]"):
        training.train(out, 2, data_dir=folder, image_size=(28, 28), batch_size=8, verbose=0)
    assert [p.name for p in out.glob("epoch-*")] == ["epoch-0001"]


def test_train_evaluate_and_predict_from_python_in_grey_at_another_size(folder, tmp_path):
    model, history = training.train(
        tmp_path / "run",
        1,
        data_dir=folder,
        image_size=(26, 26),
        color_mode="grayscale",
        batch_size=8,
        routing_iterations=1,
        seed=2,
        verbose=0,
    )
    assert model.config.image_shape == (26, 26, 1) and len(history) == 1
    names = run_class_names(tmp_path / "run", 3)
    assert names == CLASSES
    found = evaluate_folder(model, folder, names, limit=12)
    assert found["images"] == 12 and 0 <= found["accuracy"] <= 1
    predicted = predict_files(model, image_files(folder / "one")[:2], names)
    assert [name in CLASSES and 0 <= length <= 1 for _, name, length in predicted] == [True] * 2


def test_architecture_of_counts_what_the_model_holds():
    for shape, classes, grid in [((28, 28, 1), 10, 6), ((30, 30, 3), 3, 7), ((17, 40, 3), 2, 1)]:
        found = architecture_of(shape, classes, batch_size=8)
        model = cl.CapsNet(image_shape=shape, num_classes=classes)
        assert found.primary_grid[0] == grid
        assert found.parameters == model.count_params()
        capsules = model.primary_capsules.compute_output_shape(
            model.conv1.compute_output_shape((8, *shape))
        )
        assert found.primary_capsules == capsules[1]
        assert found.u_hat_bytes == 8 * capsules[1] * classes * 16 * 4
    assert architecture_of((28, 28, 1), 10).primary_capsules == 1152  # the paper's


def test_multiply_adds_follow_the_models_weights():
    """Each weight of a convolution works once per output position, of W and a dense layer
    once per image; routing's r rounds do r weighted sums and r - 1 agreements."""
    for shape, classes, rounds in [((28, 28, 1), 10, 3), ((36, 30, 3), 4, 1)]:
        model = cl.CapsNet(image_shape=shape, num_classes=classes, routing_iterations=rounds)
        model(np.zeros((1, *shape), "float32"))
        conv1 = model.conv1.compute_output_shape((1, *shape))
        primary = model.primary_capsules.conv.compute_output_shape(conv1)
        w = model.digit_capsules.W
        expected = {
            "conv1": conv1[1] * conv1[2] * int(np.prod(model.conv1.kernel.shape)),
            "primary capsules": primary[1]
            * primary[2]
            * int(np.prod(model.primary_capsules.conv.kernel.shape)),
            "predictions û": int(np.prod(w.shape)),
            "routing": (2 * rounds - 1) * int(np.prod(w.shape[:3])),
            "decoder": sum(
                int(np.prod(layer.kernel.shape))
                for layer in [*model.decoder.hidden, model.decoder.pixels]
            ),
        }
        found = architecture_of(shape, classes, routing_iterations=rounds).multiply_adds
        assert found == expected
    paper = architecture_of((28, 28, 1), 10).multiply_adds
    assert round(paper["primary capsules"] / sum(paper.values()), 3) == 0.940  # chapter 1


def test_the_validation_split_is_seeded_and_takes_every_class():
    labels = np.repeat([0, 1, 2], [10, 5, 2])
    train, valid = split_indices(labels, 0.2)
    again = split_indices(labels, 0.2)
    assert np.array_equal(train, again[0]) and np.array_equal(valid, again[1])
    assert np.bincount(labels[valid]).tolist() == [2, 1, 1]
    assert sorted([*train, *valid]) == list(range(17))


# -- bad folders, one line each ---------------------------------------------------------------


def write_pngs(root, sizes):
    """``root/<class>/<k>.png`` for ``sizes = {class: [(height, width), ...]}``."""
    for name, shapes in sizes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for k, (height, width) in enumerate(shapes):
            Image.fromarray(np.full((height, width, 3), 40 * k, np.uint8)).save(
                root / name / f"{k}.png"
            )
    return root


def bad_folder(case, root):
    if case == "missing":
        return root / "nowhere"
    if case == "no class folders":
        return write_pngs(root, {".": [(30, 30)]})
    if case == "empty class":
        (root / "cat").mkdir(parents=True)
        return write_pngs(root, {"dog": [(30, 30)]})
    if case == "unreadable":
        write_pngs(root, {"cat": [(30, 30)], "dog": [(30, 30)]})
        (root / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
        return root
    if case == "one class":
        return write_pngs(root, {"cat": [(30, 30)] * 2})
    if case == "mixed sizes":
        return write_pngs(root, {"cat": [(30, 30)], "dog": [(32, 28)]})
    return write_pngs(root, {"cat": [(16, 16)], "dog": [(16, 16)]})  # too small


BAD = {
    "missing": r"^no folder at .*nowhere: give a folder that holds one subfolder of images per class$",
    "no class folders": r"holds no class folders: put each class's images in a subfolder",
    "empty class": r"cat holds no images \(\.png, .*\): add some, or remove the folder$",
    "unreadable": r"dog/broken\.png cannot be read as an image \(.*\): delete or replace it$",
    "one class": r"holds one class folder \(cat\): a classifier needs at least two classes",
    "mixed sizes": r"different sizes \(30x30: cat/0\.png; 32x28: dog/0\.png\): give a size to",
    "too small": r"images of 16x16 pixels are too small .* at least 17x17; resize them",
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_folder_is_one_line_naming_it(case, tmp_path):
    root = bad_folder(case, tmp_path / "data")
    with pytest.raises(ValueError, match=BAD[case]) as error:
        scan_image_folder(root)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("case", ["empty class", "mixed sizes"])
def test_the_command_line_says_it_in_one_line(case, tmp_path, capsys):
    root = bad_folder(case, tmp_path / "data")
    args = ["train", "--data-dir", str(root), "--out", str(tmp_path / "run"), "--epochs", "1"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(BAD[case], err.strip()), err
    assert not (tmp_path / "run").exists()  # nothing written for a folder it cannot read


def test_a_size_given_resizes_mixed_sizes_and_a_too_small_size_is_refused(tmp_path):
    root = bad_folder("mixed sizes", tmp_path / "data")
    assert scan_image_folder(root, image_size=(24, 20)).image_shape == (24, 20, 3)
    with pytest.raises(ValueError, match=r"images of 24x16 pixels are too small .* 17x17"):
        scan_image_folder(root, image_size=(24, 16))


def test_folder_options_need_the_folder_task(tmp_path):
    with pytest.raises(ValueError, match="task 'folder' trains on a folder of images"):
        training.train(tmp_path, 1, task="folder")
    with pytest.raises(
        ValueError, match=r"image_size: only for a folder of images, not task 'mnist'"
    ):
        training.train(tmp_path, 1, image_size=(30, 30))
    with pytest.raises(
        ValueError, match="data_dir: only for a folder of images, not task 'multimnist'"
    ):
        training.train(tmp_path, 1, task="multimnist", data_dir=tmp_path)


def test_keras_datasets_are_written_as_folders(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(20).reshape(20, 1) % 10  # CIFAR-10's labels are (n, 1)
    monkeypatch.setattr(
        keras.datasets.cifar10, "load_data", lambda: ((images, labels), (None, None))
    )
    written = write_keras_dataset(tmp_path / "cifar", "cifar10")
    scanned = scan_image_folder(written)
    assert (
        scanned.class_names[:3] == ["airplane", "automobile", "bird"] and len(scanned.files) == 20
    )
    assert np.array_equal(scanned.read([0])[0], images[0])  # airplane/00000.png, unchanged
