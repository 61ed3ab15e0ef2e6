"""Winograd F(2x2, 3x3) convolution (Lavin & Gray 2016) for XLA:CPU.

A 2x2 output tile of a 3x3, stride-1 convolution is computed from its 4x4 input tile with 16
multiplications per channel pair instead of 36: the input tiles and the kernel are transformed
(``B^T d B``, ``G g G^T``, additions only), multiplied as 16 GEMMs of (tiles, Cin) @ (Cin, Cout),
and transformed back (``A^T m A``). The result agrees with the direct convolution to float32
rounding (F(4x4, 3x3) would save more multiplications but loses about 10x more precision).
XLA:CPU's direct convolutions run below its GEMM rate, so this pays off for layers with many
channels and enough tiles (``pays_off``; VGG16's), not for few channels, where the transforms
cost more than the multiplications saved.
"""

import jax.numpy as jnp
import numpy as np
from jax import lax

INPUT_TRANSFORM = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))  # B^T
KERNEL_TRANSFORM = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))  # G
OUTPUT_TRANSFORM = ((1, 1, 1, 0), (0, 1, -1, -1))  # A^T
TILE = 2  # outputs per tile side

# The GEMMs save work in proportion to Cin * Cout, the transforms cost in proportion to
# Cin + Cout, so the gain grows with channels = Cin * Cout / (Cin + Cout) and with the number of
# tiles; the thresholds are where it was measured to pay (benchmarks/README.md).
MIN_CHANNELS = 40  # VGG16's 64 -> 128 and above; not SqueezeNet's fire modules
MIN_WORK = 25_000  # tiles * channels: VGG16's 14x14x512 from batch 2


def pays_off(x_shape, kernel_shape, dtype) -> bool:
    """Whether Winograd beats XLA:CPU's direct convolution for a 3x3 float32 kernel on x."""
    n, height, width, cin = x_shape
    cout = kernel_shape[-1]
    tiles = n * -(-height // TILE) * -(-width // TILE)
    channels = cin * cout / (cin + cout)
    return (
        tuple(kernel_shape[:2]) == (3, 3)
        and dtype == jnp.float32
        and channels >= MIN_CHANNELS
        and tiles * channels >= MIN_WORK
    )


def _combine(parts, matrix):
    """The linear combinations ``sum_j matrix[i][j] * parts[j]`` for each row i, zeros skipped."""
    rows = []
    for row in matrix:
        terms = [
            part if c == 1 else -part if c == -1 else part * np.float32(c)
            for c, part in zip(row, parts)
            if c != 0
        ]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        rows.append(total)
    return rows


def _transform_2d(rows, columns_of, matrix):
    """``matrix @ tile @ matrix^T``, element by element in row-major order, for tiles given as
    their ``rows`` and a function giving the columns of one (transformed) row."""
    return [col for row in _combine(rows, matrix) for col in _combine(columns_of(row), matrix)]


def conv2d_3x3(x, kernel, padding):
    """x (N,H,W,Cin) convolved with kernel (3,3,Cin,Cout), stride 1, ``padding`` ((lo, hi), (lo,
    hi))
    -> (N, H + lo + hi - 2, W + lo + hi - 2, Cout), as ``lax.conv_general_dilated``."""
    n, cin, cout = x.shape[0], x.shape[-1], kernel.shape[-1]
    out_h, out_w = (size + lo + hi - 2 for size, (lo, hi) in zip(x.shape[1:3], padding))
    tiles_h, tiles_w = -(-out_h // TILE), -(-out_w // TILE)
    # pad (or crop) to whole tiles: tile (i, j) reads rows 2i..2i+3, columns 2j..2j+3
    config = (
        [(0, 0, 0)]
        + [
            (lo, TILE * tiles + 2 - size - lo, 0)
            for size, (lo, _), tiles in zip(x.shape[1:3], padding, (tiles_h, tiles_w))
        ]
        + [(0, 0, 0)]
    )
    x = lax.pad(x, jnp.zeros((), x.dtype), config)
    size = len(INPUT_TRANSFORM)

    def strided(a, axis, start, count):  # elements start, start + 2, ... of each tile along axis
        return lax.slice_in_dim(a, start, start + TILE * count - 1, TILE, axis)

    inputs = _transform_2d(
        [strided(x, 1, i, tiles_h) for i in range(size)],
        lambda row: [strided(row, 2, j, tiles_w) for j in range(size)],
        INPUT_TRANSFORM,
    )
    inputs = jnp.stack(inputs).reshape(size * size, n * tiles_h * tiles_w, cin)
    kernels = jnp.stack(_transform_2d(list(kernel), list, KERNEL_TRANSFORM)).astype(x.dtype)
    products = lax.dot_general(inputs, kernels, (((2,), (1,)), ((0,), (0,))))  # (16, tiles, Cout)
    products = products.reshape(size, size, n, tiles_h, tiles_w, cout)
    rows = _combine(list(products), OUTPUT_TRANSFORM)  # per output row: (4, N, th, tw, Cout)
    y = jnp.stack(
        [jnp.stack(_combine(list(row), OUTPUT_TRANSFORM), axis=3) for row in rows], axis=2
    )
    return y.reshape(n, TILE * tiles_h, TILE * tiles_w, cout)[:, :out_h, :out_w]
