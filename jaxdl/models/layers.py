"""Small layer functions shared by the models (NHWC)."""
import math

import flax.linen as nn
import jax.numpy as jnp


def max_pool(x, window: int, stride: int, ceil_mode: bool = False):
    """Max pooling over (H, W) of x (N,H,W,C); ``ceil_mode`` as in PyTorch/Caffe."""
    padding = "VALID"
    if ceil_mode:
        pads = []
        for size in x.shape[1:3]:
            out = math.ceil((size - window) / stride) + 1
            if (out - 1) * stride >= size:  # last window must start inside the input
                out -= 1
            pads.append((0, max(0, (out - 1) * stride + window - size)))
        padding = tuple(pads)
    return nn.max_pool(x, (window, window), (stride, stride), padding=padding)


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
