"""Arrays checked where they enter jaxdl: dtype, shape, value range, finiteness, label range and
lengths, each failure an ``InputError`` naming the file, the array and what was expected.

Images are uint8 0..255 everywhere past this point. One conversion is documented and done
here rather than refused: float images in [0, 1] become uint8 by ``round(255 x)``. Floats
outside [0, 1] (such as 0..255 stored as float) are refused, since no rule tells which scale
was meant.

>>> import numpy as np
>>> images_uint8(np.full((2, 4, 4), 0.5, np.float32), "x", shape=(None, 4, 4))[0, 0, 0]
np.uint8(128)
>>> labels_in_range(np.array([3, 12]), "y", classes=10)
Traceback (most recent call last):
...
jaxdl.errors.InputError: y: label y[1] = 12 is outside 0..9
"""

import zipfile
from pathlib import Path

import numpy as np

from jaxdl.errors import InputError


def _shape_text(shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"


def images_uint8(x, where: str, *, shape: tuple | None = None) -> np.ndarray:
    """``x`` as uint8 images: uint8 as is, integers within 0..255 cast, floats in [0, 1] scaled
    by 255 and rounded; NaN/inf, other ranges and a shape not matching ``shape`` (``None``: any
    length on that axis) are an ``InputError`` naming ``where`` (file and array)."""
    x = np.asarray(x)
    if shape is not None and (
        x.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, x.shape))
    ):
        raise InputError(f"{where}: expected images of shape {_shape_text(shape)}, got {x.shape}")
    if x.dtype == np.uint8:
        return x
    if x.size == 0:
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.integer):
        if x.min() < 0 or x.max() > 255:
            raise InputError(
                f"{where}: integer pixels in {x.min()}..{x.max()}; expected 0..255 (uint8)"
            )
        return x.astype(np.uint8)
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"{where}: expected uint8 images, got dtype {x.dtype}")
    if not np.isfinite(x).all():
        raise InputError(f"{where}: {int(np.sum(~np.isfinite(x)))} pixels are NaN or infinite")
    if x.min() < 0 or x.max() > 1:
        raise InputError(
            f"{where}: float pixels in [{x.min():.4g}, {x.max():.4g}]; expected uint8 0..255 "
            "or float in [0, 1]"
        )
    return np.round(x * 255).astype(np.uint8)


def labels_in_range(y, where: str, *, classes: int, n: int | None = None) -> np.ndarray:
    """``y`` as int64 class labels: one per image (``n`` of them when given), integers (floats
    with integer values accepted) within 0..classes-1; anything else an ``InputError``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"{where}: expected labels of shape (N,), got {y.shape}")
    if n is not None and len(y) != n:
        raise InputError(f"{where}: {len(y)} labels for {n} images; expected one per image")
    if y.dtype == bool or not (
        np.issubdtype(y.dtype, np.integer)
        or (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y) & (y == np.round(y))))
    ):
        raise InputError(f"{where}: expected integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    bad = np.flatnonzero((y < 0) | (y >= classes))
    if bad.size:
        raise InputError(f"{where}: label y[{bad[0]}] = {y[bad[0]]} is outside 0..{classes - 1}")
    return y


def read_npz(path, keys, optional=()) -> dict[str, np.ndarray]:
    """The arrays ``keys`` (and those of ``optional`` it holds) of the ``.npz`` at ``path``,
    without pickle; a missing, truncated or damaged file, a missing key or an object array is an
    ``InputError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in keys if k not in archive.files]
            if missing:
                raise InputError(
                    f"{path}: no array {', '.join(map(repr, missing))} in it (it holds "
                    f"{', '.join(archive.files) or 'nothing'}); expected {', '.join(keys)}"
                )
            return {k: archive[k] for k in (*keys, *optional) if k in archive.files}
    except InputError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as e:
        detail = " ".join(str(e).split())[:160]
        raise InputError(
            f"{path}: not a readable .npz ({type(e).__name__}: {detail}); expected a numpy "
            "archive of plain arrays"
        ) from None
