"""Decoding image files on the host into uint8 RGB arrays, with a clear bad-file policy."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from jaxdl.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


# what a file may hold beyond 8 bits per channel: (PIL mode, value range read as full scale)
HIGH_DEPTH = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535}
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


def to_8bit(image: Image.Image, path) -> Image.Image:
    """``image`` with 16-bit, 32-bit integer or float pixels scaled to 8-bit grey ("L"): 16-bit
    by its full range, 32-bit integers holding 16-bit values likewise, floats in [0, 1] by 255;
    anything else is a ValueError rather than a guess. 8-bit modes pass unchanged."""
    if image.mode in HIGH_DEPTH or image.mode == "I":
        values = np.asarray(image, dtype=np.int64)
        if values.min() < 0 or values.max() > 65535:
            raise InputError(
                f"{path}: 32-bit integer pixels outside 0..65535 (min {values.min()}, "
                f"max {values.max()}); expected an 8- or 16-bit image"
            )
        full_scale = 255 if image.mode == "I" and values.max() <= 255 else 65535
        return Image.fromarray(np.round(values * (255 / full_scale)).astype(np.uint8), "L")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise InputError(
                f"{path}: float pixels outside [0, 1]; expected an 8-, 16-bit or [0, 1] float image"
            )
        return Image.fromarray(np.round(values * 255).astype(np.uint8), "L")
    return image


def open_image(path, mode: str = "RGB") -> Image.Image:
    """Decode all of ``path`` as an 8-bit PIL image of ``mode`` ("RGB" or "L"; grey replicated,
    alpha dropped, high bit depths scaled by ``to_8bit``). A missing, undecodable, truncated or
    oversized (decompression-bomb) file raises a one-line ValueError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image.load()
            if getattr(image, "n_frames", 1) > 1:
                warnings.warn(
                    f"{path}: an animated image of {image.n_frames} frames; its first is used",
                    stacklevel=2,
                )
            return to_8bit(image, path).convert(mode)
    except Image.DecompressionBombError as e:
        raise InputError(f"{path}: image too large to decode safely ({e})") from None
    except DECODE_ERRORS as e:
        if isinstance(e, ValueError) and str(e).startswith(str(path)):
            raise
        raise InputError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None


def load_image(path, size: int | None = None, resize: int | None = None) -> np.ndarray:
    """Decode ``path`` into (H,W,3) uint8 RGB (``open_image``).

    With ``size``: shorter side resized to ``resize`` (bilinear, antialiased) then the
    centre ``size`` crop, or a plain ``size`` x ``size`` resize when ``resize`` is None.
    """
    image = open_image(path)
    if size is not None:
        image = resize_crop(image, size, resize)
    return np.asarray(image, dtype=np.uint8)


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
