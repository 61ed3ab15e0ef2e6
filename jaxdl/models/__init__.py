"""Model registry: ``get_model(name)`` and each architecture's input convention."""

import dataclasses

import jax

from jaxdl.dann.network import DANN, DANN_LAYERS
from jaxdl.errors import InputError
from jaxdl.layers import FLAX, Layers
from jaxdl.models.mnist_cnn import MNIST_CNN_LAYERS, MnistCNN
from jaxdl.models.squeezenet import SQUEEZENET_LAYERS, SqueezeNet
from jaxdl.models.vgg import VGG16, VGG16_LAYERS


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What a user of an architecture needs besides the module: its layers and input size."""

    name: str
    build: type
    kwargs: dict
    layers: tuple
    input_size: int
    in_channels: int = 3


MODELS = {
    "vgg16": ModelSpec("vgg16", VGG16, {}, VGG16_LAYERS, 224),
    "squeezenet1_0": ModelSpec(
        "squeezenet1_0", SqueezeNet, {"version": "1_0"}, SQUEEZENET_LAYERS, 224
    ),
    "squeezenet1_1": ModelSpec(
        "squeezenet1_1", SqueezeNet, {"version": "1_1"}, SQUEEZENET_LAYERS, 224
    ),
    # The Caffe Deep-Compression release of SqueezeNet 1.0: conv_final has pad 1, 227 input.
    "squeezenet1_0_caffe": ModelSpec(
        "squeezenet1_0_caffe",
        SqueezeNet,
        {"version": "1_0", "final_conv_padding": 1},
        SQUEEZENET_LAYERS,
        227,
    ),
    "mnist_cnn": ModelSpec("mnist_cnn", MnistCNN, {}, MNIST_CNN_LAYERS, 28, in_channels=1),
    "dann_mnist": ModelSpec("dann_mnist", DANN, {}, DANN_LAYERS, 32),
}


def get_spec(name: str) -> ModelSpec:
    """The ModelSpec of architecture ``name``; a clear error listing the valid names."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; expected one of: {', '.join(MODELS)}")
    return MODELS[name]


def get_model(name: str, *, layers: Layers = FLAX, **overrides):
    """A fresh flax module for architecture ``name`` (e.g. ``num_classes=15``), built from
    ``layers``: flax's own by default, ``jaxdl.cpu.LAYERS`` for the XLA:CPU kernels (the same
    parameter tree either way).

    >>> import jax, jax.numpy as jnp
    >>> model = get_model("squeezenet1_1", num_classes=15)
    >>> x = jnp.zeros((1, 224, 224, 3))
    >>> init = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x), x)
    >>> (logits, acts), _ = init
    >>> logits.shape, acts["fire9"].shape
    ((1, 15), (1, 13, 13, 512))
    """
    spec = get_spec(name)
    return spec.build(**{**spec.kwargs, **overrides, "layers": layers})


def make_apply(name: str, *, layers: Layers = FLAX, **overrides):
    """Jitted ``apply(params, x, stop_at=None) -> (output, intermediates)`` of architecture
    ``name``; ``stop_at`` (a layer name, static) returns that layer's map instead of the output.
    """
    module = get_model(name, layers=layers, **overrides)

    def apply(params, x, stop_at=None):
        return module.apply({"params": params}, x, stop_at=stop_at)

    return jax.jit(apply, static_argnames="stop_at")


from jaxdl.models.published import WEIGHTS, Pretrained, pretrained  # noqa: E402

__all__ = [
    "MODELS",
    "WEIGHTS",
    "Pretrained",
    "pretrained",
    "ModelSpec",
    "get_model",
    "make_apply",
    "get_spec",
    "VGG16",
    "SqueezeNet",
    "MnistCNN",
    "DANN",
]
