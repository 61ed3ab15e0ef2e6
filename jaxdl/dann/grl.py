"""Gradient reversal (Ganin & Lempitsky 2015) and the DANN schedules as optax schedules."""

import jax
import jax.numpy as jnp


@jax.custom_jvp
def grad_reverse(x, lam):
    """Identity on ``x`` (any pytree of arrays) whose derivative is ``-lam`` times the identity:
    the backward pass multiplies the cotangent by ``-lam`` (the paper's definition), and forward
    mode (``jax.jvp``) the tangent. ``lam`` (a scalar) receives a zero derivative.

    >>> jax.grad(lambda x: grad_reverse(3.0 * x, 0.5))(1.0)
    Array(-1.5, dtype=float32, weak_type=True)
    """
    return x


@grad_reverse.defjvp
def _grad_reverse_jvp(primals, tangents):
    x, lam = primals
    x_dot, _ = tangents
    return x, jax.tree.map(lambda t: -lam * t, x_dot)


def reversal_schedule(total_steps: int, gamma: float = 10.0, scale: float = 1.0):
    """optax schedule ``lam_p = scale * (2 / (1 + exp(-gamma p)) - 1)``, p = step / total_steps
    in [0, 1]: the paper's ramp of the reversal factor from 0 to ``scale``.

    >>> schedule = reversal_schedule(6000)
    >>> [round(float(schedule(step)), 3) for step in (0, 600, 6000)]
    [0.0, 0.462, 1.0]
    """

    def schedule(step):
        p = jnp.clip(step / total_steps, 0.0, 1.0)
        return scale * (2.0 / (1.0 + jnp.exp(-gamma * p)) - 1.0)

    return schedule


def annealed_learning_rate(
    total_steps: int, mu0: float = 0.01, alpha: float = 10.0, beta: float = 0.75
):
    """optax schedule ``mu_p = mu0 / (1 + alpha p)^beta`` (the paper's annealing), p = step /
    total."""

    def schedule(step):
        p = jnp.clip(step / total_steps, 0.0, 1.0)
        return mu0 / (1.0 + alpha * p) ** beta

    return schedule
