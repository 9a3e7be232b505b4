"""A run on your own images (chapter 10) checked before it builds anything: where its folder
is, the memory its images' size needs, and a folder that changed under a run being resumed."""

import contextlib
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from capsnet_lib import cli, tasks, training
from capsnet_lib.scale import architecture_of

TINY = {"batch_size": 4, "routing_iterations": 1, "seed": 0, "verbose": 0}


def pngs(root, counts, size=(24, 24)):
    """``root/<class>/<k>.png`` for ``counts = {class: n}``, each file different."""
    rng = np.random.default_rng(len(counts))
    for name, n in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            pixels = rng.integers(0, 256, (*size, 3), np.uint8)
            Image.fromarray(pixels).save(root / name / f"{k}.png")
    return root


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A run of one epoch on 2 classes of 10 pictures: ``(its folder, the pictures' folder)``."""
    base = tmp_path_factory.mktemp("changes")
    data = pngs(base / "data", {"cat": 10, "dog": 10})
    training.train(base / "run", 1, data_dir=data, **TINY)
    return base / "run", data


@contextlib.contextmanager
def copy_of(one_epoch, tmp_path):
    """A copy of the run to resume, and its pictures' folder, put back as it was afterwards."""
    run, data = one_epoch
    shutil.copytree(data, tmp_path / "kept")
    try:
        yield shutil.copytree(run, tmp_path / "run"), data
    finally:
        shutil.rmtree(data)
        shutil.copytree(tmp_path / "kept", data)


def add(data, *names):
    for name in names:
        Image.new("RGB", (24, 24), (len(name) * 9, 80, 160)).save(data / name)


def test_the_run_records_its_images_and_validation_split(one_epoch):
    settings = json.loads((one_epoch[0] / "settings.json").read_text())
    images = settings["images"]
    assert images["count"] == 20 and sorted(images["files"])[:2] == ["cat/0.png", "cat/1.png"]
    assert len(images["validation"]) == 4  # 0.2 of each class
    assert {name.split("/")[0] for name in images["validation"]} == {"cat", "dog"}


def test_a_resume_on_a_changed_folder_is_refused_saying_what_changed(one_epoch, tmp_path):
    with copy_of(one_epoch, tmp_path) as (run, data):
        add(data, "cat/new.png", "cat/newer.png")
        (data / "dog" / "3.png").unlink()
        # main resumed and trained on, validating on a split recomputed over the new list
        with pytest.raises(
            ValueError,
            match=r"data changed since the run in .*run started \(2 added \(cat/new\.png, "
            r"cat/newer\.png\); 1 removed \(dog/3\.png\)\): .*--keep-split",
        ):
            training.train(run, 2, data_dir=data, **TINY)
        assert [p.name for p in run.glob("epoch-*")] == ["epoch-0001"]


def test_renamed_and_replaced_pictures_are_changes_too(one_epoch, tmp_path):
    with copy_of(one_epoch, tmp_path) as (run, data):
        (data / "cat" / "0.png").rename(data / "cat" / "zero.png")
        add(data, "dog/1.png")  # the same name, another picture
        with pytest.raises(ValueError) as error:
            training.train(run, 2, data_dir=data, **TINY)
    assert "1 renamed (cat/0.png -> cat/zero.png); 1 replaced by other content (dog/1.png)" in str(
        error.value
    )
    from capsnet_lib.folder_runs import describe_changes

    assert describe_changes({"files": {"a": "1"}}, {"files": {"a": "1"}}) == (
        "the same files, recorded otherwise"
    )


def test_keep_split_goes_on_validating_on_the_runs_validation_images(one_epoch, tmp_path, capsys):
    from capsnet_lib.folder_runs import FolderRun

    with copy_of(one_epoch, tmp_path) as (run, data):
        recorded = json.loads((run / "settings.json").read_text())["images"]["validation"]
        removed = recorded[0]
        (data / removed).unlink()
        add(data, "dog/a.png", "dog/b.png", "dog/c.png")
        run_there = FolderRun(run, batch_size=4, routing_iterations=1, keep_split=True)
        folder, settings = tasks.folder_settings(data, None, None, None, run_there)
        train, valid = folder.split
        names = folder.names
        assert sorted(names[i] for i in valid) == sorted(set(recorded) - {removed})
        assert {names[i] for i in train} == set(names) - set(recorded)  # the added ones train
        assert settings["images"]["validation"] == recorded  # the run's record is kept
        assert "--keep-split: validating on 3 of its 4 validation images, training on 19" in (
            capsys.readouterr().out
        )
        _, history = training.train(run, 2, data_dir=data, keep_split=True, **TINY)
        assert [row["epoch"] for row in history] == [1, 2]


def test_an_out_inside_the_data_folder_is_refused_before_training(tmp_path):
    data = pngs(tmp_path / "data", {"cat": 3, "dog": 3})
    with pytest.raises(ValueError, match=r"--out .*data/run is inside --data-dir .*data: the run"):
        training.train(data / "run", 1, data_dir=data, **TINY)
    assert not (data / "run").exists()
    with pytest.raises(ValueError, match=r"--data-dir .*run/images is inside --out .*run: keep"):
        training.train(tmp_path / "run", 1, data_dir=pngs(tmp_path / "run" / "images", {}), **TINY)


def test_a_runs_folder_among_the_classes_is_never_advised_away(tmp_path):
    data = pngs(tmp_path / "data", {"cat": 3, "dog": 3})
    (data / "run" / "epoch-0001").mkdir(parents=True)
    (data / "run" / "settings.json").write_text("{}")
    with pytest.raises(
        ValueError, match=r"run is a training run's folder .*move it out of .*keeping it"
    ):
        training.train(tmp_path / "elsewhere", 1, data_dir=data, **TINY)


def phone_photos(root):
    """Two classes of 4000x3000 photos, as a phone takes them."""
    for name, colour in (("cat", "orange"), ("dog", "brown")):
        (root / name).mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (4000, 3000), colour).save(root / name / f"IMG_{k}.jpg", quality=50)
    return root


