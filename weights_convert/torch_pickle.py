"""PyTorch ``.pth`` state dicts read without PyTorch, and without running code from the file.

Both of torch's formats are read: the zip archive of ``torch.save`` since torch 1.6
(``<name>/data.pkl`` + one ``<name>/data/<key>`` file per storage) and the legacy stream of
torch < 1.6, in which torchvision's 2017 ImageNet files were saved (magic number, protocol,
system info, the pickle, its storage keys, then each storage's element count and bytes).

The pickle goes through an unpickler that admits only what a plain state dict of tensors holds
(``collections.OrderedDict``, torch's tensor and parameter rebuild functions, its storage
types) and maps each to a numpy function of its own; any other global (``os.system``, a
module class, ...) is refused with ``UnsafePickle`` before it is looked up, so nothing from
the file is ever called.
"""

import collections
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch storage type -> the numpy dtype of its elements
STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
    "UntypedStorage": np.uint8,
}


class UnsafePickle(pickle.UnpicklingError):
    """The pickle names a global outside a plain state dict of tensors; nothing was run."""


class _Storage:
    """A storage's dtype, as the pickle names it (``torch.FloatStorage`` ...)."""

    def __init__(self, name: str):
        dtype = STORAGE_DTYPES[name]
        if dtype == "bfloat16":
            import ml_dtypes

            dtype = ml_dtypes.bfloat16
        self.dtype = np.dtype(dtype)


def _rebuild_tensor(storage, offset, size, stride, *_):
    """A tensor as a numpy view of ``storage`` (any strides, shared storage): a view, since the
    legacy format stores the bytes after the pickle; ``load_state_dict`` copies it."""
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * storage.itemsize for s in stride)
    )


def _rebuild_parameter(data, *_):
    return data


ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _Storage(name) for name in STORAGE_DTYPES},
}


class _Unpickler(pickle.Unpickler):
    """Admits only ``ALLOWED``; storages come from ``load_storage(key, dtype, numel)``."""

    def __init__(self, file, load_storage):
        super().__init__(file)
        self.load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise UnsafePickle(f"{module}.{name}")
        return ALLOWED[(module, name)]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(storage_type, _Storage):
            raise pickle.UnpicklingError(f"unknown storage type {storage_type!r}")
        storage = self.load_storage(key, storage_type.dtype, numel)
        view = pid[5] if len(pid) > 5 else None  # legacy views: (view key, offset, size)
        if view is not None:
            storage = storage[view[1] : view[1] + view[2]]
        return storage


def _read_zip(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise pickle.UnpicklingError("expected one data.pkl in the archive")
        prefix = pickles[0][: -len("data.pkl")]
        order = f"{prefix}byteorder"
        big = order in archive.namelist() and archive.read(order).strip() == b"big"

        def load_storage(key, dtype, numel):
            raw = archive.read(f"{prefix}data/{key}")
            array = np.frombuffer(raw, dtype.newbyteorder(">" if big else "<"), count=numel)
            return array.astype(dtype)

        with archive.open(pickles[0]) as f:
            return _Unpickler(f, load_storage).load()


def _read_legacy(path: Path) -> dict:
    with open(path, "rb") as f:
        header = _Unpickler(f, None)
        if header.load() != LEGACY_MAGIC:
            raise pickle.UnpicklingError("not a PyTorch file (no magic number)")
        header.load()  # protocol version
        little = header.load().get("little_endian", True)
        pending = {}

        def load_storage(key, dtype, numel):  # filled in below, once the keys are read
            if key not in pending:
                pending[key] = np.empty(numel, dtype)
            return pending[key]

        state = _Unpickler(f, load_storage).load()
        for key in _Unpickler(f, None).load():
            (count,) = struct.unpack("<q" if little else ">q", f.read(8))
            array = pending[key]
            data = f.read(count * array.itemsize)
            if len(data) != count * array.itemsize or count != array.size:
                raise EOFError(f"storage {key}: expected {array.size} elements")
            array[:] = np.frombuffer(data, array.dtype.newbyteorder("<" if little else ">"))
        return state


def load_state_dict(path) -> dict:
    """``{name: numpy array}`` of the state dict in the ``.pth`` at ``path`` (either format).
    Raises ``UnsafePickle`` for a file holding anything else than tensors, and the pickle's,
    zip's or file's own errors for a damaged one."""
    path = Path(path)
    state = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise pickle.UnpicklingError("expected a state dict of tensors")
    return {k.removeprefix("module."): np.array(v) for k, v in state.items()}
