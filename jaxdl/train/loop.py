"""One training driver for every chapter: a jitted step, data-parallel, logged, checkpointed.

How a chapter uses it (here a least-squares fit; a chapter adds a ``Checkpointer``, a
``MetricsLogger`` on disk, ``resume=``, ``hooks`` and a ``progress`` bar):

>>> import jax.numpy as jnp, numpy as np, optax
>>> from jaxdl.train import state as st
>>> from jaxdl.train.batches import array_stream
>>> optimizer = optax.sgd(0.1)
>>> def step_fn(state, batch):  # pure: (TrainState, pytree of arrays) -> (TrainState, metrics)
...     def loss_fn(w):
...         return jnp.mean((batch["x"] @ w - batch["y"]) ** 2)
...     loss, grads = jax.value_and_grad(loss_fn)(state.params)
...     updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
...     params = optax.apply_updates(state.params, updates)
...     return state.replace(step=state.step + 1, params=params, opt_state=opt_state), {
...         "loss": loss
...     }
>>> x = np.random.default_rng(0).normal(size=(256, 3)).astype(np.float32)
>>> data = {"x": x, "y": x @ np.array([1.0, -2.0, 0.5], np.float32)}
>>> state = st.create_state(jnp.zeros(3), optimizer.init(jnp.zeros(3)), seed=0)
>>> state, records = fit(
...     jit_step(step_fn),  # compiled once: state replicated, batch sharded over all devices
...     state,
...     lambda start: array_stream(data, 32, 0, start),  # the batches from any step on
...     num_steps=200,
...     log_every=100,
... )
>>> [r["step"] for r in records], records[-1]["loss"] < 1e-4
([100, 200], True)

- ``batches(start_step)`` returns an iterator of host batches (pytrees of numpy arrays, leading
  axis = global batch) starting at ``start_step``; it must be deterministic in the step so that
  a resumed run sees the same data (``jaxdl.train.batches.array_stream`` does this). With several
  processes (``jax.distributed.initialize()``), each yields its own slice of the global batch.
- Seeds as an axis (``jaxdl.train.seeds``): a state stacked over S seeds, a ``jax.vmap``-ped
  step jitted with ``batch_axis=1`` and batches (S, B, ...); metrics are then (S,) arrays, the
  logger a ``SeedLoggers``, and the seeds advance together.
- Metrics are scalars (or (S,) for stacked seeds); the loop averages them over each
  ``log_every`` window, adds ``wall_s`` (seconds spent in ``fit`` since the run's first step,
  carried over resumes and repeated calls through the logger's records) and stops with
  ``FloatingPointError`` naming the first step and metric that is NaN/inf. The check runs
  before every checkpoint, so the last checkpoint on disk is always a good one.
- ``hooks``: ``(every, fn(step, state) -> dict | None)``, e.g. an evaluation each epoch; their
  dicts are logged as records of that step.
- ``progress(step, record_or_None)`` is called after every step (a tqdm bar lives in the
  caller; this module never prints).
- Two optimisers (GAN: D then G in one step): keep ``params``/``opt_state`` as
  ``{"d": ..., "g": ...}``; batch-norm statistics go in ``state.extra``.
- Preemption: where an entry point called ``jaxdl.train.preemption.install()``, SIGTERM or
  SIGINT makes ``fit`` stop after the step in progress, save a checkpoint of it and raise
  ``preemption.Preempted``; ``resume=True`` then continues from there. With several
  processes, JAX's preemption sync point makes them all stop at the same step.
- Several passes (e.g. fit one epoch, evaluate, continue): call ``fit`` again with the returned
  state and a larger ``num_steps``; the compiled step is reused.
"""

import contextlib
import dataclasses
import time
from typing import Callable, Iterable

import jax
import numpy as np

from jaxdl.data.pipeline import prefetch
from jaxdl.errors import InputError
from jaxdl.train import preemption
from jaxdl.train.sharding import batch_sharded, data_mesh, replicate, replicated, shard_batch


@dataclasses.dataclass(frozen=True)
class JittedStep:
    """A step function compiled for ``mesh`` (call it like the step function)."""

    fn: Callable
    mesh: jax.sharding.Mesh
    batch_axis: int = 0

    def __call__(self, state, batch):
        return self.fn(state, batch)


def jit_step(step_fn, mesh=None, donate: bool = True, batch_axis: int = 0) -> JittedStep:
    """``step_fn(state, batch) -> (state, metrics)`` jitted with the state replicated and the
    batch sharded on its axis ``batch_axis`` (1 for stacked seeds) over ``mesh`` (default: all
    devices)."""
    mesh = data_mesh() if mesh is None else mesh
    rep = replicated(mesh)
    fn = jax.jit(
        step_fn,
        in_shardings=(rep, batch_sharded(mesh, batch_axis)),
        out_shardings=(rep, rep),
        donate_argnums=(0,) if donate else (),
    )
    return JittedStep(fn, mesh, batch_axis)


