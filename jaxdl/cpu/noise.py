"""Gaussian noise equal bit for bit to ``jax.random.normal``, written out for XLA:CPU.

For a threefry key (JAX's default) ``jax.random.normal(key, shape)`` hashes the counters
0 .. n-1 with Threefry-2x32 (Salmon et al. 2011), keeps ``hi ^ lo`` of each hash as 32 random
bits, makes them a uniform in (-1, 1) and returns ``sqrt(2) * erf_inv(uniform)``. XLA:CPU lowers
the hash as a loop of five passes over the whole array in memory; written out it is one
vectorised loop, with ``erf_inv`` kept in a loop of its own (XLA:CPU runs the two fused much
slower). Keys of other PRNG implementations, dtypes other than float32, or JAX's non-default
``jax_threefry_partitionable=False`` counter scheme take ``jax.random.normal``.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
KEY_PARITY = np.uint32(0x1BD11BDA)
LANES = 8  # width of the identity product that keeps the hash and erf_inv in separate loops


def threefry2x32(key, x0, x1):
    """The Threefry-2x32 hash (20 rounds) of the counter pairs (x0, x1) (uint32 arrays) under
    ``key`` (2,) uint32, as JAX's ``threefry2x32`` primitive computes it."""
    keys = (key[0], key[1], key[0] ^ key[1] ^ KEY_PARITY)
    x0, x1 = x0 + keys[0], x1 + keys[1]
    for block in range(5):
        for rotation in ROTATIONS[block % 2]:
            x0 = x0 + x1
            x1 = ((x1 << np.uint32(rotation)) | (x1 >> np.uint32(32 - rotation))) ^ x0
        x0 = x0 + keys[(block + 1) % 3]
        x1 = x1 + keys[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def _is_default_threefry(key) -> bool:
    return (
        jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
        and key.shape == ()
        and str(jax.random.key_impl(key)) == "threefry2x32"
        and jax.config.jax_threefry_partitionable
    )


def normal(key, shape, dtype=jnp.float32):
    """``jax.random.normal(key, shape, dtype)``, the same numbers (one typed key, any shape)."""
    size = math.prod(shape)
    if not (_is_default_threefry(key) and jnp.dtype(dtype) == jnp.float32 and size < 2**32):
        return jax.random.normal(key, shape, dtype)
    padded = -(-size // LANES) * LANES
    counters = lax.iota(jnp.uint32, padded)
    hi, lo = threefry2x32(jax.random.key_data(key), jnp.zeros_like(counters), counters)
    mantissa = ((hi ^ lo) >> np.uint32(9)) | np.uint32(
        0x3F800000
    )  # 23 random bits, exponent of 1.0
    floats = lax.bitcast_convert_type(mantissa, jnp.float32) - np.float32(1)  # [0, 1)
    low, high = np.nextafter(np.float32(-1), np.float32(0)), np.float32(1)
    uniform = jnp.maximum(low, floats * (high - low) + low)  # as jax.random.uniform(key, low, high)
    # x @ I == x exactly; the product is a loop boundary XLA does not fuse across
    uniform = uniform.reshape(-1, LANES) @ jnp.eye(LANES, dtype=jnp.float32)
    gaussian = np.float32(np.sqrt(2)) * lax.erf_inv(uniform)
    return gaussian.reshape(-1)[:size].reshape(shape)
