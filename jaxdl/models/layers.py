"""Small layer functions shared by the models (NHWC)."""
import functools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax


def max_pool(x, window: int, stride: int, ceil_mode: bool = False):
    """Max pooling over (H, W) of x (N,H,W,C); ``ceil_mode`` as in PyTorch/Caffe.

    The gradient goes to the first maximum of each window, as in PyTorch (see ``_pool``);
    non-overlapping windows (``window == stride``, no ceil padding) take the cheaper
    ``_tile_pool``.
    """
    if window == stride and not (ceil_mode and any(size % window for size in x.shape[1:3])):
        return _tile_pool(x, window)
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


def _tiles(x, k):
    """x (N,H,W,C) -> (N,H//k,k,W//k,k,C): its k x k tiles (a floor-mode remainder dropped)."""
    n, height, width, channels = x.shape
    return x[:, : height // k * k, : width // k * k].reshape(n, height // k, k, width // k, k, channels)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _tile_pool(x, k):
    """Max over non-overlapping k x k tiles; the gradient goes to the first maximum of each
    tile in row-major order (as ``_pool`` and PyTorch), built with k*k selects and one reshape."""
    return _tiles(x, k).max(axis=(2, 4))


def _tile_pool_fwd(x, k):
    y = _tile_pool(x, k)
    return y, (x, y)


def _tile_pool_bwd(k, residuals, g):
    x, y = residuals
    n, height, width, channels = x.shape
    tiles = _tiles(x, k)
    taken = jnp.zeros(y.shape, bool)
    rows = []
    for di in range(k):
        cols = []
        for dj in range(k):
            hit = (tiles[:, :, di, :, dj] == y) & ~taken
            taken = taken | hit
            cols.append(jnp.where(hit, g, 0.0).astype(x.dtype))
        rows.append(jnp.stack(cols, axis=3))  # (N, H//k, W//k, k, C)
    grad = jnp.stack(rows, axis=2).reshape(n, y.shape[1] * k, y.shape[2] * k, channels)
    return (jnp.pad(grad, ((0, 0), (0, height - grad.shape[1]), (0, width - grad.shape[2]), (0, 0))),)


_tile_pool.defvjp(_tile_pool_fwd, _tile_pool_bwd)


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


def _phase_taps(kernel_size: int, stride: int, phase: int):
    """Taps of a 'SAME' transposed convolution (``lax.conv_transpose``'s padding) that reach
    the outputs ``o = stride * m + phase``, and the conv padding that reads them from x:
    output m of phase ``phase`` = sum_j kernel[taps[j]] * x[m - pad_lo + j]."""
    pad_len = kernel_size + stride - 2
    pad_a = kernel_size - 1 if stride > kernel_size - 1 else -(-pad_len // 2)
    taps = [t for t in range(kernel_size) if (phase + t - pad_a) % stride == 0]
    first = (phase + taps[0] - pad_a) // stride
    return taps, (-first, first + len(taps) - 1)


def conv_transpose_subpixel(x, kernel, strides):
    """``lax.conv_transpose(x, kernel, strides, 'SAME')`` (flax ``nn.ConvTranspose`` with
    ``padding='SAME'``) computed as stride_h * stride_w ordinary convolutions on x, one per
    output phase, interleaved. x (N,H,W,Cin), kernel (KH,KW,Cin,Cout) -> (N, sh*H, sw*W, Cout).

    The same numbers as the input-dilated convolution XLA would run, without multiplying the
    inserted zeros, and its gradients are ordinary convolutions too (the DCGAN's 128->64
    upsampling: gradient 154 ms as a dilated convolution, 22 ms so; PyTorch 15 ms)."""
    (kh, kw), (sh, sw) = kernel.shape[:2], strides
    rows = []
    for ph in range(sh):
        taps_h, pad_h = _phase_taps(kh, sh, ph)
        cols = []
        for pw in range(sw):
            taps_w, pad_w = _phase_taps(kw, sw, pw)
            phase_kernel = kernel[jnp.array(taps_h)][:, jnp.array(taps_w)]
            cols.append(lax.conv_general_dilated(x, phase_kernel, (1, 1), (pad_h, pad_w),
                                                 dimension_numbers=("NHWC", "HWIO", "NHWC")))
        rows.append(jnp.stack(cols, axis=3))  # (N, H, W, sw, Cout)
    y = jnp.stack(rows, axis=2)  # (N, H, sh, W, sw, Cout)
    n, height, _, width, _, channels = y.shape
    return y.reshape(n, height * sh, width * sw, channels)


class ConvTransposeSubpixel(nn.Module):
    """Drop-in for ``nn.ConvTranspose(features, kernel_size, strides, padding='SAME')``: the
    same parameters (``kernel`` (KH,KW,Cin,Cout), ``bias``) and outputs, computed with
    ``conv_transpose_subpixel``."""

    features: int
    kernel_size: tuple
    strides: tuple
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features))
        bias = self.param("bias", self.bias_init, (self.features,))
        return conv_transpose_subpixel(x, kernel, self.strides) + bias
