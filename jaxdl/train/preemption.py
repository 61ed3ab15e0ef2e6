"""Stopping a training run cleanly on SIGTERM / SIGINT: at the next step boundary, with a
checkpoint of that step, so that ``--resume`` loses nothing.

Nothing happens on import: an entry point (the ``jaxdl`` command) calls ``install()`` once, as a
batch scheduler or a preemptible GPU/TPU host expects (SIGTERM, then a grace period).
``loop.fit`` asks ``stop_requested(step)`` after every step; on True it saves a checkpoint of
that step and raises ``Preempted``. A signal that arrives outside ``loop.fit`` (while data loads,
features are extracted or samples are scored) raises ``Preempted`` at once, so the command
still ends with one line and releases its run folder. A second signal ends the process at once.

With several processes (``jax.distributed``), JAX's own preemption service receives SIGTERM and
``jax.experimental.multihost_utils.reached_preemption_sync_point`` makes every process stop at
the same step, so their checkpoints agree: ``install`` then leaves SIGTERM to it.
"""

import contextlib
import os
import signal
from typing import Callable

import jax


class Preempted(BaseException):
    """The run was stopped by ``signum``; ``step`` is the step checkpointed (None when the
    signal came outside a training loop). A ``BaseException``, like ``KeyboardInterrupt``, so
    that no ``except Exception`` swallows it on the way out."""

    def __init__(self, signum: int, step: int | None = None, where: str | None = None):
        super().__init__(signum, step, where)
        self.signum, self.step, self.where = signum, step, where

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 128 + its number."""
        return 128 + self.signum


class _State:
    """What the installed handler shares with ``loop.fit``: the signal received (or None) and
    how many training loops are running (they stop at a step boundary; nothing else does)."""

    def __init__(self):
        self.signum: int | None = None
        self.loops = 0
        self.on_signal: Callable | None = None
        self.previous: dict = {}  # the handlers ``install`` replaced


_state = _State()


def _handler(signum, frame):
    if _state.signum is not None:  # the second signal: no clean-up, exit now
        if _state.on_signal is not None:
            _state.on_signal(signum, True)
        os._exit(128 + signum)
        return  # (only where os._exit is replaced, as in a test)
    _state.signum = signum
    if _state.on_signal is not None:
        _state.on_signal(signum, False)
    if _state.loops == 0:
        raise Preempted(signum)


def install(
    on_signal: Callable[[int, bool], None] | None = None, distributed: bool = False
) -> None:
    """Stop on SIGTERM and SIGINT as the module says (``distributed``: SIGINT only, SIGTERM being
    JAX's preemption service's). ``on_signal(signum, second)`` is called first (the command
    prints its one line there). Call it from the main thread of an entry point, never from a
    library; it starts no JAX backend (``jax.distributed.initialize`` may still follow)."""
    _state.signum, _state.on_signal = None, on_signal
    signals = (signal.SIGINT,) if distributed else (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        _state.previous.setdefault(signum, signal.getsignal(signum))
        signal.signal(signum, _handler)


def uninstall() -> None:
    """The handlers ``install`` replaced, back (after a run in a long-lived process or a test)."""
    for signum, previous in _state.previous.items():
        signal.signal(signum, previous)
    _state.previous.clear()
    _state.signum, _state.on_signal = None, None


@contextlib.contextmanager
def step_boundaries():
    """Within it, a first signal waits for ``stop_requested`` (what ``loop.fit`` asks after each
    step) instead of interrupting."""
    _state.loops += 1
    try:
        if _state.signum is not None:  # arrived before the loop started
            raise Preempted(_state.signum)
        yield
    finally:
        _state.loops -= 1


def stop_requested(step: int) -> int | None:
    """The signal to stop on at ``step`` (None to go on): this process's, or, with several
    processes, the step JAX's preemption service agreed on for all of them."""
    if _state.signum is not None:
        return _state.signum
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        try:
            if multihost_utils.reached_preemption_sync_point(step):
                return signal.SIGTERM
        except RuntimeError:  # the preemption service is off
            return None
    return None
