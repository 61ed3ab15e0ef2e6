"""Read a checkpoint into ``{name: float32 numpy array}``, never executing code from it.

Formats: ``.pth``/``.pt`` (both of PyTorch's formats, read without PyTorch by
``weights_convert.torch_pickle``), ``.safetensors``,
``.npz`` (``allow_pickle=False``), a folder of one ``.npy`` per tensor (ONNX model zoo
export), and ``.onnx`` (needs the ``onnx`` package).
"""

import hashlib
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from jaxdl.errors import InputError
from jaxdl.weights import read_npz
from weights_convert.torch_pickle import UnsafePickle, load_state_dict


class CorruptCheckpoint(Exception):
    """A reader's own failure on a damaged file, reported by ``read_source`` as one line."""


def _read_torch(path: Path) -> dict:
    """A ``.pth`` state dict, read by ``torch_pickle`` (no PyTorch, no code from the file)."""
    try:
        return load_state_dict(path)
    except UnsafePickle as e:
        raise InputError(
            f"{path}: holds Python objects or code ({e}) besides tensors; refused unread "
            "(only plain state dicts of tensors are loaded)"
        ) from None
    except (pickle.UnpicklingError, KeyError, IndexError, TypeError, ValueError, struct.error) as e:
        raise CorruptCheckpoint(f"{type(e).__name__}: {e}") from None


def _read_safetensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except SafetensorError as e:
        raise CorruptCheckpoint(f"{type(e).__name__}: {e}") from None


def _read_npy_folder(path: Path) -> dict:
    files = sorted(path.glob("*.npy"))
    if not files:
        raise InputError(f"{path}: folder holds no .npy files")
    return {f.stem: np.load(f, allow_pickle=False) for f in files}


def _read_onnx(path: Path) -> dict:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise InputError(
            f"{path}: reading .onnx needs the onnx package (pip install onnx), "
            "or use the per-tensor .npy folder"
        ) from None
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


READERS = {
    ".pth": _read_torch,
    ".pt": _read_torch,
    ".safetensors": _read_safetensors,
    ".npz": read_npz,
    ".onnx": _read_onnx,
}


def read_source(path) -> dict:
    """``{tensor name: float32 array}`` from a checkpoint file or .npy folder."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_dir():
        reader = _read_npy_folder
    elif path.suffix.lower() in READERS:
        reader = READERS[path.suffix.lower()]
    else:
        raise InputError(
            f"{path}: unknown checkpoint format; expected one of "
            f"{', '.join(READERS)} or a folder of .npy files"
        )
    try:
        tensors = reader(path)
    except CorruptCheckpoint as e:
        raise InputError(
            f"{path}: corrupt or truncated checkpoint ({str(e).splitlines()[0]})"
        ) from None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise InputError(
            f"{path}: corrupt or truncated checkpoint ({type(e).__name__}: {e})"
        ) from None
    return {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}


def sha256(path) -> str:
    """sha256 of a file, or of a folder's files (sorted by name, name and bytes hashed)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(f.relative_to(path).as_posix().encode())
        with open(f, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
