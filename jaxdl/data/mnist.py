"""MNIST from local files (Keras ``mnist.npz`` or the four IDX files, gzipped or not), or from
tensorflow-datasets only when asked explicitly; and the 32x32 RGB form used beside MNIST-M."""

import gzip
from pathlib import Path

import numpy as np

from jaxdl.data import checks
from jaxdl.errors import InputError
from jaxdl.paths import data_file

SHAPE = (None, 28, 28)  # MNIST images: N grey 28x28
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path) -> np.ndarray:
    """An IDX file (optionally .gz) as a uint8 array of the shape its header states."""
    raw = (gzip.open if str(path).endswith(".gz") else open)(path, "rb").read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise InputError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise InputError(f"{path}: header says {shape}, found {data.size} values")
    return data.reshape(shape)


def _find_idx(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz", folder / name.replace("-idx", ".idx")):
        if candidate.is_file():
            return candidate
    return None


def resolve_npz(path, default: str, missing: str) -> Path:
    """``path`` (a file, or a folder holding the default's file name), else the data folder's
    ``default``; FileNotFoundError(``missing``) when there is none."""
    path = Path(path) if path is not None else data_file(default)
    if path is None:
        raise FileNotFoundError(missing)
    name = Path(default).name
    return path / name if path.is_dir() and (path / name).is_file() else path


def checked_split(x, y, where: str, shape: tuple, classes: int = 10):
    """(x uint8 of ``shape``, y int64 in 0..classes-1, one per image): ``jaxdl.data.checks``."""
    x = checks.images_uint8(x, f"{where} x", shape=shape)
    return x, checks.labels_in_range(y, f"{where} y", classes=classes, n=len(x))


def read_split_npz(path: Path, split: str, shape: tuple):
    """(x_<split> uint8 of ``shape``, y_<split> int64 in 0..9) from a Keras-layout .npz, without
    pickle, checked (``checked_split``)."""
    arrays = checks.read_npz(path, (f"x_{split}", f"y_{split}"))
    return checked_split(*arrays.values(), f"{path}: {split}", shape)


def load_mnist(path=None, split: str = "train"):
    """(x (N,28,28) uint8, y (N,) int64) of ``split`` ("train"/"test") from ``path``: a Keras
    ``mnist.npz``, or a folder holding ``mnist.npz`` or the IDX files. Default: the data
    folder's ``mnist/mnist.npz``. Never touches the network."""
    if split not in IDX_NAMES:
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    path = resolve_npz(
        path, "mnist/mnist.npz", "MNIST not found: pass a mnist.npz / IDX folder or set JAXDL_DATA"
    )
    if path.is_file():
        return read_split_npz(path, split, SHAPE)
    files = [_find_idx(path, name) for name in IDX_NAMES[split]]
    if None in files:
        raise FileNotFoundError(f"{path}: expected mnist.npz or the IDX files {IDX_NAMES[split]}")
    return checked_split(read_idx(files[0]), read_idx(files[1]), f"{files[0]}", SHAPE)


def load_mnist_tfds(split: str = "train"):
    """MNIST through tensorflow-datasets (downloads when online; retries for minutes offline,
    so only call it when the user asks for it)."""
    import tensorflow_datasets as tfds

    data = tfds.as_numpy(tfds.load("mnist", split=split, batch_size=-1))
    return data["image"][..., 0], data["label"].astype(np.int64)


def to_rgb32(x: np.ndarray) -> np.ndarray:
    """Grey digits (N,H,W) uint8, H,W <= 32, zero-padded to (N,32,32,3) with the grey replicated
    (the frame of MNIST-M: its 28x28 digits sit padded in 32x32 images)."""
    h, w = x.shape[1:3]
    top, left = (32 - h) // 2, (32 - w) // 2
    padded = np.pad(x, ((0, 0), (top, 32 - h - top), (left, 32 - w - left)))
    return np.repeat(padded[..., None], 3, axis=-1)
