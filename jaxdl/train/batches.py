"""Deterministic batch streams that can start at any step (so a resumed run sees the same data)."""

import numpy as np

from jaxdl.data.pipeline import batch_indices
from jaxdl.errors import InputError


def index_stream(n: int, batch_size: int, seed: int, start_step: int = 0):
    """Endless index arrays (batch_size,) over ``n`` items: epoch e is shuffled with seed
    (seed, e); batches that would straddle an epoch end are dropped. Starts at ``start_step``."""
    per_epoch = n // batch_size
    if per_epoch == 0:
        raise InputError(f"batch size {batch_size} exceeds the {n} items")
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        rng_seed = np.random.SeedSequence([seed, epoch])
        order = batch_indices(n, batch_size, seed=rng_seed, drop_remainder=True)
        yield from order[skip:]
        epoch, skip = epoch + 1, 0


def array_stream(arrays: dict, batch_size: int, seed: int, start_step: int = 0):
    """Endless batches ``{name: array[idx]}`` of in-memory arrays sharing their leading axis."""
    n = len(next(iter(arrays.values())))
    for idx in index_stream(n, batch_size, seed, start_step):
        yield {name: a[idx] for name, a in arrays.items()}
