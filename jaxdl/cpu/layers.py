"""XLA:CPU kernels for the layers of ``jaxdl.layers``: the same parameters and numbers (to
float32 rounding), with gradients written out where XLA:CPU's own are slow.

- ``Conv``: 3x3 stride-1 convolutions with many channels as Winograd F(2x2, 3x3); the input
  gradient as a canonical convolution with a materialised HWIO kernel (JAX's transpose rule
  leaves an 'OI' kernel that XLA:CPU runs without its Eigen kernels inside loops), and for a
  first layer with few input channels as one GEMM plus overlap-adds.
- ``Dense``: the input gradient as ``kernel @ g^T`` (XLA:CPU runs JAX's ``g @ kernel^T`` without
  its GEMM kernels for a row-major kernel).
- ``max_pool``: the gradient gathered from each window's recorded first maximum instead of
  ``reduce_window``'s argmax + serial scatter.
- ``ConvTranspose``: 'SAME' transposed convolutions as one ordinary convolution per output phase
  (no multiplications by inserted zeros).

These are ``jax.custom_vjp`` functions: reverse mode (``jax.grad``, ``jax.vjp``) only. Under
``jax.jvp``, ``jax.jacfwd`` or ``jax.linearize`` they raise a TypeError that names the fix:
build the model with the default ``jaxdl.layers.FLAX``. Measurements: ``benchmarks/README.md``.
"""

import functools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxdl.cpu import winograd
from jaxdl.errors import InputError
from jaxdl.layers import pooled_size

FORWARD_MODE_FIX = (
    "jaxdl.cpu layers support reverse mode only (jax.grad, jax.vjp); for jax.jvp, "
    "jax.jacfwd or jax.linearize build the model with the default layers "
    "(jaxdl.layers.FLAX, e.g. get_model(name) without layers=jaxdl.cpu.LAYERS)"
)


def reverse_mode_only(fn):
    """``fn`` (which calls a custom_vjp function) with JAX's forward-mode TypeError naming the
    fix."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            if "forward-mode" not in str(e):
                raise
            raise TypeError(f"{fn.__name__}: {FORWARD_MODE_FIX}") from e

    return wrapper


@reverse_mode_only
def max_pool(x, window: int, stride: int, ceil_mode: bool = False):
    """``jaxdl.layers.max_pool`` with the gradient going to the first maximum of each window in
    row-major order, as in PyTorch (a NaN wins): differentiated, the forward pass records which
    tap that is (one int8 per output, ``_pool_fwd``) and the backward pass gathers each input's
    gradient from the windows that chose it (``_pool_bwd``)."""
    out = tuple(pooled_size(size, window, stride, ceil_mode) for size in x.shape[1:3])
    return _pool(x, window, stride, out, x.shape[1:3])


def _pad_axis(x, axis: int, high: int, value, low: int = 0):
    """x padded (``low``/``high`` > 0) or cropped (< 0) at the start/end of ``axis``."""
    config = [(0, 0, 0)] * x.ndim
    config[axis] = (low, high, 0)
    return lax.pad(x, jnp.asarray(value, x.dtype), config)


def _window_taps(x, window: int, stride: int, axis: int, out: int):
    """The ``window`` strided slices of x (padded with -inf to whole windows) along ``axis``:
    tap d holds element ``stride * i + d`` of each output ``i``."""
    x = _pad_axis(x, axis, (out - 1) * stride + window - x.shape[axis], -jnp.inf)
    taps = []
    for d in range(window):
        start, limit, strides = [0] * x.ndim, list(x.shape), [1] * x.ndim
        start[axis], limit[axis], strides[axis] = d, d + (out - 1) * stride + 1, stride
        taps.append(lax.slice(x, start, limit, strides))
    return taps


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
def _pool(x, window: int, stride: int, out: tuple, size: tuple):
    """(N,H,W,C) -> (N,*out,C). Non-overlapping windows as tiles (a reshape + max); the others
    pooled along columns, then rows (3 + 3 instead of 9 taps for a 3x3 window)."""
    if window == stride and all(o * window <= n for o, n in zip(out, size)):
        return _tiles(x, window).max(axis=(2, 4))
    columns = functools.reduce(jnp.maximum, _window_taps(x, window, stride, 2, out[1]))
    return functools.reduce(jnp.maximum, _window_taps(columns, window, stride, 1, out[0]))


def _pool_fwd(x, window, stride, out, size):
    """The maxima and ``first`` (N,*out,C), int8 (int32 above 11x11 windows): the row-major index
    of each window's first maximum among its window x window taps (a NaN wins, as in PyTorch)."""
    rows = [
        _window_taps(column, window, stride, 1, out[0])
        for column in _window_taps(x, window, stride, 2, out[1])
    ]
    taps = [rows[j][i] for i in range(window) for j in range(window)]  # row-major
    best, first = (
        taps[0],
        jnp.zeros(taps[0].shape, jnp.int8 if window * window < 128 else jnp.int32),
    )
    for index, tap in enumerate(taps[1:], 1):
        update = (tap > best) | jnp.isnan(tap)
        best, first = (
            jnp.where(update, tap, best),
            jnp.where(update, jnp.asarray(index, first.dtype), first),
        )
    return best, first


