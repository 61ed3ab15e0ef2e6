"""Host-side batching and prefetching: shuffle with a seed, batch, feed the device ahead of use."""

import queue
import threading

import numpy as np


def batch_indices(
    n: int, batch_size: int, *, seed: int | None = None, drop_remainder: bool = False
):
    """Index arrays of each batch of one epoch over ``n`` items (shuffled when ``seed`` is set)."""
    order = np.random.default_rng(seed).permutation(n) if seed is not None else np.arange(n)
    stop = n - n % batch_size if drop_remainder else n
    return [order[i : i + batch_size] for i in range(0, stop, batch_size)]


def prefetch(iterator, size: int = 2, transform=None):
    """Iterate ``iterator`` in a background thread, keeping ``size`` items (after ``transform``,
    e.g. ``jax.device_put``) ready; exceptions are re-raised in the consumer. When the consumer
    stops early (or is closed), the thread is told to stop and joined, so no thread is left
    running device work while the interpreter shuts down."""
    items = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterator:
                if not put(transform(item) if transform else item):
                    return
        except BaseException as e:  # handed to the consumer
            put(e)
            return
        put(done)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
