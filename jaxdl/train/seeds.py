"""Seeds as an axis: S independent runs of one step function whose states (params, optimiser
state, PRNG key) are stacked on a leading axis and advanced by one ``jax.vmap``-ped, jitted
step -- one compiled program for every seed -- with each seed drawing its own batches.

Whether stacking pays depends on the backend: ``groups`` splits the seeds into the runs to
make, all stacked (``"vmap"``), one by one (``"sequential"``, a stack of one), or the measured
choice for the backend (``"auto"``). On XLA:CPU a vmapped convolution with per-seed weights
becomes a grouped convolution, slower than the seeds in turn (``benchmarks/README.md``).
"""

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.errors import InputError
from jaxdl.options import option

SEED_MODES = ("auto", "vmap", "sequential")


def seeds_option(what: str):
    """The config field of the seeds ``what`` is made once per (default 0, 1, 2)."""
    return option((0, 1, 2), f"random seeds: {what} once per seed", min=0)


def seed_mode_option():
    """The config field choosing how the seeds run (``groups``'s ``mode``)."""
    return option(
        "auto",
        "vmap (the seeds stacked, one compiled step), sequential, or auto (sequential on the "
        "CPU, where it is faster; vmap on accelerators)",
        choices=SEED_MODES,
    )


def stack(trees: list):
    """Pytrees of equal structure -> one pytree whose leaves have a leading axis of size S."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def unstack(tree) -> list:
    """The inverse of ``stack``: the S pytrees of a stacked one.

    >>> stacked = stack([{"w": jnp.zeros(2)}, {"w": jnp.ones(2)}])
    >>> stacked["w"].shape, [float(tree["w"][0]) for tree in unstack(stacked)]
    ((2, 2), [0.0, 1.0])
    """
    size = len(jax.tree.leaves(tree)[0])
    return [jax.tree.map(lambda leaf: leaf[i], tree) for i in range(size)]


def vmap_step(step_fn):
    """``step(states (S, ...), batches (S, B, ...)) -> (states, metrics (S,))``: ``step_fn``
    applied to every seed at once; jit it with ``loop.jit_step(..., batch_axis=1)``."""
    return jax.vmap(step_fn)


def stacked_batches(streams):
    """Zip per-seed batch iterators (pytrees of arrays (B, ...)) into batches (S, B, ...)."""
    for batches in zip(*streams):
        yield jax.tree.map(lambda *leaves: np.stack(leaves), *batches)


def check(seeds) -> tuple[int, ...]:
    """``seeds`` as a tuple; ValueError unless they are at least one and distinct."""
    seeds = tuple(seeds)
    if len(set(seeds)) != len(seeds) or not seeds:
        raise InputError(f"seeds must be distinct and at least one; got {seeds}")
    return seeds


def groups(seeds, mode: str = "auto", backend: str | None = None) -> list[tuple[int, ...]]:
    """The seeds split into stacked runs: ``"vmap"`` one run of all, ``"sequential"`` one run
    per seed, ``"auto"`` sequential on the CPU (where it is faster), vmap elsewhere."""
    seeds = check(seeds)
    if mode not in SEED_MODES:
        raise InputError(f"unknown seed mode {mode!r}; expected one of {SEED_MODES}")
    if mode == "auto":
        mode = "sequential" if (backend or jax.default_backend()) == "cpu" else "vmap"
    return [seeds] if mode == "vmap" else [(s,) for s in seeds]
