"""Per architecture and source layout: which source tensors become which Flax params.

A mapping is a list of ``Layer(flax_name, weight_key, bias_key, kind)``; ``kind`` says
how the weight is laid out: "conv" (OIHW -> HWIO), "dense" ((out, in) -> (in, out)) or
"dense_from_chw" (VGG fc6: columns in torch's C,H,W flatten order -> rows in H,W,C order).
"""

import dataclasses

from jaxdl.errors import InputError
from jaxdl.models.squeezenet import FIRES
from jaxdl.models.vgg import VGG16_BLOCKS


@dataclasses.dataclass(frozen=True)
class Layer:
    flax_name: str
    weight_key: str
    bias_key: str
    kind: str


def _torch_layer(flax_name, prefix, kind="conv"):
    return Layer(flax_name, f"{prefix}.weight", f"{prefix}.bias", kind)


def torchvision_vgg16():
    convs = [f"conv{b}_{i}" for b, n, _ in VGG16_BLOCKS for i in range(1, n + 1)]
    # torchvision's features.N indices: convs separated by ReLUs (and a pool after each block)
    indices, index = [], 0
    for _, n, _ in VGG16_BLOCKS:
        for _ in range(n):
            indices.append(index)
            index += 2
        index += 1
    layers = [_torch_layer(name, f"features.{i}") for name, i in zip(convs, indices)]
    return layers + [
        _torch_layer("fc6", "classifier.0", "dense_from_chw"),
        _torch_layer("fc7", "classifier.3", "dense"),
        _torch_layer("fc8", "classifier.6", "dense"),
    ]


TORCHVISION_FIRE_INDICES = {"1_0": (3, 4, 5, 7, 8, 9, 10, 12), "1_1": (3, 4, 6, 7, 9, 10, 11, 12)}


def torchvision_squeezenet(version):
    layers = [_torch_layer("conv1", "features.0")]
    for (fire, _, _), index in zip(FIRES, TORCHVISION_FIRE_INDICES[version]):
        for part in ("squeeze", "expand1x1", "expand3x3"):
            layers.append(_torch_layer(f"{fire}/{part}", f"features.{index}.{part}"))
    return layers + [_torch_layer("classifier", "classifier.1")]


def onnx_zoo_squeezenet1_1():
    """The ONNX zoo / MXNet-Gluon export: squeezenet0_conv0 ... conv25 in network order."""
    names = (
        ["conv1"]
        + [
            f"{fire}/{part}"
            for fire, _, _ in FIRES
            for part in ("squeeze", "expand1x1", "expand3x3")
        ]
        + ["classifier"]
    )
    return [
        Layer(name, f"squeezenet0_conv{i}_weight", f"squeezenet0_conv{i}_bias", "conv")
        for i, name in enumerate(names)
    ]


def caffe_squeezenet1_0():
    """The Deep-Compression Caffe release (decoded .npz): fireN/conv1x1_1 is the squeeze."""
    layers = [Layer("conv1", "conv1", "conv1_bias", "conv")]
    for fire, _, _ in FIRES:
        for part, caffe in (
            ("squeeze", "conv1x1_1"),
            ("expand1x1", "conv1x1_2"),
            ("expand3x3", "conv3x3_2"),
        ):
            key = f"{fire}/{caffe}"
            layers.append(Layer(f"{fire}/{part}", key, f"{key}_bias", "conv"))
    return layers + [Layer("classifier", "conv_final", "conv_final_bias", "conv")]


# (architecture, source layout) -> (mapping, preprocessing the weights expect)
TORCHVISION_PREPROCESSING = {"size": 224, "resize": 256, "normalization": "torchvision"}
MAPPINGS = {
    ("vgg16", "torchvision"): (torchvision_vgg16, TORCHVISION_PREPROCESSING),
    ("squeezenet1_0", "torchvision"): (
        lambda: torchvision_squeezenet("1_0"),
        TORCHVISION_PREPROCESSING,
    ),
    ("squeezenet1_1", "torchvision"): (
        lambda: torchvision_squeezenet("1_1"),
        TORCHVISION_PREPROCESSING,
    ),
    ("squeezenet1_1", "onnx_zoo"): (onnx_zoo_squeezenet1_1, TORCHVISION_PREPROCESSING),
    ("squeezenet1_0_caffe", "caffe"): (
        caffe_squeezenet1_0,
        {"size": 227, "resize": 256, "normalization": "caffe"},
    ),
}


def detect_layout(names) -> str:
    """Which source layout a set of tensor names comes from."""
    names = set(names)
    if any(n.startswith(("features.", "classifier.")) for n in names):
        return "torchvision"
    if any(n.startswith("squeezenet0_conv") for n in names):
        return "onnx_zoo"
    if "conv_final" in names:
        return "caffe"
    sample = ", ".join(sorted(names)[:3])
    raise InputError(
        f"unrecognised checkpoint layout (first tensor names: {sample}); expected "
        "torchvision keys (features.0.weight), ONNX zoo (squeezenet0_conv0_weight) or Caffe "
        "(conv_final)"
    )