def test_phone_photos_too_large_to_train_on_are_refused_at_once(tmp_path):
    data = phone_photos(tmp_path / "photos")
    with pytest.raises(ValueError) as error:  # main built the network: ~97 GB of W
        training.train(tmp_path / "run", 1, data_dir=data, **TINY)
    message = str(error.value)
    assert "images of 3000x4000 pixels need about" in message and "W alone: 90.7 GiB" in message
    suggested = re.search(r"give --image-size (\d+) (\d+)", message)
    assert suggested, message
    assert not (tmp_path / "run" / "settings.json").exists()
    from capsnet_lib.folder_runs import FolderRun

    budget = 2 * 2**30
    with pytest.raises(ValueError, match=r"more than the 2\.0 GiB a run may use here") as error:
        tasks.folder_settings(data, None, None, None, FolderRun(batch_size=4, memory=budget))
    height, width = map(int, re.search(r"--image-size (\d+) (\d+)", str(error.value)).groups())
    assert abs(height / width - 0.75) < 0.02  # the photos' shape kept
    fits = architecture_of((height, width, 3), 2, 4, routing_iterations=3)
    larger = architecture_of((height + 8, width + 8, 3), 2, 4, routing_iterations=3)
    assert fits.training_bytes <= budget < larger.training_bytes
    folder, _ = tasks.folder_settings(
        data, (height, width), None, None, FolderRun(batch_size=4, memory=budget)
    )
    assert folder.image_size == (height, width)


def test_a_folder_run_is_not_tested_on_mnist_digits(one_epoch, capsys):
    assert cli.main(["evaluate", "--weights", str(one_epoch[0]), "--limit", "10"]) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"run takes 24x24 colour images in 2 classes \(trained on .*data\), not MNIST's 28x28 "
        r"digits: evaluate it on a folder .*--data-dir DIR",
        err,
    ), err
