"""Orbax checkpoints of a training state: every N steps, the last K kept, restored exactly.

A checkpoint that is missing when a resume is asked for, or that cannot be read, is an error
(``CheckpointError``), never a silent restart from scratch.
"""

from pathlib import Path

import orbax.checkpoint as ocp
from flax import serialization


class CheckpointError(RuntimeError):
    """A checkpoint was expected but is missing, or exists but cannot be restored."""


class Checkpointer:
    """Saves ``state`` (any flax-serialisable pytree: TrainState, dicts, optax states) under
    ``directory/<step>/`` every ``every`` steps, keeping the newest ``keep``."""

    def __init__(self, directory, every: int = 1000, keep: int = 3):
        self.directory = Path(directory).resolve()
        self.every = every
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, save_interval_steps=every, enable_async_checkpointing=False
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def save(self, step: int, state, force: bool = False) -> bool:
        """Save if ``step`` is a multiple of ``every`` (or ``force``); True if saved."""
        saved = self._manager.save(
            step, args=ocp.args.StandardSave(serialization.to_state_dict(state)), force=force
        )
        self._manager.wait_until_finished()
        return bool(saved)

    def restore(self, step: int, template):
        """The state saved at ``step``, with the structure, dtypes and shardings of ``template``."""
        target = serialization.to_state_dict(template)
        try:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(target))
            return serialization.from_state_dict(template, restored)
        except Exception as e:  # orbax raises many types for unreadable files
            raise CheckpointError(
                f"checkpoint of step {step} in {self.directory} cannot be restored "
                f"({type(e).__name__}: {e}); delete it to fall back to an earlier "
                f"one, or start without resume"
            ) from e

    def restore_latest(self, template):
        """The newest checkpoint restored onto ``template``; CheckpointError if there is none."""
        self._manager.reload()
        step = self._manager.latest_step()
        if step is None:
            raise CheckpointError(f"no checkpoint to resume from in {self.directory}")
        return self.restore(step, template)

    def close(self):
        self._manager.close()
