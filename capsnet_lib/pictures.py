"""One picture file read as an image viewer shows it, and what in a folder is not a picture.

A picture is turned upright by its EXIF orientation (phone photos are stored sideways with a
tag that says so), scaled to 8 bits from 16 (a 16-bit grey PNG or TIFF keeps its tones rather
than clipping to white), laid on white where it is transparent, and converted to grey or RGB
(CMYK JPEGs included); an animated GIF or multi-page TIFF gives its first frame. Files that
are certainly not the user's pictures (macOS's ``._*`` AppleDouble files and ``.DS_Store``,
Windows's ``Thumbs.db`` and ``desktop.ini``, hidden files and folders) are skipped; HEIC
photos (iPhones) are read when ``pillow-heif`` is installed and otherwise named with what to
do. Used by :mod:`capsnet_lib.image_folder`.

Introduced in chapter 10, beyond one centred digit.
"""

from __future__ import annotations

import hashlib
import io
import numbers
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, features

try:  # HEIC/HEIF photos (iPhones), where the optional plug-in is installed
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_READABLE = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIC_READABLE = False

HEIC_EXTENSIONS = (".heic", ".heif")
IMAGE_EXTENSIONS = (
    (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
    + ((".avif",) if features.check("avif") else ())
    + (HEIC_EXTENSIONS if HEIC_READABLE else ())
)
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3)}  # Pillow's mode, channels
# Files and folders that operating systems and file servers write beside pictures.
SYSTEM_FILES = {".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"}
SYSTEM_FOLDERS = {
    "__macosx",
    "@eadir",
    "$recycle.bin",
    "system volume information",
    ".trashes",
    ".spotlight-v100",
    ".fseventsd",
}
DIGEST_CHARS = 16  # of a file's SHA-256: enough to tell two files apart


def normalized(name: str) -> str:
    """``name`` in Unicode's composed form (NFC): macOS writes names decomposed (NFD)."""
    return unicodedata.normalize("NFC", name)


def is_system_name(name: str) -> bool:
    """Whether a file or folder name is one an operating system writes, or a hidden one."""
    return name.startswith(".") or name.lower() in SYSTEM_FILES | SYSTEM_FOLDERS


