"""Your own images as people have them (chapter 10): phone photos, 16-bit scans, transparent
icons, macOS and Windows folders, damaged files; each read as a viewer shows it, skipped, or
refused with its name, before any network is built."""

import io
import struct
import unicodedata
import zlib

import numpy as np
import pytest
from PIL import Image

import capsnet_lib as cl
from capsnet_lib import cli, training
from capsnet_lib.image_folder import read_image, scan_image_folder
from capsnet_lib.image_predictions import evaluate_folder, image_files, predict_files


def pngs(root, classes, size=(24, 24), n=3):
    """``root/<class>/<k>.png``, each class a different grey."""
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for k in range(n):
            value = 40 * c + 10 * k
            Image.fromarray(np.full((*size, 3), value, np.uint8)).save(root / name / f"{k}.png")
    return root


def png16(path, pixels):
    """A 16-bit PNG written by hand (grey ``(h, w)`` or RGB ``(h, w, 3)``)."""
    pixels = np.atleast_3d(pixels)
    height, width, channels = pixels.shape
    rows = b"".join(b"\0" + pixels[i].astype(">u2").tobytes() for i in range(height))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 16, {1: 0, 3: 2}[channels], 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


# -- read as a viewer shows them ---------------------------------------------------------------


def test_a_16_bit_grey_png_keeps_its_tones(tmp_path):
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "scan.png")  # Pillow's mode I;16
    grey = read_image(tmp_path / "scan.png", (32, 32), "grayscale")[..., 0]
    np.testing.assert_allclose(grey, ramp / 257, atol=1)  # not clipped to white
    colour = read_image(tmp_path / "scan.png", (32, 32), "rgb")
    np.testing.assert_allclose(colour[..., 1], ramp / 257, atol=1)


def test_a_16_bit_rgb_png_keeps_its_colours(tmp_path):
    pixels = np.zeros((8, 8, 3), np.uint16)
    pixels[..., 0], pixels[..., 1] = 65535, 32896  # red full, green half
    colour = read_image(png16(tmp_path / "rgb16.png", pixels), (8, 8))
    assert colour[0, 0].tolist() == [255, 128, 0]


def test_a_phone_photo_with_an_exif_orientation_is_read_upright(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # stored sideways: 40 wide, 20 high
    stored[:, :10] = 255  # a white band on the stored image's left
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "photos" / "dog").mkdir()
    image.save(tmp_path / "photos" / "cat" / "IMG_0001.jpg", exif=exif, quality=95)
    image.save(tmp_path / "photos" / "dog" / "IMG_0002.jpg", exif=exif, quality=95)
    folder = scan_image_folder(tmp_path / "photos")
    assert folder.image_size == (40, 20)  # as shown: 40 high, 20 wide
    upright = folder.read([0])[0]
    assert upright.shape == (40, 20, 3)
    assert upright[:8].mean() > 200 and upright[-8:].mean() < 50  # the band is on top now


def test_transparency_is_laid_on_white(tmp_path):
    icon = np.zeros((16, 16, 4), np.uint8)  # black and fully transparent ...
    icon[4:12, 4:12] = [200, 0, 0, 255]  # ... but for an opaque red square
    Image.fromarray(icon, "RGBA").save(tmp_path / "icon.png")
    read = read_image(tmp_path / "icon.png", (16, 16))
    assert read[0, 0].tolist() == [255, 255, 255] and read[8, 8].tolist() == [200, 0, 0]
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((4, 4), 1)
    palette.save(tmp_path / "palette.png", transparency=0)  # colour 0 (black) transparent
    read = read_image(tmp_path / "palette.png", (8, 8))
    assert read[0, 0].tolist() == [255, 255, 255] and read[4, 4].tolist() == [0, 0, 255]


def test_cmyk_jpegs_animated_gifs_and_multi_page_tiffs(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "print.jpg")
    assert read_image(tmp_path / "print.jpg", (8, 8))[4, 4].tolist()[0] > 240  # red stays red
    frames = [Image.new("L", (8, 8), v) for v in (30, 220)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "pages.tiff", save_all=True, append_images=frames[1:])
    for name in ("anim.gif", "pages.tiff"):
        assert read_image(tmp_path / name, (8, 8), "grayscale").max() == 30  # the first frame


def test_tiff_and_webp_pictures_are_pictures(tmp_path):
    for name, suffix in (("scanned", ".tif"), ("web", ".webp")):
        (tmp_path / "data" / name).mkdir(parents=True)
        for k in range(2):
            Image.new("RGB", (20, 20), (60 * k, 90, 0)).save(
                tmp_path / "data" / name / f"{k}{suffix}"
            )
    folder = scan_image_folder(tmp_path / "data")
    assert folder.class_names == ["scanned", "web"] and len(folder.files) == 4


def test_heic_photos_are_named_with_what_to_do(tmp_path):
    root = pngs(tmp_path / "data", ["cat", "dog"])
    (root / "dog" / "IMG_1234.HEIC").write_bytes(b"\0\0\0\x18ftypheic")
    with pytest.raises(ValueError, match=r"IMG_1234\.HEIC: HEIC photos .*convert them to JPEG"):
        scan_image_folder(root)
    with pytest.raises(ValueError, match=r"IMG_1234\.HEIC: HEIC photos"):
        image_files(root / "dog")


# -- what is not a picture ---------------------------------------------------------------------


