"""One trainer for every seed-group run: the seeds of a group stacked on a leading axis,
trained by one jitted step with checkpoints, per-seed metric logs, resume, evaluation hooks,
an optional time budget, and a divergence that is either an error or a result.

>>> import jax, optax, numpy as np, jax.numpy as jnp
>>> from jaxdl.train.state import create_state
>>> opt = optax.sgd(0.1)
>>> def init(seed):
...     params = {"w": jnp.float32(seed + 1.0)}
...     return create_state(params, opt.init(params), seed)
>>> def loss_step(state, batch):
...     loss, grads = jax.value_and_grad(lambda p: (p["w"] - batch["t"].mean()) ** 2)(state.params)
...     updates, opt_state = opt.update(grads, state.opt_state)
...     params = optax.apply_updates(state.params, updates)
...     state = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
...     return state, {"loss": loss}
>>> def batches(seed, start):
...     while True:
...         yield {"t": np.zeros(4, np.float32)}
>>> runs = train_group(stacked_step(loss_step), init, batches, (0, 1), num_steps=20)
>>> [run.seed for run in runs], [round(float(run.state.params["w"]), 3) for run in runs]
([0, 1], [0.012, 0.023])
"""

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from jaxdl.train import loop, preemption, seeds
from jaxdl.train.checkpoint import Checkpointer
from jaxdl.train.logging import MetricsLogger, SeedLoggers


@dataclasses.dataclass(frozen=True)
class SeedRun:
    """One seed's training: its final state (None when it diverged), its metric log, the
    training seconds per seed of its group (over resumes too) and what stopped it ("steps",
    "time budget ...", or "diverged: ...")."""

    seed: int
    state: Any
    logger: MetricsLogger
    seconds: float
    stopped_by: str = "steps"

    @property
    def steps(self) -> int:
        """The steps this seed's state has taken (0 when it diverged)."""
        return loop.steps_taken(self.state) if self.state is not None else 0

    @property
    def diverged(self) -> bool:
        return self.stopped_by.startswith("diverged")


def stacked_step(step_fn: Callable) -> loop.JittedStep:
    """``step_fn(state, batch)`` of one seed -> the jitted step of a stack of seeds; make it
    once and pass it to every group so groups of one size share the compiled program."""
    return loop.jit_step(seeds.vmap_step(step_fn), batch_axis=1)


def group_name(group) -> str:
    """``seeds0-1-2``: the folder of a group's checkpoints."""
    return "seeds" + "-".join(map(str, group))


def train_group(
    step: loop.JittedStep,
    init: Callable[[int], Any],
    batches: Callable[[int, int], Iterable],
    group: tuple[int, ...],
    *,
    num_steps: int,
    checkpoints: Path | None = None,
    checkpoint_every: int = 500,
    logs: Path | None = None,
    log_name: str = "metrics",
    log_every: int = 100,
    resume: bool = False,
    hooks=(),
    progress: Callable | None = None,
    chunk: int | None = None,
    after_chunk: Callable[[int, list], None] | None = None,
    time_budget_s: float = 0.0,
    allow_divergence: bool = False,
) -> list[SeedRun]:
    """Train the seeds ``group`` together: ``init(seed)`` states stacked, ``batches(seed,
    start)`` each seed's own batches from step ``start``; checkpoints in
    ``checkpoints/seeds<...>`` (every ``checkpoint_every``), logs ``logs/<log_name>_seed<s>``.
    ``resume`` continues from the group's latest checkpoint (a group without one starts).
    Training runs in chunks of ``chunk`` steps, ``after_chunk(step, states)`` after each, and
    stops early once the next chunk would pass ``time_budget_s`` per seed. A non-finite
    metric raises FloatingPointError naming the last good checkpoint, or with
    ``allow_divergence`` ends the group as diverged."""
    state = seeds.stack([init(s) for s in group])  # before the checkpoint folder appears
    checkpointer = (
        Checkpointer(Path(checkpoints) / group_name(group), every=checkpoint_every, keep=2)
        if checkpoints is not None
        else None
    )
    logger = SeedLoggers(logs, log_name, group)
    resume = resume and checkpointer is not None and checkpointer.latest_step() is not None
    budget, target, reason = time_budget_s * len(group), 0, "steps"

    def stacked(start):
        return seeds.stacked_batches([batches(s, start) for s in group])

    try:
        # a signal while ``after_chunk`` runs waits for its end, then stops with a checkpoint
        with preemption.step_boundaries():
            while target < num_steps:
                chunk_start = time.perf_counter()
                target = min(target + (chunk or num_steps), num_steps)
                state, _ = loop.fit(
                    step,
                    state,
                    stacked,
                    num_steps=target,
                    checkpointer=checkpointer,
                    logger=logger,
                    log_every=log_every,
                    resume=resume,
                    hooks=hooks,
                    progress=progress,
                )
                resume, target = False, loop.steps_taken(state)
                if after_chunk is not None:
                    after_chunk(target, seeds.unstack(state))
                if (signum := preemption.stop_requested(target)) is not None:
                    loop.stop_at(target, state, [], checkpointer, logger, signum)
                elapsed = loop.wall_seconds(logger) + time.perf_counter() - chunk_start
                if budget and target < num_steps and elapsed > budget:
                    reason = (
                        f"time budget of {time_budget_s:.0f} s per seed (next chunk would pass it)"
                    )
                    break
    except FloatingPointError as e:
        if not allow_divergence:
            where = checkpointer.latest_step() if checkpointer is not None else None
            raise FloatingPointError(
                f"training diverged: {e}; last good checkpoint: step {where}"
                + (f" in {checkpointer.directory}" if checkpointer is not None else "")
            ) from None
        seconds = loop.wall_seconds(logger) / len(group)
        diverged = "diverged: " + str(e).split(";")[0]  # the first non-finite metric and its step
        return [SeedRun(s, None, log, seconds, diverged) for s, log in zip(group, logger.loggers)]
    finally:
        if checkpointer is not None:
            checkpointer.close()
    seconds = loop.wall_seconds(logger) / len(group)
    return [
        SeedRun(s, seed_state, log, seconds, reason)
        for s, seed_state, log in zip(group, seeds.unstack(state), logger.loggers)
    ]
