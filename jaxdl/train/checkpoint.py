"""Orbax checkpoints of a training state: every N steps, the last K kept, restored exactly.

A checkpoint that is missing when a resume is asked for, or that cannot be read, is an error
(``CheckpointError``), never a silent restart from scratch.
"""

import errno
import shutil
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
        """Save if ``step`` is a multiple of ``every`` (or ``force``); True if saved. A full disk
        is a ``CheckpointError`` saying how much room there is; the checkpoints saved before
        stay complete (orbax writes each into a temporary folder, renamed when whole)."""
        if self._room_short(step, force):  # refused before orbax half-writes it
            raise CheckpointError(self._full_message(step))
        try:
            saved = self._manager.save(
                step, args=ocp.args.StandardSave(serialization.to_state_dict(state)), force=force
            )
            self._manager.wait_until_finished()
        except Exception as e:  # orbax wraps the OSError of a full disk in several types
            if not _disk_full(e):
                raise
            for partial in self.directory.glob(f"{step}.orbax-checkpoint-tmp*"):
                shutil.rmtree(partial, ignore_errors=True)  # incomplete: gives its room back
            raise CheckpointError(self._full_message(step)) from None
        return bool(saved)

    def _room_short(self, step: int, force: bool) -> bool:
        """Whether a checkpoint due at ``step`` surely does not fit: less free space than the
        last one took (orbax writes the new one before deleting the oldest)."""
        latest = self.latest_step()
        if latest is None or not (force or step % self.every == 0):
            return False
        return (
            shutil.disk_usage(self.directory).free
            < _folder_mib(self.directory / str(latest)) * 2**20
        )

    def _full_message(self, step: int) -> str:
        free = shutil.disk_usage(self.directory).free / 2**20
        latest = self.latest_step()
        size = _folder_mib(self.directory / str(latest)) if latest is not None else None
        needed = f"; a checkpoint takes about {size:.0f} MiB" if size else ""
        kept = (
            f"the checkpoint of step {latest} is complete and kept"
            if latest is not None
            else "no checkpoint was saved"
        )
        return (
            f"no space left on the device of {self.directory} to save step {step} "
            f"({free:.0f} MiB free{needed}); {kept}: free some space, then resume"
        )

    def restore(self, step: int, template):
        """The state saved at ``step``, with the structure, dtypes and shardings of ``template``."""
        target = serialization.to_state_dict(template)
        try:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(target))
            return serialization.from_state_dict(template, restored)
        except Exception as e:  # orbax raises many types for unreadable files
            detail = " ".join(str(e).split())
            detail = detail if len(detail) <= 200 else detail[:200] + "..."
            raise CheckpointError(
                f"checkpoint of step {step} in {self.directory} cannot be restored "
                f"({type(e).__name__}: {detail}): damaged, or saved by a run of another "
                "model or config; delete that step's folder to fall back to an earlier "
                "checkpoint, or start the run again"
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


def _disk_full(error: BaseException) -> bool:
    """Whether ``error`` or one it was raised from is "no space left on device"."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if "No space left" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
