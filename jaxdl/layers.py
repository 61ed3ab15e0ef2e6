"""The layers every model is built from, as a swappable set (flax's own by default).

Models take a ``layers: Layers`` field, the way flax/examples/imagenet takes ``conv: ModuleDef``:
``FLAX`` (the default) is stock ``nn.Conv``, ``nn.Dense``, ``nn.ConvTranspose`` and a max pool on
``lax.reduce_window``, so every JAX transform works on every backend; ``jaxdl.cpu.LAYERS`` holds
the XLA:CPU kernels with the same parameters. All NHWC.
"""

import dataclasses
import math
from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp

ModuleDef = Any


def pooled_size(size: int, window: int, stride: int, ceil_mode: bool) -> int:
    """Output length of a max pool along one axis (PyTorch's rule: in ceil mode the last window
    must start inside the input)."""
    if not ceil_mode:
        return (size - window) // stride + 1
    out = math.ceil((size - window) / stride) + 1
    return out - 1 if (out - 1) * stride >= size else out


def max_pool(x, window: int, stride: int, ceil_mode: bool = False):
    """Max pooling of x (N,H,W,C) over (H,W) with square windows; ``ceil_mode`` as in
    PyTorch/Caffe (SqueezeNet): partial windows at the end are padded with -inf."""
    pads = [
        (0, (pooled_size(n, window, stride, ceil_mode) - 1) * stride + window - n)
        for n in x.shape[1:3]
    ]
    pads = [(0, max(high, 0)) for _, high in pads]  # floor mode crops the remainder itself
    return nn.max_pool(x, (window, window), (stride, stride), padding=pads)


def adaptive_avg_pool(x, output_size):
    """PyTorch's AdaptiveAvgPool2d for x (N,H,W,C) -> (N, oh, ow, C); static shapes."""
    height, width = x.shape[1:3]
    out_h, out_w = output_size
    if (height, width) == (out_h, out_w):
        return x
    if height % out_h == 0 and width % out_w == 0:
        kh, kw = height // out_h, width // out_w
        return nn.avg_pool(x, (kh, kw), (kh, kw))

    def bins(size, out):
        return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]

    rows = []
    for h0, h1 in bins(height, out_h):
        cols = [jnp.mean(x[:, h0:h1, w0:w1], axis=(1, 2)) for w0, w1 in bins(width, out_w)]
        rows.append(jnp.stack(cols, axis=1))
    return jnp.stack(rows, axis=1)


@dataclasses.dataclass(frozen=True)
class Layers:
    """The layer constructors a model uses: ``conv``/``dense``/``conv_transpose`` take flax's
    ``nn.Conv``/``nn.Dense``/``nn.ConvTranspose`` arguments and create the same parameters;
    ``max_pool(x, window, stride, ceil_mode)`` is a function."""

    conv: ModuleDef = nn.Conv
    dense: ModuleDef = nn.Dense
    conv_transpose: ModuleDef = nn.ConvTranspose
    max_pool: Callable = max_pool


FLAX = Layers()
