"""The lock of a run folder: ``.lock`` holds the writing process's pid while a run writes there.

The file is written whole under a temporary name and then hard-linked to ``.lock`` (atomic, and
refused when ``.lock`` exists), so a reader never sees an empty or half-written lock. A lock
whose process is gone is stale: it is renamed away (atomic: of two processes breaking it, one
succeeds) and checked to be the lock that was judged stale before it is dropped.
"""

import contextlib
import os
import secrets
from pathlib import Path

from jaxdl.errors import InputError

LOCK = ".lock"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def holder(text: str) -> int | None:
    """The pid a lock's text names (None for a foreign or damaged file)."""
    first = text.split()[0] if text.split() else ""
    return int(first) if first.isdigit() else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _refuse_or_break(lock: Path, workdir: Path, token: str) -> None:
    """Refuse when a live process holds ``lock``; drop it when its process is gone."""
    text = _read(lock)
    if text is None:  # released meanwhile: try again
        return
    pid = holder(text)
    if pid is not None and pid != os.getpid() and pid_alive(pid):
        raise InputError(
            f"{workdir}: another run (pid {pid}) is writing into this folder; "
            "wait for it to finish or choose another --out"
        )
    grave = lock.with_name(f"{LOCK}.stale.{token}")
    try:
        os.rename(lock, grave)
    except FileNotFoundError:  # another process broke it first
        return
    if grave.read_text() != text:  # a live lock taken meanwhile: put it back
        with contextlib.suppress(FileExistsError):
            os.link(grave, lock)
    grave.unlink()


@contextlib.contextmanager
def run_lock(workdir: Path):
    """Hold ``workdir/.lock`` while a run writes into ``workdir``: a second run into the same
    folder is refused instead of mixing its files in; a lock left by a dead process is taken
    over."""
    workdir = Path(workdir)
    lock, token = workdir / LOCK, secrets.token_hex(8)
    mine = f"{os.getpid()} {token}\n"
    staged = workdir / f"{LOCK}.new.{token}"
    staged.write_text(mine)
    try:
        for _ in range(3):
            try:
                os.link(staged, lock)
                break
            except FileExistsError:
                _refuse_or_break(lock, workdir, token)
        else:
            raise InputError(f"{workdir}: cannot take the run lock {lock}; try again")
    finally:
        staged.unlink(missing_ok=True)
    try:
        yield
    finally:
        if _read(lock) == mine:
            lock.unlink(missing_ok=True)


def is_lock_file(path: Path) -> bool:
    """``.lock`` and the lock's temporary files, which are not part of a run."""
    return path.name == LOCK or path.name.startswith(LOCK + ".")
