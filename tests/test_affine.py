"""The affine test sets of chapter 9, against a NumPy bilinear resampler and exact cases."""

import numpy as np
import pytest

from capsnet_lib import affine


def numpy_affine(image, matrix, size):
    """Independent reference: bilinear resampling of one (h, w) image by inverting ``matrix``."""
    h, w = image.shape
    inverse = np.linalg.inv(matrix[:, :2])
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    out = np.stack([cols, rows], -1) - (size - 1) / 2 - matrix[:, 2]  # (size, size, 2)
    src = out @ inverse.T + [(w - 1) / 2, (h - 1) / 2]
    x, y = src[..., 0], src[..., 1]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    result = np.zeros((size, size))
    for dy in (0, 1):
        for dx in (0, 1):
            xi, yi = x0 + dx, y0 + dy
            weight = (1 - np.abs(x - xi)) * (1 - np.abs(y - yi))
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            result += np.where(inside, weight * image[yi.clip(0, h - 1), xi.clip(0, w - 1)], 0)
    return result


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    images = np.zeros((4, 28, 28, 1), np.float32)
    images[:, 4:24, 4:24] = rng.uniform(size=(4, 20, 20, 1))
    return images


@pytest.mark.parametrize(
    "params",
    [
        {"rotation": 33.0},
        {"scale": 0.7},
        {"scale": (1.2, 0.8)},
        {"shear": 0.3},
        {"dx": 2.5, "dy": -1.25},
        {"rotation": -15.0, "scale": 1.1, "shear": -0.2, "dx": 1.0},
    ],
)
def test_affine_transform_matches_numpy(digits, params):
    matrix = affine.affine_matrix(**params)
    got = affine.affine_transform(digits, matrix)
    for image, out in zip(digits, got, strict=True):
        np.testing.assert_allclose(out[..., 0], numpy_affine(image[..., 0], matrix, 28), atol=1e-4)


def test_larger_canvas_matches_numpy_and_centres_the_digit(digits):
    matrix = affine.affine_matrix(rotation=10.0)
    got = affine.affine_transform(digits, matrix, output_size=40)
    assert got.shape == (4, 40, 40, 1)
    np.testing.assert_allclose(
        got[0, ..., 0], numpy_affine(digits[0, ..., 0], matrix, 40), atol=1e-4
    )
    plain = affine.affine_transform(digits, affine.affine_matrix(), output_size=40)
    np.testing.assert_array_equal(plain[:, 6:34, 6:34], digits)


def test_exact_cases(digits):
    np.testing.assert_array_equal(affine.transformed(digits, "rotation", 0), digits)
    np.testing.assert_array_equal(affine.transformed(digits, "scale", 1.0), digits)
    quarter = affine.transformed(digits, "rotation", 90)
    np.testing.assert_allclose(quarter[0], np.rot90(digits[0], 1, axes=(0, 1)), atol=1e-6)
    np.testing.assert_allclose(quarter[1], np.rot90(digits[1], -1, axes=(0, 1)), atol=1e-6)
    moved = affine.transformed(digits, "translation", 3)
    np.testing.assert_array_equal(moved[0, :, 3:], digits[0, :, :-3])  # right
    np.testing.assert_array_equal(moved[1, 3:], digits[1, :-3])  # down
    np.testing.assert_array_equal(moved[2, :, :-3], digits[2, :, 3:])  # left
    np.testing.assert_array_equal(moved[3, :-3], digits[3, 3:])  # up


def test_shear_moves_lower_rows_right():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 23, 13:15] = 1.0  # 9.5 rows below the centre
    sheared = affine.transformed(image, "shear", 0.2)  # image 0: positive shear
    column = np.average(np.arange(28), weights=sheared[0, 23, :, 0])
    assert abs(column - (13.5 + 0.2 * 9.5)) < 1e-3


def test_sets_are_deterministic(digits):
    np.testing.assert_array_equal(affine.affnist_like(digits, 3), affine.affnist_like(digits, 3))
    assert not np.array_equal(affine.affnist_like(digits, 3), affine.affnist_like(digits, 4))
    with pytest.raises(ValueError, match="kind must be one of"):
        affine.transformed(digits, "twist", 1.0)
    with pytest.raises(ValueError, match="scale must be positive"):
        affine.affine_matrix(scale=0)


def test_wilson_interval():
    low, high = affine.wilson_interval(0, 10)
    assert low == 0 and 0.27 < high < 0.28  # the textbook value 0.2775
    low, high = affine.wilson_interval(np.array([50, 290]), np.array([100, 300]))
    np.testing.assert_allclose(low, [0.4038, 0.9397], atol=1e-4)
    np.testing.assert_allclose(high, [0.5962, 0.9818], atol=1e-4)
    with pytest.raises(ValueError):
        affine.wilson_interval(11, 10)


def test_correct_predictions():
    class Fixed:
        def predict(self, images, batch_size, verbose):
            return np.eye(3)[[0, 2, 1]]

    np.testing.assert_array_equal(
        affine.correct_predictions(Fixed(), None, [0, 1, 1]), [True, False, True]
    )
