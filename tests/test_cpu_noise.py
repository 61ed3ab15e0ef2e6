"""``jaxdl.cpu.normal`` against ``jax.random.normal`` (bit for bit) and the Threefry-2x32
known-answer vectors of its authors (Random123)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.cpu import noise


@pytest.mark.parametrize(
    "words, key, expected",
    [
        # Random123 kat_vectors, threefry2x32 with 20 rounds: counter, key, result
        ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
        ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
        ((0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
    ],
)
def test_threefry2x32_matches_the_published_vectors(words, key, expected):
    x0, x1 = (jnp.array([w], jnp.uint32) for w in words)
    out = noise.threefry2x32(jnp.array(key, jnp.uint32), x0, x1)
    assert [int(v[0]) for v in out] == list(expected)


@pytest.mark.parametrize("shape", [(), (1,), (7,), (5, 3), (224, 224, 3), (2, 9, 11, 1)])
def test_normal_is_jax_random_normal_bit_for_bit(shape):
    for seed in (0, 1, 2**31 + 5):
        key = jax.random.key(seed)
        expected = jax.random.normal(key, shape)
        for fn in (noise.normal, jax.jit(noise.normal, static_argnums=1)):
            out = fn(key, shape)
            chex.assert_shape(out, shape)
            chex.assert_type(out, jnp.float32)
            np.testing.assert_array_equal(out, expected)


def test_normal_under_vmap_is_jax_random_normal():
    keys = jax.random.split(jax.random.key(3), 4)
    out = jax.jit(jax.vmap(lambda k: noise.normal(k, (6, 4, 3))))(keys)
    np.testing.assert_array_equal(out, jax.vmap(lambda k: jax.random.normal(k, (6, 4, 3)))(keys))


def test_other_key_kinds_and_dtypes_fall_back_to_jax_random_normal():
    rbg = jax.random.key(0, impl="rbg")
    np.testing.assert_array_equal(noise.normal(rbg, (5, 3)), jax.random.normal(rbg, (5, 3)))
    key = jax.random.key(1)
    out = noise.normal(key, (4, 2), jnp.bfloat16)
    chex.assert_type(out, jnp.bfloat16)
    np.testing.assert_array_equal(out, jax.random.normal(key, (4, 2), jnp.bfloat16))


def test_the_hash_and_erf_inv_run_as_separate_loops_on_cpu():
    """The identity product that keeps XLA:CPU from fusing the hash into ``erf_inv`` (10x slower
    fused) survives compilation."""
    hlo = (
        jax.jit(lambda k: noise.normal(k, (64, 64, 3))).lower(jax.random.key(0)).compile().as_text()
    )
    assert " dot(" in hlo
