"""Decoding image files on the host into uint8 RGB arrays, with a clear bad-file policy."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def load_image(path, size: int | None = None, resize: int | None = None) -> np.ndarray:
    """Decode ``path`` into (H,W,3) uint8 RGB (grey replicated, alpha dropped).

    With ``size``: shorter side resized to ``resize`` (bilinear, antialiased) then the
    centre ``size`` crop, or a plain ``size`` x ``size`` resize when ``resize`` is None.
    A missing or undecodable file raises a one-line ValueError.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if size is not None:
                image = resize_crop(image, size, resize)
            return np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ValueError(f"{path}: not a readable image ({type(e).__name__})") from None


def resize_crop(image: Image.Image, size: int, resize: int | None) -> Image.Image:
    """torchvision Resize(resize) + CenterCrop(size), or Resize((size, size)) when resize is
    None."""
    if resize is None:
        return image.resize((size, size), Image.BILINEAR)
    width, height = image.size
    if width <= height:
        new_w, new_h = resize, int(resize * height / width)
    else:
        new_w, new_h = int(resize * width / height), resize
    image = image.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return image.crop((left, top, left + size, top + size))


@dataclasses.dataclass
class LoadReport:
    """What a batch load skipped: ``skipped`` is a list of (path, reason)."""

    loaded: int = 0
    skipped: list = dataclasses.field(default_factory=list)


def load_images(paths, size: int, resize: int | None = 256, report: LoadReport | None = None):
    """Decode many files to (N, size, size, 3) uint8; unreadable ones are skipped with a warning.

    Returns ``(images, kept_indices)``; ``report`` (if given) counts loaded and skipped files.
    """
    report = report if report is not None else LoadReport()
    images, kept = [], []
    for i, path in enumerate(paths):
        try:
            images.append(load_image(path, size, resize))
            kept.append(i)
        except ValueError as e:
            report.skipped.append((str(path), str(e)))
            warnings.warn(f"skipping {e}", stacklevel=2)
    report.loaded += len(images)
    stacked = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)
    return stacked, np.asarray(kept, dtype=np.int64)
