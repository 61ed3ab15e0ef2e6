"""Source checkpoint -> Flax params, with every shape checked against the architecture."""

import zipfile
from pathlib import Path

import numpy as np

from jaxdl import __version__
from jaxdl.errors import InputError
from jaxdl.weights import META_KEY, check_shapes, load_params, save_params
from weights_convert.mappings import MAPPINGS, detect_layout
from weights_convert.sources import read_source, sha256


def _to_flax(weight, kind, layer, expected_kernel):
    if kind == "conv":
        if weight.ndim != 4:
            raise InputError(
                f"{layer}: expected a 4-d conv weight (OIHW), got shape {weight.shape}"
            )
        return weight.transpose(2, 3, 1, 0)
    if weight.ndim != 2:
        raise InputError(
            f"{layer}: expected a 2-d linear weight (out, in), got shape {weight.shape}"
        )
    if kind == "dense_from_chw":
        height, width, channels = 7, 7, expected_kernel[0] // 49
        if weight.shape != (expected_kernel[1], channels * height * width):
            raise InputError(
                f"{layer}: expected ({expected_kernel[1]}, {expected_kernel[0]}), got "
                f"{weight.shape}"
            )
        weight = (
            weight.reshape(-1, channels, height, width)
            .transpose(0, 2, 3, 1)
            .reshape(weight.shape[0], -1)
        )
    return weight.T


def convert(arch: str, tensors: dict, source="checkpoint"):
    """``{source name: array}`` -> ``(flat flax params {'conv1/kernel': array}, layout)``."""
    from jaxdl.weights import expected_shapes

    layout = detect_layout(tensors)
    if (arch, layout) not in MAPPINGS:
        known = ", ".join(f"{a} from {known_layout}" for a, known_layout in MAPPINGS)
        raise InputError(
            f"{source}: cannot convert a {layout} checkpoint to {arch}; supported: {known}"
        )
    mapping, _ = MAPPINGS[(arch, layout)]
    expected = expected_shapes(arch)
    flat = {}
    for layer in mapping():
        for key in (layer.weight_key, layer.bias_key):
            if key not in tensors:
                raise InputError(
                    f"{layer.flax_name}: tensor {key!r} missing from {source} (is it a {arch} "
                    f"checkpoint?)"
                )
        kernel_shape = expected[f"{layer.flax_name}/kernel"]
        kernel = _to_flax(tensors[layer.weight_key], layer.kind, layer.flax_name, kernel_shape)
        # checked layer by layer, in network order, so the error names the first mismatch
        for name, value, key in (
            ("kernel", kernel, layer.weight_key),
            ("bias", tensors[layer.bias_key], layer.bias_key),
        ):
            want = expected[f"{layer.flax_name}/{name}"]
            if value.shape != want:
                raise InputError(
                    f"{layer.flax_name}/{name}: expected {want}, got {value.shape} "
                    f"(from {key!r} in {source}; is it a {arch} checkpoint?)"
                )
            flat[f"{layer.flax_name}/{name}"] = np.ascontiguousarray(value)
    check_shapes(flat, arch, source=str(source))
    return flat, layout


def convert_file(arch: str, source, out=None):
    """Convert the checkpoint at ``source``; save to ``out`` when given (".npz" appended when
    it has no suffix; meta["out"] is the file written). Returns (params, meta)."""
    import flax.traverse_util

    flat, layout = convert(arch, read_source(source), source=source)
    _, preprocessing = MAPPINGS[(arch, layout)]
    meta = {
        "architecture": arch,
        "source": str(source),
        "source_format": layout,
        "source_sha256": sha256(source),
        "preprocessing": preprocessing,
        "jaxdl_version": __version__,
    }
    params = flax.traverse_util.unflatten_dict(flat, sep="/")
    if out is not None:
        meta = {**meta, "out": str(save_params(out, params, meta))}
    return params, meta


def is_converted(path: Path) -> bool:
    """Whether ``path`` (any name) is a converted file: an .npz holding jaxdl's metadata or Flax
    names ('conv1/kernel'; torchvision keys have dots)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return META_KEY in data.files or any(name.endswith("/kernel") for name in data.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False  # not an .npz: the converter reads it, or reports the damaged file


def load_any(arch: str, path):
    """``(params, meta)`` of ``arch`` from a converted ``.npz``, or converted on the fly from a
    source checkpoint (torchvision .pth/.safetensors/.npz, ONNX-zoo .npy folder or .onnx)."""
    path = Path(path)
    if path.is_file() and is_converted(path):
        return load_params(path, arch)
    return convert_file(arch, path)