def _pool_bwd(window, stride, out, size, first, g):
    """Input ``stride * q + p`` (phase p) is tap ``stride * m + p`` of output ``q - m``: each
    phase sums the gradients of the windows whose first maximum it is, and the phases
    interleave by a stack + reshape (no scatter, no interior padding)."""
    (height, width), (out_h, out_w) = size, out
    rows_q, cols_q = -(-height // stride), -(-width // stride)  # positions per phase
    reach = (window - 1) // stride  # how many earlier outputs a window reaches back

    def shifted(a, fill, back_h, back_w):  # a[q - back] at every phase position q
        a = _pad_axis(
            _pad_axis(a, 1, rows_q - out_h, fill, low=reach), 2, cols_q - out_w, fill, low=reach
        )
        return a[
            :, reach - back_h : reach - back_h + rows_q, reach - back_w : reach - back_w + cols_q
        ]

    rows = []
    for p_h in range(stride):
        columns = []
        for p_w in range(stride):
            total = jnp.zeros((g.shape[0], rows_q, cols_q, g.shape[3]), g.dtype)
            for m_h in range(len(range(p_h, window, stride))):
                for m_w in range(len(range(p_w, window, stride))):
                    tap = (stride * m_h + p_h) * window + stride * m_w + p_w
                    chose = shifted(first, -1, m_h, m_w) == tap
                    total = total + jnp.where(chose, shifted(g, 0.0, m_h, m_w), 0.0)
            columns.append(total)
        rows.append(jnp.stack(columns, axis=3))  # (N, rows_q, cols_q, stride, C)
    grad = jnp.stack(rows, axis=2).reshape(g.shape[0], rows_q * stride, cols_q * stride, g.shape[3])
    return (grad[:, :height, :width],)


_pool.defvjp(_pool_fwd, _pool_bwd)


def _overlap_add(parts, stride: int, axis: int, size: int):
    """The sum of the taps ``parts[d]`` placed at ``stride * i + d`` along ``axis``, padded or
    cropped to ``size``: the transpose of taking strided taps.

    Tap d lands on stride phase ``d % stride``, position ``i + d // stride``. Each phase sums its
    taps shifted by whole positions and the phases interleave by a stack + reshape: no interior
    padding, so XLA vectorises the loop."""
    out = parts[0].shape[axis]
    length = out + (len(parts) - 1) // stride  # positions per phase
    phases = []
    for phase in range(stride):
        total = jnp.zeros(
            parts[0].shape[:axis] + (length,) + parts[0].shape[axis + 1 :], parts[0].dtype
        )
        for d in range(phase, len(parts), stride):
            total = total + _pad_axis(
                parts[d], axis, length - out - d // stride, 0.0, low=d // stride
            )
        phases.append(total)
    shape = parts[0].shape
    summed = jnp.stack(phases, axis + 1).reshape(
        shape[:axis] + (length * stride,) + shape[axis + 1 :]
    )
    return _pad_axis(summed, axis, size - length * stride, 0.0)


def _tiles(x, k):
    """x (N,H,W,C) -> (N,H//k,k,W//k,k,C): its k x k tiles (a floor-mode remainder dropped)."""
    n, height, width, channels = x.shape
    return x[:, : height // k * k, : width // k * k].reshape(
        n, height // k, k, width // k, k, channels
    )


NHWC = ("NHWC", "HWIO", "NHWC")


@reverse_mode_only
def conv2d(x, kernel, strides=(1, 1), padding="VALID"):
    """``lax.conv_general_dilated`` of x (N,H,W,Cin) with kernel (KH,KW,Cin,Cout) -> (N,H',W',Cout);
    ``padding`` 'SAME', 'VALID' or ((lo, hi), (lo, hi)). The same numbers and gradients, computed
    as the module docstring says."""
    if isinstance(padding, str):
        padding = lax.padtype_to_pads(x.shape[1:3], kernel.shape[:2], strides, padding)
    return _conv2d(x, kernel, tuple(strides), tuple(tuple(p) for p in padding))


def _direct_conv(x, kernel, strides, padding, lhs_dilation=(1, 1)):
    return lax.conv_general_dilated(
        x, kernel, strides, padding, lhs_dilation=lhs_dilation, dimension_numbers=NHWC
    )


def _conv2d_forward(x, kernel, strides, padding, lhs_dilation=(1, 1)):
    """The convolution, as Winograd F(2x2, 3x3) where that pays off on XLA:CPU."""
    if strides == lhs_dilation == (1, 1) and winograd.pays_off(x.shape, kernel.shape, x.dtype):
        return winograd.conv2d_3x3(x, kernel, padding)
    return _direct_conv(x, kernel, strides, padding, lhs_dilation)


MAX_PATCH = 32  # KH * KW * Cin up to which the input gradient runs as one GEMM + overlap-adds


def _few_taps(kernel_shape, dtype) -> bool:
    """Whether a kernel's patches are short (an RGB image's first layer): its input-gradient
    convolution then has so few output channels that XLA:CPU runs it far below its GEMM rate."""
    return math.prod(kernel_shape[:3]) <= MAX_PATCH and dtype == jnp.float32


def _patch_input_gradient(g, kernel, x_shape, strides, padding):
    """dx of a convolution of x (x_shape) as one GEMM, (N*OH*OW, Cout) @ (Cout, KH*KW*Cin), which
    gives each output's patch gradient, then each patch added back where it was read
    (``_overlap_add``, columns then rows)."""
    kh, kw, cin, cout = kernel.shape
    rows = lax.optimization_barrier(kernel.reshape(-1, cout).T)  # (Cout, KH*KW*Cin), materialised
    patches = (g @ rows).reshape(*g.shape[:3], kh, kw, cin)
    padded = [size + lo + hi for size, (lo, hi) in zip(x_shape[1:3], padding)]
    by_row = [
        _overlap_add([patches[:, :, :, i, j] for j in range(kw)], strides[1], 2, padded[1])
        for i in range(kh)
    ]
    dx = _overlap_add(by_row, strides[0], 1, padded[0])
    (top, _), (left, _) = padding
    return dx[:, top : top + x_shape[1], left : left + x_shape[2]]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv2d(x, kernel, strides, padding):
    return _conv2d_forward(x, kernel, strides, padding)


def _conv2d_fwd(x, kernel, strides, padding):
    return _conv2d_forward(x, kernel, strides, padding), (x, kernel)


def _input_gradient(g, kernel, x_shape, strides, padding):
    """dx: g (input-dilated by the stride) convolved with the flipped kernel, its in/out swapped;
    the optimisation barrier keeps XLA from folding the transpose back into an 'OI' layout."""
    pads = [
        (k - 1 - lo, n - 1 - (m - 1) * s + lo)
        for k, (lo, _), n, m, s in zip(
            kernel.shape[:2], padding, x_shape[1:3], g.shape[1:3], strides
        )
    ]
    flipped = lax.optimization_barrier(jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2))
    return _conv2d_forward(g, flipped, (1, 1), tuple(pads), lhs_dilation=strides)