def macos_and_windows_junk(root):
    """What a folder copied from a Mac to a USB stick and opened on Windows holds beside
    the pictures: AppleDouble files, .DS_Store, Thumbs.db, desktop.ini, a __MACOSX folder."""
    for name in ("cat", "dog"):
        for k in range(3):
            (root / name / f"._{k}.png").write_bytes(b"\0\x05\x16\x07 AppleDouble")
        (root / name / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
        (root / name / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "desktop.ini").write_text("[.ShellClassInfo]")
    (root / "__MACOSX" / "cat").mkdir(parents=True)
    (root / "__MACOSX" / "cat" / "._0.png").write_bytes(b"\0\x05\x16\x07")
    (root / "cat" / "notes.txt").write_text("taken in May")
    return root


def test_system_files_are_skipped_and_counted_once(tmp_path, capsys):
    root = macos_and_windows_junk(pngs(tmp_path / "data", ["cat", "dog"]))
    folder = scan_image_folder(root)
    assert folder.class_names == ["cat", "dog"] and len(folder.files) == 6
    assert len(folder.skipped) == 12  # 6 ._*, 2 .DS_Store, 2 Thumbs.db, desktop.ini, notes.txt
    note = folder.skipped_note()
    assert "skipped 12 files: 11 written by the operating system or hidden" in note
    assert "1 not pictures by their name (first: cat/notes.txt" in note
    out = tmp_path / "run"
    args = ["train", "--data-dir", str(root), "--out", str(out), "--epochs", "1"]
    assert cli.main([*args, "--batch-size", "4", "--routing-iterations", "1", "--seed", "0"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("skipped 12 files") == 1, printed


def test_class_names_from_macos_are_compared_composed(tmp_path):
    """A test folder copied from macOS names its classes decomposed (NFD)."""
    import keras

    names = ["café", "caff"]  # NFC: 'café' sorts after 'caff'; NFD ('cafe' + accent) before
    keras.utils.set_random_seed(0)
    model = cl.CapsNet(image_shape=(24, 24, 3), num_classes=2, routing_iterations=1)
    decomposed = pngs(tmp_path / "mac", [unicodedata.normalize("NFD", n) for n in names])
    folder = scan_image_folder(decomposed)
    assert folder.class_names == ["caff", "café"]  # the order of the composed names
    found = evaluate_folder(model, decomposed, sorted(names))
    assert found["images"] == 6 and set(found["per_class"]) == {"caff", "café"}


# -- damaged files, found before anything is built ---------------------------------------------


def test_a_truncated_jpeg_is_named_with_its_error_before_the_run_starts(tmp_path):
    root = pngs(tmp_path / "data", ["cat", "dog"])
    photo = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    Image.fromarray(noise).save(photo, "JPEG", quality=90)
    (root / "dog" / "cut.jpg").write_bytes(photo.getvalue()[: len(photo.getvalue()) // 2])
    with pytest.raises(
        ValueError, match=r"dog/cut\.jpg cannot be read as an image \(OSError: .+\)"
    ):
        training.train(
            tmp_path / "run", 1, data_dir=root, image_size=(24, 24), batch_size=4, verbose=0
        )
    assert not (tmp_path / "run" / "settings.json").exists()  # refused before a network


def test_predict_and_evaluate_refuse_bad_counts_and_empty_lists(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = cl.CapsNet(image_shape=(24, 24, 3), num_classes=2, routing_iterations=1)
    root = pngs(tmp_path / "data", ["cat", "dog"])
    for limit in (-3, 0, 2.5):
        with pytest.raises(ValueError, match=r"limit must be a whole number, 1 or more"):
            evaluate_folder(model, root, ["cat", "dog"], limit=limit)
    with pytest.raises(ValueError, match="files is empty: give at least one image file"):
        predict_files(model, [], ["cat", "dog"])
    with pytest.raises(ValueError, match="batch_size must be a whole number, 1 or more"):
        predict_files(model, image_files(root), ["cat", "dog"], batch_size=0)
    with pytest.raises(ValueError, match="3 class names for a network of 2 classes"):
        predict_files(model, image_files(root), ["cat", "dog", "eel"])
    single = predict_files(model, root / "cat" / "0.png", ["cat", "dog"])  # one path, not a list
    assert len(single) == 1 and single[0][1] in ("cat", "dog")


def test_the_example_folder_writers_refuse_bad_counts(tmp_path, monkeypatch):
    import keras

    from capsnet_lib.example_folders import write_arrays_as_folder, write_keras_dataset

    images = np.zeros((6, 8, 8), np.uint8)
    monkeypatch.setattr(
        keras.datasets.mnist, "load_data", lambda: ((images, np.arange(6)), (None, None))
    )
    with pytest.raises(ValueError, match=r"limit must be a whole number, 1 or more"):
        write_keras_dataset(tmp_path / "m", "mnist", limit=-5)  # main: all but the last 5
    with pytest.raises(ValueError, match=r"labels must be from 0 to 1 \(one per class name\)"):
        write_arrays_as_folder(tmp_path / "a", images, np.arange(6), ["a", "b"])
    with pytest.raises(ValueError, match=r"class_names must be distinct folder names"):
        write_arrays_as_folder(tmp_path / "a", images, np.zeros(6, int), ["a", "a"])
    with pytest.raises(ValueError, match=r"image_size must be \(height, width\) in pixels"):
        read_image(tmp_path / "any.png", (0, 8))


def test_keep_split_without_a_folder_is_refused(tmp_path, capsys):
    args = ["train", "--out", str(tmp_path / "run"), "--epochs", "1", "--keep-split"]
    assert cli.main(args) == 1  # main: no such option; now refused in one line
    assert "--keep-split: only to resume a run on a folder of images" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"keep_split: only for a folder of images"):
        training.train(tmp_path / "run", 1, keep_split=True)
