"""Host-side batching and prefetching: shuffle with a seed, batch, feed the device ahead of use."""
import queue
import threading

import numpy as np


def batch_indices(n: int, batch_size: int, *, seed: int | None = None, drop_remainder: bool = False):
    """Index arrays of each batch of one epoch over ``n`` items (shuffled when ``seed`` is set)."""
    order = np.random.default_rng(seed).permutation(n) if seed is not None else np.arange(n)
    stop = n - n % batch_size if drop_remainder else n
    return [order[i: i + batch_size] for i in range(0, stop, batch_size)]


def prefetch(iterator, size: int = 2, transform=None):
    """Iterate ``iterator`` in a background thread, keeping ``size`` items (after ``transform``,
    e.g. ``jax.device_put``) ready; exceptions are re-raised in the consumer."""
    items = queue.Queue(maxsize=size)
    done = object()

    def produce():
        try:
            for item in iterator:
                items.put(transform(item) if transform else item)
        except BaseException as e:  # handed to the consumer
            items.put(e)
        items.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while (item := items.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item