def _conv2d_bwd(strides, padding, residuals, g):
    """dx (``_patch_input_gradient`` for a first layer, else ``_input_gradient``) and the kernel
    gradient of the direct convolution."""
    x, kernel = residuals
    shapes = dict(x_shape=x.shape, strides=strides, padding=padding)
    if _few_taps(kernel.shape, x.dtype) and min(sum(padding, ())) >= 0:
        dx = _patch_input_gradient(g, kernel, **shapes)
    else:
        dx = _input_gradient(g, kernel, **shapes)
    dkernel = jax.vjp(lambda k: _direct_conv(x, k, strides, padding), kernel)[1](g)[0]
    return dx, dkernel


_conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


class Conv(nn.Module):
    """``nn.Conv(features, kernel_size, strides, padding)`` (NHWC) computed with ``conv2d``: the
    same parameters (``kernel`` (KH,KW,Cin,Cout), ``bias``), initialisers and outputs."""

    features: int
    kernel_size: tuple
    strides: tuple = (1, 1)
    padding: str | tuple = "SAME"
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros

    @nn.compact
    def __call__(self, x):
        kernel = self.param(
            "kernel", self.kernel_init, (*self.kernel_size, x.shape[-1], self.features)
        )
        bias = self.param("bias", self.bias_init, (self.features,))
        x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias)
        return self.convolve(x, kernel) + bias

    def convolve(self, x, kernel):
        return conv2d(x, kernel, self.strides, self.padding)


