"""Helpers shared by the experiment commands: weights, image inputs, results output."""
import json
import sys
from pathlib import Path

import numpy as np

from jaxdl import __version__
from jaxdl import imagenet
from jaxdl.data.images import load_image
from jaxdl.models import get_model, get_spec
from jaxdl.weights import load_params, sidecar_path


def load_weights(model: str, weights):
    """``(params, meta)`` from a converted jaxdl file, or converted on the fly from a source
    checkpoint (torchvision .pth/.safetensors/.npz, ONNX-zoo .npy folder or .onnx)."""
    get_spec(model)  # validates the name
    if weights is None:
        raise ValueError(f"--weights is required for {model}: a converted .npz or a source checkpoint")
    path = Path(weights)
    if path.is_file() and path.suffix == ".npz" and (sidecar_path(path).is_file() or _is_jaxdl_npz(path)):
        return load_params(path, model)
    from weights_convert import convert_file

    return convert_file(model, path)


def _is_jaxdl_npz(path: Path) -> bool:
    """A converted file keeps Flax names ('conv1/kernel'); torchvision keys have dots."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return any(name.endswith("/kernel") for name in data.files)
    except (OSError, ValueError):
        return False  # the converter reports the damaged file


def preprocessing(meta: dict) -> dict:
    """The preprocessing kwargs (size, resize, norm) the weights expect."""
    pre = meta.get("preprocessing", {"size": 224, "resize": 256, "normalization": "torchvision"})
    return {"size": pre["size"], "resize": pre["resize"],
            "norm": imagenet.NORMALIZATIONS[pre["normalization"]]}


def read_inputs(paths):
    """Image files and/or ``.npz`` files (``X`` (N,H,W,3) uint8, optional ``y``) ->
    ``(images list of uint8 arrays, labels list (None where unknown), names)``."""
    images, labels, names = [], [], []
    for path in map(Path, paths):
        if path.suffix == ".npz":
            if not path.is_file():
                raise ValueError(f"{path}: no such file")
            with np.load(path, allow_pickle=False) as data:
                if "X" not in data.files:
                    raise ValueError(f"{path}: expected an array 'X' (N,H,W,3) uint8 in the .npz")
                x = data["X"]
                y = data["y"] if "y" in data.files else [None] * len(x)
            if x.ndim != 4:
                raise ValueError(f"{path}: 'X' must be (N,H,W,C), got shape {x.shape}")
            images += list(x)
            labels += [None if v is None else int(v) for v in y]
            names += [f"{path.stem}_{i:03d}" for i in range(len(x))]
        else:
            images.append(load_image(path))
            labels.append(None)
            names.append(path.stem)
    return images, labels, names


def build_apply(model: str, **overrides):
    """A function ``apply(params, x, stop_at=None) -> (out, intermediates)`` for ``model``."""
    module = get_model(model, **overrides)

    def apply(params, x, stop_at=None):
        return module.apply({"params": params}, x, stop_at=stop_at)

    return apply


def write_json(path, payload) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_result(payload: dict) -> None:
    """The closing JSON line every command prints, so results can be checked by script."""
    print(json.dumps(payload, default=_jsonable))
    sys.stdout.flush()


def run_info() -> dict:
    """Version and device facts written next to every result."""
    import jax

    return {"jaxdl_version": __version__, "jax_version": jax.__version__,
            "backend": jax.default_backend(), "devices": jax.device_count()}
