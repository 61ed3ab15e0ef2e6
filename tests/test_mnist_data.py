"""MNIST / MNIST-M loading from every supported layout, and the MNIST-M builder's recipe."""

import gzip

import chex
import numpy as np
import pytest
from conftest import require
from PIL import Image

from jaxdl.data.mnist import load_mnist, read_idx, to_rgb32
from jaxdl.data.mnist_m import blend_mnist_m, load_mnist_m, load_photos

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
Y = np.array([3, 1, 4, 1, 5], np.uint8)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def test_mnist_from_keras_npz_and_from_idx_files_agree(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=X, y_train=Y, x_test=X[:2], y_test=Y[:2])
    idx = tmp_path / "idx"
    idx.mkdir()
    (idx / "train-images-idx3-ubyte").write_bytes(idx_bytes(X))
    (idx / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(Y)))
    for source in (tmp_path / "mnist.npz", tmp_path, idx):
        x, y = load_mnist(source, "train")
        chex.assert_trees_all_equal((x, y), (X, Y.astype(np.int64)))
        chex.assert_type([x, y], [np.uint8, np.int64])


def test_bad_idx_and_missing_files_are_clear_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        read_idx(tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="IDX files"):
        load_mnist(tmp_path, "test")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, "val")


def test_to_rgb32_pads_and_replicates_grey():
    out = to_rgb32(X)
    chex.assert_shape(out, (5, 32, 32, 3))
    np.testing.assert_array_equal(out[:, 2:30, 2:30, 1], X)
    assert out[:, :2].max() == 0 and out[:, :, 30:].max() == 0


def test_mnist_m_from_png_folder_layout(tmp_path):
    images = RNG.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    (tmp_path / "mnist_m_test").mkdir()
    for i, im in enumerate(images):
        Image.fromarray(im).save(tmp_path / "mnist_m_test" / f"{i:08d}.png")
    (tmp_path / "mnist_m_test_labels.txt").write_text(
        "00000000.png 7\n00000001.png 2\n00000002.png 9\n"
    )
    x, y = load_mnist_m(tmp_path, "test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, [7, 2, 9])


def test_builder_blends_a_random_photo_crop_with_the_digit():
    photo = (np.arange(40 * 50 * 3) % 251).reshape(40, 50, 3).astype(np.uint8)
    out = blend_mnist_m(X, [photo], seed=0)
    chex.assert_shape(out, (5, 28, 28, 3))
    chex.assert_type(out, np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(photo, (28, 28, 3))[..., 0, :, :, :]
    for image, digit in zip(out, X):
        # recover the crop: |patch - d| = image for the one window where it holds
        matches = np.all(np.abs(windows.astype(int) - digit[..., None]) == image, axis=(2, 3, 4))
        assert matches.any()
    np.testing.assert_array_equal(blend_mnist_m(X, [photo], seed=0), out)
    with pytest.raises(ValueError, match="smaller"):
        blend_mnist_m(X, [photo[:10]], seed=0)


def test_real_mnist_and_mnist_m(data_dir):
    x, y = load_mnist(require(data_dir, "mnist/mnist.npz"), "test")
    chex.assert_shape([x, y], [(10000, 28, 28), (10000,)])
    xm, ym = load_mnist_m(require(data_dir, "mnist_m/mnist_m.npz"), "train")
    chex.assert_shape([xm, ym], [(10000, 32, 32, 3), (10000,)])
    np.testing.assert_array_equal(
        ym[:10], load_mnist(data_dir / "mnist/mnist.npz", "train")[1][:10]
    )


def test_bsds_photos_load(data_dir):
    photos = load_photos(require(data_dir, "bsds500"), limit=2)
    assert len(photos) == 2 and photos[0].ndim == 3 and photos[0].dtype == np.uint8