@jax.custom_vjp
def _dense(x, kernel):
    return x @ kernel


def _dense_fwd(x, kernel):
    return x @ kernel, (x, kernel)


def _dense_bwd(residuals, g):
    x, kernel = residuals
    rows, cols = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    # the barrier keeps XLA from rewriting the product back into g @ kernel^T
    dx = lax.optimization_barrier(kernel @ cols.T).T.reshape(x.shape)
    return dx, rows.T @ cols


_dense.defvjp(_dense_fwd, _dense_bwd)


@reverse_mode_only
def dense(x, kernel):
    """x (..., I) @ kernel (I, O) -> (..., O), with the input gradient as ``(kernel @ g^T)^T``."""
    return _dense(x, kernel)


class Dense(nn.Module):
    """``nn.Dense(features)`` computed with ``dense``: the same parameters (``kernel`` (I,O),
    ``bias``), initialisers and outputs."""

    features: int
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros

    @nn.compact
    def __call__(self, x):
        kernel = self.param("kernel", self.kernel_init, (x.shape[-1], self.features))
        bias = self.param("bias", self.bias_init, (self.features,))
        x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias)
        return dense(x, kernel) + bias


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
    ``padding='SAME'``) as stride_h * stride_w ordinary convolutions on x, one per output phase,
    interleaved: x (N,H,W,Cin), kernel (KH,KW,Cin,Cout) -> (N, sh*H, sw*W, Cout). The same
    numbers as the input-dilated convolution XLA would run, without multiplying the inserted
    zeros, and its gradients are ordinary convolutions too."""
    (kh, kw), (sh, sw) = kernel.shape[:2], strides
    rows = []
    for ph in range(sh):
        taps_h, pad_h = _phase_taps(kh, sh, ph)
        cols = []
        for pw in range(sw):
            taps_w, pad_w = _phase_taps(kw, sw, pw)
            phase_kernel = kernel[jnp.array(taps_h)][:, jnp.array(taps_w)]
            cols.append(conv2d(x, phase_kernel, (1, 1), (pad_h, pad_w)))
        rows.append(jnp.stack(cols, axis=3))  # (N, H, W, sw, Cout)
    y = jnp.stack(rows, axis=2)  # (N, H, sh, W, sw, Cout)
    n, height, _, width, _, channels = y.shape
    return y.reshape(n, height * sh, width * sw, channels)


class ConvTranspose(Conv):
    """``nn.ConvTranspose(features, kernel_size, strides, padding='SAME')`` computed with
    ``conv_transpose_subpixel``: the same parameters (``kernel`` (KH,KW,Cin,Cout), ``bias``)."""

    def convolve(self, x, kernel):
        if self.padding != "SAME":
            raise InputError(f"jaxdl.cpu.ConvTranspose: only padding='SAME', got {self.padding!r}")
        return conv_transpose_subpixel(x, kernel, self.strides)