def steps_taken(state) -> int:
    """``state.step`` as an int (stacked seeds advance together: their largest step)."""
    return int(np.max(jax.device_get(state.step)))


def wall_seconds(logger) -> float:
    """The training wall time a logger's records end with (``wall_s`` of its last training
    record; 0 for none): what a resumed or continued ``fit`` counts on from."""
    times = logger.series("wall_s")[1]
    return float(np.max(times[-1])) if len(times) else 0.0


def check_finite(window: list[dict], first_step: int):
    """Raise FloatingPointError at the first non-finite metric of consecutive steps' metrics
    (for stacked seeds, naming the first seed index whose value is not finite)."""
    for offset, metrics in enumerate(window):
        for name, value in metrics.items():
            bad = np.flatnonzero(~np.isfinite(np.atleast_1d(value)))
            if bad.size:
                where = f" (seed index {bad[0]})" if np.size(value) > 1 else ""
                raise FloatingPointError(
                    f"metric {name!r} is {np.atleast_1d(value)[bad[0]]}{where} at step "
                    f"{first_step + offset + 1}; training stopped (the last checkpoint, if "
                    f"any, precedes it)"
                )


def _mean(window: list[dict]) -> dict:
    """Each metric averaged over the window's steps: a float, or an (S,) array for seeds."""
    means = {name: np.mean([m[name] for m in window], axis=0) for name in window[0]}
    return {name: float(v) if np.ndim(v) == 0 else v for name, v in means.items()}


def stop_at(step: int, state, pending: list, checkpointer, logger, signum: int):
    """Checkpoint ``step`` (its metrics checked first) and raise ``preemption.Preempted``."""
    check_finite(jax.device_get(pending), step - len(pending))
    logger.flush()
    where = None
    if checkpointer is not None:
        if checkpointer.latest_step() != step:
            checkpointer.save(step, state, force=True)
        where = str(checkpointer.directory)
    raise preemption.Preempted(signum, step, where)


def fit(
    train_step: JittedStep,
    state,
    batches: Callable[[int], Iterable],
    *,
    num_steps: int,
    checkpointer=None,
    logger=None,
    log_every: int = 100,
    resume: bool = False,
    hooks=(),
    progress: Callable | None = None,
    prefetch_size: int = 2,
):
    """Run ``train_step`` from ``state.step`` (or the latest checkpoint when ``resume``) until
    ``num_steps``; returns (final state, records logged by this call). See the module docstring."""
    from jaxdl.train.logging import MetricsLogger

    logger = MetricsLogger() if logger is None else logger
    mesh = train_step.mesh
    state = replicate(state, mesh)
    if resume:
        if checkpointer is None:
            raise ValueError("resume=True needs a checkpointer")
        state = checkpointer.restore_latest(state)
        logger.resume(steps_taken(state))
    start = steps_taken(state)
    first_record = len(logger.records)
    clock = time.perf_counter() - wall_seconds(logger)
    pending, window = [], []
    ckpt_every = checkpointer.every if checkpointer is not None else 0

    # the prefetch thread is closed while a signal still waits for a step boundary
    with (
        preemption.step_boundaries(),
        contextlib.closing(
            prefetch(
                iter(batches(start)),
                prefetch_size,
                lambda b: shard_batch(b, mesh, train_step.batch_axis),
            )
        ) as stream,
    ):
        for step in range(start + 1, num_steps + 1):
            try:
                batch = next(stream)
            except StopIteration:
                raise InputError(f"batches ran out at step {step} of {num_steps}") from None
            state, metrics = train_step(state, batch)
            pending.append(metrics)
            at_log = step % log_every == 0 or step == num_steps
            at_ckpt = checkpointer is not None and (step % ckpt_every == 0 or step == num_steps)
            hook_due = [fn for every, fn in hooks if step % every == 0]
            record = None
            if at_log or at_ckpt or hook_due:
                host = jax.device_get(pending)
                check_finite(host, step - len(host))
                window += host
                pending = []
            if at_log:
                record = logger.log(step, {**_mean(window), "wall_s": time.perf_counter() - clock})
                logger.flush()
                window = []
            for fn in hook_due:
                extra = fn(step, state)
                if extra:
                    record = logger.log(step, extra, kind="eval")
                    logger.flush()
            if at_ckpt:
                checkpointer.save(step, state, force=step == num_steps)
            if progress is not None:
                progress(step, record)
            signum = preemption.stop_requested(step)
            if signum is not None:
                stop_at(step, state, pending, checkpointer, logger, signum)
    return state, logger.records[first_record:]