def list_pictures(folder: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """``(pictures, skipped, heic)`` under ``folder`` (any depth), each by normalised name.

    ``skipped``: system and hidden files, and files that are not pictures (by extension);
    ``heic``: HEIC photos where they cannot be read.
    """
    pictures, skipped, heic = [], [], []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        inside = path.relative_to(folder).parts
        if any(is_system_name(part) for part in inside):
            skipped.append(path)
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            pictures.append(path)
        elif path.suffix.lower() in HEIC_EXTENSIONS:
            heic.append(path)
        else:
            skipped.append(path)

    def order(path: Path) -> tuple[str, ...]:  # as Path sorts, by part, on composed names
        return tuple(normalized(part) for part in path.relative_to(folder).parts)

    return sorted(pictures, key=order), sorted(skipped, key=order), sorted(heic, key=order)


def heic_error(heic: list[Path]) -> ValueError:
    """The refusal of HEIC photos that cannot be read, naming the first and what to do."""
    return ValueError(
        f"{heic[0]}{f' and {len(heic) - 1} more' if len(heic) > 1 else ''}: HEIC photos (an "
        "iPhone's), which Pillow cannot read: convert them to JPEG (on a Mac: select them, "
        "then Quick Actions > Convert Image; on an iPhone: Settings > Camera > Formats > Most "
        "Compatible), or install pillow-heif (pip install pillow-heif), which is then used"
    )


def skipped_note(skipped: list[Path], root: Path) -> str:
    """One sentence on the files skipped under ``root``."""
    system = [p for p in skipped if any(is_system_name(s) for s in p.relative_to(root).parts)]
    loose = [
        p
        for p in skipped
        if p not in system and p.parent == root and p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    others = [p for p in skipped if p not in system and p not in loose]
    parts = []
    if loose:
        parts.append(
            f"{len(loose)} pictures outside the class folders (first: {loose[0].name}; "
            "put them in their class's folder)"
        )
    if system:
        parts.append(
            f"{len(system)} written by the operating system or hidden (._*, .DS_Store, "
            "Thumbs.db, ...)"
        )
    if others:
        parts.append(
            f"{len(others)} not pictures by their name (first: {others[0].relative_to(root)}; "
            f"pictures are {', '.join(IMAGE_EXTENSIONS)})"
        )
    return f"{root}: skipped {len(skipped)} files: {'; '.join(parts)}"


def _unreadable(path: Path, error: Exception) -> ValueError:
    detail = str(error).splitlines()[0] if str(error) else "no detail"
    return ValueError(
        f"{path} cannot be read as an image ({type(error).__name__}: {detail}): delete or "
        "replace it"
    )


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """``(height, width)`` as shown: EXIF orientations 5 to 8 turn the picture a quarter."""
    width, height = image.size
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block: the picture as stored
        orientation = 1
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)


def image_size_of(path: Path) -> tuple[int, int]:
    """``(height, width)`` of a picture as it is shown (upright), from its header only."""
    try:
        with Image.open(path) as image:
            return _upright_size(image)
    except Exception as error:  # noqa: BLE001 - Pillow raises many kinds; all mean the same
        raise _unreadable(path, error) from None


def _eight_bits(image: Image.Image) -> Image.Image:
    """16- and 32-bit grey (``I;16``, ``I``) scaled to 8 bits; float (``F``) from [0, 1]."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image, dtype=np.float64) / 257  # 65535 -> 255
    elif image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError(
                f"floating-point pixels from {values.min():g} to {values.max():g}, not 0 to 1"
            )
        values = values * 255
    else:
        return image
    return Image.fromarray(np.round(np.clip(values, 0, 255)).astype(np.uint8), "L")


def _on_white(image: Image.Image) -> Image.Image:
    """A picture with transparency laid on white, as a viewer shows it on a page."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image


def check_color_mode(color_mode: str) -> tuple[str, int]:
    """Pillow's mode and the channels of ``color_mode``, or a ``ValueError``."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be 'grayscale' or 'rgb'; got {color_mode!r}")
    return COLOR_MODES[color_mode]


def read_picture(
    path: str | Path, image_size: tuple[int, int], color_mode: str = "rgb"
) -> tuple[np.ndarray, str]:
    """``(pixels, digest)``: the picture as uint8 ``(height, width, channels)``, upright,
    converted and resized (bilinear), and a digest of the file's bytes."""
    mode, channels = check_color_mode(color_mode)
    size = tuple(image_size)
    if len(size) != 2 or any(not isinstance(v, numbers.Integral) or v < 1 for v in size):
        raise ValueError(
            f"image_size must be (height, width) in pixels, each 1 or more; got {size}"
        )
    height, width = size
    try:
        data = Path(path).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes the whole picture: a truncated or damaged file fails here
            picture = _on_white(_eight_bits(ImageOps.exif_transpose(image)))
            picture = picture.convert(mode)
            if picture.size != (width, height):
                picture = picture.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(picture, dtype=np.uint8)
    except Exception as error:  # noqa: BLE001 - as in image_size_of
        raise _unreadable(Path(path), error) from None
    digest = hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]
    return pixels.reshape(height, width, channels), digest


def read_image(
    path: str | Path, image_size: tuple[int, int], color_mode: str = "rgb"
) -> np.ndarray:
    """One picture file as uint8 ``(height, width, channels)``: upright (EXIF), 16-bit scaled
    to 8, transparency on white, converted to ``color_mode`` and resized (bilinear).

    Introduced in chapter 10, beyond one centred digit.
    """
    return read_picture(path, image_size, color_mode)[0]
