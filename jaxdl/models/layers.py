"""Small layer functions shared by the models (NHWC)."""
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax


def max_pool(x, window: int, stride: int, ceil_mode: bool = False):
    """Max pooling over (H, W) of x (N,H,W,C); ``ceil_mode`` as in PyTorch/Caffe.

    The gradient goes to the first maximum of each window, as in PyTorch (see ``_pool``).
    """
    pads = ((0, 0), (0, 0))
    if ceil_mode:
        pads = []
        for size in x.shape[1:3]:
            out = math.ceil((size - window) / stride) + 1
            if (out - 1) * stride >= size:  # last window must start inside the input
                out -= 1
            pads.append((0, max(0, (out - 1) * stride + window - size)))
        pads = tuple(pads)
    return _pool(x, window, stride, pads)


def _pool_forward(x, window, stride, pads):
    padding = ((0, 0), *pads, (0, 0))
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, window, window, 1), (1, stride, stride, 1), padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _pool(x, window, stride, pads):
    """reduce_window max with a scatter-free gradient.

    XLA:CPU differentiates reduce_window max into a variadic reduce-window that records
    argmax indices plus a serial scatter; here the gradient is ``window**2`` strided
    compares and interior-padded adds instead, which XLA fuses into parallel loops.
    """
    return _pool_forward(x, window, stride, pads)


def _pool_fwd(x, window, stride, pads):
    y = _pool_forward(x, window, stride, pads)
    return y, (x, y)


def _pool_bwd(window, stride, pads, residuals, g):
    x, y = residuals
    n, height, width, channels = x.shape
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)), constant_values=-jnp.inf)
    out_h, out_w = y.shape[1:3]
    span_h, span_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    grad = jnp.zeros_like(xp)
    taken = jnp.zeros(y.shape, bool)
    for di in range(window):
        for dj in range(window):
            patch = lax.slice(xp, (0, di, dj, 0), (n, di + span_h, dj + span_w, channels), (1, stride, stride, 1))
            hit = (patch == y) & ~taken  # first maximum in row-major window order, as PyTorch
            taken = taken | hit
            placement = ((0, 0, 0), (di, xp.shape[1] - di - span_h, stride - 1),
                         (dj, xp.shape[2] - dj - span_w, stride - 1), (0, 0, 0))
            grad = grad + lax.pad(jnp.where(hit, g, 0.0).astype(x.dtype), jnp.zeros((), x.dtype), placement)
    return (grad[:, :height, :width],)


_pool.defvjp(_pool_fwd, _pool_bwd)


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
