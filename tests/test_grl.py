"""Gradient reversal: identity forward, -lam times the identity's gradient backward; schedules."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.dann.grl import annealed_learning_rate, grad_reverse, reversal_schedule

X = jnp.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])


def test_grl_forward_is_identity():
    out = grad_reverse(X, 0.7)
    chex.assert_trees_all_equal(out, X)
    chex.assert_shape(out, X.shape)
    chex.assert_type(out, jnp.float32)


def test_grl_negates_gradient_scaled_by_lam():
    def loss(f):
        return lambda x: jnp.sum(jnp.sin(f(x)) * X)

    identity_grad = jax.grad(loss(lambda x: x))(X)
    for lam in (0.0, 0.3, 1.0, 2.5):
        reversed_grad = jax.grad(loss(lambda x: grad_reverse(x, lam)))(X)
        np.testing.assert_allclose(reversed_grad, -lam * identity_grad, rtol=0, atol=1e-7)


def test_grl_gives_lam_no_gradient_and_jits():
    grad_lam = jax.grad(lambda lam: jnp.sum(grad_reverse(X, lam) ** 2))(jnp.float32(0.5))
    assert float(grad_lam) == 0.0
    g = jax.jit(jax.grad(lambda x, lam: jnp.sum(grad_reverse(x, lam))))(X, jnp.float32(0.5))
    np.testing.assert_allclose(g, -0.5 * jnp.ones_like(X), rtol=0, atol=0)


def test_reversal_schedule_ramps_from_zero_to_scale():
    schedule = reversal_schedule(1000, gamma=10.0)
    p = np.array([0.0, 0.1, 0.5, 1.0])
    expected = 2.0 / (1.0 + np.exp(-10.0 * p)) - 1.0
    np.testing.assert_allclose([float(schedule(s)) for s in 1000 * p], expected, rtol=1e-6)
    assert float(reversal_schedule(1000, scale=0.3)(5000)) == np.float32(
        0.3 * (2 / (1 + np.exp(-10)) - 1)
    )


def test_annealed_learning_rate_matches_the_paper_formula():
    schedule = annealed_learning_rate(100, mu0=0.01, alpha=10.0, beta=0.75)
    for step in (0, 25, 100):
        np.testing.assert_allclose(
            float(schedule(step)), 0.01 / (1 + 10 * step / 100) ** 0.75, rtol=1e-6
        )
