"""The training state every chapter's step function carries: a pytree the loop shards,
checkpoints and restores without knowing what is inside."""

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class TrainState:
    """``step``: int32 scalar, the number of steps taken; ``params`` / ``opt_state``: any pytrees
    (a GAN uses ``{"g": ..., "d": ...}`` for both); ``key``: raw uint32 PRNG key data (2,), from
    which a step derives its randomness as ``step_key(state)``; ``extra``: anything else that must
    survive a restart (batch-norm statistics, EMA weights), or an empty dict."""

    step: jax.Array
    params: Any
    opt_state: Any
    key: jax.Array
    extra: Any = struct.field(default_factory=dict)


def create_state(params, opt_state, seed: int, extra=None) -> TrainState:
    """A step-0 state whose PRNG key comes from ``seed``."""
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state=opt_state,
        key=jax.random.key_data(jax.random.key(seed)),
        extra={} if extra is None else extra,
    )


def step_key(state: TrainState):
    """A typed PRNG key unique to this step (the state's key folded with its step)."""
    return jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
