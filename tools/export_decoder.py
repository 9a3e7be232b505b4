"""Export the shipped CapsNet's decoder and a few test digits for the site's pose explorer.

    python tools/export_decoder.py      # after any change of capsnet_lib/weights/: re-export

Writes ``book/_static/pose_explorer/decoder.bin`` (the decoder's weights, 8-bit) and
``book/_static/pose_explorer/explorer.json`` (its layout, the SHA-256 of the weights it comes
from, the quantisation error, and the sample digits with their poses), which
``book/pose_explorer.md`` reads. Deterministic: the same weights give the same
``decoder.bin``, byte for byte (tests/test_export_decoder.py checks that the shipped one
matches the shipped weights, so new weights without a re-export fail the tests).

The decoder (Dense 160 -> 512 ReLU -> 1024 ReLU -> 784 sigmoid, 1.4 M weights) is stored as
int8 codes, one float32 scale per output unit (a column of a kernel) and float32 biases. The
codes are on a square-root scale: weight = scale * sign(q) * (q / 127)**2, so the many small
weights get finer steps than the few large ones (with the weights shipped when this was
written, a plain linear int8 code made the largest pixel error three times larger: 0.14
instead of 0.046). All 160 rows of the first kernel are kept, so that any class's capsule can
be decoded.

The sample digits are the first ``PER_CLASS`` test images of each class. Each gets the pose of
its predicted class's digit capsule (the capsule the mask keeps at inference, chapter 5),
computed with the shipped CapsNet.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "capsnet_lib" / "weights" / "capsnet-mnist.npz"
OUT = ROOT / "book" / "_static" / "pose_explorer"
BINARY_NAME = "decoder.bin"
JSON_NAME = "explorer.json"
FORMAT = 1
LAYERS = (("hidden_1", "relu"), ("hidden_2", "relu"), ("pixels", "sigmoid"))
LEVELS = 127  # int8 codes -127..127
PER_CLASS = 2  # sample digits per class
POSE_RANGE = 0.5  # the sliders: pose - 0.5 .. pose + 0.5 (the paper's figure: +-0.25)
POSE_DECIMALS = 4  # poses as the page gets them


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def decoder_layers(weights: Path = WEIGHTS) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """The decoder's ``(kernel (in, out), bias (out,), activation)``, float32, from the npz."""
    with np.load(weights) as stored:
        return [
            (
                stored[f"decoder/{name}/kernel"].astype(np.float32),
                stored[f"decoder/{name}/bias"].astype(np.float32),
                activation,
            )
            for name, activation in LAYERS
        ]


