"""ImageNet weights by name: one call from a published checkpoint to a Flax model.

``pretrained("vgg16")`` returns ``(model, params, meta)``: torchvision's file is fetched once
(``jaxdl.hub``: pinned URL and sha256, the cache, the data folder, then a download), read
without PyTorch, converted, and the converted ``.npz`` cached beside it, so later calls only
load it. ``meta`` holds the preprocessing the weights expect, the source URL and its pinned
sha256. Each name is one pinned file (or folder of files):

============================  =========================  =====================================
model                         weights                    file
============================  =========================  =====================================
``vgg16``                     ``torchvision`` (default)  ``vgg16-397923af.pth``, 528 MB
``squeezenet1_0``             ``torchvision`` (default)  ``squeezenet1_0-b66bff10.pth``, 5 MB
``squeezenet1_1``             ``torchvision`` (default)  ``squeezenet1_1-b8a52dc0.pth``, 5 MB
``squeezenet1_1``             ``onnx_zoo``               ONNX-zoo squeezenet1.1-7 as .npy files
``squeezenet1_0_caffe``       ``deep_compression``       the data folder's decoded Caffe file
============================  =========================  =====================================

Where the pins come from: torchvision's files carry the first 8 hex digits of their sha256 in
their names; the full digests of ``vgg16`` and ``squeezenet1_1`` were published beside those
names in public repositories (their prefixes agree), ``squeezenet1_0``'s prefix is all there
is (as torchvision itself checks). The ONNX-zoo files are hashed from their exact bytes in
``webmachinelearning/webnn-polyfill`` at commit 0c398a2 (``resources/*.sha256``); the Caffe
file, decoded by the study, from the data folder's copy.

>>> sorted(WEIGHTS["squeezenet1_1"])
['onnx_zoo', 'torchvision']
"""

import os
from typing import NamedTuple

from jaxdl import hub
from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers
from jaxdl.paths import home

TORCHVISION = "https://download.pytorch.org/models/"
ONNX_ZOO = (
    "https://raw.githubusercontent.com/webmachinelearning/webnn-polyfill/"
    "0c398a2013bfcf5b5b269c32289aa4eb13cb4f21/test-data/models/squeezenet1.1_nchw/weights/"
)
DEEP_COMPRESSION = "weights/squeezenet1_0_deep_compression/"


def _torchvision(filename: str, sha256: str, megabytes: float) -> hub.Source:
    return hub.Source(filename, (hub.Pinned(TORCHVISION + filename, sha256),), megabytes)


WEIGHTS = {
    "vgg16": {
        "torchvision": _torchvision(
            "vgg16-397923af.pth",
            "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
            528,
        )
    },
    "squeezenet1_0": {"torchvision": _torchvision("squeezenet1_0-b66bff10.pth", "b66bff10", 4.8)},
    "squeezenet1_1": {
        "torchvision": _torchvision(
            "squeezenet1_1-b8a52dc0.pth",
            "b8a52dc049b60e4b6ab68ad0df457362afab8b6304b2febdc1650a5dab4d7e7b",
            4.7,
        ),
        "onnx_zoo": hub.Source(
            "weights/squeezenet1_1_onnx_zoo",  # cached as the data folder lays it out
            hub.pinned_files("squeezenet1_1_onnx_zoo.sha256", ONNX_ZOO),
            5.0,
            folder=True,
            data_path="weights/squeezenet1_1_onnx_zoo",
            cache="data",
        ),
    },
    "squeezenet1_0_caffe": {
        "deep_compression": hub.Source(
            "squeezenet_v1.0_deepcompression_decoded.npz",
            (
                hub.Pinned(
                    "",
                    "8f80efd74e3cd459c2e6be69b33fadda7c81b4bc0afe0e059511ef97c9331221",
                    "squeezenet_v1.0_deepcompression_decoded.npz",
                ),
            ),
            5.0,
            data_path=DEEP_COMPRESSION + "squeezenet_v1.0_deepcompression_decoded.npz",
        )
    },
}
DEFAULT = {"vgg16": "torchvision", "squeezenet1_0": "torchvision", "squeezenet1_1": "torchvision"}
DEFAULT["squeezenet1_0_caffe"] = "deep_compression"
ALIASES = ("default", "imagenet")  # the model's default weights


class Pretrained(NamedTuple):
    """What ``pretrained`` returns: the Flax module, its params and the weights' metadata."""

    model: object
    params: dict
    meta: dict


def is_name(weights) -> bool:
    """Whether ``weights`` names published weights (a tag or an alias) rather than a path."""
    tags = {tag for entries in WEIGHTS.values() for tag in entries}
    return isinstance(weights, str) and weights in tags | set(ALIASES)


def source_of(model: str, weights: str = "default") -> tuple[str, hub.Source]:
    """``(tag, Source)`` of ``weights`` (a tag, "default" or "imagenet") for ``model``."""
    if model not in WEIGHTS:
        raise InputError(
            f"no published ImageNet weights for {model!r}; expected one of {', '.join(WEIGHTS)}"
        )
    tag = DEFAULT[model] if weights in ALIASES else weights
    if tag not in WEIGHTS[model]:
        raise InputError(
            f"no weights {weights!r} for {model}; expected one of "
            f"{', '.join([*ALIASES, *WEIGHTS[model]])}"
        )
    return tag, WEIGHTS[model][tag]


def _pins(source: hub.Source) -> list[str]:
    return [f"{p.filename} {p.sha256}" for p in source.files]


def load_named(model: str, weights: str = "default", progress: bool = False, data=None):
    """``(params, meta)`` of the published weights ``weights`` of ``model``: the converted cache
    (``$JAXDL_HOME/converted``) when it holds them, else fetched (``hub.fetch``, ``data``
    replacing the data folder) and converted, then cached."""
    from jaxdl.weights import load_params, save_params
    from weights_convert import convert_file

    tag, source = source_of(model, weights)
    converted = home() / "converted" / f"{model}-{tag}.npz"
    if converted.is_file():
        params, meta = load_params(converted, model)
        if meta.get("pins") == _pins(source):
            return params, meta
    path = hub.fetch(source, progress=progress, data=data)
    params, meta = convert_file(model, path)
    first = source.files[0]
    meta = {
        **meta,
        "weights": f"{model}:{tag}",
        "url": first.url or None,
        "sha256": first.sha256 if len(source.files) == 1 else None,
        "pins": _pins(source),
        "source": str(path),
    }
    staged = converted.with_name(f".{converted.stem}.{os.getpid()}.npz")
    save_params(staged, params, meta)
    os.replace(staged, converted)  # atomic: a reader sees the old file or the whole new one
    os.replace(staged.with_suffix(".json"), converted.with_suffix(".json"))
    return params, meta


def pretrained(
    model: str, weights: str = "default", *, layers: Layers = FLAX, progress: bool = False
) -> Pretrained:
    """``(model, params, meta)`` with ImageNet weights: ``weights`` is a name of the table in
    the module docstring ("default" or "imagenet": the model's default) or a path to a
    converted ``.npz`` or a source checkpoint. ``layers`` picks the kernels
    (``jaxdl.cpu.LAYERS`` on a CPU); ``progress`` draws a download bar."""
    from jaxdl.models import get_model

    if is_name(weights):
        params, meta = load_named(model, weights, progress)
    else:
        from weights_convert import load_any

        params, meta = load_any(model, weights)
    return Pretrained(get_model(model, layers=layers), params, meta)
