"""Converted weights on disk: one ``.npz`` of named arrays (no pickle) that also holds its
metadata, plus a JSON copy of the metadata beside it for people.

The metadata records the architecture, the source file and its sha256, and the preprocessing
the weights expect. It travels inside the ``.npz`` (``META_KEY``, JSON bytes), so a copied
file keeps its meaning; the sidecar ``<file>.json`` is only read for files written before the
metadata moved inside. Loading checks every array against the architecture's shapes and names
the first layer that does not match.
"""

import json
import zipfile
from pathlib import Path

import flax.traverse_util
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.models import get_model, get_spec

META_KEY = "__jaxdl_meta__"


def sidecar_path(path) -> Path:
    """``weights.npz`` -> ``weights.json``."""
    return Path(path).with_suffix(".json")


def save_params(path, params, meta: dict) -> Path:
    """Write ``params`` (a nested dict of arrays) and ``meta`` to ``path`` (".npz" appended when
    it has no suffix), with a JSON copy of ``meta`` beside it; returns the path written."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {k: np.asarray(v) for k, v in flax.traverse_util.flatten_dict(params, sep="/").items()}
    flat[META_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(path, "wb") as f:  # a file object keeps np.savez from appending ".npz"
        np.savez(f, **flat)
    sidecar_path(path).write_text(json.dumps(meta, indent=2) + "\n")
    return path


def read_npz(path) -> dict:
    """name -> array from an .npz, without pickle; one-line errors for missing/corrupt files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise InputError(
            f"{path}: corrupt or truncated weights file ({type(e).__name__}: {e})"
        ) from None


def expected_shapes(arch: str, **model_kwargs) -> dict:
    """The flat {'conv1/kernel': shape} of architecture ``arch`` (no computation)."""
    spec = get_spec(arch)
    model = get_model(arch, **model_kwargs)
    x = jnp.zeros((1, spec.input_size, spec.input_size, spec.in_channels))
    shapes = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
    return {k: tuple(v.shape) for k, v in flax.traverse_util.flatten_dict(shapes, sep="/").items()}


def check_shapes(flat: dict, arch: str, source="weights", **model_kwargs) -> None:
    """Raise ValueError naming the first missing, unexpected or mis-shaped array."""
    expected = expected_shapes(arch, **model_kwargs)
    for name, shape in expected.items():
        if name not in flat:
            raise InputError(f"{name}: missing from {source} (is it a {arch} file?)")
        if tuple(flat[name].shape) != shape:
            raise InputError(f"{name}: expected {shape}, got {tuple(flat[name].shape)} in {source}")
    extra = sorted(set(flat) - set(expected) - {META_KEY})
    if extra:
        raise InputError(f"{extra[0]}: not a parameter of {arch} (found in {source})")


def read_meta(path, flat: dict) -> dict:
    """The metadata of converted weights: inside the file, else (older files) its sidecar; a
    file with neither is refused, since its preprocessing is unknown."""
    if META_KEY in flat:
        try:
            return json.loads(bytes(flat.pop(META_KEY)).decode())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{path}: corrupt metadata ({e})") from None
    meta_file = sidecar_path(path)
    if not meta_file.is_file():
        raise InputError(
            f"{path}: no metadata inside and no sidecar {meta_file.name}, so its "
            "preprocessing is unknown; re-convert it with python -m weights_convert"
        )
    try:
        return json.loads(meta_file.read_text())
    except json.JSONDecodeError as e:
        raise InputError(f"{meta_file}: corrupt sidecar ({e})") from None


def load_params(path, arch: str | None = None, **model_kwargs):
    """Load converted weights -> ``(params, meta)``; params is a nested dict of jnp arrays.

    ``arch`` defaults to the file's architecture; when both are given they must agree.
    """
    path = Path(path)
    flat = read_npz(path)
    meta = read_meta(path, flat)
    file_arch = meta.get("architecture")
    if arch and file_arch and arch != file_arch:
        raise InputError(f"{path} holds {file_arch} weights, not {arch}")
    arch = arch or file_arch
    if arch is None:
        raise InputError(f"{path}: its metadata names no architecture; pass the model name")
    check_shapes(flat, arch, source=path.name, **model_kwargs)
    params = flax.traverse_util.unflatten_dict(
        {k: jnp.asarray(v) for k, v in flat.items()}, sep="/"
    )
    return params, {**meta, "architecture": arch}