def quantize(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes ``(in, out)`` on a square-root scale and one float32 scale per output unit."""
    scales = np.abs(kernel).max(axis=0).astype(np.float32)  # (out,)
    scales[scales == 0] = 1.0
    ratio = kernel.astype(np.float64) / scales.astype(np.float64)  # in [-1, 1]
    codes = np.round(np.sign(ratio) * np.sqrt(np.abs(ratio)) * LEVELS).astype(np.int8)
    return codes, scales


def dequantize(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The float32 weights the page computes with (it builds the same table)."""
    table = np.sign(np.arange(-128, 128)) * (np.arange(-128, 128) / LEVELS) ** 2  # code + 128
    return (table[codes.astype(np.int64) + 128] * scales.astype(np.float64)).astype(np.float32)


def activate(x: np.ndarray, activation: str) -> np.ndarray:
    """ReLU or sigmoid."""
    if activation == "relu":
        return np.maximum(x, 0)
    with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: 1 / inf = 0, right
        return 1 / (1 + np.exp(-x))


def decode(inputs: np.ndarray, layers, dtype=np.float32) -> np.ndarray:
    """Masked poses ``(n, 160)`` -> pixels ``(n, 784)`` through ``(kernel, bias, act)`` layers."""
    x = inputs.astype(dtype)
    for kernel, bias, activation in layers:
        x = activate(x @ kernel.astype(dtype) + bias.astype(dtype), activation)
    return x


def quantized_layers(layers):
    """``layers`` with each kernel replaced by its dequantized int8 version."""
    return [(dequantize(*quantize(kernel)), bias, act) for kernel, bias, act in layers]


def masked_inputs(poses: np.ndarray, classes: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Poses ``(n, 16)`` in their class's slot of the decoder's input ``(n, classes * 16)``."""
    dim = poses.shape[1]
    inputs = np.zeros((len(poses), num_classes * dim), np.float32)
    for row, (pose, cls) in enumerate(zip(poses, classes, strict=True)):
        inputs[row, cls * dim : (cls + 1) * dim] = pose
    return inputs


def tweaked(poses: np.ndarray, classes: np.ndarray, amount: float = POSE_RANGE):
    """Each pose as is, then with each dimension alone at -amount and +amount (the sliders' ends)."""
    rows, labels = [], []
    for pose, cls in zip(poses, classes, strict=True):
        rows.append(pose)
        for dim in range(len(pose)):
            for sign in (-1, 1):
                moved = pose.copy()
                moved[dim] += sign * amount
                rows.append(moved)
        labels += [cls] * (1 + 2 * len(pose))
    return np.array(rows, np.float32), np.array(labels)


def max_pixel_error(layers, poses: np.ndarray, classes: np.ndarray) -> tuple[float, int]:
    """Largest |int8 decoder - float32 decoder| over ``tweaked`` poses, and how many images."""
    tweaked_poses, tweaked_classes = tweaked(poses, classes)
    inputs = masked_inputs(tweaked_poses, tweaked_classes)
    exact = decode(inputs, layers)
    approximate = decode(inputs, quantized_layers(layers), dtype=np.float64)  # like the JS
    return float(np.abs(approximate - exact).max()), len(inputs)


def pack(layers) -> tuple[bytes, list[dict]]:
    """``decoder.bin``'s bytes (little-endian) and the layout of each layer in it."""
    chunks, layout, offset = [], [], 0
    for (kernel, bias, activation), (name, _) in zip(layers, LAYERS, strict=True):
        codes, scales = quantize(kernel)
        entry = {"name": name, "inputs": kernel.shape[0], "units": kernel.shape[1]}
        entry["activation"] = activation
        for key, array in (
            ("codes", codes),
            ("scales", scales.astype("<f4")),
            ("bias", bias.astype("<f4")),
        ):
            data = array.tobytes()
            entry[key] = offset  # every block's size is a multiple of 4: aligned for Float32Array
            chunks.append(data)
            offset += len(data)
        layout.append(entry)
    return b"".join(chunks), layout


def sample_digits(model, x_test: np.ndarray, y_test: np.ndarray) -> list[dict]:
    """The first ``PER_CLASS`` test digits of each class, with their predicted capsule's pose."""
    indices = sorted(
        int(i) for label in range(10) for i in np.flatnonzero(y_test == label)[:PER_CLASS]
    )
    images = x_test[indices]
    poses = np.asarray(model.digit_poses(images))  # (n, classes, 16)
    lengths = np.linalg.norm(poses, axis=-1)  # (n, classes)
    digits = []
    for row, index in enumerate(indices):
        predicted = int(lengths[row].argmax())
        pixels = np.round(images[row].reshape(-1) * 255).astype(np.uint8)
        digits.append(
            {
                "test_index": index,
                "label": int(y_test[index]),
                "predicted": predicted,
                "length": round(float(lengths[row, predicted]), 3),
                "pose": [round(float(v), POSE_DECIMALS) for v in poses[row, predicted]],
                "image": base64.b64encode(pixels.tobytes()).decode("ascii"),
            }
        )
    return digits


def digit_arrays(digits: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Poses ``(n, 16)`` float32 and predicted classes ``(n,)`` of exported digits."""
    poses = np.array([d["pose"] for d in digits], np.float32)
    return poses, np.array([d["predicted"] for d in digits])


def export(out: Path = OUT, weights: Path = WEIGHTS, digits: list[dict] | None = None) -> dict:
    """Write ``decoder.bin`` and ``explorer.json`` into ``out``; return the JSON's content.

    ``digits`` (as :func:`sample_digits` makes them) default to the shipped CapsNet's on the
    MNIST test set (loads TensorFlow and the data).
    """
    if digits is None:
        import capsnet_lib as cl

        mnist = cl.load_mnist()
        model = cl.load_pretrained(weights.parent)
        digits = sample_digits(model, mnist.x_test, mnist.y_test)
    layers = decoder_layers(weights)
    binary, layout = pack(layers)
    error, images = max_pixel_error(layers, *digit_arrays(digits))
    meta = {
        "format": FORMAT,
        "weights": {"file": weights.name, "sha256": sha256_of(weights)},
        "decoder": {
            "file": BINARY_NAME,
            "bytes": len(binary),
            "sha256": hashlib.sha256(binary).hexdigest(),
            "levels": LEVELS,
            "layers": layout,
        },
        "pose_range": POSE_RANGE,
        "max_pixel_error": {
            "value": float(f"{error:.3g}"),
            "images": images,
            "over": "each digit's pose, and each of its 16 dimensions alone moved to the "
            "sliders' ends",
        },
        "digits": digits,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / BINARY_NAME).write_bytes(binary)
    (out / JSON_NAME).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main() -> None:
    """Export and say what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help=f"default: {WEIGHTS}")
    args = parser.parse_args()
    meta = export(args.out, args.weights)
    print(
        f"{args.out / BINARY_NAME}: {meta['decoder']['bytes']:,} bytes; "
        f"{len(meta['digits'])} digits; largest pixel error of the int8 decoder "
        f"{meta['max_pixel_error']['value']} over {meta['max_pixel_error']['images']} images"
    )


if __name__ == "__main__":
    main()
