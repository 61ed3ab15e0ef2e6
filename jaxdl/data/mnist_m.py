"""MNIST-M (Ganin & Lempitsky 2015): loading the distributed files, and building it from digits
and any folder of colour photos with the published recipe (``|random photo crop - digit|``)."""

from pathlib import Path

import numpy as np

from jaxdl.data.images import IMAGE_SUFFIXES, load_image
from jaxdl.data.mnist import checked_split, read_split_npz, resolve_npz
from jaxdl.errors import InputError

SHAPE = (None, 32, 32, 3)  # MNIST-M images: N RGB 32x32


def load_mnist_m(path=None, split: str = "train"):
    """(x (N,32,32,3) uint8, y (N,) int64) of ``split`` ("train"/"test") from ``path``: an
    ``mnist_m.npz`` (x_train, y_train, x_test, y_test), a folder holding it, or the DANN
    reference layout (``mnist_m_<split>/`` PNGs + ``mnist_m_<split>_labels.txt`` with lines
    ``<file> <label>``). Default: the data folder's ``mnist_m/mnist_m.npz``."""
    if split not in ("train", "test"):
        raise InputError(f"split must be 'train' or 'test', got {split!r}")
    path = resolve_npz(
        path,
        "mnist_m/mnist_m.npz",
        "MNIST-M not found: pass mnist_m.npz or its PNG folder, or set JAXDL_DATA",
    )
    if path.is_file():
        return read_split_npz(path, split, SHAPE)
    labels = path / f"mnist_m_{split}_labels.txt"
    if not labels.is_file():
        raise FileNotFoundError(f"{path}: expected mnist_m.npz or mnist_m_{split}/ + {labels.name}")
    rows = [line.split() for line in labels.read_text().splitlines() if line.strip()]
    bad = [i for i, row in enumerate(rows) if len(row) != 2 or not row[1].lstrip("-").isdigit()]
    if bad:
        raise InputError(
            f"{labels}: line {bad[0] + 1} is {' '.join(rows[bad[0]])!r}; expected '<file> <label>'"
        )
    x = np.stack([load_image(path / f"mnist_m_{split}" / name) for name, _ in rows])
    return checked_split(x, [int(label) for _, label in rows], str(labels), SHAPE)


def load_photos(folder, limit: int | None = None) -> list[np.ndarray]:
    """The colour photos (H,W,3) uint8 of ``folder`` (recursively, sorted), e.g. BSDS500."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"{folder}: no photos found")
    return [load_image(p) for p in paths[:limit]]


def sample_photos() -> list[np.ndarray]:
    """scikit-learn's two bundled sample photos (offline): textures for the embedded demo."""
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)


def blend_mnist_m(digits: np.ndarray, photos: list[np.ndarray], seed: int = 0) -> np.ndarray:
    """MNIST-M images (N,H,W,3) uint8 from digits (N,H,W) or (N,H,W,3) uint8: each is
    ``|crop - digit|`` with a uniformly random HxW crop of a uniformly random photo."""
    rgb = digits if digits.ndim == 4 else np.repeat(digits[..., None], 3, axis=-1)
    n, h, w = rgb.shape[:3]
    rng = np.random.default_rng(seed)
    choice = rng.integers(len(photos), size=n)
    out = np.empty_like(rgb)
    for p, photo in enumerate(photos):
        idx = np.flatnonzero(choice == p)
        if photo.shape[0] < h or photo.shape[1] < w:
            raise InputError(f"photo {p} is {photo.shape[:2]}, smaller than the {h}x{w} digits")
        top = rng.integers(photo.shape[0] - h + 1, size=len(idx))
        left = rng.integers(photo.shape[1] - w + 1, size=len(idx))
        rows = top[:, None, None] + np.arange(h)[None, :, None]
        cols = left[:, None, None] + np.arange(w)[None, None, :]
        patches = photo[rows, cols].astype(np.int16)
        out[idx] = np.abs(patches - rgb[idx].astype(np.int16)).astype(np.uint8)
    return out
